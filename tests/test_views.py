"""Browse state in custom ids: compact, strict, stable across added documents and edits."""

from __future__ import annotations

from unittest.mock import create_autospec

import discord
import pytest
from discord.ext import commands

from bot.corpus import ParagraphRef, StaleReferenceError
from bot.views import BROWSE_EVENT, Browse, BrowseButton, Vote
from tests.conftest import library_of
from tests.discord_fakes import buttons, make_interaction


def test_the_largest_state_fits_a_custom_id():
    widest = ParagraphRef("ffffff", 36**4 - 1, "ffff")
    state = Browse(
        owner_id=2**64 - 1,
        matches=((widest, 36**2 - 1), (widest, 0), (widest, 3)),
        match=2,
        paragraph=widest,
    )
    assert Browse.decode(state.encode()) == state
    assert len(BrowseButton(">", state).custom_id) <= 100


def test_a_paragraph_state_round_trips(library):
    paragraph = library.paragraphs[2]
    state = Browse.for_paragraph(paragraph, owner_id=1)
    assert Browse.decode(state.encode()) == state
    assert state.current(library) is paragraph


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1:x:0:",
        "<:1",
        "1::0:",  # neither a match nor a paragraph
        "1:c2d669.6.2865.2:1:",  # match 1 of a single match
        "9" * 5000,
        "1:c2d669.6.2865.2:0:c2d669.6.2865.2",
        "ZZ:c2d669.6.2865.2:0:",
    ],
)
def test_anything_we_did_not_write_is_a_value_error(text):
    with pytest.raises(ValueError, match="not a browse state"):
        Browse.decode(text)


def test_an_answer_browses_its_matches_best_first(library):
    answer = library.ask("integration and reintegration, data collection")
    browse = Browse.for_answer(answer, owner_id=42)
    assert browse is not None
    assert [ref for ref, _ in browse.matches] == [h.paragraph.ref for h in answer.hits]
    assert [s for _, s in browse.matches] == [h.sentence_index for h in answer.hits]


def test_an_answer_that_is_not_one_has_no_buttons(library):
    assert Browse.for_answer(library.ask("best hockey team?"), owner_id=42) is None


def test_buttons_step_paragraphs_and_name_the_other_match(library):
    answer = library.ask("integration and reintegration, data collection")
    assert answer.hits[0].paragraph.number == 4 and len(answer.hits) >= 2
    view = Browse.for_answer(answer, owner_id=42).view(library)
    previous, other, following = buttons(view)
    assert (previous.label, following.label) == ("¶3", "¶5")
    assert other.label == f"Other match: {answer.hits[1].paragraph.label}"
    assert Browse.decode(following.custom_id.split(":", 2)[2]).current(library).number == 5


def test_buttons_disable_at_the_edges(library):
    first = Browse.for_paragraph(library.paragraphs[0], owner_id=1).view(library)
    last = Browse.for_paragraph(library.paragraphs[-1], owner_id=1).view(library)
    assert [b.disabled for b in buttons(first)] == [True, False]
    assert [b.disabled for b in buttons(last)] == [False, True]
    assert len({b.custom_id for b in buttons(first)}) == 2


def test_each_other_match_shows_the_match_its_label_names(library):
    answer = library.ask("integration and reintegration, data collection")
    state = Browse.for_answer(answer, owner_id=42)
    for expected in [*answer.hits[1:], answer.hits[0]]:
        other = next(b for b in buttons(state.view(library)) if b.label.startswith("Other"))
        assert other.label == f"Other match: {expected.paragraph.label}"
        state = Browse.decode(other.custom_id.split(":", 2)[2])
        embed = state.embed(library)
        assert embed.title.startswith(expected.paragraph.label)
        assert f"**{expected.sentence[:20]}" in embed.description


def test_a_document_added_in_front_does_not_change_what_a_button_shows(write_statement):
    folder = write_statement("Heading\n\nBeta one.\n\nBeta two about data.", name="b")
    before = library_of(folder)
    state = Browse.for_paragraph(before.documents[0].paragraphs[1], owner_id=1)
    write_statement("Heading\n\nAlpha one.\n\nAlpha two about data.", name="a")
    after = library_of(folder)
    assert [d.name for d in after.documents] == ["a", "b"]
    assert state.current(after).text == "Beta two about data."


