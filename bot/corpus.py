"""Load the documents in the data folder and split them into sections, paragraphs and sentences."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

# A block ends a paragraph only when it ends a sentence; otherwise a blank line is a page break.
SENTENCE_END = re.compile(r"[.!?:;…][\"'”’)\]]*$")
HEADING_MAX_CHARS = 120
ABBREVIATIONS = frozenset(
    {"dr", "mr", "mrs", "ms", "prof", "st", "no", "vs", "etc", "e.g", "i.e", "amb", "hon", "gen"}
)
# The space after a full stop, or after a full stop and a closing quote, before a capital.
SENTENCE_BREAK = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)\]]))\s+(?=[\"“‘(\[]?[A-Z0-9])")


class DataError(Exception):
    """The data folder cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of a document, numbered from 1 in reading order."""

    document: Document
    number: int
    section: str
    text: str
    # Where each sentence starts and ends in text; slices, so a large library is not kept twice.
    sentence_spans: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, document: Document, number: int, section: str, text: str) -> Paragraph:
        spans = []
        end = 0
        for sentence in split_sentences(text):
            start = text.index(sentence, end)
            end = start + len(sentence)
            spans.append((start, end))
        return cls(document, number, section, text, tuple(spans))

    @property
    def sentences(self) -> tuple[str, ...]:
        return tuple(self.text[start:end] for start, end in self.sentence_spans)

    @property
    def reference(self) -> str:
        return f"¶{self.number}"

    def __repr__(self) -> str:
        return f"Paragraph({self.document.doc_id!r}, {self.reference})"


@dataclass(frozen=True, eq=False)
class Document:
    """A statement: its metadata, its section headings and its paragraphs."""

    doc_id: str
    title: str
    short_title: str
    speaker: str
    event: str
    sections: tuple[str, ...]
    paragraphs: tuple[Paragraph, ...] = ()

    def paragraph(self, number: int) -> Paragraph | None:
        if 1 <= number <= len(self.paragraphs):
            return self.paragraphs[number - 1]
        return None

    def __repr__(self) -> str:
        return f"Document({self.doc_id!r}, {len(self.paragraphs)} paragraphs)"


@dataclass(frozen=True)
class Corpus:
    """Every document in the data folder, in file-name order."""

    documents: tuple[Document, ...]

    @property
    def paragraphs(self) -> tuple[Paragraph, ...]:
        return tuple(p for d in self.documents for p in d.paragraphs)

    @property
    def multi_document(self) -> bool:
        return len(self.documents) > 1

    def document(self, doc_id: str) -> Document | None:
        return next((d for d in self.documents if d.doc_id == doc_id), None)

    @property
    def speakers(self) -> frozenset[str]:
        return frozenset(d.speaker for d in self.documents if d.speaker)


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


def load_document(path: Path) -> Document:
    """Read one statement and the metadata file beside it (same name, .json)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8.") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}.") from None
    if not text.strip():
        raise DataError(f"{path} is empty; add the statement's text or remove the file.")
    meta = _load_metadata(path.with_suffix(".json"))
    headings, pairs = segment(text)
    if not pairs:
        raise DataError(
            f"{path} has no paragraphs; separate paragraphs with a blank line and end them with "
            "a full stop."
        )
    document = Document(
        doc_id=path.stem,
        title=meta.get("title") or path.stem.replace("-", " ").replace("_", " "),
        short_title=meta.get("short_title") or meta.get("title") or path.stem,
        speaker=meta.get("speaker", ""),
        event=meta.get("event", ""),
        sections=tuple(headings) or (meta.get("section", ""),),
    )
    paragraphs = tuple(
        Paragraph.of(document, number, section or meta.get("section", ""), text)
        for number, (section, text) in enumerate(pairs, start=1)
    )
    # The document and its paragraphs refer to each other; set the back-reference once.
    object.__setattr__(document, "paragraphs", paragraphs)
    return document


def _load_metadata(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path} is not valid UTF-8 JSON ({exc}); fix or remove it.") from None
    if not isinstance(meta, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
    ):
        raise DataError(
            f"{path} must be a JSON object of strings (title, speaker, event, section)."
        )
    return meta


def load_corpus(data_dir: Path) -> Corpus:
    """Load every statement (*.txt) in data_dir."""
    if not data_dir.is_dir():
        raise DataError(
            f"data folder {data_dir} does not exist; set DATA_DIR to the statements' folder."
        )
    paths = sorted(data_dir.glob("*.txt"))
    if not paths:
        raise DataError(
            f"data folder {data_dir} has no .txt statements; add one (see README, Data)."
        )
    return Corpus(tuple(load_document(path) for path in paths))
