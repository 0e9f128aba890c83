"""Slash commands, the context menu and mentions: Discord wiring around the search core."""

from __future__ import annotations

import asyncio
import logging
import re
import time

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds, render
from bot.corpus import Paragraph
from bot.outline import Outline
from bot.search import MAX_QUESTION_CHARS, QuestionTooLongError, SearchIndex, clean_question
from bot.views import Browse

log = logging.getLogger(__name__)

# Five questions in twenty seconds per person, across commands and mentions.
COOLDOWN_RATE = 5
COOLDOWN_SECONDS = 20.0
COOLDOWN_PRUNE_AT = 10_000


class UserFacingError(app_commands.AppCommandError):
    """An error whose message is meant for the user, shown ephemerally."""


class UserCooldown:
    """A per-user rate limit shared by every way of asking."""

    def __init__(self, rate: int = COOLDOWN_RATE, per: float = COOLDOWN_SECONDS) -> None:
        self.rate, self.per = rate, per
        self._buckets: dict[int, app_commands.Cooldown] = {}

    def hit(self, user_id: int) -> app_commands.CommandOnCooldown | None:
        """Count one request; return the error to raise when the user is over the limit."""
        now = time.time()
        if len(self._buckets) >= COOLDOWN_PRUNE_AT:
            self._buckets = {u: b for u, b in self._buckets.items() if b.get_tokens(now) < b.rate}
        bucket = self._buckets.setdefault(user_id, app_commands.Cooldown(self.rate, self.per))
        retry_after = bucket.update_rate_limit(now)
        return app_commands.CommandOnCooldown(bucket, retry_after) if retry_after else None


