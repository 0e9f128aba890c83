"""The bot's wording in plain text and JSON, shared with Discord."""

from __future__ import annotations

import json
from dataclasses import replace

from bot import embeds, render
from bot.cli import answer_json
from tests.limits import assert_embed_within_limits


def test_references_name_the_document_when_there_are_several(hostile_library):
    second, long_named = hostile_library.documents
    assert render.reference(second.paragraphs[0], hostile_library) == "second ¶1"
    assert render.reference(long_named.paragraphs[0], hostile_library) == f"{'T' * 59}… ¶1"


def test_shorten_cuts_at_a_word_and_marks_the_cut():
    assert render.shorten("short", 10) == "short"
    cut = render.shorten("one two three four five six", 15)
    assert cut.endswith("…") and len(cut) <= 15 and cut == "one two three…"
    assert len(render.shorten("x" * 50, 10)) == 10


def test_search_note_names_corrections_expansions_and_missing_words(library):
    answer = library.ask("gfmd civil soceity and unauthorized climate")
    assert render.search_note(answer) == (
        "Searched for: gfmd, civil society (you typed “soceity”), unauthorized (as irregular)"
        " · Not in the statement: climate"
    )


def test_not_addressed_text_names_the_words_and_the_nearest_paragraph(library):
    text = render.answer_text(library.ask("What does Canada say about climate migration?"), library)
    assert text.startswith("The statement does not address “climate”.")
    assert "Possibly related: ¶" in text


def test_a_paragraph_sharing_no_word_with_the_question_is_not_offered_as_related(library):
    answer = library.ask("printer on the 3rd floor is jammed, who do i call")
    assert answer.best is not None and answer.shown is None
    assert "Possibly related" not in render.answer_text(answer, library)
    assert embeds.answer_embed(answer, library).fields == []


def test_the_text_answer_quotes_the_paragraph_and_its_answer_sentence(library):
    text = render.answer_text(library.ask("who should lead on migration data?"), library)
    first, quoted, answer, *rest = text.split("\n")
    assert first == "¶6 · PANEL 4: Summary Panel · " + library.documents[0].title
    assert quoted == "  " + library.paragraphs[5].text
    assert answer.startswith("  Answer: “") and answer[11:-1] in library.paragraphs[5].text
    assert rest[-1].startswith("(Searched for: ")


def test_json_carries_the_reference_the_stable_ref_and_the_sentence(library):
    data = json.loads(answer_json(library, "What does Canada think of the GFMD?"))
    best = data["results"][0]
    paragraph = library.paragraphs[4]
    assert (best["paragraph"], best["reference"], best["ref"]) == (
        5,
        "¶5",
        paragraph.ref.encode(),
    )
    assert (best["document"], best["document_id"]) == (
        paragraph.document.name,
        paragraph.document.id,
    )
    assert best["text"] == paragraph.text and best["sentence"] in paragraph.sentences
    assert data["answered"] is True and data["missing_terms"] == []


def closest_answer(library):
    """A real answer, given the middle verdict the model gives when it is unsure."""
    answer = library.ask("Does Canada think the GFMD is useful?")
    return replace(answer, answered=False, verdict="closest", confidence=0.25)


def test_the_closest_passage_is_quoted_with_a_caveat_in_text_json_and_discord(library):
    answer = closest_answer(library)
    best = answer.best
    text = render.answer_text(answer, library)
    number = best.paragraph.number
    assert text.startswith(
        f"The statement may not answer this exactly; the closest passage is ¶{number}."
    )
    assert best.paragraph.text in text
    data = render.answer_json(answer, library)
    assert (data["answered"], data["verdict"]) == (False, "closest")
    assert data["confidence"] == 0.25
    embed = embeds.answer_embed(answer, library)
    assert embed.title == render.closest_passage(best, library)
    assert embed.description.startswith("> ")
    assert_embed_within_limits(embed)


def test_json_gives_verdict_and_confidence(library):
    data = render.answer_json(library.ask("What does Canada think of the GFMD?"), library)
    assert (data["answered"], data["verdict"]) == (True, "answered")
    assert library.index.model.answer_threshold <= data["confidence"] <= 1
    declined = render.answer_json(library.ask("Who won the hockey playoffs?"), library)
    assert (declined["answered"], declined["verdict"], declined["confidence"]) == (
        False,
        "not_addressed",
        0.0,
    )
