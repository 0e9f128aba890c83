from __future__ import annotations

import pytest

from bot.corpus import DataError, load_corpus, segment, split_sentences
from tests.conftest import DATA_DIR, STATEMENT


@pytest.fixture(scope="module")
def document():
    corpus = load_corpus(DATA_DIR)
    assert len(corpus.documents) == 1
    return corpus.documents[0]


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
    assert document.event == "Third Thematic Consultation on the Global Compact for Migration"
    assert "Global Compact for Migration" in document.title


def test_every_document_is_loaded_in_name_order(write_statement):
    write_statement("B\n\nSecond document text.", name="b")
    folder = write_statement("A\n\nFirst document text.", name="a", meta={"title": "Doc A"})
    corpus = load_corpus(folder)
    assert [d.doc_id for d in corpus.documents] == ["a", "b"]
    assert corpus.multi_document
    assert corpus.documents[0].title == "Doc A"
    assert len(corpus.paragraphs) == 2


@pytest.mark.parametrize(
    ("content", "meta", "message"),
    [
        ("", None, "is empty"),
        ("   \n\n  \n", None, "is empty"),
        (b"caf\xe9 au lait.\n", None, "not UTF-8"),
        ("Just A Heading\n", None, "no paragraphs"),
        ("Fine text.", "{not json", "not valid UTF-8 JSON"),
        ("Fine text.", '["a list"]', "must be a JSON object"),
    ],
)
def test_bad_data_is_one_clear_error(write_statement, tmp_path, content, meta, message):
    folder = write_statement(content)
    if meta is not None:
        (tmp_path / "doc.json").write_text(meta, encoding="utf-8")
    with pytest.raises(DataError, match=message) as error:
        load_corpus(folder)
    assert "\n" not in str(error.value)


def test_missing_or_empty_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_corpus(tmp_path / "nowhere")
    with pytest.raises(DataError, match=r"no \.txt statements"):
        load_corpus(tmp_path)
