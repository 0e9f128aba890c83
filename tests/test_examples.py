from __future__ import annotations

import json

import pytest

from bot import render
from bot.corpus import DataError
from bot.examples import Example, format_examples, parse_examples
from bot.sources import FolderSource
from tests.conftest import STATEMENT, library_of

# Sentences per paragraph of a two-paragraph document.
COUNTS = [2, 3]


def parse(*lines):
    return parse_examples("\n".join(lines), "doc.examples.jsonl", COUNTS)


def test_examples_are_parsed_with_optional_sentence_id_and_author():
    assert parse(
        "# a comment",
        "",
        '{"paragraph": 2, "sentence": 3, "question": "  Who   leads? ", "id": "q1"}',
        '{"paragraph": null, "question": "What is the budget?", "author": "team"}',
    ) == (
        Example("Who leads?", 2, 3, "q1"),
        Example("What is the budget?", None, author="team"),
    )


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("{not json", "line 1 is not valid JSON"),
        ('["a list"]', "must be an object"),
        ('{"paragraph": 1}', "needs a non-empty string 'question'"),
        ('{"question": "x"}', "needs 'paragraph'"),
        ('{"paragraph": 3, "question": "x"}', "paragraph must be null or 1-2"),
        ('{"paragraph": true, "question": "x"}', "paragraph must be null or 1-2"),
        ('{"paragraph": 1, "sentence": 3, "question": "x"}', "¶1 has sentences 1-2"),
        ('{"paragraph": null, "sentence": 1, "question": "x"}', "a sentence needs a paragraph"),
        ('{"paragraph": 1, "question": "x", "answer": "y"}', "unknown key(s) answer"),
        ('{"paragraph": 1, "question": "x", "id": 7}', "id must be a string"),
        ('{"paragraph": 1, "question": "x", "author": ["a"]}', "author must be a string"),
    ],
)
def test_a_bad_line_is_one_data_error_naming_file_and_line(line, says):
    with pytest.raises(DataError) as error:
        parse(line)
    message = str(error.value)
    assert says in message
    assert message.startswith("doc.examples.jsonl line 1")
    assert "\n" not in message


def test_the_examples_file_sits_beside_its_statement():
    (statement,) = FolderSource(STATEMENT.parent).load().documents
    assert statement.examples_origin == str(
        STATEMENT.with_name("canada-gcm-panel-4-summary.examples.jsonl")
    )
    assert statement.examples.count("\n") > 300


def test_formatted_examples_parse_back_to_the_same():
    examples = (
        Example("Who leads?", 2, 3, "q1", "train"),
        Example('What is the "budget"?\u2028', None),
        Example("Où?", 1, author="équipe"),
    )
    assert parse(format_examples(examples)) == tuple(
        Example(" ".join(e.question.split()), e.paragraph, e.sentence, e.id, e.author)
        for e in examples
    )


def test_a_document_without_examples_ranks_and_decides_as_before(write_statement):
    text = STATEMENT.read_text(encoding="utf-8")
    plain = library_of(write_statement(text))
    assert plain.index.model is None
    answer = plain.ask("climate migration")
    assert answer.verdict == "not_addressed"
    assert answer.missing == ("climate",)
    assert plain.ask("GFMD").verdict == "answered"


def test_a_bad_examples_file_stops_loading_with_its_line(write_statement):
    folder = write_statement(STATEMENT.read_text(encoding="utf-8"))
    (folder / "doc.examples.jsonl").write_text(
        json.dumps({"paragraph": 9, "question": "x"}) + "\n", encoding="utf-8"
    )
    with pytest.raises(DataError, match=r"doc.examples.jsonl line 1: paragraph must be"):
        library_of(folder)


def test_replies_quote_the_paragraph_never_an_example(library):
    (statement,) = FolderSource(STATEMENT.parent).load().documents
    counts = [len(p.sentence_spans) for p in library.paragraphs]
    examples = {e.question for e in parse_examples(statement.examples, "examples", counts)}
    answer = library.ask("Who should lead on migration data?")
    text = render.answer_text(answer, library)
    assert answer.best.paragraph.text in text
    assert not any(example in text for example in examples)


def test_words_only_examples_hold_rank_but_are_reported_as_not_in_the_statement(write_statement):
    folder = write_statement(
        "Heading\n\nThe forum brings decision-makers together.\n\n"
        "States should collect better data on migration."
    )
    (folder / "doc.examples.jsonl").write_text(
        json.dumps({"paragraph": 2, "question": "Which team gathers the figures?"}) + "\n",
        encoding="utf-8",
    )
    library = library_of(folder)

    answer = library.ask("Which team keeps the migration figures?")
    assert answer.best.paragraph.number == 2  # "team" and "figures" found it, through the example
    assert answer.searched == ("migration",)
    assert answer.missing == ("team", "keeps", "figures")
    note = render.search_note(answer)
    assert "Searched for: migration" in note
    assert "Not in the statement: team, keeps, figures" in note

    hockey = library.ask("Which hockey team took the cup?")
    assert hockey.searched == ()
    assert hockey.missing == ("hockey", "team", "took", "cup")
    assert hockey.verdict == "not_addressed"
    assert render.not_addressed(hockey) == (
        "The statement does not address “hockey”, “team”, “took” or “cup”."
    )
