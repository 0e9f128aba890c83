"""discord.py's own DEBUG logs, through bot.redact, against the test server.

A handler without the filter sees what discord.py really logs (tokens included), so the test
shows both that the secrets are there to leak and that the redacting handler does not print them.
"""

from __future__ import annotations

import asyncio
import io
import logging

import discord
import pytest
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from bot.redact import REDACTED, install

from .fake_discord import FakeDiscord

pytestmark = pytest.mark.asyncio(loop_scope="module")


class FollowUpClient(discord.Client):
    """Answers /twice with a reply and a follow-up: a callback URL and a webhook URL."""

    def __init__(self, guild_id: int) -> None:
        super().__init__(intents=discord.Intents.default())
        self.tree = app_commands.CommandTree(self)
        self.guild = discord.Object(guild_id)

        @self.tree.command(name="twice", description="Answer twice", guild=self.guild)
        async def twice(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("first")
            await interaction.followup.send("second")

    async def setup_hook(self) -> None:
        await self.tree.sync(guild=self.guild)


async def test_discord_py_debug_logs_carry_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    server = FakeDiscord()
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.api_url)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url))
    raw, redacted = io.StringIO(), io.StringIO()
    raw_handler, redacted_handler = logging.StreamHandler(raw), logging.StreamHandler(redacted)
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    # The unfiltered handler comes first, so it sees each record before the filter rewrites it.
    root.handlers = [raw_handler, redacted_handler]
    root.setLevel(logging.DEBUG)
    client = FollowUpClient(server.guild_id)
    try:
        redacting = install([server.token])
        raw_handler.removeFilter(redacting)
        task = asyncio.create_task(client.start(server.token))
        await server.wait_until_ready()
        await server.wait_for_request(lambda r: r.route == "guild_commands" and r.ok)
        interaction = await server.send_slash("twice")
        await server.wait_for_request(
            lambda r: r.route == "followup" and r.params.get("token") == interaction.token
        )
        await client.close()
        await asyncio.wait_for(task, 10)
    finally:
        root.handlers, root.level = saved_handlers, saved_level
        await server.stop()

    raw_text, redacted_text = raw.getvalue(), redacted.getvalue()
    assert interaction.token in raw_text, "discord.py logs the interaction token at DEBUG"
    assert interaction.token not in redacted_text
    assert server.token not in redacted_text
    assert f"/interactions/{interaction.id}/{REDACTED}/callback" in redacted_text
    assert f"/webhooks/{server.application_id}/{REDACTED}" in redacted_text
    assert f"'token': '{REDACTED}'" in redacted_text, "the INTERACTION_CREATE event"
    assert len(redacted_text.splitlines()) == len(raw_text.splitlines())
