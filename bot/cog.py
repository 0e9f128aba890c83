"""Slash commands, the context menu, buttons and mentions: Discord wiring around the library."""

from __future__ import annotations

import asyncio
import datetime
import gc
import logging
import re
import time

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds, render, replies
from bot.cooldown import UserCooldown, Verdict
from bot.corpus import DataError, StaleReferenceError
from bot.errors import UserFacingError, interaction_error_handler, user_message
from bot.feedback.model import AnswerRecord
from bot.library import Library
from bot.search import MAX_QUESTION_CHARS, Answer, QuestionTooLongError
from bot.views import Browse, Vote

# Dispatched with the AnswerRecord of every answer while feedback is recorded (FeedbackCog).
ANSWERED_EVENT = "answered"

log = logging.getLogger(__name__)


class StatementCog(commands.Cog, name="Statement"):
    """Ask about the statements, read their sections and paragraphs."""

    def __init__(
        self, bot: commands.Bot, library: Library, *, recording_days: int | None = None
    ) -> None:
        self.bot = bot
        # Days that answers are kept for feedback, or None when feedback is off.
        self.recording_days = recording_days
        # The one place the bot keeps its library. A reload swaps it; each handler reads it once,
        # so an answer never mixes the old data with the new.
        self.library = library
        # When the bot began to shut down: what was asked after that gets a short notice instead
        # of an answer, what was asked before is still answered.
        self.stopping_since: datetime.datetime | None = None
        # One rate for every way of asking: commands, the menu and mentions.
        self.cooldown = UserCooldown()
        self._reloading = asyncio.Lock()
        self.find_menu = app_commands.ContextMenu(
            name="Find in statement", callback=self.find_in_statement
        )

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.find_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.find_menu.name, type=self.find_menu.type)

    def stop_taking_work(self) -> None:
        self.stopping_since = discord.utils.utcnow()

    def _check_not_stopping(self, asked_at: datetime.datetime) -> None:
        if self.stopping_since is not None and asked_at > self.stopping_since:
            raise UserFacingError(render.RESTARTING)

    def admit(self, interaction: discord.Interaction) -> None:
        """Raise what to tell someone who cannot ask now: the bot is stopping, or they are over
        the rate. The notice is ephemeral, so it adds nothing to the channel."""
        self._check_not_stopping(interaction.created_at)
        decision = self.cooldown.hit(interaction.user.id)
        if decision.verdict is not Verdict.ANSWER:
            raise UserFacingError(render.COOLDOWN.format(seconds=max(decision.retry_after, 1)))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        self.admit(interaction)
        return True

    async def answer(self, library: Library, question: str, owner_id: int) -> replies.Reply:
        """The reply to a question, from any front: slash command, menu or mention."""
        started = time.perf_counter()
        # Off the event loop: a large library takes milliseconds to rank; heartbeats must not wait.
        try:
            answer = await asyncio.to_thread(library.ask, question)
        except QuestionTooLongError as exc:
            raise UserFacingError(render.question_too_long(exc.length)) from None
        log.debug("question: %r", answer.question)
        log.info(
            "answered in %.1f ms: %d words searched, %d not found, %d hits, verdict %s",
            (time.perf_counter() - started) * 1000,
            len(answer.searched),
            len(answer.missing),
            len(answer.hits),
            answer.verdict,
        )
        vote = self._record(question, answer, library)
        return replies.answer_reply(answer, library, owner_id, vote)

    def _record(self, question: str, answer: Answer, library: Library) -> Vote | None:
        """Hand the answer to the feedback store, if it is recording; the vote its buttons carry.

        The question is kept as it was typed, invisible characters and all: a maintainer reads
        it (escaped) in the review."""
        if self.recording_days is None:
            return None
        best, shown = answer.best, answer.shown
        record = AnswerRecord.new(
            document=best.paragraph.document.id if best else library.documents[0].id,
            question=question,
            verdict=answer.verdict,
            confidence=answer.confidence,
            shown=shown.paragraph.number if shown else None,
        )
        self.bot.dispatch(ANSWERED_EVENT, record)
        if best is None or answer.verdict == "not_addressed":
            return None
        return Vote(record.id, best.paragraph.document.id, best.paragraph.number)

    @app_commands.command(
        name="ask",
        description="Ask a question about the statement and get the paragraph that answers it.",
    )
    @app_commands.describe(
        question="Your question in plain words (up to 300 characters)",
        private="Show the answer only to you (default: everyone in the channel sees it)",
    )
    async def ask(
        self, interaction: discord.Interaction, question: str, private: bool = False
    ) -> None:
        reply = await self.answer(self.library, question, interaction.user.id)
        await replies.respond(interaction, reply, ephemeral=private)

    @app_commands.command(
        name="section",
        description="Show a section or paragraph of the statement; with no query, the contents.",
    )
    @app_commands.describe(
        query="A paragraph number (5 or ¶5), heading words or words from the paragraph"
    )
    async def section(self, interaction: discord.Interaction, query: str | None = None) -> None:
        library = self.library
        if query is None or not query.strip():
            await replies.respond(interaction, replies.contents_reply(library))
            return
        try:
            entry = library.resolve(query[:MAX_QUESTION_CHARS])
        except StaleReferenceError:
            raise UserFacingError(render.STALE) from None
        if entry is None:
            raise UserFacingError(
                f"No section or paragraph matches “{embeds.escape(render.shorten(query, 100))}”. "
                "Use /section with no query to see them all."
            )
        if entry.paragraph is None:
            reply = replies.section_reply(entry.document, entry.heading)
        else:
            reply = replies.paragraph_reply(entry.paragraph, library, interaction.user.id)
        await replies.respond(interaction, reply)

    @section.autocomplete("query")
    async def section_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        library = self.library
        return [
            app_commands.Choice(name=render.entry_label(e, library), value=e.key)
            for e in library.outline().matching(current)
        ]

    @app_commands.command(
        name="paragraph", description="Show one paragraph of the statement in full, by its number."
    )
    @app_commands.describe(
        number="The paragraph number (¶1 is the first)",
        document="Which statement, when more than one is loaded (default: the first)",
    )
    async def paragraph(
        self, interaction: discord.Interaction, number: int, document: str | None = None
    ) -> None:
        library = self.library
        chosen = library.document(document) if document else library.documents[0]
        if chosen is None:
            shown = embeds.escape(render.shorten(document or "", 100))
            raise UserFacingError(f"There is no statement “{shown}”; pick one from the list.")
        paragraph = chosen.paragraph(number)
        if paragraph is None:
            raise UserFacingError(render.paragraph_out_of_range(number, chosen))
        reply = replies.paragraph_reply(paragraph, library, interaction.user.id)
        await replies.respond(interaction, reply)

    @paragraph.autocomplete("document")
    async def document_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        typed = current.casefold()
        return [
            app_commands.Choice(name=render.shorten(d.title, embeds.CHOICE_CHARS), value=d.id)
            for d in self.library.documents
            if typed in d.title.casefold() or typed in d.name.casefold()
        ][: embeds.AUTOCOMPLETE_CHOICES]

    @app_commands.command(
        name="about", description="What this bot covers, how to ask, and example questions."
    )
    async def about(self, interaction: discord.Interaction) -> None:
        reply = replies.about_reply(self.library, self.recording_days)
        await replies.respond(interaction, reply, ephemeral=True)

    @app_commands.command(
        name="reload", description="Read the statements again from the data folder (bot owner)."
    )
    @app_commands.default_permissions(administrator=True)
    async def reload(self, interaction: discord.Interaction) -> None:
        # Default permissions only hide the command; Discord lets admins change them.
        if not await self.bot.is_owner(interaction.user):
            raise UserFacingError("Only the bot's owner can reload the statements.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send(await self.reload_library(), ephemeral=True)

    async def reload_library(self) -> str:
        """Rebuild the library off the event loop and swap it in; on bad data keep the old one."""
        async with self._reloading:
            try:
                fresh = await asyncio.to_thread(self.library.reloader())
            except DataError as exc:
                log.error("reload failed, still serving the previous data: %s", exc)
                return f"Reload failed, still serving the previous data: {exc}"
            self.library = fresh
            # The library loaded at start was frozen (bot/cli.py), and its index holds cycles
            # (memos of its own methods): thawed and collected here, or it would stay for good.
            gc.unfreeze()
            gc.collect()
            gc.freeze()
        paragraphs = len(fresh.paragraphs)
        log.info("reloaded: %d document(s), %d paragraphs", len(fresh.documents), paragraphs)
        return f"Reloaded: {len(fresh.documents)} document(s), {paragraphs} paragraphs."

    async def find_in_statement(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        """Search the statement for what the chosen message says."""
        self.admit(interaction)
        text = message.content.strip()
        if not text:
            raise UserFacingError("That message has no text to search for.")
        # A long message is searched by its start, not refused: the user did not write it.
        question = render.shorten(text, MAX_QUESTION_CHARS)
        reply = await self.answer(self.library, question, interaction.user.id)
        await replies.respond(interaction, reply)

    @commands.Cog.listener()
    async def on_browse(self, interaction: discord.Interaction, state: str) -> None:
        """A button was pressed: show what its custom id says, to whoever asked."""
        try:
            await self._browse(interaction, state)
        except Exception as error:
            await interaction_error_handler(interaction, error)

    async def _browse(self, interaction: discord.Interaction, state: str) -> None:
        self._check_not_stopping(interaction.created_at)
        library = self.library
        try:
            target = Browse.decode(state)
        except ValueError:
            log.debug("a button press carried a custom id we did not write")
            raise UserFacingError(render.INVALID_BUTTON) from None
        if interaction.user.id != target.owner_id:
            raise UserFacingError(render.BUTTON_OWNER_ONLY)
        try:
            reply = replies.browse_reply(target, library, Vote.carried_by(interaction.message))
        except StaleReferenceError:
            raise UserFacingError(render.STALE) from None
        await replies.edit(interaction, reply)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer a message that mentions the bot, or any direct message, like /ask.

        Over the rate, the first message gets a notice and the rest no reply at all, so a flood
        of mentions cannot make the bot flood the channel.
        """
        me = self.bot.user
        if message.author.bot or me is None:
            return
        if message.guild is not None and me not in message.mentions:
            return
        if self.stopping_since is not None and message.created_at > self.stopping_since:
            return
        decision = self.cooldown.hit(message.author.id)
        if decision.verdict is Verdict.SILENT:
            log.debug("over the rate and already told: no reply")
            return
        if decision.verdict is Verdict.NOTICE:
            notice = render.COOLDOWN.format(seconds=max(decision.retry_after, 1))
            await replies.reply_to(message, replies.error_reply(notice))
            return
        question = re.sub(rf"<@!?{me.id}>", " ", message.content).strip()
        try:
            reply = await self.answer(self.library, question, message.author.id)
        except Exception as error:
            reply = replies.error_reply(user_message(error, "a mention"))
        await replies.reply_to(message, reply)
