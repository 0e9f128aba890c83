"""Statements as documents, paragraphs and sentences, and the stable references to paragraphs.

Pure: text in, data classes out. Reading files is the source's business (bot/sources.py).
"""

from __future__ import annotations

import hashlib
import re
from array import array
from dataclasses import asdict, dataclass, field
from functools import cached_property

# A block ends a paragraph only when it ends a sentence; otherwise a blank line is a page break.
SENTENCE_END = re.compile(r"[.!?:;…][\"'”’)\]]*$")
HEADING_MAX_CHARS = 120
ABBREVIATIONS = frozenset(
    {"dr", "mr", "mrs", "ms", "prof", "st", "no", "vs", "etc", "e.g", "i.e", "amb", "hon", "gen"}
)
# The space after a full stop, or after a full stop and a closing quote, before a capital.
SENTENCE_BREAK = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)\]]))\s+(?=[\"“‘(\[]?[A-Z0-9])")
# Six hex digits name a document among thousands; four tell a paragraph's edited text apart.
DOCUMENT_ID_BYTES = 3
TEXT_HASH_BYTES = 2
# Unsigned 32 bits: a paragraph of up to 4 GB.
OFFSET_TYPE = "I"


class DataError(Exception):
    """The data cannot be used; the message says what to fix."""


class StaleReferenceError(LookupError):
    """A reference names a paragraph that is no longer there, or whose text has changed."""


def short_hash(text: str, size: int) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=size).hexdigest()


def to_base36(number: int) -> str:
    """A non-negative integer in digits and lower-case letters: compact for custom ids."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    encoded = ""
    while True:
        number, digit = divmod(number, 36)
        encoded = digits[digit] + encoded
        if number == 0:
            return encoded


@dataclass(frozen=True)
class ParagraphRef:
    """A paragraph named so that the name survives other documents and edits to other paragraphs.

    The document is named by a hash of its file name, not its position among the files; the text
    hash tells an old reference from a paragraph that has been edited since.
    """

    document_id: str
    number: int
    text_hash: str

    PATTERN = r"[0-9a-f]{6}\.[0-9a-z]{1,4}\.[0-9a-f]{4}"

    def encode(self) -> str:
        """A compact form for custom ids and autocomplete values: "3fa9c1.5.9b2e"."""
        return f"{self.document_id}.{to_base36(self.number)}.{self.text_hash}"

    @classmethod
    def decode(cls, text: str) -> ParagraphRef:
        if re.fullmatch(cls.PATTERN, text) is None:
            raise ValueError(f"not a paragraph reference: {text[:40]!r}")
        document_id, number, text_hash = text.split(".")
        return cls(document_id, int(number, 36), text_hash)


@dataclass(frozen=True)
class DocumentInfo:
    """Who said a statement, where, and under which file name."""

    name: str
    title: str
    short_title: str
    speaker: str = ""
    event: str = ""
    # Other names people give the speaker: its people, its capital ("Canadians", "Ottawa").
    speaker_names: tuple[str, ...] = ()

    @property
    def speakers(self) -> tuple[str, ...]:
        """Every name of the speaker: what a question says to mean "the speaker"."""
        return (self.speaker, *self.speaker_names) if self.speaker else self.speaker_names

    @property
    def id(self) -> str:
        """A short hash of the file name: stable when other documents come and go."""
        return short_hash(self.name, DOCUMENT_ID_BYTES)


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of a document, numbered from 1 in reading order."""

    document: DocumentInfo
    number: int
    section: str
    text: str
    # Where each sentence starts and ends in text, as unsigned 32-bit offsets (start, end, start,
    # end…): slices, so a large library's text is not kept twice, and one bytes object, which a
    # stored index loads far quicker than a tuple a sentence (0.2 s at 100,000 paragraphs).
    sentence_offsets: bytes = field(repr=False)

    @classmethod
    def of(cls, document: DocumentInfo, number: int, section: str, text: str) -> Paragraph:
        offsets = array(OFFSET_TYPE)
        end = 0
        for sentence in split_sentences(text):
            start = text.index(sentence, end)
            end = start + len(sentence)
            offsets.extend((start, end))
        return cls(document, number, section, text, offsets.tobytes())

    @property
    def sentence_spans(self) -> tuple[tuple[int, int], ...]:
        offsets = array(OFFSET_TYPE, self.sentence_offsets)
        return tuple(zip(offsets[::2], offsets[1::2], strict=True))

    @property
    def sentences(self) -> tuple[str, ...]:
        return tuple(self.text[start:end] for start, end in self.sentence_spans)

    @property
    def label(self) -> str:
        return f"¶{self.number}"

    @cached_property
    def ref(self) -> ParagraphRef:
        return ParagraphRef(self.document.id, self.number, short_hash(self.text, TEXT_HASH_BYTES))


