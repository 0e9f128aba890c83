"""A library's text analysed once, when the index is built: the terms of every sentence.

Choosing a hit paragraph's answer sentence needs each sentence's terms, whether it refers back
("It can…", "its network") and what kinds of answer it can give (figures, dates, places,
names). Working that out again at query time took most of a question on a large library
(~0.8 ms a paragraph, three a question), and keeping it as Python sets would take ~8 kB a
paragraph. So the build reads each sentence once, and keeps its distinct term ids in one flat
array and its kinds in one byte. The paragraphs' term lists for BM25 are the same analysis,
sentence after sentence: the text between sentences is whitespace, which no term spans.
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from bot import cues
from bot.corpus import Paragraph
from bot.ranking import NumberedTerms
from bot.text import Analyzer

# "It can…", "its network": a sentence with one of these words borrows from the ones before.
BACK_REFERENCES = frozenset({"it", "its", "they", "their", "them", "this", "these", "such"})

# One byte a sentence: the kinds of answer it can give (cues.held_types), and whether it refers
# back.
KIND_BITS = {kind: 1 << bit for bit, kind in enumerate(cues.ANSWER_TYPES)}
REFERS_BACK = 1 << len(KIND_BITS)
KINDS_OF_FLAGS = tuple(
    frozenset(kind for kind, bit in KIND_BITS.items() if flags & bit)
    for flags in range(REFERS_BACK)
)


@dataclass(frozen=True)
class ParagraphSentences:
    """What sentence choice needs to know about one paragraph, in term ids."""

    terms: frozenset[int]
    sentences: tuple[frozenset[int], ...]
    # The sentences holding each term, in order: what a question's terms look up. Derived from
    # `sentences`, so left out of comparisons (and hashing, which a dict would break).
    holders: dict[int, list[int]] = field(compare=False)
    # For a sentence that refers back, the terms of what it may refer to: the first sentence's
    # and the one before; None for the others.
    antecedents: tuple[frozenset[int] | None, ...]
    # What kinds of answer each sentence can give (bot/cues.py).
    held: tuple[frozenset[str], ...]

    def held_near(self, terms: Iterable[int]) -> frozenset[str]:
        """What the sentences holding one of the terms can give; the whole paragraph's if none.

        "How many people per group?" is not answered by a figure two sentences away from the groups.
        """
        wanted = set(terms)
        near = [
            held
            for own, held in zip(self.sentences, self.held, strict=True)
            if not own.isdisjoint(wanted)
        ]
        return frozenset().union(*(near or self.held))


@dataclass(frozen=True, eq=False)
class SentenceTable:
    """Every sentence's distinct term ids, sentence after sentence, and its flags."""

    term_ids: npt.NDArray[np.int32]
    # Sentence s holds term_ids[term_starts[s]:term_starts[s + 1]].
    term_starts: npt.NDArray[np.int64]
    # Paragraph p's sentences are first_sentence[p] up to first_sentence[p + 1].
    first_sentence: npt.NDArray[np.int64]
    flags: npt.NDArray[np.uint8]

    def paragraph(self, index: int) -> ParagraphSentences:
        first, end = self.first_sentence[index : index + 2].tolist()
        starts = self.term_starts[first : end + 1].tolist()
        ids = self.term_ids[starts[0] : starts[-1]].tolist()
        base = starts[0]
        sentences = tuple(
            frozenset(ids[start - base : stop - base]) for start, stop in itertools.pairwise(starts)
        )
        flags = self.flags[first:end].tolist()
        holders: dict[int, list[int]] = {}
        for position, sentence in enumerate(sentences):
            for term in sentence:
                holders.setdefault(term, []).append(position)
        return ParagraphSentences(
            terms=frozenset(ids),
            sentences=sentences,
            holders=holders,
            antecedents=tuple(
                sentences[0] | sentences[i - 1] if flag & REFERS_BACK else None
                for i, flag in enumerate(flags)
            ),
            held=tuple(KINDS_OF_FLAGS[flag & (REFERS_BACK - 1)] for flag in flags),
        )


@dataclass(frozen=True, eq=False)
class AnalysedText:
    """A library's paragraphs, analysed once: what the rankers, sentence choice and spelling
    correction are built from."""

    # Each paragraph's terms in reading order, repeats included (what BM25 counts), as ids of
    # the vocabulary (every term of the text, numbered in order of first occurrence).
    terms: NumberedTerms
    sentences: SentenceTable
    # Every word the text uses as written (glossary phrases apart), for spelling correction.
    plain_words: set[str]


class _TermNumbers(dict[str, int]):
    """Each distinct word's term id, worked out once for one build; -1 for a word not searched
    (a stop word). The analyzer's own cache is bounded, and a large library's vocabulary would
    thrash it."""

    def __init__(self, analyzer: Analyzer) -> None:
        super().__init__()
        self.analyzer = analyzer
        self.vocabulary: dict[str, int] = {}

    def __missing__(self, word: str) -> int:
        term = self.analyzer.text_term(word)
        number = -1 if term is None else self.vocabulary.setdefault(term, len(self.vocabulary))
        self[word] = number
        return number


def analyse(paragraphs: Sequence[Paragraph], analyzer: Analyzer) -> AnalysedText:
    """Read every sentence of the paragraphs once."""
    numbers = _TermNumbers(analyzer)
    plain_words: set[str] = set()
    # Typed arrays, not lists: millions of ids as Python ints would take ~36 bytes each.
    occurrences = array("i")
    lengths = array("q")
    term_ids = array("i")
    term_starts = array("q", [0])
    first_sentence = array("q", [0])
    flags = bytearray()
    for paragraph in paragraphs:
        paragraph_start = len(occurrences)
        for position, sentence in enumerate(paragraph.sentences):
            words = analyzer.plain_words(sentence)
            plain_words.update(words)
            kinds = sum(KIND_BITS[kind] for kind in cues.held_types(sentence, words))
            if analyzer.may_hold_phrase(words):
                words = analyzer.words(sentence)
            searched = [i for i in map(numbers.__getitem__, words) if i >= 0]
            occurrences.extend(searched)
            term_ids.extend(sorted(set(searched)))
            term_starts.append(len(term_ids))
            # The first sentence of a paragraph has nothing before it to refer to.
            refers_back = position > 0 and not BACK_REFERENCES.isdisjoint(words)
            flags.append(kinds | (REFERS_BACK if refers_back else 0))
        first_sentence.append(len(flags))
        lengths.append(len(occurrences) - paragraph_start)
    table = SentenceTable(
        term_ids=np.frombuffer(term_ids, dtype=np.int32),
        term_starts=np.frombuffer(term_starts, dtype=np.int64),
        first_sentence=np.frombuffer(first_sentence, dtype=np.int64),
        flags=np.frombuffer(flags, dtype=np.uint8),
    )
    terms = NumberedTerms(numbers.vocabulary, occurrences, lengths)
    return AnalysedText(terms, table, plain_words)
