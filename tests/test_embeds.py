"""Answers, paragraphs and overviews as Discord embeds: quoted, escaped, within Discord's limits."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import embeds, render
from bot.views import Browse
from tests.conftest import HOSTILE_TEXTS, library_of
from tests.limits import assert_embed_within_limits


def test_answer_quotes_the_paragraph_with_reference_and_bold_sentence(library):
    answer = library.ask("What does Canada think of the GFMD?")
    embed = embeds.answer_embed(answer, library)
    assert embed.title.startswith("¶5 · PANEL 4: Summary Panel")
    assert embed.description.startswith("> ")
    assert f"**{embeds.escape(answer.best.sentence)}**" in embed.description
    assert "Searched for: gfmd" in embed.footer.text
    assert_embed_within_limits(embed)


def test_other_hits_are_snippets_with_references(library):
    answer = library.ask("migration governance and data")
    embed = embeds.answer_embed(answer, library)
    assert embed.fields[0].name == "Also relevant"
    assert len(re.findall(r"\*\*¶\d\*\*", embed.fields[0].value)) == 2


def test_not_addressed_names_the_words_and_offers_a_possibly_related_paragraph(library):
    answer = library.ask("What does Canada say about climate migration?")
    embed = embeds.answer_embed(answer, library)
    assert embed.title == "Not addressed in the statement"
    assert "“climate”" in embed.description
    assert embed.fields[0].name == "Possibly related"
    text = render.answer_text(answer, library)
    assert text.startswith("The statement does not address “climate”.")
    assert "Possibly related: ¶" in text


def test_correction_is_shown(library):
    answer = library.ask("goverance")
    assert "governance (you typed “goverance”)" in embeds.answer_embed(answer, library).footer.text
    assert "governance (you typed “goverance”)" in render.answer_text(answer, library)


def test_empty_question_gets_help(library):
    answer = library.ask("")
    assert embeds.answer_embed(answer, library).description.startswith("Ask a question")
    assert render.answer_text(answer, library) == render.NO_QUESTION


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_echoed_words_cannot_format_or_ping(library, text):
    answer = library.ask(text)
    embed = embeds.answer_embed(answer, library)
    rendered = " ".join(
        [embed.title or "", embed.description or "", *(f.value for f in embed.fields)]
    )
    assert "@everyone" not in rendered.replace("@\u200beveryone", "")
    assert "<@" not in rendered
    assert_embed_within_limits(embed)


def test_escape_neutralises_markdown_and_mentions():
    escaped = embeds.escape("**x** @everyone <@123> `y` ||z|| > q")
    assert "\\*\\*x\\*\\*" in escaped
    assert "@\u200beveryone" in escaped
    assert "\\`y\\`" in escaped and "\\|\\|z\\|\\|" in escaped


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(question=st.text(max_size=300))
def test_any_question_renders_within_limits(library, question):
    answer = library.ask(question)
    embed = embeds.answer_embed(answer, library)
    assert_embed_within_limits(embed)
    # The embed and the terminal say the same thing: a paragraph, or why there is none.
    text = render.answer_text(answer, library)
    if answer.answered:
        assert embed.title.startswith(answer.best.paragraph.label)
        assert text.startswith(f"{answer.best.paragraph.label} · ")
    elif answer.asked_nothing:
        assert embed.description == text == render.NO_QUESTION
    elif answer.verdict == "closest":
        assert embed.title == render.closest_passage(answer.best, library)
        assert text.startswith(render.closest_passage(answer.best, library))
    else:
        assert embed.title == "Not addressed in the statement"
        assert text.startswith(render.not_addressed(answer))


def test_hostile_corpus_renders_within_limits(hostile_library):
    library = hostile_library
    assert library.multi_document
    for question in ["everyone", "nothing here at all", ""]:
        assert_embed_within_limits(embeds.answer_embed(library.ask(question), library))
    answer = library.ask("migration governance data")
    assert_embed_within_limits(embeds.answer_embed(answer, library))
    # Every match as the "Other match" button shows it.
    browse = Browse.for_answer(answer, owner_id=1)
    assert browse is not None and len(browse.matches) == 3
    for match in range(len(browse.matches)):
        assert_embed_within_limits(replace(browse, match=match).embed(library))
    for paragraph in library.paragraphs:
        embed = embeds.paragraph_embed(paragraph, library, emphasis=0)
        assert_embed_within_limits(embed)
        assert "¶" in embed.title
    for document in library.documents:
        assert_embed_within_limits(embeds.section_embed(document, document.sections[0]))
    assert_embed_within_limits(embeds.contents_embed(library))
    assert_embed_within_limits(embeds.about_embed(library))


def test_a_section_lists_only_its_own_paragraphs(write_statement):
    folder = write_statement("Part One\n\nAlpha text.\n\nBeta text.\n\nPart Two\n\nGamma text.")
    document = library_of(folder).documents[0]
    assert document.sections == ("Part One", "Part Two")
    second = embeds.section_embed(document, "Part Two")
    assert (second.title, second.description) == ("Part Two", "¶3 Gamma text.")
    assert embeds.section_embed(document, "Part One").description == "¶1 Alpha text.\n¶2 Beta text."
