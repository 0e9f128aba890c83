"""Feedback in Discord: records each answer, takes 👍 / 👎 and the paragraph picked after 👎.

The store (bot/feedback/store.py) does the writing, off the event loop; this cog only wires it to
Discord. A vote is acknowledged at once (a deferred, ephemeral reply) and answered when the
store has written it, so a slow or unavailable database never makes an interaction fail: the
voter reads "could not record", the log gets one line, and the bot goes on answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import discord
from discord.ext import commands

from bot import render
from bot.errors import UserFacingError, interaction_error_handler
from bot.feedback.model import PICK_NONE, AnswerRecord, FeedbackUnavailable, Pick, VoteOutcome
from bot.feedback.store import FeedbackStore, purge_daily
from bot.library import Library
from bot.views import PICK_NONE_VALUE, Vote

log = logging.getLogger(__name__)

THANKS = {
    VoteOutcome.RECORDED: render.VOTE_RECORDED,
    VoteOutcome.UNCHANGED: render.VOTE_RECORDED,
    VoteOutcome.CHANGED: render.VOTE_CHANGED,
    VoteOutcome.UNKNOWN_ANSWER: render.VOTE_UNKNOWN,
}


class FeedbackCog(commands.Cog, name="Feedback"):
    """Votes on answers, kept in the feedback store when FEEDBACK is on."""

    def __init__(
        self, store: FeedbackStore | None, days: int, library: Callable[[], Library]
    ) -> None:
        self.store = store
        self.days = days
        # The library the bot serves now (it changes on reload): for the paragraph picker.
        self.library = library
        self._purging: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        if self.store is None:
            return
        try:
            await self.store.start()
            log.info("feedback is recorded in %s for %d days", self.store.description, self.days)
        except FeedbackUnavailable as error:
            # The bot answers anyway; the store tries again at its next write.
            log.warning("feedback store unavailable at start: %s", error)
        self._purging = asyncio.create_task(purge_daily(self.store, self.days))

    async def cog_unload(self) -> None:
        if self._purging is not None:
            self._purging.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purging
        if self.store is not None:
            await self.store.close()

    @commands.Cog.listener()
    async def on_answered(self, record: AnswerRecord) -> None:
        if self.store is None:
            return
        try:
            await self.store.record_answer(record)
        except FeedbackUnavailable as error:
            log.warning("feedback store: an answer was not recorded: %s", error)

    @commands.Cog.listener()
    async def on_vote(self, interaction: discord.Interaction, state: str, up: bool) -> None:
        try:
            vote, store = self._vote_of(state)
            await interaction.response.defer(ephemeral=True, thinking=True)
            outcome = await self._stored(store.vote(vote.answer_id, interaction.user.id, up=up))
            if outcome is None:
                return await self._tell(interaction, render.VOTE_NOT_RECORDED)
            if up or outcome is VoteOutcome.UNKNOWN_ANSWER:
                return await self._tell(interaction, THANKS[outcome])
            picker = vote.picker(self.library())
            if picker is None:
                return await self._tell(interaction, THANKS[outcome])
            await interaction.followup.send(render.PICK_PROMPT, view=picker, ephemeral=True)
        except Exception as error:
            await interaction_error_handler(interaction, error)

    @commands.Cog.listener()
    async def on_pick(
        self, interaction: discord.Interaction, state: str, values: list[str]
    ) -> None:
        try:
            vote, store = self._vote_of(state)
            picked = self._pick_of(values)
            await interaction.response.defer(ephemeral=True, thinking=True)
            outcome = await self._stored(store.pick(vote.answer_id, interaction.user.id, picked))
            if outcome is None:
                return await self._tell(interaction, render.VOTE_NOT_RECORDED)
            if outcome is VoteOutcome.UNKNOWN_ANSWER:
                return await self._tell(interaction, render.VOTE_UNKNOWN)
            if picked == PICK_NONE:
                return await self._tell(interaction, render.PICKED_NONE)
            await self._tell(interaction, render.PICKED.format(reference=f"¶{picked}"))
        except Exception as error:
            await interaction_error_handler(interaction, error)

    def _vote_of(self, state: str) -> tuple[Vote, FeedbackStore]:
        """The vote a custom id carries, and the store to record it in."""
        try:
            vote = Vote.decode(state)
        except ValueError:
            log.debug("a vote carried a custom id we did not write")
            raise UserFacingError(render.INVALID_BUTTON) from None
        if self.store is None:
            raise UserFacingError(render.FEEDBACK_OFF)
        return vote, self.store

    @staticmethod
    def _pick_of(values: list[str]) -> Pick:
        if values == [PICK_NONE_VALUE]:
            return PICK_NONE
        if len(values) == 1 and values[0].isdigit() and 1 <= int(values[0]) <= 9999:
            return int(values[0])
        log.debug("a pick carried values we did not offer")
        raise UserFacingError(render.INVALID_BUTTON)

    @staticmethod
    async def _stored(write: Awaitable[VoteOutcome]) -> VoteOutcome | None:
        """The outcome of a store write, or None (and one log line) if the store is down."""
        try:
            return await write
        except FeedbackUnavailable as error:
            log.warning("feedback store: a vote was not recorded: %s", error)
            return None

    @staticmethod
    async def _tell(interaction: discord.Interaction, text: str) -> None:
        await interaction.followup.send(text, ephemeral=True)
