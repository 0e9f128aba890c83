"""List common English words that share a Snowball stem with a statement word but not its lemma.

"capital" and "capitalized" both stem to "capit": a question about capital cities would find the
paragraph that says "capitalized on". This prints, for each statement word, the common words
(wordfreq's small English list) that collide with it, for a maintainer to review; the statement
words whose collisions are unrelated in meaning go to the glossary's [lemma_only] list.

    python -m tools.stem_traps [--data-dir data] [--min-zipf 3.5]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.corpus import load_corpus
from bot.text import Analyzer, lemma_key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("--min-zipf", type=float, default=3.5)
    args = parser.parse_args(argv)
    import wordfreq

    analyzer = Analyzer()
    corpus = load_corpus(args.data_dir)
    statement_words: dict[str, set[str]] = {}
    for paragraph in corpus.paragraphs:
        for word in analyzer.plain_words(paragraph.text):
            if word.isalpha():
                statement_words.setdefault(analyzer.stem(word), set()).add(word)
    english = wordfreq.get_frequency_dict("en", wordlist="small")
    for word in sorted(english):
        if not word.isalpha() or wordfreq.zipf_frequency(word, "en") < args.min_zipf:
            continue
        ours = statement_words.get(analyzer.stem(word))
        if ours and lemma_key(word) not in {lemma_key(w) for w in ours}:
            print(f"{word:20} collides with {', '.join(sorted(ours))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
