"""BM25 scoring: rank-bm25 is the reference; make_scorer picks how a corpus is scored.

rank-bm25 keeps one dict of term counts per paragraph and, for every query term, walks all of
them in Python: fine for one statement, ~70 ms a query and ~285 MB at 10,000 and 100,000
paragraphs. InvertedIndexScorer gives the same scores from posting lists held in numpy arrays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt
from rank_bm25 import BM25L, BM25Okapi, BM25Plus

Variant = Literal["okapi", "plus", "l"]
BM25_VARIANTS = {"okapi": BM25Okapi, "plus": BM25Plus, "l": BM25L}

# rank-bm25's defaults (rank_bm25 0.2.2); tests/test_ranking.py checks the scores agree.
K1 = 1.5
B = 0.75
OKAPI_EPSILON = 0.25
DELTA: dict[Variant, float] = {"okapi": 0.0, "plus": 1.0, "l": 0.5}

# Below this many paragraphs rank-bm25 answers as fast as the inverted index (tens of
# microseconds) and its per-paragraph dicts cost almost nothing, so the reference itself is used.
SMALL_CORPUS_PARAGRAPHS = 64

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.int32]


class Scorer(Protocol):
    def top(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        """The k best (paragraph index, score) pairs, best first, ties by index."""
        ...


class RankBM25Scorer:
    """rank-bm25 itself: every paragraph scored, the best k returned."""

    def __init__(self, paragraph_terms: list[list[str]], variant: Variant) -> None:
        self._bm25 = BM25_VARIANTS[variant](paragraph_terms)

    def top(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        scores = self._bm25.get_scores(terms)
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]
        return [(i, float(scores[i])) for i in order]


@dataclass(frozen=True)
class _Postings:
    """The paragraphs one term occurs in and what it adds to each of their scores."""

    paragraphs: IndexArray
    contributions: FloatArray
    # What the term adds to a paragraph that lacks it: idf·δ for BM25+, zero otherwise.
    absent_contribution: float


def bm25_idf(document_frequency: dict[str, int], paragraph_count: int, variant: Variant) -> dict:
    """Each term's idf exactly as rank-bm25 computes it (same formula, order and math.log).

    Okapi's idf is negative for a term in more than half the paragraphs; rank-bm25 floors those
    to epsilon times the average idf, the average taken in the order terms were first seen.
    """
    n = paragraph_count
    if variant == "plus":
        return {t: math.log((n + 1) / df) for t, df in document_frequency.items()}
    if variant == "l":
        return {t: math.log(n + 1) - math.log(df + 0.5) for t, df in document_frequency.items()}
    idf = {t: math.log(n - df + 0.5) - math.log(df + 0.5) for t, df in document_frequency.items()}
    if not idf:
        return idf
    idf_sum = 0.0
    for value in idf.values():
        idf_sum += value
    floor = OKAPI_EPSILON * (idf_sum / len(idf))
    return {t: floor if value < 0 else value for t, value in idf.items()}


class InvertedIndexScorer:
    """BM25 from posting lists: a query touches only the paragraphs that contain its terms.

    Scores are the same floating-point numbers rank-bm25 produces: each contribution is computed
    with rank-bm25's expression, in its operation order, and added to the running score in query
    order, so ties and near-ties break the same way. Memory is 12 bytes per (term, paragraph)
    pair plus one entry per distinct term; the term lists passed in are not kept.
    """

    def __init__(self, paragraph_terms: Sequence[Sequence[str]], variant: Variant) -> None:
        self.variant: Variant = variant
        self.paragraph_count = len(paragraph_terms)
        term_ids: dict[str, int] = {}
        document_frequency: list[int] = []
        # One (term id, paragraph, count) triple per distinct term of each paragraph.
        posting_terms: list[int] = []
        posting_paragraphs: list[int] = []
        posting_counts: list[int] = []
        lengths = np.zeros(self.paragraph_count, dtype=np.int64)
        for paragraph, terms in enumerate(paragraph_terms):
            lengths[paragraph] = len(terms)
            counts: dict[str, int] = {}
            for term in terms:
                counts[term] = counts.get(term, 0) + 1
            for term, count in counts.items():
                term_id = term_ids.setdefault(term, len(term_ids))
                if term_id == len(document_frequency):
                    document_frequency.append(0)
                document_frequency[term_id] += 1
                posting_terms.append(term_id)
                posting_paragraphs.append(paragraph)
                posting_counts.append(count)
        self.average_length = (
            int(lengths.sum()) / self.paragraph_count if self.paragraph_count else 0.0
        )
        self.idf = bm25_idf(
            dict(zip(term_ids, document_frequency, strict=True)), self.paragraph_count, variant
        )
        self._postings = self._build_postings(
            term_ids,
            np.array(posting_terms, dtype=np.int32),
            np.array(posting_paragraphs, dtype=np.int32),
            np.array(posting_counts, dtype=np.int64),
            lengths,
        )

    def _build_postings(
        self,
        term_ids: dict[str, int],
        posting_terms: IndexArray,
        posting_paragraphs: IndexArray,
        posting_counts: npt.NDArray[np.int64],
        lengths: npt.NDArray[np.int64],
    ) -> dict[str, _Postings]:
        if not term_ids or self.average_length == 0:
            # Nothing can match (rank-bm25 would divide by a zero average length).
            return {}
        idf_by_id = np.array(list(self.idf.values()), dtype=np.float64)
        contributions = self._contributions(
            idf_by_id[posting_terms], posting_counts, lengths[posting_paragraphs]
        )
        absent = self._contributions(idf_by_id, np.zeros(len(idf_by_id), np.int64), lengths[:1])
        # Group the postings by term; a stable sort keeps each term's paragraphs in order.
        order = np.argsort(posting_terms, kind="stable")
        paragraphs = posting_paragraphs[order]
        contributions = contributions[order]
        bounds = np.zeros(len(term_ids) + 1, dtype=np.int64)
        np.cumsum(np.bincount(posting_terms, minlength=len(term_ids)), out=bounds[1:])
        return {
            term: _Postings(
                paragraphs[bounds[i] : bounds[i + 1]],
                contributions[bounds[i] : bounds[i + 1]],
                float(absent[i]),
            )
            for term, i in term_ids.items()
        }

    def _contributions(
        self,
        idf: FloatArray,
        counts: npt.NDArray[np.int64],
        lengths: npt.NDArray[np.int64],
    ) -> FloatArray:
        """rank-bm25's per-term score, written exactly as its get_scores writes it."""
        k1, b, delta, q_freq = K1, B, DELTA[self.variant], counts
        doc_len, avgdl = lengths, self.average_length
        if self.variant == "okapi":
            return idf * (q_freq * (k1 + 1) / (q_freq + k1 * (1 - b + b * doc_len / avgdl)))
        if self.variant == "plus":
            return idf * (delta + (q_freq * (k1 + 1)) / (k1 * (1 - b + b * doc_len / avgdl) + q_freq))
        ctd = q_freq / (1 - b + b * doc_len / avgdl)
        return idf * q_freq * (k1 + 1) * (ctd + delta) / (k1 + ctd + delta)

    def scores(self, terms: Sequence[str]) -> FloatArray:
        """Every paragraph's score, as rank-bm25's get_scores returns it."""
        scores = np.zeros(self.paragraph_count)
        for term in terms:
            postings = self._postings.get(term)
            if postings is None:
                continue
            if postings.absent_contribution:
                # Add each paragraph's own term to its score, as rank-bm25 does, not a difference.
                with_term = scores[postings.paragraphs]
                scores += postings.absent_contribution
                scores[postings.paragraphs] = with_term + postings.contributions
            else:
                scores[postings.paragraphs] += postings.contributions
        return scores

    def top(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        return best_scores(self.scores(terms), k)


def best_scores(scores: FloatArray, k: int) -> list[tuple[int, float]]:
    """The k highest scores, best first, equal scores by paragraph index, without a full sort."""
    count = len(scores)
    if k <= 0 or count == 0:
        return []
    if k >= count:
        chosen = np.arange(count)
    else:
        kth_best = np.partition(scores, count - k)[count - k]
        above = np.flatnonzero(scores > kth_best)
        # Only as many of the paragraphs tied at the cut as fit, lowest index first.
        tied = np.flatnonzero(scores == kth_best)[: k - len(above)]
        chosen = np.concatenate((above, tied))
    order = chosen[np.lexsort((chosen, -scores[chosen]))][:k]
    return [(int(i), float(scores[i])) for i in order]


def make_scorer(paragraph_terms: list[list[str]], variant: Variant) -> Scorer:
    if len(paragraph_terms) < SMALL_CORPUS_PARAGRAPHS:
        return RankBM25Scorer(paragraph_terms, variant)
    return InvertedIndexScorer(paragraph_terms, variant)