@dataclass(frozen=True)
class Document(DocumentInfo):
    """A statement: its metadata, its section headings and its paragraphs.

    Its paragraphs point back to its metadata (a DocumentInfo), not to it, so nothing frozen
    has to be patched to link the two.
    """

    sections: tuple[str, ...] = ()
    paragraphs: tuple[Paragraph, ...] = ()

    def paragraph(self, number: int) -> Paragraph | None:
        if 1 <= number <= len(self.paragraphs):
            return self.paragraphs[number - 1]
        return None


def split_sentences(text: str) -> tuple[str, ...]:
    """Split a paragraph into sentences, keeping abbreviations such as "Dr. Koser" whole."""
    pieces = SENTENCE_BREAK.split(text)
    sentences: list[str] = []
    for piece in pieces:
        if sentences and _ends_with_abbreviation(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return tuple(s.strip() for s in sentences if s.strip())


def _ends_with_abbreviation(sentence: str) -> bool:
    last_word = sentence.rsplit(maxsplit=1)[-1].rstrip(".").lower()
    return sentence.endswith(".") and (last_word in ABBREVIATIONS or len(last_word) == 1)


def segment(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Return the headings and the (section, paragraph) pairs of a statement's text.

    Blocks are separated by blank lines. A block that starts in lower case after one that did not
    end a sentence is the same paragraph continued across a page break. Any other short block that
    does not end a sentence is a heading. Only whitespace is changed.
    """
    blocks = [
        " ".join(block.split())
        for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))
        if block.strip()
    ]
    headings: list[str] = []
    paragraphs: list[tuple[str, str]] = []
    section = ""
    for i, block in enumerate(blocks):
        ends_sentence = bool(SENTENCE_END.search(block))
        continued_next = i + 1 < len(blocks) and blocks[i + 1][:1].islower()
        if paragraphs and not SENTENCE_END.search(paragraphs[-1][1]) and block[:1].islower():
            paragraphs[-1] = (paragraphs[-1][0], f"{paragraphs[-1][1]} {block}")
        elif len(block) <= HEADING_MAX_CHARS and not ends_sentence and not continued_next:
            section = block
            headings.append(section)
        else:
            paragraphs.append((section, block))
    return headings, paragraphs


def build_document(name: str, text: str, metadata: dict[str, str], origin: str = "") -> Document:
    """A statement from its file name, text and metadata; errors name `origin` (its path)."""
    where = origin or name
    if not text.strip():
        raise DataError(f"{where} is empty; add the statement's text or remove the file.")
    headings, pairs = segment(text)
    if not pairs:
        raise DataError(
            f"{where} has no paragraphs; separate paragraphs with a blank line and end them with "
            "a full stop."
        )
    stem = name.rsplit(".", 1)[0]
    info = DocumentInfo(
        name=stem,
        title=metadata.get("title") or stem.replace("-", " ").replace("_", " "),
        short_title=metadata.get("short_title") or metadata.get("title") or stem,
        speaker=metadata.get("speaker", ""),
        event=metadata.get("event", ""),
        speaker_names=tuple(
            n for n in (n.strip() for n in metadata.get("speaker_names", "").split(",")) if n
        ),
    )
    default_section = metadata.get("section", "")
    return Document(
        **asdict(info),
        sections=tuple(headings) or (default_section,),
        paragraphs=tuple(
            Paragraph.of(info, number, section or default_section, paragraph)
            for number, (section, paragraph) in enumerate(pairs, start=1)
        ),
    )
