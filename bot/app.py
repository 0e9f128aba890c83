"""The Discord client, built by create_bot(settings, library); bot/runner.py runs it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cog import StatementCog
from bot.config import Settings
from bot.errors import interaction_error_handler
from bot.feedback_cog import FeedbackCog
from bot.library import Library
from bot.views import BrowseButton, PickSelect, VoteButton

if TYPE_CHECKING:
    from bot.feedback.store import FeedbackStore

log = logging.getLogger(__name__)


class StatementTree(app_commands.CommandTree):
    """The command tree; its errors take the bot's one error path."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await interaction_error_handler(interaction, error)


class StatementBot(commands.Bot):
    """Answers questions about the statements in its library. Needs no privileged intents."""

    def __init__(
        self,
        settings: Settings,
        library: Library,
        feedback: FeedbackStore | None = None,
        **options: Any,
    ) -> None:
        super().__init__(
            # No prefix commands: mentions and DMs are answered by the cog's listener.
            command_prefix=(),
            help_command=None,
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=StatementTree,
            **options,
        )
        self.settings = settings
        days = settings.feedback.days if feedback is not None else None
        self.statements = StatementCog(self, library, recording_days=days)
        self.feedback = FeedbackCog(
            feedback, settings.feedback.days, lambda: self.statements.library
        )

    async def setup_hook(self) -> None:
        await self.add_cog(self.statements)
        await self.add_cog(self.feedback)
        self.add_dynamic_items(BrowseButton, VoteButton, PickSelect)

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: mentions and DMs are answered by the cog's listener."""

    async def on_ready(self) -> None:
        assert self.user is not None
        log.info("connected as %s (id %s) in %d servers", self.user, self.user.id, len(self.guilds))

    def drop_malformed_events(self) -> None:
        """Log a gateway event discord.py cannot parse in one line, and go on without it.

        An exception in one of discord.py's parsers otherwise ends its connection loop, and the
        process with it. The parsers are discord.py's own table (private, but stable across 2.x);
        the sequence number is taken before parsing, so skipping an event keeps the session valid.
        """
        parsers = self._connection.parsers
        for event, parse in parsers.items():
            parsers[event] = _tolerant(event, parse)


class ShardedStatementBot(StatementBot, commands.AutoShardedBot):
    """The same bot over some of the gateway's shards (SHARD_COUNT, SHARD_IDS), one process each."""


def create_bot(
    settings: Settings, library: Library, feedback: FeedbackStore | None = None
) -> StatementBot:
    """The bot; `feedback` is the store answers and votes are recorded in (None: not recorded)."""
    if settings.shard_count is None:
        return StatementBot(settings, library, feedback)
    return ShardedStatementBot(
        settings,
        library,
        feedback,
        shard_count=settings.shard_count,
        shard_ids=list(settings.shard_ids or range(settings.shard_count)),
    )


def _tolerant(event: str, parse: Callable[[Any], None]) -> Callable[[Any], None]:
    def parse_or_skip(data: Any) -> None:
        try:
            parse(data)
        except Exception as exc:
            log.warning("skipped a malformed %s event: %s: %s", event, type(exc).__name__, exc)

    return parse_or_skip
