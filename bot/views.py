"""Buttons under an answer or a paragraph: another match, the previous and the next paragraph."""

from __future__ import annotations

import logging

import discord

from bot import embeds, render
from bot.corpus import Corpus, Paragraph
from bot.search import Answer

log = logging.getLogger(__name__)

# Interaction tokens live 15 minutes; the buttons stop a little before that.
VIEW_TIMEOUT_SECONDS = 14 * 60


class StatementView(discord.ui.View):
    """Browse from an answer or a paragraph. Only the person who asked can turn the pages."""

    def __init__(
        self,
        corpus: Corpus,
        owner_id: int,
        *,
        answer: Answer | None = None,
        paragraph: Paragraph | None = None,
    ) -> None:
        super().__init__(timeout=VIEW_TIMEOUT_SECONDS)
        self.corpus = corpus
        self.owner_id = owner_id
        self.answer = answer if answer is not None and answer.answered and answer.hits else None
        self.hit_index = 0
        self.paragraph = paragraph  # None while an answer's hit is shown
        self.message: discord.Message | discord.InteractionMessage | None = None
        if self.answer is None or len(self.answer.hits) < 2:
            self.remove_item(self.other_match)
        self._refresh_buttons()

    @property
    def current(self) -> Paragraph | None:
        if self.paragraph is not None:
            return self.paragraph
        return self.answer.hits[self.hit_index].paragraph if self.answer else None

    @property
    def useful(self) -> bool:
        return self.current is not None

    def embed(self) -> discord.Embed:
        if self.paragraph is None and self.answer is not None:
            return embeds.answer_embed(self.answer, self.corpus, shown=self.hit_index)
        assert self.paragraph is not None
        return embeds.paragraph_embed(self.paragraph, self.corpus)

    def _refresh_buttons(self) -> None:
        current = self.current
        if current is None:
            return
        document = current.document
        self.previous_paragraph.disabled = current.number <= 1
        self.next_paragraph.disabled = current.number >= len(document.paragraphs)
        self.previous_paragraph.label = f"¶{max(current.number - 1, 1)}"
        self.next_paragraph.label = f"¶{min(current.number + 1, len(document.paragraphs))}"
        if self.answer is not None and len(self.answer.hits) > 1:
            upcoming = self.answer.hits[(self.hit_index + 1) % len(self.answer.hits)]
            self.other_match.label = f"Other match: {upcoming.paragraph.reference}"

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(render.BUTTON_OWNER_ONLY, ephemeral=True)
        return False

    async def _show(self, interaction: discord.Interaction) -> None:
        self._refresh_buttons()
        await interaction.response.edit_message(embed=self.embed(), view=self)

    def _step(self, offset: int) -> None:
        current = self.current
        assert current is not None
        target = current.document.paragraph(current.number + offset)
        if target is not None:
            self.paragraph = target

    @discord.ui.button(label="¶", emoji="◀️", style=discord.ButtonStyle.secondary)
    async def previous_paragraph(
        self, interaction: discord.Interaction, _: discord.ui.Button
    ) -> None:
        self._step(-1)
        await self._show(interaction)

    @discord.ui.button(label="Other match", style=discord.ButtonStyle.primary)
    async def other_match(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        assert self.answer is not None
        self.hit_index = (self.hit_index + 1) % len(self.answer.hits)
        self.paragraph = None
        await self._show(interaction)

    @discord.ui.button(label="¶", emoji="▶️", style=discord.ButtonStyle.secondary)
    async def next_paragraph(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        self._step(+1)
        await self._show(interaction)

    async def on_timeout(self) -> None:
        if self.message is None:
            return
        try:
            await self.message.edit(view=None)
        except discord.HTTPException:
            log.info("could not remove expired buttons from message %s", self.message.id)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item
    ) -> None:
        # Same handling as commands: tell the user, log the traceback, keep running.
        await interaction.client.tree.on_error(interaction, error)  # type: ignore[attr-defined]
