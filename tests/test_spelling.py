"""The deletion index corrects exactly as comparing every known word of a similar length does."""

from __future__ import annotations

import itertools
import math
import os
import random
import subprocess
import sys

import pytest
import Stemmer
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot import spelling as spelling_module
from bot.spelling import (
    DEFAULT_SIMILARITY,
    INDEXED_SIMILARITY,
    INFLECTIONS,
    SpellingIndex,
    code_points,
    deletion_hashes,
    python_deletion_hashes,
)

STEM = Stemmer.Stemmer("english").stemWord
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def compare_every_word(
    words: set[str], word: str, similarity: float = DEFAULT_SIMILARITY
) -> str | None:
    """The plain way: every known word whose length the bound allows, shortest then
    alphabetical, the most similar first found; then the inflection rule."""
    by_length: dict[int, list[str]] = {}
    for known in sorted(words):
        by_length.setdefault(len(known), []).append(known)
    lengths = range(math.ceil(len(word) * similarity), int(len(word) / similarity) + 1)
    candidates = itertools.chain.from_iterable(by_length.get(n, ()) for n in lengths)
    match = process.extractOne(
        word, candidates, scorer=OSA.normalized_similarity, score_cutoff=similarity
    )
    if match is None:
        return None
    root = STEM(word)
    if word.endswith(INFLECTIONS) and match[0].startswith(root) and word != root:
        return None
    return match[0]


def slip(word: str, edits: int, rng: random.Random) -> str:
    """word with `edits` random deletions, insertions, substitutions or neighbour swaps."""
    for _ in range(edits):
        kind, at = rng.randrange(4), rng.randrange(len(word))
        if kind == 0 and len(word) > 1:
            word = word[:at] + word[at + 1 :]
        elif kind == 1:
            word = word[:at] + rng.choice(LETTERS) + word[at:]
        elif kind == 2:
            word = word[:at] + rng.choice(LETTERS) + word[at + 1 :]
        elif at < len(word) - 1:
            word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    return word


@pytest.fixture(scope="module")
def vocabulary(index) -> set[str]:
    """The statement's words, and made-up words of every length up to 30 letters, many
    sharing their beginnings, as real vocabularies do ("implement", "implementation")."""
    rng = random.Random(11)
    words = {w for p in index.paragraphs for w in index.analyzer.plain_words(p.text)}
    stems = ["".join(rng.choice(LETTERS) for _ in range(rng.randint(3, 9))) for _ in range(400)]
    endings = ["", "s", "ing", "ed", "ation", "ations", "ment", "ally", "isation", "abilities"]
    for stem in stems:
        for ending in rng.sample(endings, 4):
            words.add(stem + ending)
    for length in range(17, 31):
        words |= {"".join(rng.choice(LETTERS) for _ in range(length)) for _ in range(5)}
    return {w for w in words if w.isalpha()}


@pytest.fixture(scope="module")
def spelling(vocabulary) -> SpellingIndex:
    return SpellingIndex(vocabulary, STEM)


@pytest.fixture(params=["deletion index", "as configured"])
def lookup(request, monkeypatch):
    """The test vocabulary is small enough that some lengths are simply compared in full:
    the first run makes every lookup go through the deletion index."""
    if request.param == "deletion index":
        monkeypatch.setattr(spelling_module, "SCAN_MAX_WORDS", 0)
    return request.param


@pytest.mark.parametrize("similarity", [DEFAULT_SIMILARITY, INDEXED_SIMILARITY])
def test_corrections_equal_comparing_every_word(vocabulary, spelling, lookup, similarity):
    rng = random.Random(3)
    known = sorted(w for w in vocabulary if len(w) >= 5)
    long_words = [w for w in known if len(w) >= 12]
    typed = [slip(rng.choice(known), 1, rng) for _ in range(1500)]
    # Long words allow two edits from 14 letters and three from 20.
    typed += [slip(rng.choice(long_words), rng.randint(1, 4), rng) for _ in range(1500)]
    typed = [w for w in dict.fromkeys(typed) if len(w) >= 5 and w not in vocabulary]
    corrected = 0
    for word in typed:
        expected = compare_every_word(vocabulary, word, similarity)
        assert spelling.nearest(word, similarity) == expected, word
        corrected += expected is not None
    # The sample exercises both outcomes, and corrections of several edits.
    assert corrected > len(typed) // 3
    assert corrected < len(typed)