def test_an_edited_paragraph_makes_its_old_buttons_stale(write_statement):
    folder = write_statement("Heading\n\nOne.\n\nTwo about data.\n\nThree.")
    before = library_of(folder)
    answer = before.ask("data")
    state = Browse.for_answer(answer, owner_id=1)
    assert state is not None and state.current(before).number == 2
    write_statement("Heading\n\nOne.\n\nTwo about data, edited.\n\nThree.")
    after = library_of(folder)
    with pytest.raises(StaleReferenceError):
        state.embed(after)
    # The paragraphs around it are unchanged, so buttons that name them still work.
    assert Browse.for_paragraph(before.paragraphs[0], owner_id=1).current(after).text == "One."


def test_a_removed_paragraph_or_document_is_stale(write_statement, tmp_path):
    folder = write_statement("Heading\n\nOne.\n\nTwo.", name="a")
    state = Browse.for_paragraph(library_of(folder).paragraphs[1], owner_id=1)
    write_statement("Heading\n\nOne.", name="a")
    with pytest.raises(StaleReferenceError):
        state.current(library_of(folder))
    write_statement("Heading\n\nTwo.", name="b")
    (tmp_path / "a.txt").unlink()
    with pytest.raises(StaleReferenceError):
        state.current(library_of(folder))


async def test_a_press_hands_its_state_to_the_cog_as_an_event(library):
    state = Browse.for_paragraph(library.paragraphs[0], owner_id=1)
    button = BrowseButton(">", state)
    match = BrowseButton.__discord_ui_compiled_template__.fullmatch(button.custom_id)
    rebuilt = await BrowseButton.from_custom_id(make_interaction(), button.item, match)
    interaction = make_interaction()
    interaction.client = create_autospec(commands.Bot, instance=True)
    await rebuilt.callback(interaction)
    interaction.client.dispatch.assert_called_once_with(BROWSE_EVENT, interaction, state.encode())


@pytest.mark.parametrize("custom_id", ["sb:>:1:x:0:", "sb:m:" + "9" * 97, "sb:<:"])
async def test_a_forged_id_of_the_right_shape_is_still_handed_over_not_raised(custom_id):
    match = BrowseButton.__discord_ui_compiled_template__.fullmatch(custom_id)
    assert match is not None
    button = await BrowseButton.from_custom_id(make_interaction(), None, match)
    assert button.state == custom_id.split(":", 2)[2]


# Feedback: the vote buttons and the paragraph picker.


def test_a_vote_round_trips_and_rejects_what_we_did_not_write():
    vote = Vote("Ab3_-xyz9QQ", "c2d669", 46655)
    assert Vote.decode(vote.encode()) == vote
    assert all(len(b.custom_id) <= 100 for b in vote.buttons())
    for forged in ("", "x.c2d669", "a" * 13 + ".c2d669.1", "abc.C2D669.1", "abc.c2d669.1.2"):
        with pytest.raises(ValueError, match="not a vote"):
            Vote.decode(forged)


def test_turning_pages_keeps_the_vote_buttons(library):
    answer = library.ask("integration and reintegration, data collection")
    vote = Vote("abc", library.documents[0].id, 4)
    view = Browse.for_answer(answer, owner_id=1).view(library, vote)
    message = create_autospec(discord.Message, instance=True)
    message.components = [discord.ActionRow(row) for row in view.to_components()]
    assert Vote.carried_by(message) == vote
    assert [str(b.emoji) for b in buttons(view)][-2:] == ["👍", "👎"]
    assert Vote.carried_by(None) is None


def test_the_picker_lists_the_documents_paragraphs_and_none(library):
    picker = Vote("abc", library.documents[0].id, 5).picker(library)
    (select,) = [item.item for item in picker.children]
    values = [option.value for option in select.options]
    assert values == ["1", "2", "3", "4", "5", "6", "none"]
    assert all(len(option.label) <= 100 for option in select.options)
    assert Vote("abc", "000000", 5).picker(library) is None


def test_a_long_document_offers_the_paragraphs_around_the_one_shown(write_statement):
    folder = write_statement("Heading\n\n" + "\n\n".join(f"Paragraph {n}." for n in range(1, 61)))
    library = library_of(folder)
    picker = Vote("abc", library.documents[0].id, 40).picker(library)
    values = [option.value for option in picker.children[0].item.options]
    assert len(values) == 25 and values[-1] == "none"
    assert values[0] == "28" and values[-2] == "51"
