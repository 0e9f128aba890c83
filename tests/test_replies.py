"""What the bot sends: an embed where it may, the same words as text where it may not."""

from __future__ import annotations

import datetime
import logging
from unittest.mock import create_autospec

import aiohttp
import discord
import pytest

from bot import replies
from tests.discord_fakes import make_interaction, sent


def http_error(status: int, code: int, retry_after: float | None = None) -> discord.HTTPException:
    response = create_autospec(aiohttp.ClientResponse, instance=True)
    response.status, response.reason = status, "error"
    response.headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return discord.HTTPException(response, {"code": code, "message": "refused"})


@pytest.fixture
def answer(library):
    return replies.answer_reply(library.ask("who should lead on migration data?"), library, 42)


def test_a_reply_says_the_same_in_both_forms(answer, library):
    assert answer.embed.title.startswith("¶6")
    assert answer.text.startswith("¶6 · PANEL 4: Summary Panel")
    assert library.paragraphs[5].text[:60] in answer.text
    assert answer.view is not None


def test_the_text_form_is_escaped_and_within_the_message_limit():
    reply = replies.error_reply("**bold** @everyone " + "x" * 3000)
    assert reply.content.startswith("\\*\\*bold\\*\\* @\u200beveryone")
    assert len(reply.content) <= replies.MESSAGE_CHARS


async def test_with_embed_links_the_answer_is_an_embed(answer):
    interaction = make_interaction()
    await replies.respond(interaction, answer)
    assert sent(interaction)["embed"] is answer.embed


async def test_without_embed_links_the_answer_is_text_with_its_buttons(answer):
    interaction = make_interaction()
    interaction.app_permissions = discord.Permissions.text()
    interaction.app_permissions.embed_links = False
    await replies.respond(interaction, answer, ephemeral=True)
    call = interaction.response.send_message.await_args
    assert call.args == (answer.content,)
    assert call.kwargs["view"] is answer.view and call.kwargs["ephemeral"] is True
    assert "embed" not in call.kwargs


async def test_a_refused_embed_is_sent_again_as_text(answer, caplog):
    interaction = make_interaction()
    interaction.response.send_message.side_effect = [http_error(400, 50035), None]
    with caplog.at_level(logging.WARNING):
        await replies.respond(interaction, answer)
    first, second = interaction.response.send_message.await_args_list
    assert first.kwargs["embed"] is answer.embed
    assert second.args == (answer.content,)
    assert len(caplog.records) == 1


async def test_another_bad_request_is_not_hidden(answer):
    interaction = make_interaction()
    interaction.response.send_message.side_effect = http_error(400, 50006)
    with pytest.raises(discord.HTTPException):
        await replies.respond(interaction, answer)


async def test_a_rate_limited_answer_is_tried_again_within_the_deadline(answer):
    interaction = make_interaction()
    interaction.response.send_message.side_effect = [http_error(429, 0, retry_after=0.05), None]
    await replies.respond(interaction, answer)
    assert interaction.response.send_message.await_count == 2


async def test_a_rate_limit_past_the_deadline_gives_up_in_one_line(answer, caplog):
    interaction = make_interaction()
    interaction.created_at = discord.utils.utcnow() - datetime.timedelta(seconds=2.9)
    interaction.response.send_message.side_effect = http_error(429, 0, retry_after=1.0)
    with caplog.at_level(logging.WARNING), pytest.raises(discord.HTTPException):
        await replies.respond(interaction, answer)
    assert interaction.response.send_message.await_count == 1
    assert [r.getMessage() for r in caplog.records] == [
        "an answer was rate-limited past Discord's 3-second deadline; dropped"
    ]


async def test_a_button_edit_keeps_the_footer_or_the_text_form(answer):
    interaction = make_interaction()
    interaction.message = create_autospec(discord.Message, instance=True)
    interaction.message.embeds = [discord.Embed().set_footer(text="Searched for: x")]
    await replies.edit(interaction, answer)
    kwargs = interaction.response.edit_message.await_args.kwargs
    assert kwargs["embed"].footer.text == "Searched for: x" and kwargs["view"] is answer.view

    interaction = make_interaction()
    interaction.message = create_autospec(discord.Message, instance=True)
    interaction.message.embeds = []
    await replies.edit(interaction, answer)
    kwargs = interaction.response.edit_message.await_args.kwargs
    assert kwargs["content"] == answer.content and kwargs["embed"] is None


async def test_a_mention_in_a_channel_without_embed_links_gets_text(answer):
    message = create_autospec(discord.Message, instance=True)
    message.guild = create_autospec(discord.Guild, instance=True)
    message.channel = create_autospec(discord.TextChannel, instance=True)
    message.channel.permissions_for.return_value = discord.Permissions(send_messages=True)
    await replies.reply_to(message, answer)
    assert message.reply.await_args.args == (answer.content,)
