"""BM25 scoring: rank-bm25 is the reference; make_scorer picks how a corpus is scored.

rank-bm25 keeps one dict of term counts per paragraph and, for every query term, walks all of
them in Python: fine for one statement, but ~15 ms a query at 10,000 paragraphs, ~170 ms at
100,000, and ~1 KB of dicts a paragraph. InvertedIndexScorer gives the same scores, bit for bit,
from posting lists in numpy arrays: ~0.2 ms and ~0.4 ms a query there, 40 MB at 100,000.
"""

from __future__ import annotations

import itertools
import math
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
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
# BM25+ and BM25L's δ; Okapi has none.
DELTA: dict[Variant, float] = {"okapi": 0.0, "plus": 1.0, "l": 0.5}

# Up to this many postings (~30,000 paragraphs of ~120 words) every contribution is computed
# when the index is built (8 more bytes a posting, at most 16 MB): a query then makes a third of
# the numpy calls, which is what a small corpus's latency is made of. Larger indexes keep only
# the counts.
PRECOMPUTE_POSTINGS_MAX = 2_000_000

# Up to this many paragraphs, choosing the best among all of them is quicker than first finding
# the paragraphs that hold a term (4 µs against 7 µs at 6 paragraphs; even at ~1,000).
SELECT_AMONG_ALL_MAX = 512

# rank-bm25 ranks a statement or a small library itself (it is as quick there); past this, its
# per-paragraph dicts cost milliseconds and megabytes, and the inverted index takes over.
RANK_BM25_MAX_PARAGRAPHS = 500

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.int32]


