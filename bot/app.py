"""The Discord client, built by create_bot(settings, index), with one error handler."""

from __future__ import annotations

import logging

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot import embeds, render
from bot.cog import StatementCog, UserFacingError
from bot.config import ConfigError, Settings
from bot.search import SearchIndex
from bot.views import BrowseButton

log = logging.getLogger(__name__)


class StatementTree(app_commands.CommandTree):
    """The command tree, with the bot's single error handler."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        if interaction.type is discord.InteractionType.autocomplete:
            log.error("autocomplete failed", exc_info=error)
            return
        if isinstance(error, app_commands.CommandOnCooldown):
            message = render.COOLDOWN.format(seconds=max(error.retry_after, 1))
        elif isinstance(error, UserFacingError):
            message = str(error)
        elif isinstance(error, app_commands.TransformerError):
            value = embeds.escape(render.shorten(str(error.value), 100))
            message = f"“{value}” is not a valid value here."
        else:
            command = interaction.command.qualified_name if interaction.command else "a component"
            log.error("%s failed", command, exc_info=error)
            message = render.FAILURE
        try:
            if interaction.response.is_done():
                await interaction.followup.send(embed=embeds.error_embed(message), ephemeral=True)
            else:
                await interaction.response.send_message(
                    embed=embeds.error_embed(message), ephemeral=True
                )
        except discord.HTTPException:
            log.exception("could not tell the user about an error")


class StatementBot(commands.Bot):
    """Answers questions about the statements in its index. Needs no privileged intents."""

    def __init__(self, settings: Settings, index: SearchIndex) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=StatementTree,
        )
        self.settings = settings
        self.index = index

    async def setup_hook(self) -> None:
        await self.add_cog(StatementCog(self, self.index))
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


def use_endpoints(settings: Settings) -> None:
    """Point discord.py at the configured API and gateway (Discord's own unless overridden).

    discord.py reads both from class attributes, so this is process-wide by necessity.
    """
    discord.http.Route.BASE = settings.api_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def create_bot(settings: Settings, index: SearchIndex) -> StatementBot:
    use_endpoints(settings)
    # A text-only bot: warnings that voice needs PyNaCl and davey are noise.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
    return StatementBot(settings, index)


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


async def run_bot(settings: Settings, index: SearchIndex) -> None:
    """Connect and serve until stopped."""
    token = _token(settings)
    async with create_bot(settings, index) as bot:
        await _login(bot, token)
        await bot.connect()


async def sync_globally(settings: Settings, index: SearchIndex) -> int:
    """Register the commands for every server (shown within an hour); return the count."""
    token = _token(settings)
    async with create_bot(settings, index) as bot:
        await _login(bot, token)
        return len(await bot.tree.sync())
