"""The command tree and cog callbacks, offline: real discord.py objects, spec'd mocks for I/O."""

from __future__ import annotations

import json
import logging
from unittest.mock import create_autospec

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.app import StatementTree, create_bot
from bot.cog import COOLDOWN_RATE, StatementCog, UserFacingError
from bot.config import Settings
from bot.views import Browse, BrowseButton
from tests.limits import assert_embed_within_limits


@pytest.fixture
async def bot(index):
    bot = create_bot(Settings(), index)
    await bot.add_cog(StatementCog(bot, index))
    yield bot
    await bot.close()


@pytest.fixture
def cog(bot) -> StatementCog:
    return bot.get_cog("Statement")


def make_interaction(user_id: int = 42) -> discord.Interaction:
    interaction = create_autospec(discord.Interaction, instance=True)
    interaction.user = create_autospec(discord.Member, instance=True)
    interaction.user.id = user_id
    interaction.response = create_autospec(discord.InteractionResponse, instance=True)
    interaction.response.is_done.return_value = False
    interaction.followup = create_autospec(discord.Webhook, instance=True)
    interaction.type = discord.InteractionType.application_command
    return interaction


def sent(interaction) -> dict:
    interaction.response.send_message.assert_awaited_once()
    return interaction.response.send_message.await_args.kwargs


# The command tree, as it will be synced.


def test_tree_has_the_expected_commands(bot):
    slash = {c.name for c in bot.tree.get_commands(type=discord.AppCommandType.chat_input)}
    menus = {c.name for c in bot.tree.get_commands(type=discord.AppCommandType.message)}
    assert slash == {"ask", "section", "paragraph", "about"}
    assert menus == {"Find in statement"}


def test_every_command_and_option_is_described(bot):
    for command in bot.tree.walk_commands():
        assert isinstance(command, app_commands.Command)
        assert command.description and command.description != "…"
        assert len(command.description) <= 100
        for parameter in command.parameters:
            assert parameter.description and parameter.description != "…", (
                command.name,
                parameter.name,
            )
            assert len(parameter.description) <= 100


def test_autocomplete_is_attached_where_expected(bot):
    options = {
        (command.name, p.name): p.autocomplete
        for command in bot.tree.walk_commands()
        for p in command.parameters
    }
    assert options == {
        ("ask", "question"): False,
        ("ask", "private"): False,
        ("section", "query"): True,
        ("paragraph", "number"): False,
        ("paragraph", "document"): True,
    }


def test_the_sync_payload_serialises(bot):
    payload = [command.to_dict(bot.tree) for command in bot.tree.get_commands()]
    text = json.dumps(payload)
    assert len(payload) == 5
    ask = next(c for c in payload if c["name"] == "ask")
    assert [o["name"] for o in ask["options"]] == ["question", "private"]
    assert ask["options"][0]["required"] is True and ask["options"][1]["required"] is False
    assert "Find in statement" in text


def test_bot_pings_nobody_and_needs_no_privileged_intent(bot):
    mentions = bot.allowed_mentions
    assert (mentions.everyone, mentions.users, mentions.roles, mentions.replied_user) == (
        False,
        False,
        False,
        False,
    )
    assert not bot.intents.message_content and not bot.intents.members and not bot.intents.presences
    assert isinstance(bot.tree, StatementTree)


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
    [("5", "¶5"), ("¶2", "¶2"), ("the section on the GFMD", "¶5"), ("0:6", "¶6"), ("donors", "¶4")],
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
    assert choices[0].value == "0:5"
    everything = await cog.section_autocomplete(make_interaction(), "")
    assert len(everything) == 7 and everything[0].name.startswith("§ PANEL 4")
    iom = await cog.section_autocomplete(make_interaction(), "io")
    assert [c.value for c in iom] == ["0:6"]


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


async def test_cooldown_after_the_rate(cog):
    for _ in range(COOLDOWN_RATE):
        assert await cog.interaction_check(make_interaction(7))
    with pytest.raises(app_commands.CommandOnCooldown):
        await cog.interaction_check(make_interaction(7))
    assert await cog.interaction_check(make_interaction(8))


# The single error handler.


async def test_error_handler_shows_user_facing_errors_ephemerally(bot):
    interaction = make_interaction()
    await bot.tree.on_error(interaction, UserFacingError("Nope, try ¶1-¶6."))
    kwargs = sent(interaction)
    assert kwargs["ephemeral"] is True and kwargs["embed"].description == "Nope, try ¶1-¶6."


async def test_error_handler_logs_unexpected_errors_and_answers_generically(bot, caplog):
    interaction = make_interaction()
    interaction.response.is_done.return_value = True
    interaction.command = None
    with caplog.at_level(logging.ERROR):
        await bot.tree.on_error(interaction, app_commands.AppCommandError("boom"))
    interaction.followup.send.assert_awaited_once()
    assert interaction.followup.send.await_args.kwargs["embed"].description == render.FAILURE
    assert any(record.exc_info for record in caplog.records)


