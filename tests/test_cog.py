"""The cog's callbacks offline: real discord.py objects, spec'd mocks for what goes on the wire."""

from __future__ import annotations

import gc
import logging
import weakref
from dataclasses import replace
from unittest.mock import create_autospec

import aiohttp
import discord
import pytest
from discord.ext import commands

from bot import render
from bot.app import create_bot
from bot.cog import StatementCog
from bot.config import Settings
from bot.cooldown import DEFAULT_RATE
from bot.errors import UserFacingError
from bot.views import Browse, BrowseButton
from tests.conftest import library_of
from tests.discord_fakes import buttons, make_interaction, sent
from tests.limits import assert_embed_within_limits


@pytest.fixture
def cog(bot) -> StatementCog:
    return bot.statements


# Callbacks.


async def test_ask_replies_with_the_paragraph_and_buttons(cog):
    interaction = make_interaction()
    await cog.ask.callback(cog, interaction, question="What does Canada think of the GFMD?")
    kwargs = sent(interaction)
    assert kwargs["embed"].title.startswith("¶5")
    assert kwargs["ephemeral"] is False
    assert [b.label for b in buttons(kwargs["view"])] == ["¶4", "¶6"]
    assert_embed_within_limits(kwargs["embed"])


async def test_ask_private_is_ephemeral(cog):
    interaction = make_interaction()
    await cog.ask.callback(
        cog, interaction, question="who should lead on migration data?", private=True
    )
    assert sent(interaction)["ephemeral"] is True


async def test_ask_not_addressed_has_no_buttons(cog):
    interaction = make_interaction()
    await cog.ask.callback(cog, interaction, question="best hockey team?")
    kwargs = sent(interaction)
    assert kwargs["embed"].title == "Not addressed in the statement"
    assert kwargs["view"] is discord.utils.MISSING


async def test_ask_too_long_is_a_user_facing_error(cog):
    with pytest.raises(UserFacingError, match="up to 300 characters"):
        await cog.ask.callback(cog, make_interaction(), question="x" * 301)


async def test_paragraph_in_and_out_of_range(cog):
    interaction = make_interaction()
    await cog.paragraph.callback(cog, interaction, number=3)
    assert sent(interaction)["embed"].title.startswith("¶3")
    with pytest.raises(UserFacingError, match="there is no ¶7"):
        await cog.paragraph.callback(cog, make_interaction(), number=7)
    with pytest.raises(UserFacingError, match="there is no ¶0"):
        await cog.paragraph.callback(cog, make_interaction(), number=0)


@pytest.mark.parametrize(
    ("query", "title"),
    [("5", "¶5"), ("¶2", "¶2"), ("the section on the GFMD", "¶5"), ("donors", "¶4")],
)
async def test_section_resolves_numbers_words_and_keys(cog, query, title):
    interaction = make_interaction()
    await cog.section.callback(cog, interaction, query=query)
    assert sent(interaction)["embed"].title.startswith(title)


async def test_section_heading_and_contents(cog):
    interaction = make_interaction()
    await cog.section.callback(cog, interaction, query="summary panel")
    embed = sent(interaction)["embed"]
    assert embed.title == "PANEL 4: Summary Panel"
    assert all(f"¶{n}" in embed.description for n in range(1, 7))
    interaction = make_interaction()
    await cog.section.callback(cog, interaction, query=None)
    assert sent(interaction)["embed"].title == "Contents"


async def test_section_with_nothing_matching(cog):
    with pytest.raises(UserFacingError, match="No section or paragraph matches"):
        await cog.section.callback(cog, make_interaction(), query="hockey playoffs")


async def test_section_autocomplete(cog):
    choices = await cog.section_autocomplete(make_interaction(), "¶5")
    assert [c.name for c in choices] == [
        "¶5 — There has been some discussion regarding the GFMD over the past two days. "
        "Canada appreciates…"
    ]
    fifth = cog.library.documents[0].paragraphs[4]
    assert choices[0].value == fifth.ref.encode()
    everything = await cog.section_autocomplete(make_interaction(), "")
    assert len(everything) == 7 and everything[0].name.startswith("§ PANEL 4")
    iom = await cog.section_autocomplete(make_interaction(), "io")
    assert [c.value for c in iom] == [cog.library.documents[0].paragraphs[5].ref.encode()]
    # The value a choice carries shows that paragraph.
    interaction = make_interaction()
    await cog.section.callback(cog, interaction, query=iom[0].value)
    assert sent(interaction)["embed"].title.startswith("¶6")


async def test_about_is_ephemeral(cog):
    interaction = make_interaction()
    await cog.about.callback(cog, interaction)
    kwargs = sent(interaction)
    assert kwargs["ephemeral"] is True and "6 paragraphs" in kwargs["embed"].description


