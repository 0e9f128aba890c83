"""BM25 scoring: rank-bm25 is the reference; make_scorer picks how a corpus is scored.

rank-bm25 keeps one dict of term counts per paragraph and, for every query term, walks all of
them in Python: fine for one statement, ~70 ms a query and ~285 MB at 10,000 and 100,000
paragraphs. InvertedIndexScorer gives the same scores from posting lists held in numpy arrays.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Sequence
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


def bm25_idf(
    document_frequency: dict[str, int], paragraph_count: int, variant: Variant
) -> dict[str, float]:
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
    order, so ties and near-ties break the same way. The postings of all terms share three flat
    arrays (12 bytes a posting) so that a term costs one dict entry, not a Python object; the term
    lists passed in are not kept.
    """

    def __init__(self, paragraph_terms: Sequence[Sequence[str]], variant: Variant) -> None:
        self.variant: Variant = variant
        self.paragraph_count = len(paragraph_terms)
        self._term_ids: dict[str, int] = {}
        document_frequency = array("q")
        # One (term id, paragraph, count) triple per distinct term of each paragraph; typed
        # arrays, because lists of int objects would take three times the memory while building.
        posting_terms = array("i")
        posting_paragraphs = array("i")
        posting_counts = array("q")
        lengths = array("q")
        for paragraph, terms in enumerate(paragraph_terms):
            lengths.append(len(terms))
            for term, count in Counter(terms).items():
                term_id = self._term_ids.setdefault(term, len(self._term_ids))
                if term_id == len(document_frequency):
                    document_frequency.append(0)
                document_frequency[term_id] += 1
                posting_terms.append(term_id)
                posting_paragraphs.append(paragraph)
                posting_counts.append(count)
        doc_len = np.frombuffer(lengths, dtype=np.int64) if lengths else np.zeros(0, np.int64)
        self.average_length = int(doc_len.sum()) / self.paragraph_count if lengths else 0.0
        idf = bm25_idf(
            dict(zip(self._term_ids, document_frequency, strict=True)),
            self.paragraph_count,
            variant,
        )
        self._idf: FloatArray = np.array(list(idf.values()), dtype=np.float64)
        terms_of_postings = np.frombuffer(posting_terms, dtype=np.int32)
        if len(terms_of_postings) == 0:
            # No paragraph has a term, so nothing matches (rank-bm25 would divide by zero).
            self._bounds = np.zeros(1, dtype=np.int64)
            self._paragraphs: IndexArray = np.zeros(0, dtype=np.int32)
            self._contributions: FloatArray = np.zeros(0)
            self._absent_contribution: FloatArray = np.zeros(0)
            return
        contributions = self._contributions_of(
            self._idf[terms_of_postings],
            np.frombuffer(posting_counts, dtype=np.int64),
            doc_len[np.frombuffer(posting_paragraphs, dtype=np.int32)],
        )
        # What each term adds to a paragraph that lacks it: idf·δ for BM25+, zero otherwise.
        self._absent_contribution = self._contributions_of(
            self._idf, np.zeros(len(self._idf), np.int64), doc_len[:1]
        )
        # Group the postings by term; a stable sort keeps each term's paragraphs in order.
        order = np.argsort(terms_of_postings, kind="stable")
        self._paragraphs = np.frombuffer(posting_paragraphs, dtype=np.int32)[order]
        self._contributions = contributions[order]
        self._bounds = np.zeros(len(self._term_ids) + 1, dtype=np.int64)
        np.cumsum(
            np.bincount(terms_of_postings, minlength=len(self._term_ids)), out=self._bounds[1:]
        )

    def _contributions_of(
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
            return idf * (
                delta + (q_freq * (k1 + 1)) / (k1 * (1 - b + b * doc_len / avgdl) + q_freq)
            )
        ctd = q_freq / (1 - b + b * doc_len / avgdl)
        return idf * q_freq * (k1 + 1) * (ctd + delta) / (k1 + ctd + delta)

    def idf(self, term: str) -> float:
        """The term's idf; 0 for a term in no paragraph, as rank-bm25's idf.get(q) or 0."""
        term_id = self._term_ids.get(term)
        return 0.0 if term_id is None else float(self._idf[term_id])

    @property
    def posting_count(self) -> int:
        return len(self._paragraphs)

    def scores(self, terms: Sequence[str]) -> FloatArray:
        """Every paragraph's score, as rank-bm25's get_scores returns it."""
        scores = np.zeros(self.paragraph_count)
        for term in terms:
            term_id = self._term_ids.get(term)
            if term_id is None:
                continue
            start, end = self._bounds[term_id], self._bounds[term_id + 1]
            paragraphs = self._paragraphs[start:end]
            contributions = self._contributions[start:end]
            absent = self._absent_contribution[term_id]
            if absent:
                # Each paragraph adds its own contribution to its running score, as in rank-bm25;
                # adding a difference to a shared offset would round differently.
                with_term = scores[paragraphs]
                scores += absent
                scores[paragraphs] = with_term + contributions
            else:
                scores[paragraphs] += contributions
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
