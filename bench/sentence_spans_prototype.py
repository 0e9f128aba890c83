"""Prototype for issue 11 (not used by the bot): term ids stored per sentence span at build.

Today SearchIndex re-analyses every hit paragraph and its sentences at query time to choose
the answer sentence (~75% of a question at 10,000 paragraphs). This prototype analyses each
sentence once while building (with the word -> term analysis memoised, as text.py's Analyzer
could), keeps every sentence's term ids in flat arrays, and chooses the sentence from them.
It subclasses the SearchIndex of this branch (its private _rank and _ParagraphTerms), so it
will need adapting once search.py is refactored.

It checks that the answers (the JSON the CLI prints) are identical to SearchIndex's on the
bench's questions, and prints build time, stored bytes and CPU time per question.

usage: python bench/sentence_spans_prototype.py CORPUS [--skip-current]
"""

from __future__ import annotations

import gc
import itertools
import json
import sys
import time
from array import array
from collections import defaultdict

import numpy as np
from corpora import Corpus, prepare
from memory import peak_rss, rss

from bot import render
from bot.corpus import load_corpus
from bot.ranking import make_scorer
from bot.search import (
    BACK_REFERENCES,
    DEFAULT_VARIANT,
    GLOSSARY_FILE,
    Hit,
    SearchIndex,
    _ParagraphTerms,
    clean_question,
)
from bot.spelling import SpellingIndex
from bot.text import STOP_WORDS, Analyzer, Token, load_glossary


class MemoAnalyzer(Analyzer):
    """Analyzer whose word -> term is memoised (stem + glossary canonical form)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._terms: dict[str, str] = {}

    def term(self, word: str) -> str:
        term = self._terms.get(word)
        if term is None:
            term = self._terms[word] = super().term(word)
        return term

    def sentence_terms(self, sentence: str) -> tuple[list[str], bool]:
        """The terms of a sentence (as terms() gives them) and whether it refers back."""
        terms = []
        refers_back = False
        memo = self._terms
        for _, word in self._pieces(sentence):
            if word in BACK_REFERENCES:
                refers_back = True
            if word in STOP_WORDS or (len(word) == 1 and not word.isdigit()):
                continue
            term = memo.get(word)
            if term is None:
                term = memo[word] = Analyzer.term(self, word)
            terms.append(term)
        return terms, refers_back


class SentenceIndex(SearchIndex):
    """SearchIndex whose sentence choice reads term ids stored per sentence at build time."""

    def __init__(self, corpus, analyzer: MemoAnalyzer, variant=DEFAULT_VARIANT) -> None:
        self.corpus = corpus
        self.analyzer = analyzer
        self.paragraphs = corpus.paragraphs
        ids: defaultdict[str, int] = defaultdict(itertools.count().__next__)
        occurrences = array("I")
        sentence_start = array("q", [0])
        paragraph_start = array("q", [0])
        refers_back = array("b")

        def paragraph_terms():
            for paragraph in self.paragraphs:
                terms_of_paragraph: list[str] = []
                for sentence in paragraph.sentences:
                    terms, refers = analyzer.sentence_terms(sentence)
                    terms_of_paragraph += terms
                    occurrences.extend(map(ids.__getitem__, terms))
                    sentence_start.append(len(occurrences))
                    refers_back.append(refers)
                paragraph_start.append(len(sentence_start) - 1)
                yield terms_of_paragraph

        self._scorer = make_scorer(paragraph_terms(), variant)
        self._ids = dict(ids)
        dtype = np.uint16 if len(ids) < 1 << 16 else np.uint32
        self._occurrences = np.frombuffer(occurrences, dtype=np.uint32).astype(dtype)
        self._sentence_start = np.frombuffer(sentence_start, dtype=np.int64)
        self._paragraph_start = np.frombuffer(paragraph_start, dtype=np.int64)
        self._refers_back = np.frombuffer(refers_back, dtype=np.int8).astype(bool)
        known = {w for p in self.paragraphs for w in analyzer.plain_words(p.text)}
        known |= analyzer.glossary_words()
        self._spelling = SpellingIndex(known, analyzer.stem)

    @property
    def stored_bytes(self) -> int:
        return sum(
            a.nbytes
            for a in (
                self._occurrences,
                self._sentence_start,
                self._paragraph_start,
                self._refers_back,
            )
        )

    def _details(self, index: int, terms: list[str]) -> _ParagraphTerms:
        """What sentence choice needs, restricted to the question's terms (all it reads)."""
        wanted = {self._ids[t]: t for t in terms if t in self._ids}
        first, last = int(self._paragraph_start[index]), int(self._paragraph_start[index + 1])
        starts = self._sentence_start[first : last + 1].tolist()
        # A paragraph is ~100 ids: plain Python beats numpy's per-call cost here.
        segment = self._occurrences[starts[0] : starts[-1]].tolist()
        sentences: list[frozenset[str]] = []
        for number in range(last - first):
            begin, end = starts[number] - starts[0], starts[number + 1] - starts[0]
            sentences.append(frozenset(wanted[i] for i in segment[begin:end] if i in wanted))
        return _ParagraphTerms(
            terms=frozenset().union(*sentences),
            sentences=tuple(sentences),
            refers_back=tuple(self._refers_back[first:last].tolist()),
        )

    def _rank(self, searched: list[Token], terms: list[str], limit: int) -> tuple[Hit, ...]:
        hits = []
        for i, score in self._scorer.top(terms, limit * 2):
            details = self._details(i, terms)
            matched = tuple(dict.fromkeys(t.surface for t in searched if t.term in details.terms))
            if matched:
                hits.append(
                    Hit(self.paragraphs[i], score, matched, self._best_sentence(details, terms))
                )
            if len(hits) == limit:
                break
        return tuple(hits)


