"""Rank paragraphs on two fields: their own text, and the example questions they answer.

Each field has its own BM25 scorer (bot/ranking.py); a paragraph's score is its text score plus
`examples_weight` times its examples score, the weight fitted by `make fit` (tools/fit.py). The
fields are scored apart rather than merged into one document so that the reply can tell how much
of a match came from the paragraph's own words, and so that a paragraph with no examples is
ranked exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.ranking import FloatArray, InvertedIndexScorer, Scorer, Variant, best_scores, make_scorer

# Each field returns at least this many candidates: a paragraph outside a field's list is given
# that list's lowest score (an upper bound on its own), so the merge is exact up to this many
# paragraphs and very nearly so past it.
FIELD_CANDIDATES_MIN = 64
FIELD_CANDIDATES_PER_RESULT = 8


@dataclass(frozen=True)
class FieldScores:
    """One paragraph's scores: on its text, on its examples, and the two combined."""

    index: int
    combined: float
    text: float
    examples: float


class TwoFieldRanker:
    """BM25 on paragraph text and on paragraph examples, combined with a fitted weight."""

    def __init__(
        self,
        text_terms: Sequence[Sequence[str]],
        example_terms: Sequence[Sequence[str]],
        variant: Variant,
        examples_weight: float,
    ) -> None:
        self.paragraph_count = len(text_terms)
        self.examples_weight = examples_weight
        self.text: Scorer = make_scorer(text_terms, variant)
        # No examples at all (a statement without an examples file): the text alone, as before.
        self.examples: Scorer | None = None
        if any(example_terms):
            self.examples = make_scorer(example_terms, variant)

    def text_frequency(self, term: str) -> int:
        return self.text.document_frequency(term)

    def example_frequency(self, term: str) -> int:
        return 0 if self.examples is None else self.examples.document_frequency(term)

    def rank(self, terms: list[str], k: int) -> list[FieldScores]:
        """The k best paragraphs by combined score, best first, ties by index."""
        wanted = min(
            self.paragraph_count, max(FIELD_CANDIDATES_MIN, k * FIELD_CANDIDATES_PER_RESULT)
        )
        text = dict(self.text.top(terms, wanted))
        examples = dict(self.examples.top(terms, wanted)) if self.examples else {}
        text_floor = min(text.values(), default=0.0)
        examples_floor = min(examples.values(), default=0.0)
        scored = []
        for i in text.keys() | examples.keys():
            text_score = text.get(i, text_floor)
            examples_score = examples.get(i, examples_floor)
            combined = text_score + self.examples_weight * examples_score
            scored.append(FieldScores(i, combined, text_score, examples_score))
        scored.sort(key=lambda s: (-s.combined, s.index))
        return scored[:k]


# How many of the most similar example questions vote on whether a question looks answerable,
# and how many of the top paragraph's labelled examples vote on its answer sentence.
NEAREST_EXAMPLES = 5
NEAREST_SENTENCE_EXAMPLES = 3


@dataclass(frozen=True)
class ExampleLabel:
    """What an example question is labelled with: its paragraph's index in the library and its
    sentence's index in that paragraph, each None when not given (out of scope, or no sentence)."""

    paragraph: int | None
    sentence: int | None = None


class NearestExamples:
    """BM25 over single example questions, answerable or not, to find a question's neighbours.

    Always the inverted index (same scores as rank-bm25): a few hundred short examples scored
    with rank-bm25's per-document loop would cost a millisecond a question.
    """

    def __init__(
        self, example_terms: Sequence[Sequence[str]], labels: Sequence[ExampleLabel]
    ) -> None:
        self._answerable = np.array([label.paragraph is not None for label in labels], np.bool_)
        self._scorer: InvertedIndexScorer | None = (
            InvertedIndexScorer(example_terms, "plus") if any(example_terms) else None
        )
        # Each paragraph's examples labelled with a sentence: their indexes and sentences.
        by_paragraph: dict[int, list[tuple[int, int]]] = {}
        for i, label in enumerate(labels):
            if label.paragraph is not None and label.sentence is not None:
                by_paragraph.setdefault(label.paragraph, []).append((i, label.sentence))
        self._sentence_examples = {
            paragraph: (np.array([i for i, _ in pairs]), [s for _, s in pairs])
            for paragraph, pairs in by_paragraph.items()
        }

    def similarity(self, terms: list[str]) -> FloatArray | None:
        """Each example's score above the score of an example sharing no word with the question,
        so that only shared words count; None without examples or terms."""
        if self._scorer is None or not terms:
            return None
        scores = self._scorer.scores(terms)
        return scores - scores.min()

    def unanswerable_share(self, similarity: FloatArray | None, k: int = NEAREST_EXAMPLES) -> float:
        """The share, by similarity, of the k most similar examples the statement does not answer;
        0.5 when no example shares a word."""
        if similarity is None:
            return 0.5
        nearest = [(i, s) for i, s in best_scores(similarity, k) if s > 0]
        total = sum(s for _, s in nearest)
        if total <= 0:
            return 0.5
        return sum(s for i, s in nearest if not self._answerable[i]) / total

    def sentence_votes(
        self,
        similarity: FloatArray | None,
        paragraph: int,
        sentence_count: int,
        k: int = NEAREST_SENTENCE_EXAMPLES,
    ) -> list[float]:
        """For each sentence of a paragraph, the share, by similarity, of the paragraph's k most
        similar labelled examples that name it (all zero when none shares a word)."""
        votes = [0.0] * sentence_count
        if similarity is None or paragraph not in self._sentence_examples:
            return votes
        indexes, sentences = self._sentence_examples[paragraph]
        scores = similarity[indexes]
        # Examples as similar as the k-th all vote: which of them came first in the file says
        # nothing.
        kth = np.sort(scores)[-min(k, len(scores))]
        nearest = [(j, float(s)) for j, s in enumerate(scores) if s >= kth and s > 0]
        total = sum(s for _, s in nearest)
        for j, s in nearest:
            votes[sentences[j]] += s / total
        return votes
