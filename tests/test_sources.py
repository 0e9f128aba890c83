"""The folder source: the one place data is read from disk, and its one-line errors."""

from __future__ import annotations

import pytest

from bot.corpus import DataError
from bot.sources import FolderSource
from tests.conftest import DATA_DIR, library_of


def test_the_data_folder_holds_the_statement_its_metadata_and_the_glossary():
    data = FolderSource(DATA_DIR).load()
    (statement,) = data.documents
    assert statement.name == "canada-gcm-panel-4-summary.txt"
    assert statement.metadata["speaker"] == "Canada"
    assert statement.origin.endswith("data/canada-gcm-panel-4-summary.txt")
    assert "GFMD" in data.glossary.acronyms


def test_every_document_is_loaded_in_name_order(write_statement):
    write_statement("B\n\nSecond document text.", name="b")
    folder = write_statement("A\n\nFirst document text.", name="a", meta={"title": "Doc A"})
    library = library_of(folder)
    assert [d.name for d in library.documents] == ["a", "b"]
    assert library.multi_document
    assert library.documents[0].title == "Doc A"
    assert len(library.paragraphs) == 2


@pytest.mark.parametrize(
    ("content", "meta", "message"),
    [
        ("", None, "is empty"),
        ("   \n\n  \n", None, "is empty"),
        (b"caf\xe9 au lait.\n", None, "not UTF-8"),
        ("Just A Heading\n", None, "no paragraphs"),
        ("Fine text.", "{not json", "not valid JSON"),
        ("Fine text.", b"\xff{}", "not UTF-8"),
        ("Fine text.", '["a list"]', "must be a JSON object"),
    ],
)
def test_bad_data_is_one_clear_error_naming_the_file(
    write_statement, tmp_path, content, meta, message
):
    folder = write_statement(content)
    if isinstance(meta, bytes):
        (tmp_path / "doc.json").write_bytes(meta)
    elif meta is not None:
        (tmp_path / "doc.json").write_text(meta, encoding="utf-8")
    with pytest.raises(DataError, match=message) as error:
        library_of(folder)
    assert str(tmp_path / "doc.") in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_or_empty_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        FolderSource(tmp_path / "nowhere").load()
    with pytest.raises(DataError, match=r"no \.txt statements"):
        FolderSource(tmp_path).load()


def test_a_bad_glossary_names_its_file(write_statement, tmp_path):
    folder = write_statement("Fine text.")
    (tmp_path / "glossary.toml").write_text("not = [toml", encoding="utf-8")
    with pytest.raises(DataError, match=r"glossary\.toml is not valid TOML"):
        FolderSource(folder).load()
    (tmp_path / "glossary.toml").write_bytes(b"\xff")
    with pytest.raises(DataError, match=r"glossary\.toml is not UTF-8"):
        FolderSource(folder).load()


def test_a_folder_without_a_glossary_has_an_empty_one(write_statement):
    data = FolderSource(write_statement("Fine text.")).load()
    assert data.glossary.acronyms == {} and data.glossary.synonyms == ()
