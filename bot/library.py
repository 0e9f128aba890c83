"""The library: the documents, their index and glossary, and the one way every front asks them.

Discord, the terminal, `make eval` and the bench all go through `Library.ask`, so what is
measured is what users get. `build_library` is pure; the source does the reading.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property, partial
from pathlib import Path

from bot import index_cache
from bot.corpus import (
    DataError,
    Document,
    Paragraph,
    ParagraphRef,
    StaleReferenceError,
    build_document,
)
from bot.examples import parse_examples
from bot.outline import Entry, Outline
from bot.ranking import Variant
from bot.search import DEFAULT_LIMIT, DEFAULT_VARIANT, Answer, SearchIndex, clean_question
from bot.sources import FolderSource, LibraryData, Source
from bot.text import Analyzer, Glossary


@dataclass(frozen=True, eq=False)
class Library:
    """Every document, indexed together; read-only once built, so it is swapped, never changed."""

    documents: tuple[Document, ...]
    index: SearchIndex
    glossary: Glossary
    # Where the data came from, so that a reload reads the same place.
    source: Source | None = None
    # Where its index is cached (bot/index_cache.py), so that a reload goes through the cache.
    cache_dir: Path | None = None

    @property
    def paragraphs(self) -> tuple[Paragraph, ...]:
        return self.index.paragraphs

    @property
    def multi_document(self) -> bool:
        return len(self.documents) > 1

    @cached_property
    def _documents_by_id(self) -> dict[str, Document]:
        return {d.id: d for d in self.documents}

    def ask(self, question: str, limit: int = DEFAULT_LIMIT) -> Answer:
        """The answer to a question as typed; QuestionTooLongError past the length bound."""
        return self.index.search(clean_question(question), limit)

    def paragraph(self, ref: ParagraphRef) -> Paragraph:
        """The paragraph a reference names; StaleReferenceError if it is gone or was edited."""
        document = self._documents_by_id.get(ref.document_id)
        paragraph = document.paragraph(ref.number) if document is not None else None
        if paragraph is None or paragraph.ref != ref:
            raise StaleReferenceError(ref)
        return paragraph

    def document(self, key: str) -> Document | None:
        """A document by its id or its file name (without .txt), ignoring case."""
        wanted = key.strip().casefold()
        return next(
            (d for d in self.documents if wanted in {d.id, d.name.casefold()}),
            None,
        )

    def outline(self) -> Outline:
        return self._outline

    @cached_property
    def _outline(self) -> Outline:
        return Outline(self.documents, self.index.analyzer)

    def resolve(self, query: str) -> Entry | None:
        """What a /section query means: a chosen entry, a number, words, or the best answer.

        A paragraph reference that no longer matches raises StaleReferenceError rather than
        showing another paragraph.
        """
        outline = self.outline()
        if (entry := outline.entry(query.strip())) is not None:
            return entry
        try:
            ref = ParagraphRef.decode(query.strip())
        except ValueError:
            pass
        else:
            return outline.entry_for(self.paragraph(ref))
        if matches := outline.matching(query, limit=1):
            return matches[0]
        answer = self.ask(query, limit=1)
        if answer.answered and answer.best is not None:
            return outline.entry_for(answer.best.paragraph)
        return None

    def reloaded(self) -> Library:
        """The same library read again from its source (DataError if the data is now bad)."""
        return self.reloader()()

    def reloader(self) -> Callable[[], Library]:
        """A call that reads the library again from its source, holding nothing of this library:
        a worker thread that runs it keeps it a moment after its result is delivered, which
        would otherwise keep a replaced library alive past the collection that should free it.
        """
        if self.source is None:
            raise DataError("this library was not read from a source, so it cannot be reloaded.")
        return partial(load_library, self.source, self.index.variant, self.cache_dir)

    def __getstate__(self) -> dict[str, object]:
        # Lookups computed on first use are computed again after loading.
        return index_cache.stored_state(self)


def build_library(
    data: LibraryData, variant: Variant = DEFAULT_VARIANT, source: Source | None = None
) -> Library:
    """Segment and index the documents: no I/O."""
    documents = tuple(
        build_document(f.name, f.text, f.metadata, origin=f.origin) for f in data.documents
    )
    if not documents:
        raise DataError("there are no statements to load; add one (see README, Data).")
    ids: dict[str, str] = {}
    for document in documents:
        if (other := ids.setdefault(document.id, document.name)) != document.name:
            raise DataError(
                f"{other} and {document.name} share the id {document.id}; rename one of them."
            )
    speakers = {name for d in documents for name in d.speakers}
    analyzer = Analyzer(data.glossary, extra_stop_words=speakers)
    examples = {
        document.name: parse_examples(
            file.examples,
            file.examples_origin or file.name,
            [len(p.sentence_spans) for p in document.paragraphs],
        )
        for document, file in zip(documents, data.documents, strict=True)
    }
    index = SearchIndex(documents, analyzer, variant, examples, data.model)
    return Library(documents, index, data.glossary, source)


def load_library(
    source: Source, variant: Variant = DEFAULT_VARIANT, cache_dir: Path | None = None
) -> Library:
    """Read a source and build its library; with a cache folder, a folder source's library is
    read from its cache when the data and code are unchanged, and cached once built."""
    if cache_dir is None or not isinstance(source, FolderSource):
        return build_library(source.load(), variant, source)
    return open_library(source, cache_dir, variant).value


def open_library(
    source: FolderSource,
    cache_dir: Path,
    variant: Variant = DEFAULT_VARIANT,
    *,
    must_save: bool = False,
) -> index_cache.Cached[Library]:
    """The library of a data folder from its cache in cache_dir, or built and cached there
    (see index_cache.load_or_build for stale, damaged and unwritable caches)."""
    # Taken before reading: data edited while it is read is stored under the old key and
    # rebuilt at the next start, never served as current.
    key = index_cache.cache_key(source.fingerprint(), variant)
    cached = index_cache.load_or_build(
        index_cache.cache_path(cache_dir, source.folder),
        key,
        lambda: build_library(source.load(), variant, source),
        Library,
        must_save=must_save,
    )
    # A reload reads where this process was told to read, through the same cache.
    return replace(cached, value=replace(cached.value, source=source, cache_dir=cache_dir))