async def test_find_in_statement_uses_the_message_text(cog):
    interaction = make_interaction()
    message = create_autospec(discord.Message, instance=True)
    message.content = "I wonder about the GMG and IOM"
    await cog.find_in_statement(interaction, message)
    assert sent(interaction)["embed"].title.startswith("¶6")


async def test_a_section_value_for_an_edited_paragraph_says_it_is_older(cog):
    stale = replace(cog.library.documents[0].paragraphs[2].ref, text_hash="0000")
    with pytest.raises(UserFacingError, match="older version"):
        await cog.section.callback(cog, make_interaction(), query=stale.encode())


async def test_cooldown_after_the_rate(cog):
    for _ in range(DEFAULT_RATE):
        assert await cog.interaction_check(make_interaction(7))
    # Every interaction over the rate is told, privately: an unanswered one would show an error.
    for _ in range(3):
        with pytest.raises(UserFacingError, match="try again in"):
            await cog.interaction_check(make_interaction(7))
    assert await cog.interaction_check(make_interaction(8))


async def test_while_stopping_new_questions_get_a_notice_and_earlier_ones_an_answer(cog):
    earlier = make_interaction()
    cog.stop_taking_work()
    later = make_interaction()
    assert await cog.interaction_check(earlier)
    with pytest.raises(UserFacingError, match="restarting"):
        await cog.interaction_check(later)


# Mentions and direct messages.


def make_message(
    cog, content: str, *, direct: bool = False, mention: bool = True
) -> discord.Message:
    me = create_autospec(discord.ClientUser, instance=True)
    me.id = 99
    cog.bot = create_autospec(commands.Bot, instance=True)
    cog.bot.user = me
    message = create_autospec(discord.Message, instance=True)
    message.author = create_autospec(discord.Member, instance=True)
    message.author.bot = False
    message.author.id = 5
    message.guild = None if direct else create_autospec(discord.Guild, instance=True)
    message.channel = create_autospec(discord.TextChannel, instance=True)
    message.channel.permissions_for.return_value = discord.Permissions.text()
    message.mentions = [me] if mention else []
    message.content = content
    message.created_at = discord.utils.utcnow()
    return message


async def test_a_mention_is_answered_as_a_reply(cog):
    message = make_message(cog, "<@99> who should lead on migration data?")
    await cog.on_message(message)
    message.reply.assert_awaited_once()
    assert message.reply.await_args.kwargs["embed"].title.startswith("¶6")


async def test_a_direct_message_is_answered_without_a_mention(cog):
    message = make_message(cog, "what about the GFMD", direct=True, mention=False)
    await cog.on_message(message)
    assert message.reply.await_args.kwargs["embed"].title.startswith("¶5")


async def test_other_messages_are_ignored(cog):
    message = make_message(cog, "chatting about the GFMD", mention=False)
    await cog.on_message(message)
    message.reply.assert_not_awaited()


async def test_a_too_long_mention_gets_the_limit_message(cog):
    message = make_message(cog, "<@99> " + "why " * 100)
    await cog.on_message(message)
    assert "up to 300 characters" in message.reply.await_args.kwargs["embed"].description


async def test_paragraph_of_an_unknown_document(cog):
    with pytest.raises(UserFacingError, match="There is no statement “nope”"):
        await cog.paragraph.callback(cog, make_interaction(), number=1, document="nope")
    for key in ("canada-gcm-panel-4-summary", cog.library.documents[0].id):
        interaction = make_interaction()
        await cog.paragraph.callback(cog, interaction, number=1, document=key)
        assert sent(interaction)["embed"].title.startswith("¶1")


async def test_document_autocomplete_offers_ids(cog):
    choices = await cog.document_autocomplete(make_interaction(), "canada")
    assert [c.value for c in choices] == [cog.library.documents[0].id]
    assert choices[0].name.startswith("Canada's statement")


async def test_a_reply_discord_refuses_is_logged_in_one_line(cog, caplog):
    message = make_message(cog, "<@99> gfmd")
    response = create_autospec(aiohttp.ClientResponse, instance=True)
    response.status, response.reason = 403, "Forbidden"
    message.reply.side_effect = discord.Forbidden(
        response, {"code": 50013, "message": "Missing Permissions"}
    )
    with caplog.at_level(logging.WARNING):
        await cog.on_message(message)
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "Missing Permissions" in caplog.records[0].getMessage()
    assert not caplog.records[0].exc_info


async def test_a_flood_of_mentions_gets_one_notice_then_silence(cog):
    messages = []
    for _ in range(DEFAULT_RATE + 4):
        messages.append(make_message(cog, "<@99> gfmd"))
        await cog.on_message(messages[-1])
    assert [m.reply.await_count for m in messages] == [1] * (DEFAULT_RATE + 1) + [0, 0, 0]
    answers = [m.reply.await_args.kwargs["embed"] for m in messages[: DEFAULT_RATE + 1]]
    assert all(e.title.startswith("¶5") for e in answers[:DEFAULT_RATE])
    assert "try again in" in answers[-1].description