class Scorer(Protocol):
    def top(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        """The k best (paragraph index, score) pairs, best first, ties by index."""
        ...

    def document_frequency(self, term: str) -> int:
        """How many paragraphs hold the term."""
        ...


class RankBM25Scorer:
    """rank-bm25 itself: every paragraph scored, the best k returned."""

    def __init__(self, paragraph_terms: list[list[str]], variant: Variant) -> None:
        self._bm25 = BM25_VARIANTS[variant](paragraph_terms)
        self._document_frequency = Counter(t for terms in paragraph_terms for t in set(terms))

    def top(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        scores = self._bm25.get_scores(terms)
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]
        return [(i, float(scores[i])) for i in order]

    def document_frequency(self, term: str) -> int:
        return self._document_frequency[term]


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

    Scores are the same floating-point numbers rank-bm25 produces: each term's contribution is
    rank-bm25's expression in its operation order, added to the running score in query order,
    so ties and near-ties break the same way. A posting keeps the paragraph and the term's count
    there (5 bytes when no term occurs 256 times in a paragraph); the float64 contribution (8 more)
    is precomputed only for small indexes: at 100,000 paragraphs that is ~30 MB instead of
    ~75 MB, and computing the few thousand contributions of a query's terms takes microseconds.
    All terms share flat arrays, so a term costs one dict entry, not Python objects; the term
    lists passed in are not kept.
    """

    def __init__(
        self,
        paragraph_terms: Iterable[Sequence[str]],
        variant: Variant,
        precompute_postings: int = PRECOMPUTE_POSTINGS_MAX,
    ) -> None:
        self.variant: Variant = variant
        self._term_ids: dict[str, int] = {}
        document_frequency = array("q")
        # One (term id, paragraph, count) triple per distinct term of each paragraph, in typed
        # arrays: lists of int objects would take three times the memory while building.
        posting_terms = array("i")
        posting_paragraphs = array("i")
        posting_counts = array("I")
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
        # Counted here, not with len(), so the term lists can be a generator never held whole.
        self.paragraph_count = len(lengths)
        doc_len = np.array(lengths, dtype=np.int64)
        self.average_length = int(doc_len.sum()) / len(doc_len) if len(doc_len) else 0.0
        idf = bm25_idf(
            dict(zip(self._term_ids, document_frequency, strict=True)),
            self.paragraph_count,
            variant,
        )
        self._idf: FloatArray = np.array(list(idf.values()), dtype=np.float64)
        # rank-bm25's length normalisation of each paragraph, the same subexpression it computes:
        # k1·(1 - b + b·|d|/avgdl) for Okapi and BM25+, (1 - b + b·|d|/avgdl) for BM25L.
        self._length_norm: FloatArray = np.zeros(0)
        if self.average_length:
            length_ratio = 1 - B + B * doc_len / self.average_length
            self._length_norm = length_ratio if variant == "l" else K1 * length_ratio
        # What a term adds to a paragraph that lacks it: idf·δ for BM25+ (its 0/x term is 0).
        self._absent_contribution: FloatArray | None = None
        if variant == "plus":
            self._absent_contribution = self._idf * (DELTA["plus"] + 0.0)
        self._bounds = np.zeros(len(self._term_ids) + 1, dtype=np.int64)
        np.cumsum(np.array(document_frequency, dtype=np.int64), out=self._bounds[1:])
        # Group the postings by term; a stable sort keeps each term's paragraphs in order. Each
        # building array is dropped once copied: at 100,000 paragraphs they are ~25 MB apiece.
        terms_of_postings = np.frombuffer(posting_terms, dtype=f"i{posting_terms.itemsize}")
        order = np.argsort(terms_of_postings, kind="stable")
        self._paragraphs: IndexArray = np.frombuffer(
            posting_paragraphs, dtype=f"i{posting_paragraphs.itemsize}"
        )[order]
        del posting_paragraphs
        counts = np.frombuffer(posting_counts, dtype=f"u{posting_counts.itemsize}")
        count_type = np.min_scalar_type(int(counts.max())) if len(counts) else np.uint8
        self._counts: npt.NDArray[np.unsignedinteger] = counts.astype(count_type)[order]
        del counts, posting_counts
        self._precomputed: FloatArray | None = None
        if 0 < len(order) <= precompute_postings:
            self._precomputed = self._contributions_of(
                self._idf[terms_of_postings[order]],
                self._counts,
                self._length_norm[self._paragraphs],
            )

    def _contributions_of(
        self, idf: float | FloatArray, q_freq: npt.NDArray[np.unsignedinteger], norm: FloatArray
    ) -> FloatArray:
        """rank-bm25's per-term score, written exactly as its get_scores writes it."""
        k1, delta = K1, DELTA[self.variant]
        if self.variant == "okapi":
            return idf * (q_freq * (k1 + 1) / (q_freq + norm))
        if self.variant == "plus":
            return idf * (delta + (q_freq * (k1 + 1)) / (norm + q_freq))
        ctd = q_freq / norm
        return idf * q_freq * (k1 + 1) * (ctd + delta) / (k1 + ctd + delta)

    def _contributions(self, term_id: int, start: int, end: int) -> FloatArray:
        """What the term adds to each paragraph holding it."""
        if self._precomputed is not None:
            return self._precomputed[start:end]
        return self._contributions_of(
            self._idf[term_id],
            self._counts[start:end],
            self._length_norm[self._paragraphs[start:end]],
        )

    def idf(self, term: str) -> float:
        """The term's idf; 0 for a term in no paragraph, as rank-bm25's idf.get(q) or 0."""
        term_id = self._term_ids.get(term)
        return 0.0 if term_id is None else float(self._idf[term_id])

    def document_frequency(self, term: str) -> int:
        """How many paragraphs hold the term."""
        term_id = self._term_ids.get(term)
        return 0 if term_id is None else int(self._bounds[term_id + 1] - self._bounds[term_id])

    @property
    def posting_count(self) -> int:
        return len(self._paragraphs)

    def scores(self, terms: Sequence[str]) -> FloatArray:
        """Every paragraph's score, as rank-bm25's get_scores returns it."""
        return self._score(terms)[0]

    def _score(self, terms: Sequence[str]) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        """Every paragraph's score, and which paragraphs hold at least one of the terms."""
        scores = np.zeros(self.paragraph_count)
        touched = np.zeros(self.paragraph_count, dtype=np.bool_)
        for term in terms:
            term_id = self._term_ids.get(term)
            if term_id is None:
                continue
            start, end = int(self._bounds[term_id]), int(self._bounds[term_id + 1])
            paragraphs = self._paragraphs[start:end]
            contributions = self._contributions(term_id, start, end)
            touched[paragraphs] = True
            if self._absent_contribution is None:
                scores[paragraphs] += contributions
            else:
                # Each paragraph adds its own contribution to its running score, as in rank-bm25;
                # adding a difference to a shared offset would round differently.
                with_term = scores[paragraphs]
                scores += self._absent_contribution[term_id]
                scores[paragraphs] = with_term + contributions
        return scores, touched

    def top(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        """The k best paragraphs, choosing among those holding a term and a few that hold none.

        Every paragraph without any of the terms went through the same additions from zero, so
        they share one score, and only the k first of them can be among the k best. Selecting
        among those few thousand candidates instead of all paragraphs is what keeps a query at
        100,000 paragraphs under a millisecond (np.partition over 100,000 scores takes ~1.4 ms).
        """
        scores, touched = self._score(terms)
        if self.paragraph_count <= SELECT_AMONG_ALL_MAX:
            return best_scores(scores, k)
        holding = np.flatnonzero(touched)
        # The m-th paragraph holding none is m plus the number of holders before it, and
        # holding[j] - j counts the non-holders before holding[j].
        first = np.arange(min(k, self.paragraph_count - len(holding)))
        lacking = first + np.searchsorted(holding - np.arange(len(holding)), first, side="right")
        return best_scores(scores, k, np.concatenate((holding, lacking)))


def best_scores(
    scores: FloatArray, k: int, candidates: IndexArray | npt.NDArray[np.int64] | None = None
) -> list[tuple[int, float]]:
    """The k highest scores among candidates (default: all), best first, ties by index."""
    if candidates is None:
        candidates = np.arange(len(scores))
    if k <= 0 or len(candidates) == 0:
        return []
    chosen = candidates
    if k < len(candidates):
        values = scores[candidates]
        cut = len(values) - k
        kth_best = np.partition(values, cut)[cut]
        above = candidates[values > kth_best]
        # Only as many of the paragraphs tied at the cut as fit, lowest index first.
        tied = np.sort(candidates[values == kth_best])[: k - len(above)]
        chosen = np.concatenate((above, tied))
    order = chosen[np.lexsort((chosen, -scores[chosen]))][:k]
    return [(int(i), float(scores[i])) for i in order]


def make_scorer(paragraph_terms: Iterable[Sequence[str]], variant: Variant) -> Scorer:
    """rank-bm25 itself for a statement or a few; the inverted index, with its scores, beyond."""
    stream = iter(paragraph_terms)
    first = [list(terms) for terms in itertools.islice(stream, RANK_BM25_MAX_PARAGRAPHS + 1)]
    if len(first) <= RANK_BM25_MAX_PARAGRAPHS:
        return RankBM25Scorer(first, variant)
    return InvertedIndexScorer(itertools.chain(first, stream), variant)
