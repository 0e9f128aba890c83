"""Spelling correction in bounded time: a deletion index over the library's words.

A word of the question that the library does not know is corrected to the known word nearest
in spelling (optimal string alignment distance: a swap of two neighbouring letters is one
edit) when it is near enough: at most one edit in seven letters (similarity 0.85, as rapidfuzz
normalises it) by default, one in five at the loosest the index serves (0.8), unless it is an
inflection of a word we lack ("attended" is no typo of "attendee").

Comparing the word with every known word of a similar length cost 3-5 ms a word at 100,000
paragraphs (~17,000 words of each length). Two words within d edits share a string obtained
by deleting at most d letters from each (SymSpell's observation), so every known word is
indexed under its deletions: a misspelt word's own deletions find the few words close enough
to be worth comparing, in microseconds whatever the library's size. The index keeps one
64-bit hash and one word number per deletion in two numpy arrays (12 bytes each, no Python
object), computed for all words of a length at once; a hash collision only adds a word to
compare, never loses one.

One edit in five letters allows two edits in ten and three in fifteen, and a word has
~C(n, d) deletions of d letters. Words that need two deletions or more are indexed by the
deletions of their first eight letters only (at most 2⁸ strings, whatever their length): an
edit costs each word at most one deletion within its first eight letters too (an edit that
shifts the letters pushes one past the eighth), so two words within d edits still share a
deletion of at most d letters of their prefixes.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterable

import numpy as np
import numpy.typing as npt
from rapidfuzz import process
from rapidfuzz.distance import OSA

# The loosest bound a lookup may ask for; the index holds the deletions it needs.
INDEXED_SIMILARITY = 0.8
DEFAULT_SIMILARITY = 0.85
MIN_LENGTH = 5
INFLECTIONS = ("s", "ed", "ing", "er", "ers", "ly")
# Below the similarity bound by float rounding still counts: the index may only over-collect.
ROUNDING = 1e-9
# Up to this many words of the lengths a typed word can be corrected to (a statement's), they
# are all compared, as rapidfuzz does that quicker (~0.1 µs a word) than the index's lookup.
SCAN_MAX_WORDS = 400
# Words needing more deletions than one are indexed by the deletions of this many first letters.
PREFIX = 8
# FNV-1's 64-bit prime: multiplying by it spreads every letter over the whole hash.
HASH_MULTIPLIER = 0x100000001B3
HASH_MASK = (1 << 64) - 1


def length_window(length: int, similarity: float = INDEXED_SIMILARITY) -> range:
    """The lengths a word of this length can be corrected to: the similarity bound bounds them."""
    return range(math.ceil(length * similarity - ROUNDING), int(length / similarity) + 1)


def allowed_edits(longer: int) -> int:
    """The most edits between two words, the longer of `longer` letters, within the bound."""
    return int((1 - INDEXED_SIMILARITY) * longer + ROUNDING)


@functools.cache
def _edits_to_index(length: int) -> int:
    """The deletions a known word of this length needs, for the longest word it may correct."""
    queries = [q for q in range(1, 2 * length + 2) if length in length_window(q)]
    return max((allowed_edits(max(q, length)) for q in queries), default=0)


@functools.cache
def _searches(length: int) -> tuple[int, int]:
    """The deletions of a typed word of this length that meet every indexed candidate: of the
    whole word (for words indexed with one deletion) and of its prefix (with more)."""
    whole = prefix = 0
    for n in length_window(length):
        edits = allowed_edits(max(length, n))
        if _edits_to_index(n) == 1:
            whole = max(whole, edits)
        elif _edits_to_index(n) > 1:
            prefix = max(prefix, edits)
    return whole, prefix


def _query_hashes(word: str) -> set[int]:
    """The hashes of the typed word's deletions that meet every indexed candidate."""
    whole, prefix = _searches(len(word))
    hashes = python_deletion_hashes(word, whole) if whole else set()
    if prefix:
        hashes |= python_deletion_hashes(word[:PREFIX], prefix)
    return hashes


