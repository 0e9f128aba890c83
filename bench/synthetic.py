"""Seeded synthetic corpora and questions: Zipf-distributed words, the real statement mixed in.

Real English puts its function words at the top ranks of a Zipf law (s ≈ 1), so the vocabulary
starts with the analyzer's stop words, most common first; below them the statement's own words
are shuffled among pronounceable made-up words, so that questions about the statement meet
competing synthetic paragraphs. Everything is a function of the seed.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.library import Library, build_library
from bot.sources import DocumentFile, FolderSource, LibraryData
from bot.text import STOP_WORDS

ZIPF_EXPONENT = 1.0
VOCABULARY_SIZE = 60_000
PARAGRAPH_WORDS_MEAN = 120
PARAGRAPH_WORDS_SPREAD = 30
PARAGRAPH_WORDS_MIN = 40
SENTENCE_WORDS = (8, 30)
DOCUMENT_PARAGRAPHS = (5, 40)
QUESTION_WORDS = (2, 6)

# The most frequent English function words, in frequency order; the rest of STOP_WORDS follows.
COMMON_FIRST = (
    "the of and to a in is that for it as was with be by on not he this are or his from at "
    "which but have an they you were their one all we can her has there been if more when will "
    "would who so no"
).split()
SPEAKERS = (
    "Canada Mexico Germany Ghana India Brazil Japan Kenya Norway Chile Morocco Philippines "
    "Australia Senegal Sweden Turkey"
).split()
QUESTION_TEMPLATES = (
    "What does the statement say about {}?",
    "How should {} be handled?",
    "{}?",
    "Is there anything on {}?",
    "Who wants {}?",
    "What is proposed for {}",
)
ONSETS = "b c d f g h j k l m n p r s t v w z br cr dr fr gr pl pr st tr ch sh th".split()
VOWELS = "a e i o u a e i o u ai ea ou".split()
CODAS = ["", "", "", "n", "r", "l", "s", "m", "t", "nd", "st"]
SUFFIXES = ["", "", "", "", "s", "ing", "ed", "ion", "al", "ment", "ity", "er"]
WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class ZipfWords:
    """A vocabulary ranked by frequency and a sampler of words by Zipf's law over the ranks."""

    words: np.ndarray
    cumulative: np.ndarray

    @classmethod
    def over(cls, ranked_words: list[str], exponent: float = ZIPF_EXPONENT) -> ZipfWords:
        weights = 1.0 / np.arange(1, len(ranked_words) + 1) ** exponent
        cumulative = np.cumsum(weights / weights.sum())
        return cls(np.array(ranked_words, dtype=object), cumulative)

    def draw(self, rng: np.random.Generator, count: int) -> np.ndarray:
        ranks = np.searchsorted(self.cumulative, rng.random(count) * self.cumulative[-1])
        return self.words[np.minimum(ranks, len(self.words) - 1)]


def made_up_word(rng: random.Random) -> str:
    syllables = rng.choice((1, 2, 2, 2, 3, 3))
    stem = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(syllables))
    return stem + rng.choice(CODAS) + rng.choice(SUFFIXES)


def synthetic_vocabulary(statement: Library, seed: int, size: int = VOCABULARY_SIZE) -> list[str]:
    rng = random.Random(seed)
    stop_words = list(dict.fromkeys([*COMMON_FIRST, *sorted(STOP_WORDS)]))
    statement_words = sorted(
        {w.lower() for p in statement.paragraphs for w in WORD.findall(p.text)} - set(stop_words)
    )
    made_up: set[str] = set()
    while len(made_up) < size - len(stop_words) - len(statement_words):
        word = made_up_word(rng)
        if word not in STOP_WORDS and word not in statement_words:
            made_up.add(word)
    content = sorted(made_up) + statement_words
    rng.shuffle(content)
    # Keep the statement's words among the frequent ones, where real topic words would be.
    head, tail = content[:5_000], content[5_000:]
    return stop_words + head + tail


def statement_vocabulary(statement: Library) -> list[str]:
    """The statement's own words, most frequent first: its questions are drawn from these."""
    counts: dict[str, int] = {}
    for paragraph in statement.paragraphs:
        for word in WORD.findall(paragraph.text.lower()):
            counts[word] = counts.get(word, 0) + 1
    return sorted(counts, key=lambda w: (-counts[w], w))


def _paragraph_text(words: np.ndarray, rng: np.random.Generator) -> str:
    sentences = []
    start = 0
    while start < len(words):
        end = min(start + int(rng.integers(*SENTENCE_WORDS)), len(words))
        sentence = " ".join(words[start:end])
        sentences.append(sentence[:1].upper() + sentence[1:] + ".")
        start = end
    return " ".join(sentences)


def synthetic_corpus(paragraph_count: int, data_dir: Path, seed: int = 5) -> LibraryData:
    """paragraph_count paragraphs in statements of 5-40, the real statement(s) among them."""
    real = FolderSource(data_dir).load()
    real_library = build_library(real)
    sampler = ZipfWords.over(synthetic_vocabulary(real_library, seed))
    rng = np.random.default_rng(seed)
    remaining = paragraph_count - len(real_library.paragraphs)
    documents: list[DocumentFile] = []
    while remaining > 0:
        size = min(int(rng.integers(*DOCUMENT_PARAGRAPHS)), remaining)
        documents.append(_synthetic_document(len(documents), size, sampler, rng))
        remaining -= size
    for document in real.documents:
        documents.insert(int(rng.integers(0, len(documents) + 1)), document)
    return LibraryData(tuple(documents), real.glossary)


def _synthetic_document(
    number: int, size: int, sampler: ZipfWords, rng: np.random.Generator
) -> DocumentFile:
    speaker = SPEAKERS[number % len(SPEAKERS)]
    sections = [f"Panel {i + 1}" for i in range(int(rng.integers(1, 4)))]
    lengths = np.maximum(
        rng.normal(PARAGRAPH_WORDS_MEAN, PARAGRAPH_WORDS_SPREAD, size).astype(int),
        PARAGRAPH_WORDS_MIN,
    )
    words = sampler.draw(rng, int(lengths.sum()))
    blocks: list[str] = []
    current = ""
    start = 0
    for index, length in enumerate(lengths):
        if (section := sections[index * len(sections) // size]) != current:
            blocks.append(section)
            current = section
        blocks.append(_paragraph_text(words[start : start + length], rng))
        start += length
    metadata = {
        "title": f"{speaker}'s statement {number} to a synthetic consultation",
        "short_title": f"{speaker} {number}",
        "speaker": speaker,
        "event": "Synthetic consultation",
    }
    return DocumentFile(f"synthetic-{number:06d}.txt", "\n\n".join(blocks), metadata)


def questions(sampler: ZipfWords, count: int, seed: int) -> list[str]:
    """Questions whose topic words are drawn from the same Zipf law as the paragraphs."""
    rng = np.random.default_rng(seed)
    picker = random.Random(seed)
    result = []
    for _ in range(count):
        wanted = int(rng.integers(QUESTION_WORDS[0], QUESTION_WORDS[1] + 1))
        # Function words carry no topic: a question of only "the of and" would test nothing.
        words: list[str] = []
        while len(words) < wanted:
            words += [w for w in sampler.draw(rng, wanted) if w not in STOP_WORDS]
        words = words[:wanted]
        topic = ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else words[0]
        result.append(picker.choice(QUESTION_TEMPLATES).format(topic))
    return result
