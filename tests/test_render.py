from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import embeds, render
from bot.outline import Outline
from bot.search import load_index
from bot.views import Browse
from tests.limits import assert_embed_within_limits

NASTY = [
    "@everyone look",
    "<@&123456789012345678> and <@123> <#42>",
    "**bold** __under__ ~~strike~~ ||spoiler|| `code` ```py\nprint()```",
    "> quote\n# heading\n- list",
    "[click me](https://evil.example) https://example.com/a_b_c",
    "\u200b\u200e\u202e\u2066 zero width and direction marks",
    "🙂🇨🇦👩‍👩‍👧 emoji",
]


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory):
    """A corpus whose text is long and full of Markdown, mentions and links."""
    folder = tmp_path_factory.mktemp("hostile")
    long_sentence = " ".join(["@everyone **migration** governance `data` _x_"] * 400) + "."
    paragraphs = [long_sentence, *(f"{n} about migration governance data." for n in NASTY)] * 3
    heading = "A" * 110
    (folder / ("x" * 150 + ".txt")).write_text(
        heading + "\n\n" + "\n\n".join(paragraphs), encoding="utf-8"
    )
    (folder / "second.txt").write_text(
        "Heading\n\nMigration governance data paragraph.", encoding="utf-8"
    )
    (folder / ("x" * 150 + ".json")).write_text('{"title": "' + "T" * 3000 + '"}', encoding="utf-8")
    return load_index(folder)


def test_answer_quotes_the_paragraph_with_reference_and_bold_sentence(index):
    answer = index.search("What does Canada think of the GFMD?")
    embed = embeds.answer_embed(answer, index.corpus)
    assert embed.title.startswith("¶5 · PANEL 4: Summary Panel")
    assert embed.description.startswith("> ")
    assert f"**{embeds.escape(answer.best.sentence)}**" in embed.description
    assert "Searched for: gfmd" in embed.footer.text
    assert_embed_within_limits(embed)


def test_other_hits_are_snippets_with_references(index):
    answer = index.search("migration governance and data")
    embed = embeds.answer_embed(answer, index.corpus)
    assert embed.fields[0].name == "Also relevant"
    assert len(re.findall(r"\*\*¶\d\*\*", embed.fields[0].value)) == 2


def test_not_addressed_names_the_words_and_offers_a_possibly_related_paragraph(index):
    answer = index.search("What does Canada say about climate migration?")
    embed = embeds.answer_embed(answer, index.corpus)
    assert embed.title == "Not addressed in the statement"
    assert "“climate”" in embed.description
    assert embed.fields[0].name == "Possibly related"
    text = render.answer_text(answer, index.corpus)
    assert text.startswith("The statement does not address “climate”.")
    assert "Possibly related: ¶" in text


def test_correction_is_shown(index):
    answer = index.search("goverance")
    assert (
        "governance (you typed “goverance”)"
        in embeds.answer_embed(answer, index.corpus).footer.text
    )
    assert "governance (you typed “goverance”)" in render.answer_text(answer, index.corpus)


def test_empty_question_gets_help(index):
    answer = index.search("")
    assert embeds.answer_embed(answer, index.corpus).description.startswith("Ask a question")
    assert render.answer_text(answer, index.corpus) == render.NO_QUESTION


@pytest.mark.parametrize("text", NASTY)
def test_echoed_words_cannot_format_or_ping(index, text):
    answer = index.search(text)
    embed = embeds.answer_embed(answer, index.corpus)
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
def test_any_question_renders_within_limits(index, question):
    answer = index.search(question)
    assert_embed_within_limits(embeds.answer_embed(answer, index.corpus))
    assert isinstance(render.answer_text(answer, index.corpus), str)


