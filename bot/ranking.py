"""BM25 scoring: rank-bm25 is the reference; make_scorer picks how a corpus is scored.

rank-bm25 keeps one dict of term counts per paragraph and, for every query term, walks all of
them in Python: fine for one statement, but ~30 ms a query at 10,000 paragraphs and ~0.5 s at
100,000. InvertedIndexScorer gives the same scores, bit for bit, from posting lists in numpy
arrays, and finds the best k without scoring every paragraph that holds a query term (see
top_combined). Several fields can combine linearly: top_combined ranks by the weighted sum of
each field's rank-bm25 score.
"""

from __future__ import annotations

import itertools
import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt
from rank_bm25 import BM25L, BM25Okapi, BM25Plus

from bot.index_cache import stored_state

Variant = Literal["okapi", "plus", "l"]
BM25_VARIANTS = {"okapi": BM25Okapi, "plus": BM25Plus, "l": BM25L}

# rank-bm25's defaults (rank_bm25 0.2.2); tests/test_ranking.py checks the scores agree.
K1 = 1.5
B = 0.75
OKAPI_EPSILON = 0.25
# BM25+ and BM25L's δ; Okapi has none.
DELTA: dict[Variant, float] = {"okapi": 0.0, "plus": 1.0, "l": 0.5}

# Up to this many paragraphs, scoring all of them is quicker than bounding and pruning.
SELECT_AMONG_ALL_MAX = 512

# rank-bm25 ranks a statement or a small library itself (it is as quick there); past this, its
# per-paragraph dicts cost milliseconds and megabytes, and the inverted index takes over.
RANK_BM25_MAX_PARAGRAPHS = 500

# Per term, the paragraphs where it weighs the most: scoring those first gives a k-th best score
# close to the final one, and everything that cannot beat it is skipped (see top_combined).
CHAMPIONS_PER_TERM = 16

# Pruning compares bounds (gains summed in another order, maybe stored as float32) with exact
# scores; a paragraph is skipped only when its bound is below the k-th best by more than this
# share of the scores' magnitude, above what float32 rounding can make of them (~6e-8).
BOUND_SLACK = 1e-6

# Up to this many postings (~40,000 paragraphs of ~120 words), each posting's gain is stored
# (4 bytes, 16 MB at most), which saves a query a dozen numpy calls; larger indexes compute
# the gains of the postings a query reads.
STORED_GAINS_MAX_POSTINGS = 4_000_000

# The build computes per-term figures over slices of about this many postings.
BUILD_SLICE = 1 << 20

# Up to this many (paragraph, term) pairs, exact scores are computed on Python floats.
SCALAR_EXACT_MAX = 256

# Up to this many candidates, the best are sorted out in Python rather than with numpy calls.
SORT_IN_PYTHON_MAX = 64

# A fresh array up to this size comes from the heap (glibc's mmap threshold starts at 128 KiB):
# below it, a query may allocate its sums (~12,000 paragraphs); above, it reuses a buffer.
FRESH_ARRAY_MAX_BYTES = 96 * 1024

# Below 1/8 of the paragraphs, a query's postings are sorted to find the paragraphs they touch
# and reset one by one; above, every paragraph's sum is scanned and the buffer zeroed.
SPARSE_RESET_SHARE = 8

# A query whose terms have fewer postings than this reads them all: skipping some (MaxScore)
# first costs a threshold, a few dozen numpy calls, which only pays off past tens of thousands.
PRUNE_MIN_POSTINGS = 32_768

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.int32]
AnyIndexArray = npt.NDArray[np.integer]