class StatementCog(commands.Cog, name="Statement"):
    """Ask about the statement, read its sections and paragraphs."""

    def __init__(self, bot: commands.Bot, index: SearchIndex) -> None:
        self.bot = bot
        self.index = index
        self.corpus = index.corpus
        self.outline = Outline(index)
        self.cooldown = UserCooldown()
        self.find_menu = app_commands.ContextMenu(
            name="Find in statement", callback=self.find_in_statement
        )

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.find_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.find_menu.name, type=self.find_menu.type)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if (error := self.cooldown.hit(interaction.user.id)) is not None:
            raise error
        return True

    async def answer(
        self, question: str, owner_id: int
    ) -> tuple[discord.Embed, discord.ui.View | None]:
        """The reply to a question, from any front: slash command, menu or mention."""
        started = time.perf_counter()
        try:
            cleaned = clean_question(question)
        except QuestionTooLongError as exc:
            raise UserFacingError(render.question_too_long(exc.length)) from None
        # Off the event loop: a large corpus takes milliseconds to rank; heartbeats must not wait.
        answer = await asyncio.to_thread(self.index.search, cleaned)
        log.debug("question: %r", cleaned)
        log.info(
            "answered in %.1f ms: %d words searched, %d not found, %d hits, answered=%s",
            (time.perf_counter() - started) * 1000,
            len(answer.searched),
            len(answer.missing),
            len(answer.hits),
            answer.answered,
        )
        browse = Browse.for_answer(answer, self.corpus, owner_id)
        view = browse.view(self.corpus) if browse else None
        return embeds.answer_embed(answer, self.corpus), view

    @staticmethod
    async def send(
        interaction: discord.Interaction,
        embed: discord.Embed,
        view: discord.ui.View | None,
        *,
        ephemeral: bool = False,
    ) -> None:
        await interaction.response.send_message(
            embed=embed, view=view or discord.utils.MISSING, ephemeral=ephemeral
        )

    def paragraph_view(self, paragraph: Paragraph, owner_id: int) -> discord.ui.View:
        return Browse.for_paragraph(paragraph, self.corpus, owner_id).view(self.corpus)

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
        embed, view = await self.answer(question, interaction.user.id)
        await self.send(interaction, embed, view, ephemeral=private)

    @app_commands.command(
        name="section",
        description="Show a section or paragraph of the statement; with no query, the contents.",
    )
    @app_commands.describe(
        query="A paragraph number (5 or ¶5), heading words or words from the paragraph"
    )
    async def section(self, interaction: discord.Interaction, query: str | None = None) -> None:
        if query is None or not query.strip():
            await interaction.response.send_message(embed=embeds.contents_embed(self.corpus))
            return
        entry = self.outline.resolve(query[:MAX_QUESTION_CHARS])
        if entry is None:
            raise UserFacingError(
                f"No section or paragraph matches “{embeds.escape(render.shorten(query, 100))}”. "
                "Use /section with no query to see them all."
            )
        if entry.paragraph is None:
            await interaction.response.send_message(
                embed=embeds.section_embed(entry.document, entry.heading)
            )
            return
        view = self.paragraph_view(entry.paragraph, interaction.user.id)
        await self.send(interaction, embeds.paragraph_embed(entry.paragraph, self.corpus), view)

    @section.autocomplete("query")
    async def section_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=e.label, value=e.key) for e in self.outline.matching(current)
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
        chosen = self.corpus.documents[0]
        if document:
            # Autocomplete offers ids cut to Discord's 100 characters.
            found = [
                d for d in self.corpus.documents if d.doc_id[: embeds.CHOICE_CHARS] == document
            ]
            if not found:
                shown = embeds.escape(render.shorten(document, 100))
                raise UserFacingError(f"There is no statement “{shown}”; pick one from the list.")
            chosen = found[0]
        paragraph = chosen.paragraph(number)
        if paragraph is None:
            raise UserFacingError(render.paragraph_out_of_range(number, chosen))
        view = self.paragraph_view(paragraph, interaction.user.id)
        await self.send(interaction, embeds.paragraph_embed(paragraph, self.corpus), view)

    @paragraph.autocomplete("document")
    async def document_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        typed = current.casefold()
        return [
            app_commands.Choice(
                name=render.shorten(d.title, embeds.CHOICE_CHARS),
                value=d.doc_id[: embeds.CHOICE_CHARS],
            )
            for d in self.corpus.documents
            if typed in d.title.casefold() or typed in d.doc_id.casefold()
        ][: embeds.AUTOCOMPLETE_CHOICES]

    @app_commands.command(
        name="about", description="What this bot covers, how to ask, and example questions."
    )
    async def about(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            embed=embeds.about_embed(self.corpus), ephemeral=True
        )

    async def find_in_statement(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        """Search the statement for what the chosen message says."""
        if (error := self.cooldown.hit(interaction.user.id)) is not None:
            raise error
        text = message.content.strip()
        if not text:
            raise UserFacingError("That message has no text to search for.")
        # A long message is searched by its start, not refused: the user did not write it.
        embed, view = await self.answer(
            render.shorten(text, MAX_QUESTION_CHARS), interaction.user.id
        )
        await self.send(interaction, embed, view)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer a message that mentions the bot, or any direct message, like /ask."""
        me = self.bot.user
        if message.author.bot or me is None:
            return
        is_direct = message.guild is None
        if not is_direct and me not in message.mentions:
            return
        question = re.sub(rf"<@!?{me.id}>", " ", message.content).strip()
        view: discord.ui.View | None = None
        try:
            if (error := self.cooldown.hit(message.author.id)) is not None:
                raise UserFacingError(render.COOLDOWN.format(seconds=max(error.retry_after, 1)))
            embed, view = await self.answer(question, message.author.id)
        except UserFacingError as exc:
            embed = embeds.error_embed(str(exc))
        except Exception:
            log.exception("failed to answer a message")
            embed = embeds.error_embed(render.FAILURE)
        try:
            await message.reply(embed=embed, view=view or discord.utils.MISSING)
        except discord.HTTPException as exc:
            # Usually missing permissions in that channel; nothing to tell the user there.
            log.warning(
                "could not reply in channel %s: %s %s", message.channel.id, exc.status, exc.text
            )
