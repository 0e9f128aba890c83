"""Rank paragraphs with BM25, decide whether the statement answers, pick the sentence."""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rank_bm25 import BM25L, BM25Okapi, BM25Plus
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.corpus import Corpus, Paragraph, load_corpus
from bot.text import Analyzer, Token, load_glossary

MAX_QUESTION_CHARS = 300
GLOSSARY_FILE = "glossary.toml"
Variant = Literal["okapi", "plus", "l"]
BM25_VARIANTS = {"okapi": BM25Okapi, "plus": BM25Plus, "l": BM25L}
DEFAULT_VARIANT: Variant = "plus"
DEFAULT_LIMIT = 3

# A word is corrected only to a near-identical word of the statement: one edit in seven letters.
TYPO_MIN_SIMILARITY = 0.85
TYPO_MIN_LENGTH = 5
# Abstain when the words the statement lacks outweigh the ones it has (each weighted by rarity).
MISSING_TO_FOUND_MAX_RATIO = 1.0
# A sentence that refers back ("It can…", "its network") borrows part of its antecedent's words.
BACK_REFERENCE_SHARE = 0.5
BACK_REFERENCES = frozenset({"it", "its", "they", "their", "them", "this", "these", "such"})


class QuestionTooLongError(ValueError):
    """The question is longer than MAX_QUESTION_CHARS once cleaned."""

    def __init__(self, length: int) -> None:
        super().__init__(f"question has {length} characters, at most {MAX_QUESTION_CHARS} allowed")
        self.length = length


def clean_question(text: str) -> str:
    """Drop invisible and control characters, collapse whitespace, enforce the length bound."""
    visible = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if unicodedata.category(ch) not in {"Cc", "Cf"} or ch.isspace()
    )
    question = " ".join(visible.split())
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionTooLongError(len(question))
    return question


@dataclass(frozen=True)
class Hit:
    """One ranked paragraph with the question words it contains and its best sentence."""

    paragraph: Paragraph
    score: float
    matched: tuple[str, ...]
    sentence_index: int

    @property
    def sentence(self) -> str:
        return self.paragraph.sentences[self.sentence_index]


@dataclass(frozen=True)
class Answer:
    """What a question found: the best paragraphs, or why the statement does not answer it."""

    question: str
    searched: tuple[str, ...]
    corrections: tuple[tuple[str, str], ...]
    missing: tuple[str, ...]
    hits: tuple[Hit, ...]
    answered: bool

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


class SearchIndex:
    """BM25 over every paragraph of the corpus, built once and read-only afterwards."""

    def __init__(
        self, corpus: Corpus, analyzer: Analyzer, variant: Variant = DEFAULT_VARIANT
    ) -> None:
        self.corpus = corpus
        self.analyzer = analyzer
        self.paragraphs = corpus.paragraphs
        paragraph_terms = [analyzer.terms(p.text) for p in self.paragraphs]
        self._bm25 = BM25_VARIANTS[variant](paragraph_terms)
        self._term_sets = [frozenset(terms) for terms in paragraph_terms]
        self._sentence_terms = [
            [frozenset(analyzer.terms(s)) for s in p.sentences] for p in self.paragraphs
        ]
        self._refers_back = [
            [any(w in BACK_REFERENCES for w in analyzer.words(s)) for s in p.sentences]
            for p in self.paragraphs
        ]
        self._document_frequency = Counter(t for terms in self._term_sets for t in terms)
        surface_words = {w for p in self.paragraphs for w in analyzer.words(p.text)}
        surface_words |= analyzer.glossary_words()
        self._spelling_words = sorted(w for w in surface_words if w.isalpha())

    def weight(self, term: str) -> float:
        """How much a term tells paragraphs apart; a term in no paragraph weighs the most."""
        n = len(self.paragraphs)
        return math.log((n + 1) / max(self._document_frequency.get(term, 0), 1))

    def knows(self, term: str) -> bool:
        return term in self._document_frequency

    def correct(self, token: Token) -> Token | None:
        """The statement's word closest in spelling to an unknown word, if one is very close."""
        word = token.surface
        if len(word) < TYPO_MIN_LENGTH or not word.isalpha():
            return None
        match = process.extractOne(
            word,
            self._spelling_words,
            scorer=OSA.normalized_similarity,
            score_cutoff=TYPO_MIN_SIMILARITY,
        )
        if match is None:
            return None
        corrected = Token(match[0], self.analyzer.term(match[0]))
        return corrected if self.knows(corrected.term) else None

    def search(self, question: str, limit: int = DEFAULT_LIMIT) -> Answer:
        """Rank the paragraphs for a question and decide whether they answer it."""
        searched: list[Token] = []
        corrections: list[tuple[str, str]] = []
        missing: list[str] = []
        for token in self.analyzer.tokens(question, query=True):
            if not self.knows(token.term) and (fixed := self.correct(token)) is not None:
                corrections.append((token.surface, fixed.surface))
                token = fixed
            if self.knows(token.term):
                searched.append(token)
            elif token.surface not in missing:
                missing.append(token.surface)
        terms = list(dict.fromkeys(t.term for t in searched))
        found_weight = sum(self.weight(t) for t in terms)
        missing_weight = len(missing) * self.weight("")
        answered = bool(terms) and missing_weight <= MISSING_TO_FOUND_MAX_RATIO * found_weight
        return Answer(
            question=question,
            searched=tuple(dict.fromkeys(t.surface for t in searched)),
            corrections=tuple(corrections),
            missing=tuple(missing),
            hits=self._rank(searched, terms, limit),
            answered=answered,
        )

    def _rank(self, searched: list[Token], terms: list[str], limit: int) -> tuple[Hit, ...]:
        if not terms:
            return ()
        scores = self._bm25.get_scores(terms)
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        hits = []
        for i in order:
            matched = tuple(
                dict.fromkeys(t.surface for t in searched if t.term in self._term_sets[i])
            )
            if not matched:
                continue
            hits.append(
                Hit(self.paragraphs[i], float(scores[i]), matched, self._best_sentence(i, terms))
            )
            if len(hits) == limit:
                break
        return tuple(hits)

    def _best_sentence(self, index: int, terms: list[str]) -> int:
        """The sentence holding most of the question's weight, counting what "it"/"its" refer to."""
        sentences = self._sentence_terms[index]
        wanted = set(terms)
        best, best_score = 0, -1.0
        for i, own in enumerate(sentences):
            score = sum(self.weight(t) for t in own & wanted)
            if i > 0 and self._refers_back[index][i]:
                borrowed = (sentences[0] | sentences[i - 1]) & wanted - own
                score += BACK_REFERENCE_SHARE * sum(self.weight(t) for t in borrowed)
            if score > best_score:
                best, best_score = i, score
        return best


def load_index(data_dir: Path, variant: Variant = DEFAULT_VARIANT) -> SearchIndex:
    """Load every statement and the glossary in data_dir and index them."""
    corpus = load_corpus(data_dir)
    analyzer = Analyzer(load_glossary(data_dir / GLOSSARY_FILE), extra_stop_words=corpus.speakers)
    return SearchIndex(corpus, analyzer, variant)