def answers(index: SearchIndex, questions: list[str]) -> tuple[list[str], np.ndarray]:
    out, cpu = [], []
    for question in questions:
        start = time.thread_time()
        text = json.dumps(
            render.answer_json(index.search(clean_question(question)), index.corpus),
            ensure_ascii=False,
        )
        cpu.append(time.thread_time() - start)
        out.append(text)
    return out, np.array(cpu) * 1e3


def main() -> None:
    corpus = Corpus.parse(sys.argv[1])
    questions = prepare(corpus, 300)
    loaded = load_corpus(corpus.data_dir)
    glossary = load_glossary(corpus.data_dir / GLOSSARY_FILE)
    figures: dict[str, object] = {"corpus": corpus.name}
    before = rss()
    start = time.perf_counter()
    proto = SentenceIndex(loaded, MemoAnalyzer(glossary, extra_stop_words=loaded.speakers))
    figures["proto_build_s"] = round(time.perf_counter() - start, 2)
    figures["proto_stored_MB"] = round(proto.stored_bytes / 1e6, 1)
    figures["proto_rss_growth_MB"] = round((rss() - before) / 1e6, 1)
    gc.freeze()
    answers(proto, questions[:20])
    proto_answers, proto_cpu = answers(proto, questions * 3)
    figures["proto_question_cpu_ms"] = {
        "p50": round(float(np.percentile(proto_cpu, 50)), 3),
        "p99": round(float(np.percentile(proto_cpu, 99)), 3),
        "mean": round(float(proto_cpu.mean()), 3),
    }
    figures["peak_rss_MB"] = round(peak_rss() / 1e6, 1)
    if "--skip-current" not in sys.argv:
        start = time.perf_counter()
        current = SearchIndex(loaded, Analyzer(glossary, extra_stop_words=loaded.speakers))
        figures["current_build_s"] = round(time.perf_counter() - start, 2)
        # Same ids as the scorer's: both number terms in order of first occurrence.
        assert len(proto.paragraphs) <= 500 or proto._ids == proto._scorer._term_ids
        answers(current, questions[:20])
        current_answers, current_cpu = answers(current, questions * 3)
        figures["current_question_cpu_ms"] = {
            "p50": round(float(np.percentile(current_cpu, 50)), 3),
            "p99": round(float(np.percentile(current_cpu, 99)), 3),
            "mean": round(float(current_cpu.mean()), 3),
        }
        differing = sum(a != b for a, b in zip(proto_answers, current_answers, strict=True))
        figures["answers_differing"] = f"{differing}/{len(current_answers)}"
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
