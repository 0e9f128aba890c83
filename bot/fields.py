"""Rank paragraphs on two fields: their own text, and the example questions they answer.

The text is scored with BM25 (bot/ranking.py). The examples are scored one by one, as short
documents of their own: a paragraph's examples score is the mean similarity of its
NEAREST_PARAGRAPH_EXAMPLES examples most like the question (NearestExamples). Its score is its text
score plus `examples_weight` times its examples score, the weight fitted by `make fit`
(tools/fit.py).

Why each example apart rather than all of a paragraph's examples as one document: with a few
hundred examples a paragraph, nearly every word is in every paragraph's examples, and BM25 over
six such documents no longer tells them apart. Adding examples by three more authors took
top-1 down from 0.97 to 0.955 that way; scored one by one, more examples help. The fields are
scored apart so that the reply can tell how much of a match came from the paragraph's own words,
and so that a library without examples is ranked exactly as before.
"""

from __future__ import annotations

import functools
import operator
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress
from typing import Generic, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from bot.ranking import (
    FloatArray,
    InvertedIndexScorer,
    NumberedTerms,
    Scorer,
    Variant,
    make_scorer,
)

Vector = TypeVar("Vector")

# Up to this many paragraphs, a question's scores are sums of kept single-term vectors.
TERM_VECTORS_MAX_PARAGRAPHS = 64


class FieldScores(NamedTuple):
    """One paragraph's scores: on its text, on its examples, and the two combined."""

    index: int
    combined: float
    text: float
    examples: float


class TermScores(Generic[Vector]):
    """A field's scores for single terms over every paragraph (or example), kept once computed.

    BM25 adds each query term's score to each paragraph's running total, starting from zero, so
    a question's scores are its terms' vectors added up in the same order: the same floats the
    scorer gives, for a few additions instead of a pass over every paragraph's word counts. Only
    for small corpora (a vector a term), and only terms the field holds (the others add zero).
    """

    def __init__(self, scores: Callable[[str], Vector], frequency: Callable[[str], int]) -> None:
        self._scores = scores
        self._frequency = frequency
        # Bounded by the field's vocabulary: terms it lacks are never stored.
        self._vectors: dict[str, Vector] = {}

    def vectors(self, terms: Sequence[str]) -> list[Vector]:
        """The vectors of the terms the field holds, in the terms' order."""
        found = []
        for term in terms:
            vector = self._vectors.get(term)
            if vector is None and self._frequency(term):
                vector = self._vectors[term] = self._scores(term)
            if vector is not None:
                found.append(vector)
        return found


class TwoFieldRanker:
    """BM25 on paragraph text, plus the examples' scores (NearestExamples) times a fitted weight."""

    def __init__(
        self,
        text_terms: Sequence[Sequence[str]] | NumberedTerms,
        example_terms: Sequence[Iterable[str]],
        variant: Variant,
        examples_weight: float,
    ) -> None:
        self.paragraph_count = len(text_terms)
        self.examples_weight = examples_weight
        self.text: Scorer = make_scorer(text_terms, variant)
        # How many paragraphs' examples hold each term: what weighs a word the text lacks.
        self._example_frequency = Counter(t for terms in example_terms for t in set(terms))
        # For a few paragraphs, summing term vectors gives exactly the scores the scorer would,
        # for a fraction of its cost.
        self._term_scores: TermScores[list[float]] | None = None
        if self.paragraph_count <= TERM_VECTORS_MAX_PARAGRAPHS:
            # A partial, not a closure, so that the ranker can be stored (bot/index_cache.py).
            scores = functools.partial(_term_vector, self.text, self.paragraph_count)
            self._term_scores = TermScores(scores, self.text.document_frequency)

    def text_frequency(self, term: str) -> int:
        return self.text.document_frequency(term)

    def example_frequency(self, term: str) -> int:
        return self._example_frequency.get(term, 0)

    def rank(
        self, terms: list[str], k: int, examples: Mapping[int, float] | None = None
    ) -> list[FieldScores]:
        """The k best paragraphs by combined score, best first, ties by index; `examples` are the
        examples scores of the paragraphs that have examples (NearestExamples)."""
        examples = examples or {}
        candidates: Iterable[tuple[int, float]]
        if self._term_scores is not None:
            # Plain floats: for a few paragraphs, numpy's per-call cost is most of the work.
            text = [0.0] * self.paragraph_count
            for vector in self._term_scores.vectors(terms):
                text = list(map(operator.add, text, vector))
            candidates = enumerate(text)
        else:
            # A paragraph without examples scores its text alone, so none outside the text's top
            # k can beat them: only the paragraphs with examples need scoring besides.
            best = dict(self.text.top(terms, k))
            others = sorted(examples.keys() - best.keys())
            others_text = self.text.scores_of(terms, others) if others else []
            candidates = [*best.items(), *zip(others, others_text, strict=True)]
        weight = self.examples_weight
        combined = [(i, t + weight * examples.get(i, 0.0), t) for i, t in candidates]
        combined.sort(key=lambda row: (-row[1], row[0]))
        return [FieldScores(i, c, t, examples.get(i, 0.0)) for i, c, t in combined[:k]]


def _term_vector(scorer: Scorer, paragraph_count: int, term: str) -> list[float]:
    """Every paragraph's score for one term, as a list."""
    vector = [0.0] * paragraph_count
    for i, score in scorer.top([term], paragraph_count):
        vector[i] = score
    return vector


def _term_scores(scorer: Scorer, term: str) -> FloatArray:
    return scorer.scores([term])


