"""Buttons under an answer or a paragraph: another match, the previous and the next paragraph.

The buttons keep no state in the bot. What a message shows travels in each button's custom id,
so the buttons keep working after a restart, and answers cost no memory while they stay on screen.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from typing import Protocol, cast

import discord

from bot import embeds, render
from bot.corpus import Corpus, Paragraph
from bot.search import Answer, SearchIndex

log = logging.getLogger(__name__)

STALE = "This message refers to an older version of the statement. Please ask again."


class HasIndex(Protocol):
    index: SearchIndex


@dataclass(frozen=True)
class Browse:
    """What an answer or paragraph message shows, small enough for a custom id (≤100 chars)."""

    owner_id: int
    # (document index, paragraph number, answer sentence index) of each match, best first.
    matches: tuple[tuple[int, int, int], ...] = ()
    match: int = 0
    # Set when a paragraph is shown instead of a match: (document index, paragraph number).
    paragraph: tuple[int, int] | None = None

    FORMAT = re.compile(r"(\d+):((?:\d+\.\d+\.\d+-?)*):(\d+):(?:(\d+)\.(\d+))?")

    @classmethod
    def for_answer(cls, answer: Answer, corpus: Corpus, owner_id: int) -> Browse | None:
        if answer.verdict not in {"answered", "closest"} or not answer.hits:
            return None
        documents = corpus.documents
        matches = tuple(
            (documents.index(h.paragraph.document), h.paragraph.number, h.sentence_index)
            for h in answer.hits
        )
        return cls(owner_id, matches)

    @classmethod
    def for_paragraph(cls, paragraph: Paragraph, corpus: Corpus, owner_id: int) -> Browse:
        return cls(
            owner_id, paragraph=(corpus.documents.index(paragraph.document), paragraph.number)
        )

    def encode(self) -> str:
        matches = "-".join(f"{d}.{n}.{s}" for d, n, s in self.matches)
        paragraph = f"{self.paragraph[0]}.{self.paragraph[1]}" if self.paragraph else ""
        return f"{self.owner_id}:{matches}:{self.match}:{paragraph}"

    @classmethod
    def decode(cls, text: str) -> Browse:
        found = cls.FORMAT.fullmatch(text)
        if found is None:
            raise ValueError(f"not a browse state: {text!r}")
        owner, matches, match, document, number = found.groups()
        return cls(
            owner_id=int(owner),
            matches=tuple(
                (int(d), int(n), int(s))
                for d, n, s in (m.split(".") for m in matches.split("-") if m)
            ),
            match=int(match),
            paragraph=(int(document), int(number)) if document else None,
        )

    def _paragraph(self, corpus: Corpus, document: int, number: int) -> Paragraph:
        if not 0 <= document < len(corpus.documents):
            raise LookupError(STALE)
        paragraph = corpus.documents[document].paragraph(number)
        if paragraph is None:
            raise LookupError(STALE)
        return paragraph

    def current(self, corpus: Corpus) -> Paragraph:
        """The paragraph on screen. LookupError when the data changed since the message was sent."""
        if self.paragraph is not None:
            return self._paragraph(corpus, *self.paragraph)
        document, number, _ = self.matches[self.match]
        return self._paragraph(corpus, document, number)

    def embed(self, corpus: Corpus) -> discord.Embed:
        if self.paragraph is not None:
            return embeds.paragraph_embed(self.current(corpus), corpus)
        others = [
            self._paragraph(corpus, document, number)
            for i, (document, number, _) in enumerate(self.matches)
            if i != self.match
        ]
        return embeds.match_embed(self.current(corpus), self.matches[self.match][2], others, corpus)

    def view(self, corpus: Corpus) -> discord.ui.View:
        """Previous paragraph, another match (when there are several), next paragraph."""
        current = self.current(corpus)
        document = corpus.documents.index(current.document)
        last = len(current.document.paragraphs)

        def step(slot: str, number: int, emoji: str) -> BrowseButton:
            target = min(max(number, 1), last)
            return BrowseButton(
                slot,
                replace(self, paragraph=(document, target)),
                label=f"¶{target}",
                emoji=emoji,
                disabled=target == current.number,
            )

        view = discord.ui.View(timeout=None)
        view.add_item(step("<", current.number - 1, "◀️"))
        if len(self.matches) > 1:
            upcoming = (self.match + 1) % len(self.matches)
            view.add_item(
                BrowseButton(
                    "m",
                    replace(self, match=upcoming, paragraph=None),
                    label=f"Other match: ¶{self.matches[upcoming][1]}",
                    style=discord.ButtonStyle.primary,
                )
            )
        view.add_item(step(">", current.number + 1, "▶️"))
        return view


class BrowseButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"sb:(?P<slot>[<m>]):(?P<state>[0-9.:\-]+)",
):
    """A button that shows the state it carries. Only the person who asked can press it."""

    def __init__(
        self,
        slot: str,
        target: Browse,
        *,
        label: str = "",
        emoji: str | None = None,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                custom_id=f"sb:{slot}:{target.encode()}",
                label=label,
                emoji=emoji,
                style=style,
                disabled=disabled,
            )
        )
        self.target = target

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> BrowseButton:
        return cls(match["slot"], Browse.decode(match["state"]))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.target.owner_id:
            return True
        await interaction.response.send_message(render.BUTTON_OWNER_ONLY, ephemeral=True)
        return False

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self._show(interaction)
        except Exception as error:
            # The same single handler as commands: tell the user, log the traceback.
            await interaction.client.tree.on_error(interaction, error)  # type: ignore[attr-defined]

    async def _show(self, interaction: discord.Interaction) -> None:
        corpus = cast(HasIndex, interaction.client).index.corpus
        try:
            embed = self.target.embed(corpus)
            view = self.target.view(corpus)
        except LookupError:
            await interaction.response.send_message(STALE, ephemeral=True)
            return
        # The footer says what was searched; it stays while the asker turns the pages.
        if interaction.message is not None and interaction.message.embeds:
            old_footer = interaction.message.embeds[0].footer.text
            if old_footer:
                embed.set_footer(text=old_footer)
        await interaction.response.edit_message(embed=embed, view=view)
