"""Seeded synthetic libraries: Zipf-distributed words in documents of 5-40 paragraphs.

Two shapes of text, because the cost of a question follows the postings its words touch:

- "stopwords": one Zipf law whose top ranks are English function words, as in running text.
  The analyzer drops those, so the words a question keeps are rarer and touch few paragraphs.
- "content": function words take a fixed share of the tokens and the rest follows a Zipf law
  over content words, as in policy text after stop-word removal, where "migration", "states" or
  "international" stand in most paragraphs. Questions drawn from that law touch many postings.

The statement's own words are shuffled among pronounceable made-up words, so that questions
about the statement meet competing synthetic paragraphs. Everything is a function of the seed.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np

from bot.text import STOP_WORDS

Shape = Literal["stopwords", "content"]
ZIPF_EXPONENT = 1.0
VOCABULARY_SIZE = 60_000
# In "content" text, the share of tokens that are function words (about that of English prose).
FUNCTION_WORD_SHARE = 0.4
# The statement's words are kept among this many most frequent content words.
STATEMENT_WORDS_WITHIN = 5_000
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


@dataclass(frozen=True)
class Language:
    """How a shape of text draws its words: function words, content words, and their mix."""

    function_words: ZipfWords
    content_words: ZipfWords
    # None: one law over function words then content words (the "stopwords" shape).
    function_share: float | None
    combined: ZipfWords

    def draw(self, rng: np.random.Generator, count: int) -> np.ndarray:
        if self.function_share is None:
            return self.combined.draw(rng, count)
        content = self.content_words.draw(rng, count)
        function = self.function_words.draw(rng, count)
        return np.where(rng.random(count) < self.function_share, function, content)

    def draw_topic(self, rng: np.random.Generator, count: int) -> list[str]:
        """Words a question would be about: drawn like the text, function words left out."""
        words: list[str] = []
        while len(words) < count:
            words += [w for w in self.draw(rng, count) if w not in STOP_WORDS]
        return words[:count]


def made_up_word(rng: random.Random) -> str:
    syllables = rng.choice((1, 2, 2, 2, 3, 3))
    stem = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(syllables))
    return stem + rng.choice(CODAS) + rng.choice(SUFFIXES)


def language(statement_texts: list[str], shape: Shape, seed: int) -> Language:
    rng = random.Random(seed)
    function_words = list(dict.fromkeys([*COMMON_FIRST, *sorted(STOP_WORDS)]))
    statement_words = sorted(
        {w.lower() for text in statement_texts for w in WORD.findall(text)} - set(function_words)
    )
    made_up: set[str] = set()
    while len(made_up) < VOCABULARY_SIZE - len(function_words) - len(statement_words):
        word = made_up_word(rng)
        if word not in STOP_WORDS and word not in statement_words:
            made_up.add(word)
    content = sorted(made_up) + statement_words
    rng.shuffle(content)
    head, tail = content[:STATEMENT_WORDS_WITHIN], content[STATEMENT_WORDS_WITHIN:]
    content = head + tail
    return Language(
        function_words=ZipfWords.over(function_words),
        content_words=ZipfWords.over(content),
        function_share=None if shape == "stopwords" else FUNCTION_WORD_SHARE,
        combined=ZipfWords.over(function_words + content),
    )


def statement_language(statement_texts: list[str]) -> Language:
    """The statement's own words, most frequent first: its questions are drawn from these."""
    counts: dict[str, int] = {}
    for text in statement_texts:
        for word in WORD.findall(text.lower()):
            counts[word] = counts.get(word, 0) + 1
    ranked = ZipfWords.over(sorted(counts, key=lambda w: (-counts[w], w)))
    return Language(ranked, ranked, None, ranked)


@dataclass(frozen=True)
class DocumentText:
    """One generated statement: metadata and (heading, paragraphs) sections."""

    doc_id: str
    meta: dict[str, str]
    sections: list[tuple[str, list[str]]]


def paragraph_text(words: np.ndarray, rng: np.random.Generator) -> str:
    sentences = []
    start = 0
    while start < len(words):
        end = min(start + int(rng.integers(*SENTENCE_WORDS)), len(words))
        sentence = " ".join(words[start:end])
        sentences.append(sentence[:1].upper() + sentence[1:] + ".")
        start = end
    return " ".join(sentences)


def synthetic_documents(paragraph_count: int, words: Language, seed: int) -> list[DocumentText]:
    """Documents of 5-40 paragraphs, paragraph_count paragraphs in all."""
    rng = np.random.default_rng(seed)
    documents: list[DocumentText] = []
    remaining = paragraph_count
    while remaining > 0:
        size = min(int(rng.integers(*DOCUMENT_PARAGRAPHS)), remaining)
        number = len(documents)
        speaker = SPEAKERS[number % len(SPEAKERS)]
        lengths = np.maximum(
            rng.normal(PARAGRAPH_WORDS_MEAN, PARAGRAPH_WORDS_SPREAD, size).astype(int),
            PARAGRAPH_WORDS_MIN,
        )
        drawn = words.draw(rng, int(lengths.sum()))
        texts, start = [], 0
        for length in lengths:
            texts.append(paragraph_text(drawn[start : start + length], rng))
            start += length
        headings = [f"Panel {i + 1}" for i in range(int(rng.integers(1, 4)))]
        sections = [
            (heading, texts[i * size // len(headings) : (i + 1) * size // len(headings)])
            for i, heading in enumerate(headings)
        ]
        documents.append(
            DocumentText(
                doc_id=f"synthetic-{number:06d}",
                meta={
                    "title": f"{speaker}'s statement {number} to a synthetic consultation",
                    "short_title": f"{speaker} {number}",
                    "speaker": speaker,
                    "event": "Synthetic consultation",
                    "section": headings[0],
                },
                sections=[(h, p) for h, p in sections if p],
            )
        )
        remaining -= size
    return documents


def drawn_questions(words: Language, count: int, seed: int) -> list[str]:
    """Questions whose topic words are drawn from the same law as the paragraphs."""
    rng = np.random.default_rng(seed)
    picker = random.Random(seed)
    result = []
    for _ in range(count):
        topic = words.draw_topic(rng, int(rng.integers(QUESTION_WORDS[0], QUESTION_WORDS[1] + 1)))
        result.append(picker.choice(QUESTION_TEMPLATES).format(joined(topic)))
    return result


def joined(words: list[str]) -> str:
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else words[0]