def test_a_typo_is_corrected_to_the_statement_word(spelling):
    assert spelling.nearest("goverance") == "governance"
    assert spelling.nearest("migartion") == "migration"


def test_an_inflection_of_a_missing_word_is_no_typo():
    spelling = SpellingIndex({"attendee", "attend"}, STEM)
    # One edit from "attendee", but an inflection of "attend".
    assert compare_every_word({"attendee", "attend"}, "attended") is None
    assert spelling.nearest("attended") is None


def test_equally_near_words_shorter_then_alphabetical_first():
    words = {"abcdefgy", "abcdefg", "abcdefgz"}
    assert SpellingIndex(words, STEM).nearest("abcdefgx") == "abcdefg"
    words.discard("abcdefg")
    assert SpellingIndex(words, STEM).nearest("abcdefgx") == "abcdefgy"


def test_a_looser_bound_than_the_index_holds_is_refused(spelling):
    with pytest.raises(ValueError, match=r"similarities from 0\.8"):
        spelling.nearest("migartion", 0.75)


def test_short_and_non_alphabetic_words_are_not_corrected(spelling):
    # One edit in five or six letters is too much by default.
    assert spelling.nearest("statx") is None
    assert spelling.nearest("stat1stics") is None
    assert SpellingIndex({"panels"}, STEM).nearest("panelz") is None


def test_a_misspelt_word_meets_only_a_few_words(vocabulary, spelling, monkeypatch):
    monkeypatch.setattr(spelling_module, "SCAN_MAX_WORDS", 0)
    # Compared with every word of a similar length, the deletion index leaves a handful.
    rng = random.Random(5)
    for word in rng.sample(sorted(w for w in vocabulary if 8 <= len(w) <= 16), 50):
        typo = slip(word, 1, rng)
        similar_length = [w for w in vocabulary if abs(len(w) - len(typo)) <= 2]
        assert len(spelling.candidates(typo)) < len(similar_length) / 10


def test_words_within_d_edits_share_a_deletion():
    rng = random.Random(8)
    for _ in range(300):
        word = "".join(rng.choice("abcde") for _ in range(rng.randint(5, 12)))
        edits = rng.randint(1, 2)
        typo = slip(word, edits, rng)
        if OSA.distance(word, typo) <= edits:
            ours = deletion_hashes(code_points([word], len(word)), edits)
            theirs = deletion_hashes(code_points([typo], len(typo)), edits)
            assert set(ours.ravel().tolist()) & set(theirs.ravel().tolist())


def polynomial_hash(text: str) -> int:
    value = len(text)
    for character in text:
        value = (value * 0x100000001B3 + ord(character)) % 2**64
    return value


def test_deletion_hashes_are_the_polynomial_of_each_deletion():
    word = "migratión"
    hashes = deletion_hashes(code_points([word], len(word)), 1).ravel().tolist()
    variants = [word] + [word[:i] + word[i + 1 :] for i in range(len(word))]
    assert hashes == [polynomial_hash(v) for v in variants]


def test_a_typed_word_is_hashed_as_the_index_hashes_words():
    rng = random.Random(21)
    for _ in range(200):
        word = "".join(rng.choice("abcdeéxyz") for _ in range(rng.randint(1, 14)))
        edits = rng.randint(0, 3)
        in_numpy = deletion_hashes(code_points([word], len(word)), edits).ravel().tolist()
        assert python_deletion_hashes(word, edits) == set(in_numpy)


def test_the_index_is_the_same_in_every_process():
    # A stored index must find what a fresh one finds; Python's str hash differs per process.
    script = (
        "from bot.spelling import SpellingIndex; import hashlib; "
        "i = SpellingIndex(['migration', 'governance', 'international'], str); "
        "print(hashlib.sha256(i._keys.tobytes() + i._numbers.tobytes()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env=os.environ | {"PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1


def test_empty_index():
    spelling = SpellingIndex([], STEM)
    assert len(spelling) == 0
    assert spelling.nearest("anything") is None
    assert "anything" not in spelling