class Scorer(Protocol):
    paragraph_count: int

    def top(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        """The k best (paragraph index, score) pairs, best first, ties by index."""
        ...

    def scores(self, terms: Sequence[str]) -> FloatArray:
        """Every paragraph's score, as rank-bm25's get_scores returns it."""
        ...

    def document_frequency(self, term: str) -> int:
        """How many paragraphs hold the term."""
        ...

    def scores_of(self, terms: Sequence[str], paragraphs: Sequence[int]) -> list[float]:
        """Some paragraphs' scores, in their order: the floats scores() gives them."""
        ...


@dataclass(frozen=True, eq=False)
class NumberedTerms:
    """Paragraphs' terms as ids, numbered in order of first occurrence (as rank-bm25 meets
    them): every occurrence, paragraph after paragraph, and each paragraph's length. What the
    inverted index is built from, without a list of strings per paragraph."""

    vocabulary: dict[str, int]
    # Typed arrays ("i" and "q"): a list of int objects would take seven times the memory.
    occurrences: array
    lengths: array

    @classmethod
    def of(cls, paragraph_terms: Iterable[Sequence[str]]) -> NumberedTerms:
        """Numbered from term lists, which may be a generator never held whole."""
        # A missing term takes the next id without a Python-level call per occurrence.
        term_ids: defaultdict[str, int] = defaultdict(itertools.count().__next__)
        occurrences = array("i")
        lengths = array("q")
        for terms in paragraph_terms:
            lengths.append(len(terms))
            occurrences.extend(map(term_ids.__getitem__, terms))
        # A plain dict from now on: looking up an unknown term must not add it.
        return cls(dict(term_ids), occurrences, lengths)

    def __len__(self) -> int:
        return len(self.lengths)

    def lists(self) -> list[list[str]]:
        """Each paragraph's terms, as rank-bm25 takes them."""
        terms = list(self.vocabulary)
        ends = itertools.accumulate(self.lengths)
        return [
            [terms[i] for i in self.occurrences[end - length : end]]
            for end, length in zip(ends, self.lengths, strict=True)
        ]


class RankBM25Scorer:
    """rank-bm25 itself: every paragraph scored, the best k returned."""

    def __init__(self, paragraph_terms: list[list[str]], variant: Variant) -> None:
        self._bm25 = BM25_VARIANTS[variant](paragraph_terms)
        self._document_frequency = Counter(t for terms in paragraph_terms for t in set(terms))
        self.paragraph_count = len(paragraph_terms)

    def scores(self, terms: Sequence[str]) -> FloatArray:
        return self._bm25.get_scores(terms)

    def top(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        scores = self._bm25.get_scores(terms)
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]
        return [(i, float(scores[i])) for i in order]

    def document_frequency(self, term: str) -> int:
        # get() rather than the Counter's [], whose __missing__ is a Python call: questions ask
        # each field about terms it lacks (those only the other field holds) again and again.
        return self._document_frequency.get(term, 0)

    def scores_of(self, terms: Sequence[str], paragraphs: Sequence[int]) -> list[float]:
        return list(self._bm25.get_batch_scores(terms, paragraphs))


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


def contributions(
    variant: Variant,
    idf: Any,
    q_freq: Any,
    norm: Any,
) -> Any:
    """rank-bm25's per-term score, written exactly as its get_scores writes it: of numpy
    arrays element by element, or of Python numbers (IEEE doubles, operation by operation,
    the same floats).

    norm is rank-bm25's length normalisation of each paragraph, the subexpression it computes:
    k1·(1 - b + b·|d|/avgdl) for Okapi and BM25+, (1 - b + b·|d|/avgdl) for BM25L. A count of 0
    gives what the term adds to a paragraph that lacks it: idf·δ for BM25+, 0 otherwise.
    """
    k1, delta = K1, DELTA[variant]
    if variant == "okapi":
        return idf * (q_freq * (k1 + 1) / (q_freq + norm))
    if variant == "plus":
        return idf * (delta + (q_freq * (k1 + 1)) / (norm + q_freq))
    ctd = q_freq / norm
    return idf * q_freq * (k1 + 1) * (ctd + delta) / (k1 + ctd + delta)


class _Workspace:
    """Buffers one query reuses instead of allocating: the running bound of every paragraph
    (all zeros between queries), a mask as long, and the postings a query reads, grown to the
    most a query has read. Fresh numpy temporaries of this size would be fresh memory mappings
    in a process that loaded rather than built its arrays (glibc's mmap threshold stays low),
    costing page faults on every query."""

    def __init__(self, paragraph_count: int) -> None:
        self.bound = np.zeros(paragraph_count)
        self.mask = np.empty(paragraph_count, dtype=np.bool_)
        self.positions = np.empty(0, dtype=np.intp)
        self.gains = np.empty(0)
        self.norms = np.empty(0)

    def reserve(self, postings: int) -> None:
        if self.positions.size < postings:
            self.positions = np.empty(postings, dtype=np.intp)
            self.gains = np.empty(postings)
            self.norms = np.empty(postings)


class InvertedIndexScorer:
    """BM25 from posting lists: a query touches only the paragraphs that contain its terms.

    Scores are the same floating-point numbers rank-bm25 produces: each term's contribution is
    rank-bm25's expression in its operation order, added to the running score in query order,
    so ties and near-ties break the same way. A posting keeps the paragraph (int32) and the
    term's count there (uint8 unless some count reaches 256): 5 bytes. Per term, the most it
    adds to a paragraph beyond what it adds to one without it (its gain), and the paragraphs
    where it gains the most (its champions), for pruning. All terms share flat arrays, so a
    term costs one dict entry, not Python objects; the term lists passed in are not kept.
    """

    def __init__(
        self,
        paragraph_terms: Iterable[Sequence[str]] | NumberedTerms,
        variant: Variant,
        champions_per_term: int = CHAMPIONS_PER_TERM,
    ) -> None:
        self.variant: Variant = variant
        numbered = (
            paragraph_terms
            if isinstance(paragraph_terms, NumberedTerms)
            else NumberedTerms.of(paragraph_terms)
        )
        self._term_ids: dict[str, int] = numbered.vocabulary
        occurrences, lengths = numbered.occurrences, numbered.lengths
        del numbered
        self.paragraph_count = n = len(lengths)
        doc_len = np.frombuffer(lengths, dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
        self.average_length = int(doc_len.sum()) / n if n else 0.0
        # Handed over in a list, so that _postings can free the occurrences (~70 MB at
        # 100,000 paragraphs) before it allocates what it returns, unless a caller keeps them.
        handed_over = [occurrences]
        del occurrences
        self._paragraphs, self._counts, document_frequency = _postings(
            handed_over, doc_len, len(self._term_ids)
        )
        idf = bm25_idf(
            dict(zip(self._term_ids, document_frequency.tolist(), strict=True)), n, variant
        )
        self._idf: FloatArray = np.array(list(idf.values()), dtype=np.float64)
        self._length_norm: FloatArray = np.zeros(0)
        if self.average_length:
            length_ratio = 1 - B + B * doc_len / self.average_length
            self._length_norm = length_ratio if variant == "l" else K1 * length_ratio
        # What a term adds to a paragraph without it: idf·δ for BM25+, 0 for the others.
        self._absent: FloatArray = contributions(
            variant, self._idf, np.zeros(len(self._idf), dtype=np.uint8), np.ones(len(self._idf))
        )
        self._bounds = np.zeros(len(self._term_ids) + 1, dtype=np.int64)
        np.cumsum(document_frequency, out=self._bounds[1:])
        # Each posting's gain, for a query to read rather than compute, up to a size.
        self._gain: npt.NDArray[np.float32] | None = None
        if self.posting_count <= STORED_GAINS_MAX_POSTINGS:
            self._gain = np.empty(self.posting_count, dtype=np.float32)
        self._max_gain, self._champion_bounds, self._champions = self._pruning_lists(
            champions_per_term
        )
        self._workspaces: list[_Workspace] = []

    def _posting_gains(self, start: int, end: int) -> FloatArray:
        """What each term adds to each paragraph of postings start:end beyond what it adds to
        a paragraph without it."""
        frequency = np.diff(self._bounds)
        first = int(np.searchsorted(self._bounds, start, side="right")) - 1
        last = int(np.searchsorted(self._bounds, end, side="left"))
        lengths = np.minimum(self._bounds[first + 1 : last + 1], end) - np.maximum(
            self._bounds[first:last], start
        )
        del frequency
        terms = np.repeat(np.arange(first, last), lengths)
        gains = contributions(
            self.variant,
            self._idf[terms],
            self._counts[start:end],
            self._length_norm[self._paragraphs[start:end]],
        )
        gains -= self._absent[terms]
        return gains

    def _pruning_lists(self, per_term: int) -> tuple[FloatArray, npt.NDArray[np.int64], IndexArray]:
        """Per term, the largest gain; and for each term in more than per_term paragraphs the
        per_term paragraphs where it gains the most, ascending (other terms' champions are all
        their paragraphs), as bounds into one flat array."""
        frequency = np.diff(self._bounds)
        term_count = len(frequency)
        max_gain = np.zeros(term_count)
        long_terms = np.flatnonzero(frequency > per_term) if per_term > 0 else np.zeros(0, int)
        champion_bounds = np.zeros(term_count + 1, dtype=np.int64)
        champion_bounds[long_terms + 1] = per_term
        np.cumsum(champion_bounds, out=champion_bounds)
        champions = np.empty(len(long_terms) * per_term, dtype=np.int32)
        # Terms a slice at a time, so that the float64 gains of all postings (~50 MB at
        # 100,000 paragraphs) never exist at once.
        first = 0
        while first < term_count:
            last = int(np.searchsorted(self._bounds, self._bounds[first] + BUILD_SLICE, "right"))
            last = min(max(last - 1, first + 1), term_count)
            start, end = int(self._bounds[first]), int(self._bounds[last])
            gains = self._posting_gains(start, end)
            max_gain[first:last] = np.maximum.reduceat(gains, self._bounds[first:last] - start)
            if self._gain is not None:
                # float32's rounding (6e-8 of a gain) is far within BOUND_SLACK; a gain
                # never rounds to 0, which would mark its paragraph as holding no term.
                np.maximum(gains, SMALLEST_POSITIVE_FLOAT32, out=gains)
                self._gain[start:end] = gains
            terms = long_terms[(long_terms >= first) & (long_terms < last)]
            self._choose_champions(terms, gains, start, per_term, champion_bounds, champions)
            first = last
        return max_gain, champion_bounds, champions

    def _choose_champions(
        self,
        terms: npt.NDArray[np.integer],
        gains: FloatArray,
        offset: int,
        per_term: int,
        champion_bounds: npt.NDArray[np.int64],
        champions: IndexArray,
    ) -> None:
        """Fill in the champions of terms, whose postings' gains start at offset."""
        frequency = self._bounds[terms + 1] - self._bounds[terms]
        # Terms of equal frequency at once, as the rows of a matrix of their postings: a few
        # thousand numpy calls at 100,000 paragraphs rather than one per term.
        by_frequency = terms[np.argsort(frequency, kind="stable")]
        sizes = np.sort(frequency, kind="stable")
        group_starts = np.flatnonzero(np.diff(sizes, prepend=-1))
        group_ends = [*group_starts[1:].tolist(), len(sizes)] if len(group_starts) else []
        for first, last in zip(group_starts.tolist(), group_ends, strict=True):
            group, size = by_frequency[first:last], int(sizes[first])
            postings = self._bounds[group][:, np.newaxis] + np.arange(size)
            best = np.argpartition(gains[postings - offset], size - per_term, axis=1)
            chosen = np.take_along_axis(self._paragraphs[postings], best[:, -per_term:], axis=1)
            slots = champion_bounds[group][:, np.newaxis] + np.arange(per_term)
            champions[slots] = np.sort(chosen, axis=1)

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

    def known_ids(self, terms: Sequence[str]) -> list[int]:
        """The ids of the terms the index holds, in query order, repeats kept: an unknown term
        adds exactly 0.0 to every score in rank-bm25 (its idf is 0), so it can be left out."""
        ids = self._term_ids
        return [ids[t] for t in terms if t in ids]

    def scores(self, terms: Sequence[str]) -> FloatArray:
        """Every paragraph's score, as rank-bm25's get_scores returns it."""
        scores = np.zeros(self.paragraph_count)
        for term_id in self.known_ids(terms):
            start, end = int(self._bounds[term_id]), int(self._bounds[term_id + 1])
            paragraphs = self._paragraphs[start:end]
            with_term = scores[paragraphs]
            # Each paragraph adds its own contribution to its running score, as in rank-bm25;
            # adding a difference to a shared offset would round differently.
            if self._absent[term_id]:
                scores += self._absent[term_id]
            scores[paragraphs] = with_term + contributions(
                self.variant,
                self._idf[term_id],
                self._counts[start:end],
                self._length_norm[paragraphs],
            )
        return scores

    def exact_scores(self, term_ids: Sequence[int], paragraphs: IndexArray) -> FloatArray:
        """The scores of some paragraphs (int32, ascending), the same floats scores() gives:
        each term's count in each paragraph is looked up in the term's sorted posting list."""
        total = np.zeros(paragraphs.size)
        if not (paragraphs.size and len(term_ids)):
            return total
        distinct = list(dict.fromkeys(term_ids))
        if paragraphs.size * len(distinct) <= SCALAR_EXACT_MAX:
            return np.array(self._exact_in_python(term_ids, distinct, paragraphs))
        # All terms at once, element by element the same expression as rank-bm25's.
        each = contributions(
            self.variant,
            self._idf[distinct][:, np.newaxis],
            self.counts_in(distinct, paragraphs),
            self._length_norm.take(paragraphs)[np.newaxis, :],
        )
        rows = {term_id: row for row, term_id in enumerate(distinct)}
        # Added in query order, repeats included, as rank-bm25 adds them.
        for term_id in term_ids:
            total += each[rows[term_id]]
        return total

    def scores_of(self, terms: Sequence[str], paragraphs: Sequence[int]) -> list[float]:
        ascending = sorted(set(paragraphs))
        scores = self.exact_scores(self.known_ids(terms), np.array(ascending, dtype=np.int32))
        by_paragraph = dict(zip(ascending, scores.tolist(), strict=True))
        return [by_paragraph[i] for i in paragraphs]

    def _exact_in_python(
        self, term_ids: Sequence[int], distinct: list[int], paragraphs: IndexArray
    ) -> list[float]:
        """exact_scores for a handful of paragraphs: the same expression on Python floats,
        which are the same IEEE doubles, without a dozen numpy calls a term."""
        norms = self._length_norm.take(paragraphs).tolist()
        wanted = paragraphs.tolist()
        rows = {}
        for term_id in distinct:
            start, end = self._bounds[term_id], self._bounds[term_id + 1]
            holders = self._paragraphs[start:end]
            at = holders.searchsorted(paragraphs)
            found = holders.take(at, mode="clip").tolist()
            counts = self._counts[start:end].take(at, mode="clip").tolist()
            idf = float(self._idf[term_id])
            rows[term_id] = [
                contributions(self.variant, idf, count if holder == paragraph else 0, norm)
                for holder, count, paragraph, norm in zip(found, counts, wanted, norms, strict=True)
            ]
        totals = [0.0] * len(wanted)
        # Added in query order, repeats included, as rank-bm25 adds them.
        for term_id in term_ids:
            totals = [total + value for total, value in zip(totals, rows[term_id], strict=True)]
        return totals

    def counts_in(
        self, term_ids: Sequence[int], paragraphs: IndexArray
    ) -> npt.NDArray[np.unsignedinteger]:
        """Each term's count (a row each) in each of paragraphs (int32, ascending), 0 where
        absent, looked up in the term's sorted posting list."""
        q_freq = np.empty((len(term_ids), paragraphs.size), dtype=self._counts.dtype)
        for row, term_id in enumerate(term_ids):
            start, end = self._bounds[term_id], self._bounds[term_id + 1]
            holders = self._paragraphs[start:end]
            # Same dtype as the postings, or numpy converts the whole list on every call.
            at = holders.searchsorted(paragraphs)
            held = holders.take(at, mode="clip") == paragraphs
            np.multiply(self._counts[start:end].take(at, mode="clip"), held, out=q_freq[row])
        return q_freq

    def absent_score(self, term_ids: Sequence[int]) -> float:
        """The score of a paragraph holding none of the terms (rank-bm25's additions, in order)."""
        score = 0.0
        for term_id in term_ids:
            score += float(self._absent[term_id])
        return score

    def top(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        """The k best paragraphs, best first, ties by index (see top_combined)."""
        return top_combined([FieldQuery(self, terms)], k)

    def prunable(self, term_ids: Iterable[int]) -> bool:
        """Whether these terms can be pruned: every gain positive, which needs a positive idf
        (Okapi's is 0 for a term in exactly half the paragraphs, and its floor can be
        negative)."""
        return all(self._idf[t] > 0 for t in term_ids)

    def postings(self, term_id: int) -> IndexArray:
        """The paragraphs holding the term, ascending."""
        return self._paragraphs[self._bounds[term_id] : self._bounds[term_id + 1]]

    def gains(self, term_id: int) -> npt.NDArray[np.float32]:
        """What the term adds to each paragraph holding it beyond what it adds to any (only
        stored for indexes of up to STORED_GAINS_MAX_POSTINGS)."""
        assert self._gain is not None
        return self._gain[self._bounds[term_id] : self._bounds[term_id + 1]]

    def counts(self, term_id: int) -> npt.NDArray[np.unsignedinteger]:
        """The term's count in each paragraph holding it."""
        return self._counts[self._bounds[term_id] : self._bounds[term_id + 1]]

    def max_gain(self, term_id: int) -> float:
        return float(self._max_gain[term_id])

    def champions(self, term_id: int) -> IndexArray:
        """The paragraphs where the term gains the most (all of them for a rare term)."""
        start, end = self._champion_bounds[term_id], self._champion_bounds[term_id + 1]
        return self._champions[start:end] if end > start else self.postings(term_id)

    def workspace(self, postings: int) -> _Workspace:
        """Buffers nobody else is using (searches may run in several threads at once), with
        room for that many postings; give them back with release()."""
        try:
            workspace = self._workspaces.pop()
        except IndexError:
            workspace = _Workspace(self.paragraph_count)
        workspace.reserve(postings)
        return workspace

    def release(self, workspace: _Workspace) -> None:
        self._workspaces.append(workspace)

    def __getstate__(self) -> dict[str, object]:
        # Queries write into their workspaces: loaded from a cache they would be read-only
        # views of the file, so they are left out and made again as queries need them.
        return stored_state(self, leave_out={"_workspaces"})

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._workspaces = []


def _postings(
    handed_over: list[array], doc_len: npt.NDArray[np.int64], term_count: int
) -> tuple[IndexArray, npt.NDArray[np.unsignedinteger], npt.NDArray[np.int64]]:
    """The paragraph and count of each distinct term of each paragraph, grouped by term and
    ascending by paragraph within a term, and each term's document frequency, from every
    occurrence's term id (paragraphs one after another), the only item of handed_over, which
    is emptied so that they are freed as soon as they are counted.

    Each (term, paragraph, count) is one int64, (term·n + paragraph)·c + count, so that one
    in-place sort groups them; the occurrences are counted a slice of paragraphs at a time.
    At 100,000 paragraphs that peaks near 8 bytes an occurrence, where sorting the occurrences
    with their paragraphs and keeping run starts and counts took 30.
    """
    occurrences = handed_over.pop()
    n, total = len(doc_len), len(occurrences)
    if not total:
        return (
            np.zeros(0, dtype=np.int32),
            np.zeros(0, dtype=np.uint8),
            np.zeros(term_count, dtype=np.int64),
        )
    terms = np.frombuffer(occurrences, dtype=np.int32)
    # No count exceeds its paragraph's length.
    count_limit = int(doc_len.max()) + 1
    if term_count * n * count_limit >= 1 << 62:
        raise ValueError("corpus too large to index: its postings do not fit in 64 bits")
    # Only the entries written are ever touched, so the unused tail costs no memory.
    packed = np.empty(total, dtype=np.int64)
    filled = 0
    largest_count = 0
    ends = np.cumsum(doc_len)
    first = 0
    while first < n:
        last = int(np.searchsorted(ends, ends[first] + BUILD_SLICE, side="left"))
        last = min(max(last, first + 1), n)
        start, end = int(ends[first] - doc_len[first]), int(ends[last - 1])
        keys = terms[start:end].astype(np.int64)
        keys *= n
        keys += np.repeat(np.arange(first, last, dtype=np.int64), doc_len[first:last])
        keys.sort()
        run_starts = np.flatnonzero(np.diff(keys, prepend=-1))
        counts = np.diff(run_starts, append=keys.size)
        distinct = keys[run_starts]
        distinct *= count_limit
        distinct += counts
        packed[filled : filled + distinct.size] = distinct
        filled += distinct.size
        largest_count = max(largest_count, int(counts.max(initial=0)))
        first = last
    del terms, occurrences
    packed = packed[:filled]
    packed.sort()
    paragraphs = np.empty(filled, dtype=np.int32)
    counts_out = np.empty(filled, dtype=np.min_scalar_type(largest_count))
    document_frequency = np.zeros(term_count, dtype=np.int64)
    for start in range(0, filled, BUILD_SLICE):
        chunk = packed[start : start + BUILD_SLICE]
        counts_out[start : start + chunk.size] = chunk % count_limit
        pairs = chunk // count_limit
        paragraphs[start : start + chunk.size] = pairs % n
        document_frequency += np.bincount(pairs // n, minlength=term_count)
    return paragraphs, counts_out, document_frequency


@dataclass(frozen=True)
class FieldQuery:
    """One field's share of a combined ranking: its scorer, the terms asked of it, a weight.

    Every field scores the same paragraphs (a paragraph without, say, example questions is an
    empty document of that field), so all scorers must have the same paragraph_count.
    """

    scorer: Scorer
    terms: Sequence[str]
    weight: float = 1.0


class _Unit(NamedTuple):
    """One distinct term of one field: its index, how much its gains count (weight × repeats
    in the query), and the most it can add to a paragraph beyond what it adds to any."""

    index: InvertedIndexScorer
    term_id: int
    multiplier: float
    bound: float

    @property
    def postings(self) -> IndexArray:
        return self.index.postings(self.term_id)


def top_combined(fields: Sequence[FieldQuery], k: int) -> list[tuple[int, float]]:
    """The k best paragraphs by Σ weight × field score, best first, ties by index.

    Each field's score is rank-bm25's, bit for bit, and the combination is computed as
    (0 + w₁·s₁) + w₂·s₂ + …, the same floats as numpy's w₁ * s₁ + w₂ * s₂ of rank-bm25's
    arrays; with one field of weight 1 that is rank-bm25's score itself.

    Each distinct term of each field is a unit; what it adds to a paragraph beyond what it adds
    to one without it (its gain, stored as float32 for smaller indexes) is summed per paragraph
    in a reused buffer, and only the paragraphs whose sum comes within rounding of the k-th
    best are scored exactly, so a query makes a few numpy calls per term whatever the corpus
    size.

    With many postings, MaxScore skips most of them: scoring the units' champion paragraphs
    gives θ, a score the k-th best reaches. The units of smallest bounds whose bounds sum below
    θ − (the score of a paragraph holding no term) cannot lift a paragraph to θ by themselves,
    so their postings are not read; they are looked up only for the paragraphs that hold
    another unit and may still reach θ.
    """
    if k <= 0 or not fields:
        return []
    counts = {f.scorer.paragraph_count for f in fields}
    if len(counts) != 1:
        raise ValueError(f"fields score different numbers of paragraphs: {sorted(counts)}")
    paragraph_count = counts.pop()
    for field in fields:
        if not (math.isfinite(field.weight) and field.weight >= 0):
            raise ValueError(f"field weights must be finite and non-negative, not {field.weight}")
    indexed = [
        (f.scorer, f.scorer.known_ids(f.terms), f.weight)
        for f in fields
        if isinstance(f.scorer, InvertedIndexScorer)
    ]
    if (
        paragraph_count <= SELECT_AMONG_ALL_MAX
        or len(indexed) != len(fields)
        or not all(index.prunable(ids) for index, ids, _ in indexed)
    ):
        total = np.zeros(paragraph_count)
        for field in fields:
            total += field.weight * field.scorer.scores(field.terms)
        return best_scores(total, k)
    return _BoundedQuery(indexed, paragraph_count, k).top()


class _BoundedQuery:
    """One combined top-k query over inverted indexes (see top_combined)."""

    def __init__(
        self,
        fields: list[tuple[InvertedIndexScorer, list[int], float]],
        paragraph_count: int,
        k: int,
    ) -> None:
        # A field with no known term, or of weight 0, adds exactly 0.0 to every paragraph.
        self.fields = [(index, ids, weight) for index, ids, weight in fields if ids and weight]
        self.paragraph_count = paragraph_count
        self.k = k
        self.absent = 0.0
        for index, ids, weight in self.fields:
            self.absent += weight * index.absent_score(ids)
        units = [
            _Unit(index, term_id, weight * repeats, weight * repeats * index.max_gain(term_id))
            for index, ids, weight in self.fields
            for term_id, repeats in Counter(ids).items()
        ]
        self.units = sorted(units, key=lambda u: u.bound)
        self.slack = BOUND_SLACK * (abs(self.absent) + sum(u.bound for u in self.units))

    def exact(self, paragraphs: IndexArray) -> FloatArray:
        total = np.zeros(len(paragraphs))
        for index, ids, weight in self.fields:
            total += weight * index.exact_scores(ids, paragraphs)
        return total

    def top(self) -> list[tuple[int, float]]:
        if not self.units:
            # Every paragraph scores the same: the first k win.
            first = np.arange(min(self.k, self.paragraph_count), dtype=np.int32)
            return _best_of(first, self.exact(first), self.k)
        threshold = -math.inf
        left_out: list[_Unit] = []
        if sum(u.postings.size for u in self.units) > PRUNE_MIN_POSTINGS:
            threshold = self._threshold()
            reach = threshold - self.absent - self.slack
            left_out_bound = 0.0
            for unit in self.units:
                if left_out_bound + unit.bound >= reach:
                    break
                left_out.append(unit)
                left_out_bound += unit.bound
        read = self.units[len(left_out) :]
        # A paragraph without the units read can only reach θ with the left-out ones.
        cut = threshold - self.absent - self.slack - sum(u.bound for u in left_out)
        candidates, bounds = self._gather(read, cut)
        bounds += self.absent
        if left_out:
            # Gains only add up: the k-th best of these partial sums is a score the k-th best
            # reaches too, often a higher one, which rules out more candidates.
            if bounds.size >= self.k:
                kth = np.partition(bounds, bounds.size - self.k)[bounds.size - self.k]
                threshold = max(threshold, float(kth) - self.slack)
            keep = bounds + sum(u.bound for u in left_out) >= threshold - self.slack
            candidates, bounds = candidates[keep], bounds[keep]
            # Now the left-out units' gains, looked up for those candidates only.
            bounds += self._gains(left_out, candidates)
        # Exact scores are within the slack of the bounds: only those near the k-th can win.
        if bounds.size >= self.k:
            kth = np.partition(bounds, bounds.size - self.k)[bounds.size - self.k]
            threshold = max(threshold, float(kth) - self.slack)
        finalists = candidates[bounds >= threshold - self.slack]
        if not left_out and self.absent >= threshold - self.slack:
            # Paragraphs holding no term score `absent` and may be among the best; then θ was
            # at most that, so every paragraph holding a term is a candidate.
            lacking = _first_missing(candidates, self.paragraph_count, self.k)
            finalists = np.union1d(finalists, lacking)
        return _best_of(finalists, self.exact(finalists), self.k)

    def _threshold(self) -> float:
        """A score the k-th best reaches: the k-th best exact score among the units' champions
        and, when at least that many paragraphs hold no term at all, the score of those."""
        champions = np.unique(np.concatenate([u.index.champions(u.term_id) for u in self.units]))
        holders = sum(u.postings.size for u in self.units)
        lacking = min(self.k, max(self.paragraph_count - holders, 0))
        known = np.concatenate((self.exact(champions), np.full(lacking, self.absent)))
        if known.size < self.k:
            return -math.inf
        return float(np.partition(known, known.size - self.k)[known.size - self.k])

    def _gains(self, units: list[_Unit], paragraphs: IndexArray) -> FloatArray:
        """The sum of the units' weighted gains in each of paragraphs (int32, ascending)."""
        total = np.zeros(paragraphs.size)
        by_index: dict[int, list[_Unit]] = {}
        for unit in units:
            by_index.setdefault(id(unit.index), []).append(unit)
        for group in by_index.values():
            index, term_ids = group[0].index, [u.term_id for u in group]
            each = contributions(
                index.variant,
                index._idf[term_ids][:, np.newaxis],
                index.counts_in(term_ids, paragraphs),
                index._length_norm.take(paragraphs)[np.newaxis, :],
            )
            # A count of 0 gives the absent contribution itself: a gain of exactly 0.
            each -= index._absent[term_ids][:, np.newaxis]
            total += np.array([u.multiplier for u in group]) @ each
        return total

    def _gather(self, units: list[_Unit], cut: float) -> tuple[IndexArray, FloatArray]:
        """The paragraphs holding a unit whose summed gains reach cut (all of them when
        cut ≤ 0), ascending, with those sums: the gains are computed into the workspace and
        added up in its buffer, which is all zeros again afterwards."""
        owner = units[0].index
        sizes = [u.postings.size for u in units]
        read = sum(sizes)
        workspace = owner.workspace(read)
        bound = workspace.bound
        # numpy's own index type: indexing with int32 would convert into a fresh array.
        positions = workspace.positions[:read]
        gains = workspace.gains[:read]
        norms = workspace.norms[:read]
        try:
            np.concatenate([u.postings for u in units], out=positions, casting="safe")
            if all(u.index._gain is not None for u in units):
                np.concatenate([u.index.gains(u.term_id) for u in units], out=gains)
                factors = [u.multiplier for u in units]
            else:
                np.concatenate([u.index.counts(u.term_id) for u in units], out=gains)
                start = 0
                for unit, size in zip(units, sizes, strict=True):
                    unit.index._length_norm.take(
                        positions[start : start + size], out=norms[start : start + size]
                    )
                    if unit.index.variant != owner.variant:
                        end = start + size
                        _gains_in_place(unit.index.variant, gains[start:end], norms[start:end])
                    start += size
                # One pass for the units of the first field's variant (usually all of them).
                same = [u.index.variant == owner.variant for u in units]
                if all(same):
                    _gains_in_place(owner.variant, gains, norms)
                else:
                    start = 0
                    for size, alike in zip(sizes, same, strict=True):
                        if alike:
                            end = start + size
                            _gains_in_place(owner.variant, gains[start:end], norms[start:end])
                        start += size
                factors = [u.multiplier * u.index._idf[u.term_id] for u in units]
            start = 0
            for factor, size in zip(factors, sizes, strict=True):
                if factor != 1.0:
                    gains[start : start + size] *= factor
                start += size
            # Every gain is positive, so a paragraph holding a unit has a positive sum.
            floor = max(cut, SMALLEST_POSITIVE)
            if bound.nbytes <= FRESH_ARRAY_MAX_BYTES:
                # Small enough to come from the heap: bincount sums three times faster.
                sums = np.bincount(positions, weights=gains, minlength=bound.size)
                candidates = (sums >= floor).nonzero()[0]
                return candidates.astype(np.int32), sums.take(candidates)
            np.add.at(bound, positions, gains)
            if read * SPARSE_RESET_SHARE < bound.size:
                # Few postings: sorting them beats scanning every paragraph's sum.
                touched = np.sort(positions)
                touched = touched[np.diff(touched, prepend=-1) != 0]
                sums = bound.take(touched)
                chosen = sums >= floor
                candidates, sums = touched[chosen], sums[chosen]
            else:
                np.greater_equal(bound, floor, out=workspace.mask)
                candidates = workspace.mask.nonzero()[0]
                sums = bound.take(candidates)
        except BaseException:
            bound.fill(0.0)
            raise
        else:
            if read * SPARSE_RESET_SHARE < bound.size:
                bound[positions] = 0.0
            else:
                bound.fill(0.0)
        finally:
            owner.release(workspace)
        return candidates.astype(np.int32), sums


SMALLEST_POSITIVE = float(np.nextafter(0.0, 1.0))
SMALLEST_POSITIVE_FLOAT32 = float(np.finfo(np.float32).smallest_subnormal)


def _gains_in_place(variant: Variant, q_freq: FloatArray, norm: FloatArray) -> None:
    """q_freq becomes each posting's gain divided by its term's idf, without temporaries:
    q·(k1+1)/(norm+q) for Okapi and BM25+ (BM25+'s δ is what a paragraph without the term
    gets too), and BM25L's q·(k1+1)·(ctd+δ)/(k1+ctd+δ) with ctd = q/norm. norm is overwritten.
    """
    k1, delta = K1, DELTA[variant]
    if variant == "l":
        np.divide(q_freq, norm, out=norm)
        np.multiply(q_freq, k1 + 1, out=q_freq)
        np.add(norm, delta, out=norm)
        np.multiply(q_freq, norm, out=q_freq)
        np.add(norm, k1, out=norm)
    else:
        np.add(norm, q_freq, out=norm)
        np.multiply(q_freq, k1 + 1, out=q_freq)
    np.divide(q_freq, norm, out=q_freq)


def _first_missing(present: IndexArray, below: int, count: int) -> IndexArray:
    """The count smallest integers in [0, below) not in present (ascending, distinct)."""
    # The m-th missing integer is m plus the number of present ones before it, and
    # present[j] - j counts the missing integers below present[j].
    first = np.arange(min(count, below - present.size))
    before = np.searchsorted(present - np.arange(present.size), first, side="right")
    return (first + before).astype(np.int32)


def _best_of(candidates: AnyIndexArray, scores: FloatArray, k: int) -> list[tuple[int, float]]:
    """The k best of candidates (ascending) given their scores, best first, ties by index."""
    if k <= 0 or candidates.size == 0:
        return []
    if candidates.size <= SORT_IN_PYTHON_MAX:
        # A handful: Python floats compare as numpy's do, without a dozen numpy calls.
        ranked = sorted(zip(scores.tolist(), candidates.tolist(), strict=True), key=_by_score)
        return [(index, score) for score, index in ranked[:k]]
    positions = np.arange(candidates.size)
    if k < candidates.size:
        cut = scores.size - k
        kth_best = np.partition(scores, cut)[cut]
        above = positions[scores > kth_best]
        # Only as many of the paragraphs tied at the cut as fit; candidates are ascending.
        tied = positions[scores == kth_best][: k - above.size]
        positions = np.concatenate((above, tied))
    order = positions[np.lexsort((candidates[positions], -scores[positions]))][:k]
    return [(int(candidates[i]), float(scores[i])) for i in order]


def _by_score(pair: tuple[float, int]) -> tuple[float, int]:
    return (-pair[0], pair[1])


def best_scores(
    scores: FloatArray, k: int, candidates: AnyIndexArray | None = None
) -> list[tuple[int, float]]:
    """The k highest scores among candidates (default: all), best first, ties by index."""
    if candidates is None:
        return _best_of(np.arange(len(scores)), scores, k)
    ascending = np.sort(candidates)
    return _best_of(ascending, scores[ascending], k)


def make_scorer(
    paragraph_terms: Iterable[Sequence[str]] | NumberedTerms, variant: Variant
) -> Scorer:
    """rank-bm25 itself for a statement or a few; the inverted index, with its scores, beyond."""
    if isinstance(paragraph_terms, NumberedTerms):
        if len(paragraph_terms) <= RANK_BM25_MAX_PARAGRAPHS:
            return RankBM25Scorer(paragraph_terms.lists(), variant)
        return InvertedIndexScorer(paragraph_terms, variant)
    stream = iter(paragraph_terms)
    first = [list(terms) for terms in itertools.islice(stream, RANK_BM25_MAX_PARAGRAPHS + 1)]
    if len(first) <= RANK_BM25_MAX_PARAGRAPHS:
        return RankBM25Scorer(first, variant)
    return InvertedIndexScorer(itertools.chain(first, stream), variant)
