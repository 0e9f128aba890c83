"""Spelling correction in bounded time: a deletion index over the library's words.

A word of the question that the library does not know is corrected to the known word nearest
in spelling (optimal string alignment distance: a swap of two neighbouring letters is one
edit) when it is at most one edit in seven letters away (similarity 0.85, as rapidfuzz
normalises it), unless it is an inflection of a word we lack ("attended" is no typo of
"attendee").

Comparing the word with every known word of a similar length cost 3-5 ms a word at 100,000
paragraphs (~17,000 words of each length). Two words within d edits share a string obtained
by deleting at most d letters from each (SymSpell's observation), so every known word is
indexed under its deletions: a misspelt word's own deletions find the few words close enough
to be worth comparing, in microseconds whatever the library's size. The index keeps one
64-bit hash and one word number per deletion in two numpy arrays (12 bytes each, no Python
object); a hash collision only adds a word to compare, never loses one.

One edit in seven letters allows two edits in fourteen and three in twenty, and a word has
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
from array import array
from collections.abc import Callable, Iterable

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

MIN_SIMILARITY = 0.85
MIN_LENGTH = 5
INFLECTIONS = ("s", "ed", "ing", "er", "ers", "ly")
# Below the similarity bound by float rounding still counts: the index may only over-collect.
ROUNDING = 1e-9
# Words needing more deletions than one are indexed by the deletions of this many first letters.
PREFIX = 8


def length_window(length: int) -> range:
    """The lengths a word of this length can be corrected to: the similarity bound bounds them."""
    return range(math.ceil(length * MIN_SIMILARITY), int(length / MIN_SIMILARITY) + 1)


def allowed_edits(longer: int) -> int:
    """The most edits between two words, the longer of `longer` letters, within the bound."""
    return int((1 - MIN_SIMILARITY) * longer + ROUNDING)


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


def _query_variants(word: str) -> set[str]:
    whole, prefix = _searches(len(word))
    variants = deletions(word, whole) if whole else set()
    if prefix:
        variants |= deletions(word[:PREFIX], prefix)
    return variants


def deletions(word: str, edits: int) -> set[str]:
    """The word and every string made by deleting at most `edits` of its letters."""
    found = {word}
    layer = {word}
    for _ in range(edits):
        layer = {w[:i] + w[i + 1 :] for w in layer for i in range(len(w))}
        found |= layer
    return found


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
        self._lengths = np.array([len(w) for w in self._words], dtype=np.int32)
        # Typed arrays while building: a list of a million int objects would take 40 MB.
        hashes = array("q")
        numbers = array("i")
        for number, word in enumerate(self._words):
            edits = _edits_to_index(len(word))
            if edits == 0:
                # Only the word itself could match: it is known, not corrected.
                continue
            variants = deletions(word if edits == 1 else word[:PREFIX], edits)
            hashes.extend(map(hash, variants))
            numbers.extend(itertools.repeat(number, len(variants)))
        keys = np.frombuffer(hashes, dtype=np.int64) if hashes else np.zeros(0, dtype=np.int64)
        order = np.argsort(keys, kind="stable")
        self._keys = keys[order]
        self._numbers = (
            np.frombuffer(numbers, dtype=np.int32)[order] if numbers else np.zeros(0, np.int32)
        )

    def __contains__(self, word: object) -> bool:
        return word in self._known

    def __len__(self) -> int:
        return len(self._words)

    @property
    def entry_count(self) -> int:
        """Deletions indexed (each 12 bytes)."""
        return len(self._keys)

    def candidates(self, word: str) -> list[str]:
        """Known words within the length window that may be near enough, in tie order."""
        window = length_window(len(word))
        hashes = np.sort(np.fromiter(map(hash, _query_variants(word)), dtype=np.int64))
        starts = np.searchsorted(self._keys, hashes, side="left")
        sizes = np.searchsorted(self._keys, hashes, side="right") - starts
        # Every entry of every matching range: position i of range r is starts[r] + i.
        offsets = np.cumsum(sizes) - sizes
        entries = np.arange(int(sizes.sum())) + np.repeat(starts - offsets, sizes)
        numbers = np.unique(self._numbers[entries])
        lengths = self._lengths[numbers]
        within = numbers[(lengths >= window.start) & (lengths < window.stop)]
        return [self._words[n] for n in within.tolist()]

    def nearest(self, word: str) -> str | None:
        """The known word nearest to word within the bound, or None; word should be unknown,
        case-folded and alphabetic (a known word is its own nearest)."""
        if len(word) < MIN_LENGTH or not word.isalpha():
            return None
        match = process.extractOne(
            word,
            self.candidates(word),
            scorer=OSA.normalized_similarity,
            score_cutoff=MIN_SIMILARITY,
        )
        if match is None:
            return None
        # "attended" is near "attendee" but is no typo: an inflection of a word we lack.
        root = self._stem(word)
        if word.endswith(INFLECTIONS) and match[0].startswith(root) and word != root:
            return None
        return match[0]
