from __future__ import annotations

import pytest

from bot.corpus import (
    DataError,
    ParagraphRef,
    build_document,
    segment,
    split_sentences,
)
from tests.conftest import STATEMENT


@pytest.fixture(scope="module")
def document(library):
    assert len(library.documents) == 1
    return library.documents[0]


def test_six_paragraphs_and_the_heading_is_not_one(document):
    assert document.sections == ("PANEL 4: Summary Panel",)
    assert [p.number for p in document.paragraphs] == [1, 2, 3, 4, 5, 6]
    assert all(p.section == "PANEL 4: Summary Panel" for p in document.paragraphs)


def test_paragraph_texts_are_the_file_verbatim_up_to_whitespace(document):
    raw = STATEMENT.read_text(encoding="utf-8")
    rebuilt = " ".join([document.sections[0], *(p.text for p in document.paragraphs)])
    assert rebuilt == " ".join(raw.split())
    assert all("\n" not in p.text and "  " not in p.text for p in document.paragraphs)


def test_paragraph_six_runs_across_the_page_break(document):
    sixth = document.paragraphs[5].text
    assert sixth.startswith("Many states have also noted the role of IOM")
    assert "is therefore well-positioned to support the SRSG" in sixth
    assert sixth.endswith("implementation and reporting against these goals.")


def test_curly_apostrophes_are_kept(document):
    assert "IOM’s global operational footprint" in document.paragraphs[5].text
    assert "Compact’s implementation" in document.paragraphs[5].text


def test_sentence_counts_and_dr_koser_does_not_end_a_sentence(document):
    assert [len(p.sentences) for p in document.paragraphs] == [2, 2, 3, 5, 4, 4]
    assert document.paragraphs[0].sentences[1].startswith("We would also like to thank Dr. Koser")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two? Three!", ("One.", "Two?", "Three!")),
        (
            "Mr. Smith met Ms. Jones. Then they left.",
            ("Mr. Smith met Ms. Jones.", "Then they left."),
        ),
        ("It said “Go.” Then silence.", ("It said “Go.”", "Then silence.")),
        ("No full stop at the end", ("No full stop at the end",)),
        ("See e.g. the annex. Done.", ("See e.g. the annex.", "Done.")),
    ],
)
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


def test_segment_headings_and_page_breaks():
    headings, paragraphs = segment(
        "Title Line\n\nFirst paragraph line one\ncontinues here.\n\n\n\nSecond starts and\n\n\n"
        "continues after a page break.\n\nSub Heading\n\nThird one.\n"
    )
    assert headings == ["Title Line", "Sub Heading"]
    assert paragraphs == [
        ("Title Line", "First paragraph line one continues here."),
        ("Title Line", "Second starts and continues after a page break."),
        ("Sub Heading", "Third one."),
    ]


def test_metadata_is_read_beside_the_statement(document):
    assert document.speaker == "Canada"
    assert document.speakers == ("Canada", "Canadian", "Canadians", "Ottawa")
    assert document.event == "Third Thematic Consultation on the Global Compact for Migration"
    assert "Global Compact for Migration" in document.title
    assert document.name == "canada-gcm-panel-4-summary"


def test_the_speakers_other_names_are_a_comma_separated_list():
    metadata = {"speaker": "Canada", "speaker_names": " Canadians, ,Ottawa "}
    built = build_document("s.txt", "A paragraph.\n", metadata)
    assert built.speakers == ("Canada", "Canadians", "Ottawa")
    assert build_document("s.txt", "A paragraph.\n", {}).speakers == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "is empty"), ("   \n\n  \n", "is empty"), ("Just A Heading\n", "no paragraphs")],
)
def test_a_document_without_paragraphs_is_one_clear_error(text, message):
    with pytest.raises(DataError, match=message) as error:
        build_document("doc.txt", text, {}, origin="data/doc.txt")
    assert str(error.value).startswith("data/doc.txt ") and "\n" not in str(error.value)


def test_a_document_is_named_by_a_hash_of_its_file_name_not_its_text():
    one = build_document("a.txt", "First text.", {})
    edited = build_document("a.txt", "Other text entirely.", {"title": "T"})
    other = build_document("b.txt", "First text.", {})
    assert one.id == edited.id != other.id
    assert len(one.id) == 6 and one.name == "a"


def test_a_reference_names_document_number_and_text():
    document = build_document("a.txt", "Alpha one.\n\nBeta two.", {})
    first, second = document.paragraphs
    assert first.ref.document_id == second.ref.document_id == document.id
    assert (first.ref.number, second.ref.number) == (1, 2)
    assert first.ref.text_hash != second.ref.text_hash
    edited = build_document("a.txt", "Alpha one, edited.\n\nBeta two.", {})
    assert edited.paragraphs[0].ref != first.ref
    assert edited.paragraphs[1].ref == second.ref


@pytest.mark.parametrize("number", [1, 35, 36, 46655])
def test_a_reference_round_trips_through_its_compact_form(number):
    ref = ParagraphRef("3fa9c1", number, "9b2e")
    encoded = ref.encode()
    assert ParagraphRef.decode(encoded) == ref
    assert len(encoded) <= 16


@pytest.mark.parametrize(
    "text", ["", "3fa9c1.5", "3FA9C1.5.9b2e", "3fa9c1.5.9b2e.1", "zzzzzz.1.9b2e", "3fa9c1..9b2e"]
)
def test_a_malformed_reference_is_a_value_error(text):
    with pytest.raises(ValueError, match="not a paragraph reference"):
        ParagraphRef.decode(text)
