"""Write bot/english_zipf.txt: how common each everyday English word is, from wordfreq.

The bot asks how specific a word it lacks is ("cryptocurrency" against "uniquely"). Importing
wordfreq and loading its data takes 0.3-0.7 s, which the first such question would pay inside a
Discord interaction; this table of wordfreq's "small" English list (the ~29,000 words at or above
Zipf 3, which is all the bot distinguishes) loads in a few milliseconds with the library.

    python -m tools.english_zipf          # needs wordfreq (pip install -e '.[test]')

Each line is a Zipf value (log10 of a word's frequency per billion words) and the words that
have it, most common first. Words with punctuation ("it's") are left out: questions are split
into runs of letters and digits. Numbers of several digits are not listed one by one (wordfreq
pools them), so "2017" counts as rare: a particular year or figure is specific.
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path

TABLE = Path(__file__).resolve().parent.parent / "bot" / "english_zipf.txt"
WORDLIST = "small"
# A word as the bot splits questions: letters and digits ("1st" is a word, "it's" two).
WORD = re.compile(r"[^\W_]+")
HEADER = (
    "# Zipf frequency (log10 per billion words) and the English words that have it, from\n"
    f'# wordfreq\'s "{WORDLIST}" list. Written by `python -m tools.english_zipf`; do not edit.\n'
)


def table_text() -> str:
    import wordfreq

    by_zipf: dict[float, list[str]] = defaultdict(list)
    for word in wordfreq.iter_wordlist("en", WORDLIST):
        if WORD.fullmatch(word):
            by_zipf[wordfreq.zipf_frequency(word, "en", wordlist=WORDLIST)].append(word)
    lines = [f"{zipf:.2f} {' '.join(sorted(words))}\n" for zipf, words in sorted(by_zipf.items())]
    return HEADER + "".join(reversed(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=TABLE)
    args = parser.parse_args(argv)
    args.output.write_text(table_text(), encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