async def test_cooldown_message(bot):
    interaction = make_interaction()
    await bot.tree.on_error(
        interaction, app_commands.CommandOnCooldown(app_commands.Cooldown(1, 20), 12.4)
    )
    assert "try again in 12 s" in sent(interaction)["embed"].description


# Buttons: their state travels in the custom id.


def buttons(view: discord.ui.View) -> list[discord.ui.Button]:
    return [dynamic.item for dynamic in view.children]


async def click(bot, button: BrowseButton, user_id: int = 42, footer: str = "Searched for: x"):
    """Receive a click the way discord.py does: rebuild the button from its custom id alone."""
    match = BrowseButton.__discord_ui_compiled_template__.fullmatch(button.custom_id)
    rebuilt = await BrowseButton.from_custom_id(make_interaction(user_id), button, match)
    interaction = make_interaction(user_id)
    interaction.client = bot
    interaction.message = create_autospec(discord.Message, instance=True)
    interaction.message.embeds = [discord.Embed().set_footer(text=footer)]
    if await rebuilt.interaction_check(interaction):
        await rebuilt.callback(interaction)
    return interaction


def test_browse_state_round_trips_within_100_characters():
    state = Browse(
        owner_id=2**63 - 1,
        matches=((12, 9999, 14), (3, 1, 0), (0, 40, 2)),
        match=2,
        paragraph=(12, 9998),
    )
    assert Browse.decode(state.encode()) == state
    assert len("sb:m:" + state.encode()) <= 100
    assert Browse.decode(Browse(owner_id=1, paragraph=(0, 3)).encode()) == Browse(
        owner_id=1, paragraph=(0, 3)
    )
    with pytest.raises(ValueError, match="not a browse state"):
        Browse.decode("1:x:0:")


async def test_buttons_step_paragraphs_and_cycle_matches(bot, index):
    answer = index.search("integration and reintegration, data collection")
    assert answer.hits[0].paragraph.number == 4 and len(answer.hits) >= 2
    view = Browse.for_answer(answer, index.corpus, owner_id=42).view(index.corpus)
    previous, other, following = buttons(view)
    assert (previous.label, following.label) == ("¶3", "¶5")
    interaction = await click(bot, following)
    kwargs = interaction.response.edit_message.await_args.kwargs
    assert kwargs["embed"].title.startswith("¶5")
    assert kwargs["embed"].footer.text == "Searched for: x"
    # Each "Other match" shows the match its label names, round to the best one again.
    view = kwargs["view"]
    for expected in [*answer.hits[1:], answer.hits[0]]:
        other = next(b for b in buttons(view) if b.label.startswith("Other match"))
        assert other.label == f"Other match: {expected.paragraph.reference}"
        interaction = await click(bot, other)
        kwargs = interaction.response.edit_message.await_args.kwargs
        assert kwargs["embed"].title.startswith(expected.paragraph.reference)
        assert f"**{expected.sentence[:20]}" in kwargs["embed"].description
        view = kwargs["view"]


async def test_buttons_disable_at_the_edges(index):
    corpus = index.corpus
    first = Browse.for_paragraph(corpus.paragraphs[0], corpus, owner_id=1).view(corpus)
    last = Browse.for_paragraph(corpus.paragraphs[-1], corpus, owner_id=1).view(corpus)
    assert [b.disabled for b in buttons(first)] == [True, False]
    assert [b.disabled for b in buttons(last)] == [False, True]
    assert len({b.custom_id for b in buttons(first)}) == 2


async def test_only_the_asker_turns_the_pages(bot, index):
    view = Browse.for_paragraph(index.corpus.paragraphs[0], index.corpus, owner_id=1).view(
        index.corpus
    )
    interaction = await click(bot, buttons(view)[1], user_id=2)
    assert sent(interaction)["ephemeral"] is True
    interaction.response.edit_message.assert_not_awaited()


async def test_a_button_from_older_data_says_so(bot):
    stale = BrowseButton(">", Browse(owner_id=42, paragraph=(0, 60)))
    interaction = await click(bot, stale.item)
    assert sent(interaction)["ephemeral"] is True
    assert "older version" in interaction.response.send_message.await_args.args[0]


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
    message.mentions = [me] if mention else []
    message.content = content
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
    interaction = make_interaction()
    await cog.paragraph.callback(cog, interaction, number=1, document="canada-gcm-panel-4-summary")
    assert sent(interaction)["embed"].title.startswith("¶1")


async def test_a_reply_discord_refuses_is_logged_in_one_line(cog, caplog):
    message = make_message(cog, "<@99> gfmd")
    message.channel = create_autospec(discord.TextChannel, instance=True)
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