def python_deletion_hashes(word: str, edits: int) -> set[int]:
    """deletion_hashes of one word, in plain Python: for a single word, a few dozen numpy
    calls on one-row arrays would cost ten times more.

    With P(i) the polynomial of word[:i] and Δ(i) = P(i) − P(i+1), deleting the positions
    i₁ < … < i_d of n letters leaves the polynomial P(n) + Σ_r Δ(i_r)·M^(n−1−i_r−(d−r)): the
    letters before a deleted one move one place up. So a deletion costs d additions."""
    codes = [ord(character) for character in word]
    length = len(codes)
    power = _python_powers(length + 1)
    prefix = [0] * (length + 1)
    for i, code in enumerate(codes):
        prefix[i + 1] = (prefix[i] * HASH_MULTIPLIER + code) & HASH_MASK
    whole = prefix[length]
    most = min(edits, length)
    # shifted[s][i]: Δ(i)·M^(n−1−i−s), for a position with s deleted ones after it.
    shifted = [
        [(prefix[i] - prefix[i + 1]) * power[length - 1 - i - s] for i in range(length - s)]
        for s in range(most)
    ]
    hashes = {(length * power[length] + whole) & HASH_MASK}
    for deleted in range(1, most + 1):
        start = (length - deleted) * power[length - deleted] + whole
        # One and two deletions, nearly every case, as comprehensions; more, generically.
        if deleted == 1:
            hashes.update([(start + value) & HASH_MASK for value in shifted[0]])
        elif deleted == 2:
            first, second = shifted[1], shifted[0]
            hashes.update(
                [
                    (start + first[i] + second[j]) & HASH_MASK
                    for i in range(length - 1)
                    for j in range(i + 1, length)
                ]
            )
        else:
            for gone in itertools.combinations(range(length), deleted):
                value = start
                for rank, position in enumerate(gone):
                    value += shifted[deleted - 1 - rank][position]
                hashes.add(value & HASH_MASK)
    return hashes


@functools.cache
def _python_powers(count: int) -> tuple[int, ...]:
    return tuple(HASH_MULTIPLIER**k & HASH_MASK for k in range(count))


def code_points(words: list[str], width: int) -> npt.NDArray[np.uint32]:
    """Words of `width` characters as a matrix of their code points, a row each."""
    if not words:
        return np.zeros((0, width), dtype=np.uint32)
    return np.array(words, dtype=f"<U{width}").view(np.uint32).reshape(len(words), width)


@functools.cache
def _kept_columns(width: int, deleted: int) -> npt.NDArray[np.intp]:
    """For each way of deleting `deleted` of `width` letters, the positions kept, a row each."""
    kept = [
        [i for i in range(width) if i not in gone]
        for gone in itertools.combinations(range(width), deleted)
    ]
    return np.array(kept, dtype=np.intp).reshape(len(kept), width - deleted)


def deletion_hashes(codes: npt.NDArray[np.uint32], edits: int) -> npt.NDArray[np.uint64]:
    """For each row of code points, the hashes of every deletion of at most `edits` letters
    (the row itself included), a row of hashes each.

    The hash of a string t of n code points is n·Mⁿ + Σ t[j]·M^(n-1-j) modulo 2⁶⁴ (a
    polynomial seeded with the length; M is FNV-1's 64-bit prime), one integer matrix product
    for all deletions of a size: the same in every process, unlike Python's hash() of a str,
    so the index can be stored."""
    rows, width = codes.shape
    hashes = [np.zeros((rows, 0), dtype=np.uint64)]
    for deleted in range(min(edits, width) + 1):
        kept = width - deleted
        variants = codes[:, _kept_columns(width, deleted)].astype(np.uint64)
        # uint64 arithmetic wraps: the product is taken modulo 2⁶⁴.
        hash_ = variants @ _powers(kept) if kept else np.zeros(variants.shape[:2], np.uint64)
        hash_ += np.uint64(kept * HASH_MULTIPLIER**kept % 2**64)
        hashes.append(hash_)
    return np.concatenate(hashes, axis=1)


@functools.cache
def _powers(length: int) -> npt.NDArray[np.uint64]:
    """M^(length-1), …, M, 1 modulo 2⁶⁴."""
    return np.array(
        [HASH_MULTIPLIER ** (length - 1 - j) % 2**64 for j in range(length)], dtype=np.uint64
    )