# How many of the most similar example questions vote on whether a question looks answerable,
# and how many of the top paragraph's labelled examples vote on its answer sentence.
NEAREST_EXAMPLES = 5
NEAREST_SENTENCE_EXAMPLES = 3
# How many of a paragraph's examples most like a question make its examples score.
NEAREST_PARAGRAPH_EXAMPLES = 3


@dataclass(frozen=True)
class ExampleLabel:
    """What an example question is labelled with: its paragraph's index in the library and its
    sentence's index in that paragraph, each None when not given (out of scope, or no sentence)."""

    paragraph: int | None
    sentence: int | None = None


class Neighbours(NamedTuple):
    """How similar each example question is to a question: its BM25 score above that of an
    example sharing no word with it (0.0 for those), with what the examples are labelled."""

    similarity: FloatArray
    # Per example, whether the statement does not answer it.
    unanswerable: npt.NDArray[np.bool_]
    # Per paragraph, the examples labelled with one of its sentences: their indexes (ascending)
    # and sentences. Looked up for the few paragraphs a reply shows, not for every neighbour.
    labelled: Mapping[int, tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]]

    def unanswerable_share(self, k: int = NEAREST_EXAMPLES) -> float:
        """The share, by similarity, of the k most similar examples the statement does not answer;
        0.5 when no example shares a word."""
        # Similarities are never negative: those that are not zero share a word.
        sharing = self.similarity.nonzero()[0]
        if not len(sharing):
            return 0.5
        similarity = self.similarity[sharing]
        # Best first; a stable sort keeps ties in the examples' order.
        best = (-similarity).argsort(kind="stable")[:k]
        values = similarity[best].tolist()
        out = self.unanswerable[sharing[best]].tolist()
        return sum(compress(values, out)) / sum(values)

    def sentence_votes(
        self, paragraph: int, sentence_count: int, k: int = NEAREST_SENTENCE_EXAMPLES
    ) -> list[float]:
        """For each sentence of a paragraph, the share, by similarity, of the paragraph's k most
        similar labelled examples that name it (all zero when none shares a word)."""
        votes = [0.0] * sentence_count
        if (labelled := self.labelled.get(paragraph)) is None:
            return votes
        indexes, sentences = labelled
        values = self.similarity.take(indexes)
        # Similarities are never negative: those that are not zero share a word.
        sharing = values.nonzero()[0]
        similar = values[sharing].tolist()
        # Examples as similar as the k-th all vote: which of them came first in the file says
        # nothing.
        kth = sorted(similar)[-k] if len(similar) > k else 0.0
        chosen = [
            (value, sentence)
            for value, sentence in zip(similar, sentences[sharing].tolist(), strict=True)
            if value >= kth
        ]
        total = sum(value for value, _ in chosen)
        for value, sentence in chosen:
            votes[sentence] += value / total
        return votes


class NearestExamples:
    """BM25 over single example questions, answerable or not, to find a question's neighbours,
    and from them each paragraph's examples score.

    The scores are rank-bm25's (the inverted index gives them bit for bit), summed from each
    term's scores over every example, kept once computed (TermScores).
    """

    def __init__(
        self, example_terms: Sequence[Sequence[str]], labels: Sequence[ExampleLabel]
    ) -> None:
        self._unanswerable = np.array([label.paragraph is None for label in labels], np.bool_)
        self._count = len(labels)
        self._scores: TermScores[FloatArray] | None = None
        if any(example_terms):
            scorer = InvertedIndexScorer(example_terms, "plus")
            self._scores = TermScores(
                functools.partial(_term_scores, scorer), scorer.document_frequency
            )
        # Only paragraphs with examples have an entry: a large library's other paragraphs cost
        # nothing.
        answering: dict[int, list[int]] = {}
        labelled: dict[int, tuple[list[int], list[int]]] = {}
        for i, label in enumerate(labels):
            if label.paragraph is None:
                continue
            answering.setdefault(label.paragraph, []).append(i)
            if label.sentence is not None:
                indexes, sentences = labelled.setdefault(label.paragraph, ([], []))
                indexes.append(i)
                sentences.append(label.sentence)
        # Each paragraph with examples as a row of its examples' indexes, padded with an index
        # past the last example (where a question's similarities get a zero): the paragraphs'
        # nearest examples are then one take and one sort, not a pass a paragraph.
        self._paragraphs = tuple(sorted(answering))
        width = max(map(len, answering.values()), default=0)
        self._rows = np.full((len(answering), width), self._count, np.intp)
        for row, paragraph in enumerate(self._paragraphs):
            self._rows[row, : len(answering[paragraph])] = answering[paragraph]
        self._labelled = {
            paragraph: (np.array(indexes, np.intp), np.array(sentences, np.intp))
            for paragraph, (indexes, sentences) in labelled.items()
        }

    def paragraph_scores(
        self, neighbours: Neighbours, k: int = NEAREST_PARAGRAPH_EXAMPLES
    ) -> dict[int, float]:
        """The examples score of each paragraph that has examples: the mean similarity of its k
        examples most like the question (those sharing no word count as zero)."""
        if not self._paragraphs:
            return {}
        rows = np.concatenate((neighbours.similarity, (0.0,))).take(self._rows)
        rows.sort(axis=1)
        scores = (rows[:, -k:].sum(axis=1) / k).tolist()
        return dict(zip(self._paragraphs, scores, strict=True))

    def neighbours(self, terms: list[str]) -> Neighbours | None:
        """The examples sharing a word with the question; None without examples or terms."""
        if self._scores is None or not terms:
            return None
        scores = np.zeros(self._count)
        for vector in self._scores.vectors(terms):
            scores += vector
        # ndarray methods and ufuncs directly: numpy's Python wrappers cost as much as the work.
        similarity = scores - np.minimum.reduce(scores)
        return Neighbours(similarity, self._unanswerable, self._labelled)
