"""The statement's outline: headings and paragraphs as entries to pick from, filter and resolve."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot import render
from bot.corpus import Document, Paragraph
from bot.search import SearchIndex

LABEL_CHARS = 100
PARAGRAPH_NUMBER = re.compile(r"(?:¶|p|para|paragraph)?\s*(\d{1,4})", re.IGNORECASE)


@dataclass(frozen=True)
class Entry:
    """A heading or a paragraph, with the key an autocomplete choice carries and its label."""

    key: str
    label: str
    document: Document
    paragraph: Paragraph | None = None
    heading: str = ""

    @property
    def text(self) -> str:
        return self.paragraph.text if self.paragraph is not None else self.heading


class Outline:
    """Every heading and paragraph of the corpus, for /section and its autocomplete."""

    def __init__(self, index: SearchIndex) -> None:
        self.index = index
        corpus = index.corpus
        entries: list[Entry] = []
        for d, document in enumerate(corpus.documents):
            prefix = f"{document.short_title} " if corpus.multi_document else ""
            for h, heading in enumerate(document.sections):
                label = render.shorten(f"{prefix}§ {heading} (section)", LABEL_CHARS)
                entries.append(Entry(f"{d}:h{h}", label, document, heading=heading))
            for paragraph in document.paragraphs:
                label = render.shorten(
                    f"{prefix}{paragraph.reference} — {paragraph.text}", LABEL_CHARS
                )
                entries.append(Entry(f"{d}:{paragraph.number}", label, document, paragraph))
        self.entries = tuple(entries)
        self._by_key = {e.key: e for e in entries}

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
            for t in self.index.analyzer.tokens(typed, query=True)
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

    def resolve(self, text: str) -> Entry | None:
        """What a /section query means: a chosen key, a number, words, or the best search hit."""
        if (entry := self._by_key.get(text.strip())) is not None:
            return entry
        if matches := self.matching(text, limit=1):
            return matches[0]
        answer = self.index.search(text, limit=1)
        if answer.answered and answer.best is not None:
            return self.entry_for(answer.best.paragraph)
        return None

    def entry_for(self, paragraph: Paragraph) -> Entry:
        d = self.index.corpus.documents.index(paragraph.document)
        return self._by_key[f"{d}:{paragraph.number}"]
