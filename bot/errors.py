"""The one error path: what a user is told about any failure, and how it reaches them.

Slash commands and the context menu reach it as the command tree's on_error; buttons and
mentions call it themselves. Expected errors are shown ephemerally as they are; anything else is
logged with its traceback and shown as one generic line.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot import embeds, render, replies

log = logging.getLogger(__name__)


class UserFacingError(app_commands.AppCommandError):
    """An error whose message is meant for the user, shown ephemerally."""


def user_message(error: Exception, where: str = "a component") -> str:
    """What to tell the user about an error; unexpected errors are logged with their traceback."""
    if isinstance(error, UserFacingError):
        return str(error)
    if isinstance(error, app_commands.TransformerError):
        value = embeds.escape(render.shorten(str(error.value), 100))
        return f"“{value}” is not a valid value here."
    log.error("%s failed", where, exc_info=error)
    return render.FAILURE


async def interaction_error_handler(interaction: discord.Interaction, error: Exception) -> None:
    """Tell the user what went wrong, ephemerally, whether or not the interaction was answered."""
    if interaction.type is discord.InteractionType.autocomplete:
        # Autocomplete cannot show a message; an empty list is what the user sees.
        log.error("autocomplete failed", exc_info=error)
        return
    where = interaction.command.qualified_name if interaction.command else "a component"
    reply = replies.error_reply(user_message(error, where))
    try:
        if interaction.response.is_done():
            await interaction.followup.send(embed=reply.embed, ephemeral=True)
        else:
            await replies.respond(interaction, reply, ephemeral=True)
    except discord.HTTPException as exc:
        log.warning("could not tell the user about an error: %s %s", exc.status, exc.text)
