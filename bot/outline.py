"""The library's outline: headings and paragraphs as entries to pick from, filter and look up."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.corpus import Document, Paragraph
from bot.text import Analyzer

PARAGRAPH_NUMBER = re.compile(r"(?:¶|p|para|paragraph)?\s*(\d{1,4})", re.IGNORECASE)


@dataclass(frozen=True)
class Entry:
    """A heading or a paragraph, with the key an autocomplete choice carries."""

    key: str
    document: Document
    paragraph: Paragraph | None = None
    heading: str = ""

    @property
    def text(self) -> str:
        return self.paragraph.text if self.paragraph is not None else self.heading


def heading_key(document: Document, position: int) -> str:
    return f"{document.id}.h{position}"


class Outline:
    """Every heading and paragraph, for /section and its autocomplete."""

    def __init__(self, documents: tuple[Document, ...], analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        entries: list[Entry] = []
        for document in documents:
            for position, heading in enumerate(document.sections):
                entries.append(Entry(heading_key(document, position), document, heading=heading))
            for paragraph in document.paragraphs:
                entries.append(Entry(paragraph.ref.encode(), document, paragraph))
        self.entries = tuple(entries)
        self._by_key = {e.key: e for e in entries}

    def entry(self, key: str) -> Entry | None:
        """The entry an autocomplete choice named, if it is still there unchanged."""
        return self._by_key.get(key)

    def matching(self, typed: str, limit: int = 25) -> list[Entry]:
        """Entries for what the user has typed so far: a number, "¶5", or words of the text."""
        typed = typed.strip()
        if number := PARAGRAPH_NUMBER.fullmatch(typed):
            wanted = int(number.group(1))
            found = [e for e in self.entries if e.paragraph and e.paragraph.number == wanted]
            return found[:limit]
        # Every word typed must begin a word of the entry, so "gf" already finds "GFMD".
        patterns = [
            re.compile(r"\b" + r"[\s\-]+".join(map(re.escape, t.surface.split())))
            for t in self.analyzer.tokens(typed, query=True)
        ]
        if not patterns:
            return list(self.entries[:limit])
        found = []
        for entry in self.entries:
            text = entry.text.casefold()
            if all(pattern.search(text) for pattern in patterns):
                found.append(entry)
                if len(found) == limit:
                    break
        return found

    def entry_for(self, paragraph: Paragraph) -> Entry:
        return self._by_key[paragraph.ref.encode()]
