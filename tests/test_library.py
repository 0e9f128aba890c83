"""The library: the one object every front asks, built purely from what a source read."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from bot.corpus import DataError, StaleReferenceError, short_hash
from bot.library import build_library
from bot.search import QuestionTooLongError
from bot.sources import DocumentFile, FolderSource, LibraryData
from bot.text import Glossary
from tests.conftest import library_of


def data_of(*texts: str) -> LibraryData:
    return LibraryData(
        tuple(DocumentFile(f"doc{i}.txt", text, {}) for i, text in enumerate(texts)), Glossary()
    )


def test_ask_cleans_the_question_as_typed(library):
    answer = library.ask("  What does\u200b Canada think\x00 of the\n\nGFMD?  ")
    assert answer.question == "What does Canada think of the GFMD?"
    assert answer.answered and answer.best.paragraph.number == 5


def test_ask_refuses_an_overlong_question(library):
    with pytest.raises(QuestionTooLongError) as error:
        library.ask("why " * 100)
    assert error.value.length == 399


def test_a_reference_finds_its_paragraph_until_the_text_changes(library):
    paragraph = library.paragraphs[3]
    assert library.paragraph(paragraph.ref) is paragraph
    for stale in (
        replace(paragraph.ref, text_hash="0000"),
        replace(paragraph.ref, number=7),
        replace(paragraph.ref, document_id="000000"),
    ):
        with pytest.raises(StaleReferenceError):
            library.paragraph(stale)


def test_documents_are_found_by_id_or_file_name(library):
    (document,) = library.documents
    assert library.document(document.id) is document
    assert library.document("Canada-GCM-Panel-4-Summary") is document
    assert library.document("canada") is None


@pytest.mark.parametrize(
    ("query", "number"),
    [("5", 5), ("¶2", 2), ("gfmd", 5), ("the section on the GFMD", 5), ("who leads data", 6)],
)
def test_resolve_numbers_words_and_questions(library, query, number):
    entry = library.resolve(query)
    assert entry is not None and entry.paragraph is library.paragraphs[number - 1]


def test_resolve_keys_headings_and_nothing(library):
    third = library.paragraphs[2]
    assert library.resolve(third.ref.encode()).paragraph is third
    heading = library.outline().entries[0]
    assert library.resolve(heading.key) is heading and heading.paragraph is None
    assert library.resolve("hockey playoffs") is None
    with pytest.raises(StaleReferenceError):
        library.resolve(replace(third.ref, text_hash="0000").encode())


def test_build_library_is_pure_and_numbers_paragraphs_per_document():
    library = build_library(data_of("One.\n\nTwo.", "Three."))
    assert [p.label for p in library.paragraphs] == ["¶1", "¶2", "¶1"]
    assert library.multi_document and library.source is None
    with pytest.raises(DataError, match="not read from a source"):
        library.reloaded()


def test_an_empty_library_is_a_data_error():
    with pytest.raises(DataError, match="no statements"):
        build_library(LibraryData((), Glossary()))


def test_two_file_names_with_the_same_id_are_a_data_error():
    seen: dict[str, str] = {}
    for i in itertools.count():
        name = f"statement-{i}"
        if (other := seen.setdefault(short_hash(name, 3), name)) != name:
            break
    files = tuple(DocumentFile(f"{n}.txt", "Some text.", {}) for n in (other, name))
    with pytest.raises(DataError, match=r"share the id \w+; rename one of them"):
        build_library(LibraryData(files, Glossary()))


def test_reloaded_reads_the_source_again(write_statement):
    folder = write_statement("Heading\n\nFirst version.")
    library = library_of(folder)
    write_statement("Heading\n\nSecond version.")
    fresh = library.reloaded()
    assert fresh is not library and fresh.source == FolderSource(folder)
    assert fresh.paragraphs[0].text == "Second version."
    assert library.paragraphs[0].text == "First version."
