"""The one error path, as commands, buttons, the context menu and mentions reach it."""

from __future__ import annotations

import logging
from unittest.mock import create_autospec

import aiohttp
import discord
from discord import app_commands

from bot import render
from bot.errors import UserFacingError, interaction_error_handler, user_message
from tests.discord_fakes import make_interaction, sent


async def test_user_facing_errors_are_shown_ephemerally():
    interaction = make_interaction()
    await interaction_error_handler(interaction, UserFacingError("Nope, try ¶1-¶6."))
    kwargs = sent(interaction)
    assert kwargs["ephemeral"] is True and kwargs["embed"].description == "Nope, try ¶1-¶6."


async def test_unexpected_errors_are_logged_and_answered_generically(caplog):
    interaction = make_interaction()
    interaction.response.is_done.return_value = True
    with caplog.at_level(logging.ERROR):
        await interaction_error_handler(interaction, app_commands.AppCommandError("boom"))
    interaction.followup.send.assert_awaited_once()
    assert interaction.followup.send.await_args.kwargs["embed"].description == render.FAILURE
    assert interaction.followup.send.await_args.kwargs["ephemeral"] is True
    assert [r.getMessage() for r in caplog.records] == ["a component failed"]
    assert caplog.records[0].exc_info


def test_a_bad_option_value_is_echoed_escaped_and_cut():
    error = app_commands.TransformerError(
        "**@everyone** " * 30,
        discord.AppCommandOptionType.integer,
        app_commands.transformers.IdentityTransformer(discord.AppCommandOptionType.integer),
    )
    message = user_message(error)
    assert message.startswith("“\\*\\*@\u200beveryone\\*\\*")
    assert "…" in message and message.endswith("” is not a valid value here.")


async def test_autocomplete_errors_are_only_logged(caplog):
    interaction = make_interaction()
    interaction.type = discord.InteractionType.autocomplete
    with caplog.at_level(logging.ERROR):
        await interaction_error_handler(interaction, RuntimeError("boom"))
    interaction.response.send_message.assert_not_awaited()
    assert [r.getMessage() for r in caplog.records] == ["autocomplete failed"]


async def test_a_refused_error_message_is_one_warning_line(caplog):
    interaction = make_interaction()
    response = create_autospec(aiohttp.ClientResponse, instance=True)
    response.status, response.reason = 404, "Not Found"
    interaction.response.send_message.side_effect = discord.NotFound(
        response, {"code": 10062, "message": "Unknown interaction"}
    )
    with caplog.at_level(logging.WARNING):
        await interaction_error_handler(interaction, UserFacingError("x"))
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "Unknown interaction" in caplog.records[0].getMessage()
    assert not caplog.records[0].exc_info