def test_hostile_corpus_renders_within_limits(hostile_index):
    corpus = hostile_index.corpus
    assert corpus.multi_document
    for question in ["migration governance data", "everyone", "nothing here at all", ""]:
        answer = hostile_index.search(question)
        assert_embed_within_limits(embeds.answer_embed(answer, corpus))
        # Every match as the "Other match" button shows it.
        browse = Browse.for_answer(answer, corpus, owner_id=1)
        for match in range(len(browse.matches) if browse else 0):
            assert_embed_within_limits(replace(browse, match=match).embed(corpus))
    for paragraph in corpus.paragraphs:
        embed = embeds.paragraph_embed(paragraph, corpus, emphasis=0)
        assert_embed_within_limits(embed)
        assert "¶" in embed.title
    for document in corpus.documents:
        assert_embed_within_limits(embeds.section_embed(document, document.sections[0]))
    assert_embed_within_limits(embeds.contents_embed(corpus))
    assert_embed_within_limits(embeds.about_embed(corpus))


def test_references_name_the_document_when_there_are_several(hostile_index):
    second, long_named = hostile_index.corpus.documents
    assert render.reference(second.paragraphs[0], hostile_index.corpus) == "second ¶1"
    assert render.reference(long_named.paragraphs[0], hostile_index.corpus) == f"{'T' * 59}… ¶1"


def test_autocomplete_choices_within_limits(hostile_index, index):
    for outline in (Outline(hostile_index), Outline(index)):
        for typed in ["", "1", "¶2", "migration", "x" * 200, "@everyone", "🙂"]:
            entries = outline.matching(typed)
            assert len(entries) <= embeds.AUTOCOMPLETE_CHOICES
            for entry in entries:
                assert 0 < len(entry.label) <= embeds.CHOICE_CHARS
                assert 0 < len(entry.key) <= embeds.CHOICE_CHARS


def test_shorten_cuts_at_a_word_and_marks_the_cut():
    assert render.shorten("short", 10) == "short"
    cut = render.shorten("one two three four five six", 15)
    assert cut.endswith("…") and len(cut) <= 15 and cut == "one two three…"
    assert len(render.shorten("x" * 50, 10)) == 10


def test_search_note_names_corrections_expansions_and_missing_words(index):
    answer = index.search("gfmd civil soceity and unauthorized climate")
    assert render.search_note(answer) == (
        "Searched for: gfmd, civil society (you typed “soceity”), unauthorized (as irregular)"
        " · Not in the statement: climate"
    )


def test_a_section_lists_only_its_own_paragraphs(write_statement):
    folder = write_statement("Part One\n\nAlpha text.\n\nBeta text.\n\nPart Two\n\nGamma text.")
    document = load_index(folder).corpus.documents[0]
    assert document.sections == ("Part One", "Part Two")
    second = embeds.section_embed(document, "Part Two")
    assert (second.title, second.description) == ("Part Two", "¶3 Gamma text.")
    assert embeds.section_embed(document, "Part One").description == "¶1 Alpha text.\n¶2 Beta text."


def closest_answer(index):
    """A real answer, given the middle verdict the model gives when it is unsure."""
    answer = index.search("Does Canada think the GFMD is useful?")
    return replace(answer, answered=False, verdict="closest", confidence=0.25)


def test_the_closest_passage_is_quoted_with_a_caveat_in_text_json_and_discord(index):
    answer = closest_answer(index)
    best = answer.best
    text = render.answer_text(answer, index.corpus)
    number = best.paragraph.number
    assert text.startswith(
        f"The statement may not answer this exactly; the closest passage is ¶{number}."
    )
    assert best.paragraph.text in text
    data = render.answer_json(answer, index.corpus)
    assert (data["answered"], data["verdict"]) == (False, "closest")
    assert data["confidence"] == 0.25
    embed = embeds.answer_embed(answer, index.corpus)
    assert embed.title == render.closest_passage(best, index.corpus)
    assert embed.description.startswith("> ")
    assert_embed_within_limits(embed)


def test_json_gives_verdict_and_confidence(index):
    data = render.answer_json(index.search("What does Canada think of the GFMD?"), index.corpus)
    assert (data["answered"], data["verdict"]) == (True, "answered")
    assert index.model.answer_threshold <= data["confidence"] <= 1
    declined = render.answer_json(index.search("Who won the hockey playoffs?"), index.corpus)
    assert (declined["answered"], declined["verdict"], declined["confidence"]) == (
        False,
        "not_addressed",
        0.0,
    )
