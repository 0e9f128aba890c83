"""The Discord client, built by create_bot(settings, library), and the code that runs it."""

from __future__ import annotations

import asyncio
import logging
import signal

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.cog import StatementCog
from bot.config import ConfigError, Settings
from bot.errors import interaction_error_handler
from bot.library import Library
from bot.views import BrowseButton

log = logging.getLogger(__name__)


class StatementTree(app_commands.CommandTree):
    """The command tree; its errors take the bot's one error path."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await interaction_error_handler(interaction, error)


class StatementBot(commands.Bot):
    """Answers questions about the statements in its library. Needs no privileged intents."""

    def __init__(self, settings: Settings, library: Library) -> None:
        super().__init__(
            # No prefix commands: mentions and DMs are answered by the cog's listener.
            command_prefix=(),
            help_command=None,
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=StatementTree,
        )
        self.settings = settings
        self.statements = StatementCog(self, library)

    async def setup_hook(self) -> None:
        await self.add_cog(self.statements)
        self.add_dynamic_items(BrowseButton)
        if self.settings.guild_id is not None:
            # Guild commands update at once; global ones only on request (`python -m bot sync`).
            guild = discord.Object(self.settings.guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to guild %s", len(synced), self.settings.guild_id)

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: mentions and DMs are answered by the cog's listener."""

    async def on_ready(self) -> None:
        assert self.user is not None
        log.info("connected as %s (id %s) in %d servers", self.user, self.user.id, len(self.guilds))


def create_bot(settings: Settings, library: Library) -> StatementBot:
    return StatementBot(settings, library)


def prepare_discord(settings: Settings) -> None:
    """Point discord.py at the configured API and gateway, and quiet its voice warnings.

    discord.py reads these from class attributes, so this is process-wide: it is done where the
    bot is run, never where one is only built (the unit tests build many).
    """
    discord.http.Route.BASE = settings.api_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)
    # A text-only bot: warnings that voice needs PyNaCl and davey are noise.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False


MISSING_TOKEN = "DISCORD_TOKEN is not set; add it to .env (see .env.example)."
REJECTED_TOKEN = (
    "Discord rejected DISCORD_TOKEN; copy a fresh token from the Developer Portal "
    "(Bot > Reset Token) into .env."
)


async def _login(bot: StatementBot, token: str) -> None:
    try:
        await bot.login(token)
    except discord.LoginFailure:
        raise ConfigError(REJECTED_TOKEN) from None


def _token(settings: Settings) -> str:
    if settings.token is None:
        raise ConfigError(MISSING_TOKEN)
    return settings.token


async def run_bot(settings: Settings, library: Library) -> None:
    """Connect and serve until stopped; SIGHUP reloads the statements."""
    token = _token(settings)
    prepare_discord(settings)
    async with create_bot(settings, library) as bot:
        loop = asyncio.get_running_loop()
        reloads: set[asyncio.Task[str]] = set()

        def reload_on_signal() -> None:
            log.info("SIGHUP: reloading the statements")
            task = loop.create_task(bot.statements.reload_library())
            reloads.add(task)
            task.add_done_callback(reloads.discard)

        loop.add_signal_handler(signal.SIGHUP, reload_on_signal)
        await _login(bot, token)
        await bot.connect()


async def sync_globally(settings: Settings, library: Library) -> int:
    """Register the commands for every server (shown within an hour); return the count."""
    token = _token(settings)
    prepare_discord(settings)
    async with create_bot(settings, library) as bot:
        await _login(bot, token)
        return len(await bot.tree.sync())
