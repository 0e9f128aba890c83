"""Spec'd stand-ins for the discord.py objects a callback receives, for offline unit tests."""

from __future__ import annotations

from unittest.mock import create_autospec

import discord


def make_interaction(user_id: int = 42) -> discord.Interaction:
    interaction = create_autospec(discord.Interaction, instance=True)
    interaction.user = create_autospec(discord.Member, instance=True)
    interaction.user.id = user_id
    interaction.response = create_autospec(discord.InteractionResponse, instance=True)
    interaction.response.is_done.return_value = False
    interaction.followup = create_autospec(discord.Webhook, instance=True)
    interaction.type = discord.InteractionType.application_command
    interaction.command = None
    interaction.created_at = discord.utils.utcnow()
    interaction.app_permissions = discord.Permissions.text()
    return interaction


def sent(interaction) -> dict:
    """The keyword arguments of the one response the interaction got."""
    interaction.response.send_message.assert_awaited_once()
    return interaction.response.send_message.await_args.kwargs


def buttons(view: discord.ui.View) -> list[discord.ui.Button]:
    return [dynamic.item for dynamic in view.children]