# Buttons: the cog shows what a pressed button's custom id says.


async def press(cog, button: discord.ui.Button, user_id: int = 42, footer: str = "Searched for: x"):
    """Hand a press to the cog the way the button does: only its custom id travels."""
    interaction = make_interaction(user_id)
    interaction.type = discord.InteractionType.component
    interaction.command = None
    interaction.message = create_autospec(discord.Message, instance=True)
    interaction.message.embeds = [discord.Embed().set_footer(text=footer)]
    await cog.on_browse(interaction, button.custom_id.split(":", 2)[2])
    return interaction


async def test_a_press_shows_the_next_paragraph_and_keeps_the_footer(cog):
    interaction = make_interaction()
    await cog.ask.callback(cog, interaction, question="integration and reintegration")
    following = buttons(sent(interaction)["view"])[-1]
    pressed = await press(cog, following)
    kwargs = pressed.response.edit_message.await_args.kwargs
    assert kwargs["embed"].title.startswith("¶5")
    assert kwargs["embed"].footer.text == "Searched for: x"
    shown = buttons(kwargs["view"])
    assert (shown[0].label, shown[-1].label) == ("¶4", "¶6")


async def test_only_the_asker_turns_the_pages(cog):
    interaction = make_interaction(user_id=1)
    await cog.paragraph.callback(cog, interaction, number=1)
    pressed = await press(cog, buttons(sent(interaction)["view"])[1], user_id=2)
    assert sent(pressed)["ephemeral"] is True
    assert sent(pressed)["embed"].description == render.BUTTON_OWNER_ONLY
    pressed.response.edit_message.assert_not_awaited()


async def test_a_button_for_an_edited_paragraph_says_it_is_older(cog):
    paragraph = cog.library.paragraphs[2]
    state = Browse(owner_id=42, paragraph=replace(paragraph.ref, text_hash="0000"))
    pressed = await press(cog, BrowseButton(">", state).item)
    assert sent(pressed)["ephemeral"] is True
    assert "older version" in sent(pressed)["embed"].description
    pressed.response.edit_message.assert_not_awaited()


async def test_a_forged_button_gets_a_clear_answer_and_one_debug_line(cog, caplog):
    with caplog.at_level(logging.DEBUG, logger="bot"):
        pressed = await press(cog, BrowseButton("<", "1:" + "9" * 90).item)
    assert sent(pressed)["ephemeral"] is True
    assert sent(pressed)["embed"].description == render.INVALID_BUTTON
    assert [(r.levelname, r.exc_info) for r in caplog.records] == [("DEBUG", None)]


# Reloading the library.


async def test_reload_swaps_in_new_data_and_bad_data_keeps_the_old(write_statement, caplog):
    folder = write_statement("Heading\n\nThe old text about data.")
    bot = create_bot(Settings(), library_of(folder))
    cog = bot.statements
    write_statement("Heading\n\nThe new text about data.")
    assert (await cog.reload_library()).startswith("Reloaded: 1 document(s), 1 paragraphs")
    assert cog.library.paragraphs[0].text == "The new text about data."
    write_statement(b"\xff not text")
    with caplog.at_level(logging.ERROR):
        message = await cog.reload_library()
    assert message.startswith("Reload failed, still serving the previous data: ")
    assert "not UTF-8" in message and "\n" not in message
    assert cog.library.paragraphs[0].text == "The new text about data."
    # Ours only: discord.py warns once per process, at the first client, about voice support.
    ours = [r for r in caplog.records if r.name.startswith("bot")]
    assert [r.levelname for r in ours] == ["ERROR"]
    assert not ours[0].exc_info
    await bot.close()


async def test_a_reload_lets_go_of_the_frozen_library_it_replaces(write_statement):
    folder = write_statement("Heading\n\nThe old text about data.")
    gc.disable()
    try:
        old = library_of(folder)
        old.ask("data")
        gc.freeze()
        bot = create_bot(Settings(), old)
        replaced = weakref.ref(old.index)
        del old
        assert replaced() is not None
        await bot.statements.reload_library()
        assert replaced() is None
    finally:
        gc.unfreeze()
        gc.enable()
    await bot.close()


async def test_reload_is_for_the_owner_only(cog, monkeypatch):
    is_owner = create_autospec(cog.bot.is_owner, return_value=False)
    monkeypatch.setattr(cog.bot, "is_owner", is_owner)
    interaction = make_interaction()
    with pytest.raises(UserFacingError, match="Only the bot's owner"):
        await cog.reload.callback(cog, interaction)
    interaction.response.defer.assert_not_awaited()
    is_owner.return_value = True
    await cog.reload.callback(cog, interaction)
    interaction.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    assert interaction.followup.send.await_args.args[0].startswith("Reloaded: 1 document(s)")