class SpellingIndex:
    """The library's words, and for a misspelt word the nearest of them within the bound.

    stem is the analyzer's stemmer, for the inflection rule; typed words are stemmed one at a
    time, and only once a candidate is found.
    """

    def __init__(self, words: Iterable[str], stem: Callable[[str], str]) -> None:
        self._stem = stem
        # Word numbers follow (length, spelling): among equally near words the shorter, then
        # the alphabetically first, wins, as when every word of a length was compared in order.
        self._words = sorted({w for w in words if w.isalpha()}, key=lambda w: (len(w), w))
        self._known = frozenset(self._words)
        lengths = np.array([len(w) for w in self._words], dtype=np.int32)
        self._longest = int(lengths[-1]) if lengths.size else 0
        # The number of the first word of each length (and of every longer one).
        self._first_of_length = np.searchsorted(lengths, np.arange(self._longest + 2))
        keys: list[npt.NDArray[np.uint64]] = []
        numbers: list[npt.NDArray[np.int32]] = []
        # Words of one length at a time, all their deletions at once.
        starts = np.flatnonzero(np.diff(lengths, prepend=-1)).tolist()
        ends = [*starts[1:], len(self._words)] if starts else []
        for first, last in zip(starts, ends, strict=True):
            length = len(self._words[first])
            edits = _edits_to_index(length)
            if edits == 0:
                # Only the word itself could match: it is known, not corrected.
                continue
            codes = code_points(self._words[first:last], length)
            hashes = deletion_hashes(codes if edits == 1 else codes[:, :PREFIX], edits)
            keys.append(hashes.ravel())
            numbers.append(np.repeat(np.arange(first, last, dtype=np.int32), hashes.shape[1]))
        all_keys = np.concatenate(keys) if keys else np.zeros(0, dtype=np.uint64)
        order = np.argsort(all_keys, kind="stable")
        self._keys = all_keys[order]
        self._numbers = np.concatenate(numbers)[order] if numbers else np.zeros(0, np.int32)

    def __contains__(self, word: object) -> bool:
        return word in self._known

    def __len__(self) -> int:
        return len(self._words)

    @property
    def entry_count(self) -> int:
        """Deletions indexed (each 12 bytes)."""
        return len(self._keys)

    @property
    def words(self) -> frozenset[str]:
        return self._known

    def candidates(self, word: str, similarity: float = INDEXED_SIMILARITY) -> list[str]:
        """Known words within the length window that may be near enough, in tie order."""
        window = length_window(len(word), similarity)
        # Words are numbered by length: those of the window are one stretch of numbers.
        first = int(self._first_of_length[min(window.start, self._longest + 1)])
        last = int(self._first_of_length[min(window.stop, self._longest + 1)])
        if last - first <= SCAN_MAX_WORDS:
            # A small library: comparing them all is quicker than hashing the deletions.
            return self._words[first:last]
        found = _query_hashes(word)
        hashes = np.fromiter(found, dtype=np.uint64, count=len(found))
        starts = self._keys.searchsorted(hashes, side="left").tolist()
        ends = self._keys.searchsorted(hashes, side="right").tolist()
        numbers: set[int] = set()
        for start, end in zip(starts, ends, strict=True):
            # Most deletions match nothing; numpy per range would cost more than this loop.
            if end > start:
                numbers.update(self._numbers[start:end].tolist())
        return [self._words[n] for n in sorted(numbers) if first <= n < last]

    def nearest(self, word: str, similarity: float = DEFAULT_SIMILARITY) -> str | None:
        """The known word nearest to word with at least this similarity (not below the indexed
        bound), or None; word should be unknown, case-folded and alphabetic (a known word is its
        own nearest)."""
        if similarity < INDEXED_SIMILARITY:
            raise ValueError(f"the index serves similarities from {INDEXED_SIMILARITY}")
        if len(word) < MIN_LENGTH or not word.isalpha():
            return None
        match = process.extractOne(
            word,
            self.candidates(word, similarity),
            scorer=OSA.normalized_similarity,
            score_cutoff=similarity,
        )
        if match is None:
            return None
        # "attended" is near "attendee" but is no typo: an inflection of a word we lack.
        root = self._stem(word)
        if word.endswith(INFLECTIONS) and match[0].startswith(root) and word != root:
            return None
        return match[0]
