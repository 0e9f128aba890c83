"""Rank paragraphs with BM25, decide whether the statement answers, pick the sentence."""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from bot.corpus import Corpus, Paragraph, load_corpus
from bot.ranking import Variant, make_scorer
from bot.spelling import SpellingIndex
from bot.text import WORD, Analyzer, Token, load_glossary

MAX_QUESTION_CHARS = 300
GLOSSARY_FILE = "glossary.toml"
DEFAULT_VARIANT: Variant = "plus"
DEFAULT_LIMIT = 3

# A word is corrected only to a near-identical word of the statement (see bot/spelling.py).
TYPO_MIN_LENGTH = 5
# Paragraph details kept for sentence choice: every paragraph of a statement, the recent hits of
# a large library (an entry is about 8 kB).
PARAGRAPH_CACHE_SIZE = 512
# Abstain when the words the statement lacks outweigh the ones it has (each weighted by rarity).
MISSING_TO_FOUND_MAX_RATIO = 1.0
# A sentence that refers back ("It can…", "its network") borrows part of its antecedent's words.
BACK_REFERENCE_SHARE = 0.5
# "How many…?" and "when…?" are answered only by a paragraph that gives a figure or a date.
ASKS_FOR_FIGURE = re.compile(
    r"\b(?:how (?:many|much|long|often|old)|what (?:year|date|percentage)|which year)\b"
    r"|^\W*when\b|\bwhen (?:did|was|were|is|are|will|does|do|has|have)\b",
    re.IGNORECASE,
)
FIGURE_WORDS = frozenset(
    """one two three four five six seven eight nine ten eleven twelve twenty hundred thousand
    million billion dozen first second third fourth fifth percent""".split()
)
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
    # Words the glossary searched under another name: ("aid", "donor").
    expansions: tuple[tuple[str, str], ...]
    missing: tuple[str, ...]
    hits: tuple[Hit, ...]
    answered: bool
    # The question asks "how many" or "when", and the best paragraph gives no figure or date.
    figure_missing: bool = False

    @property
    def asked_nothing(self) -> bool:
        """The question had no word to search: only stop and chat words, or nothing at all."""
        return not self.searched and not self.missing

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


@dataclass(frozen=True)
class _ParagraphTerms:
    """What sentence choice needs to know about one paragraph, computed when it is first a hit."""

    terms: frozenset[str]
    sentences: tuple[frozenset[str], ...]
    refers_back: tuple[bool, ...]


class SearchIndex:
    """BM25 over every paragraph of the corpus, built once and read-only afterwards."""

    def __init__(
        self, corpus: Corpus, analyzer: Analyzer, variant: Variant = DEFAULT_VARIANT
    ) -> None:
        self.corpus = corpus
        self.analyzer = analyzer
        self.paragraphs = corpus.paragraphs
        self._scorer = make_scorer((analyzer.terms(p.text) for p in self.paragraphs), variant)
        self._paragraph_terms = functools.lru_cache(maxsize=PARAGRAPH_CACHE_SIZE)(
            self._analyze_paragraph
        )
        # Gathered now rather than at the first typo: on a large corpus it takes seconds, and
        # an interaction has to be answered within three.
        known = {w for p in self.paragraphs for w in analyzer.plain_words(p.text)}
        known |= analyzer.glossary_words()
        self._spelling = SpellingIndex(known, analyzer.stem)

    def weight(self, term: str) -> float:
        """How much a term tells paragraphs apart; a term in no paragraph weighs the most."""
        n = len(self.paragraphs)
        return math.log((n + 1) / max(self._scorer.document_frequency(term), 1))

    def knows(self, term: str) -> bool:
        return self._scorer.document_frequency(term) > 0

    def correct(self, word: str) -> str | None:
        """The known word nearest in spelling to an unknown word, if it is very close."""
        if len(word) < TYPO_MIN_LENGTH or not word.isalpha() or word in self._spelling:
            return None
        if self.analyzer.is_chat_word(word) or self.knows(self.analyzer.term(word)):
            return None
        return self._spelling.nearest(word)

    def search(self, question: str, limit: int = DEFAULT_LIMIT) -> Answer:
        """Rank the paragraphs for a question and decide whether they answer it."""
        corrected, corrections = self._correct_spelling(question)
        searched: list[Token] = []
        missing: list[str] = []
        for token in self.analyzer.tokens(corrected, query=True):
            if self.knows(token.term):
                searched.append(token)
            elif token.surface not in missing:
                missing.append(token.surface)
        terms = list(dict.fromkeys(t.term for t in searched))
        hits = self._rank(searched, terms, limit) if terms else ()
        addressed = bool(terms) and self._outweighs(terms, missing)
        figure_missing = bool(
            addressed and ASKS_FOR_FIGURE.search(question) and not self._has_figure(hits[0])
        )
        expansions = ((t.surface, self.analyzer.expansion(t)) for t in searched)
        return Answer(
            question=question,
            searched=tuple(dict.fromkeys(t.surface for t in searched)),
            corrections=corrections,
            expansions=tuple(dict.fromkeys((w, name) for w, name in expansions if name)),
            missing=tuple(missing),
            hits=hits,
            answered=addressed and not figure_missing,
            figure_missing=figure_missing,
        )

    def _correct_spelling(self, question: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        """The question with close misspellings replaced, and the (typed, corrected) pairs."""
        corrections: list[tuple[str, str]] = []

        def corrected(match: re.Match[str]) -> str:
            word = match.group().casefold()
            fixed = self.correct(word)
            if fixed is None:
                return match.group()
            corrections.append((word, fixed))
            return fixed

        return WORD.sub(corrected, question), tuple(dict.fromkeys(corrections))

    def _outweighs(self, terms: list[str], missing: list[str]) -> bool:
        """Whether the words found outweigh the words the statement lacks."""
        found_weight = sum(self.weight(t) for t in terms)
        return len(missing) * self.weight("") <= MISSING_TO_FOUND_MAX_RATIO * found_weight

    def _rank(self, searched: list[Token], terms: list[str], limit: int) -> tuple[Hit, ...]:
        hits = []
        # Only paragraphs that contain a searched word are hits, so ask for more than needed.
        for i, score in self._scorer.top(terms, limit * 2):
            details = self._paragraph_terms(i)
            matched = tuple(dict.fromkeys(t.surface for t in searched if t.term in details.terms))
            if matched:
                hits.append(
                    Hit(self.paragraphs[i], score, matched, self._best_sentence(details, terms))
                )
            if len(hits) == limit:
                break
        return tuple(hits)

    def _has_figure(self, hit: Hit) -> bool:
        words = self.analyzer.plain_words(hit.paragraph.text)
        return any(w.isdigit() or w in FIGURE_WORDS for w in words)

    def _analyze_paragraph(self, index: int) -> _ParagraphTerms:
        paragraph = self.paragraphs[index]
        return _ParagraphTerms(
            terms=frozenset(self.analyzer.terms(paragraph.text)),
            sentences=tuple(frozenset(self.analyzer.terms(s)) for s in paragraph.sentences),
            refers_back=tuple(
                any(w in BACK_REFERENCES for w in self.analyzer.words(s))
                for s in paragraph.sentences
            ),
        )

    def _best_sentence(self, details: _ParagraphTerms, terms: list[str]) -> int:
        """The sentence holding most of the question's weight, counting what "it"/"its" refer to."""
        sentences = details.sentences
        wanted = set(terms)
        best, best_score = 0, -1.0
        for i, own in enumerate(sentences):
            score = sum(self.weight(t) for t in own & wanted)
            if i > 0 and details.refers_back[i]:
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
