"""Buttons under an answer or a paragraph: another match, the previous and the next paragraph.

The buttons keep no state in the bot. What a message shows travels in each button's custom id,
as stable paragraph references, so the buttons keep working after a restart or a reload, cost no
memory while they stay on screen, and say so when the paragraph they name has changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import discord

from bot import embeds, render
from bot.corpus import Paragraph, ParagraphRef, to_base36
from bot.search import Answer

if TYPE_CHECKING:
    from bot.library import Library

# The event a pressed button is handed over as; the cog listens for it (on_browse).
BROWSE_EVENT = "browse"
CUSTOM_ID_PREFIX = "sb:"
_REF = ParagraphRef.PATTERN
_MATCH = rf"{_REF}\.[0-9a-z]{{1,2}}"


@dataclass(frozen=True)
class Browse:
    """What an answer or paragraph message shows, small enough for a custom id (≤100 chars)."""

    owner_id: int
    # Each match's paragraph and answer sentence, best first.
    matches: tuple[tuple[ParagraphRef, int], ...] = ()
    match: int = 0
    # Set when a paragraph is shown instead of a match.
    paragraph: ParagraphRef | None = None

    FORMAT = re.compile(
        rf"([0-9a-z]{{1,13}}):((?:{_MATCH})(?:-{_MATCH}){{0,4}})?:([0-9]):({_REF})?"
    )

    @classmethod
    def for_answer(cls, answer: Answer, owner_id: int) -> Browse | None:
        if answer.verdict not in {"answered", "closest"} or not answer.hits:
            return None
        return cls(owner_id, tuple((h.paragraph.ref, h.sentence_index) for h in answer.hits))

    @classmethod
    def for_paragraph(cls, paragraph: Paragraph, owner_id: int) -> Browse:
        return cls(owner_id, paragraph=paragraph.ref)

    def encode(self) -> str:
        matches = "-".join(f"{ref.encode()}.{to_base36(s)}" for ref, s in self.matches)
        paragraph = self.paragraph.encode() if self.paragraph else ""
        return f"{to_base36(self.owner_id)}:{matches}:{self.match}:{paragraph}"

    @classmethod
    def decode(cls, text: str) -> Browse:
        """The state a custom id carries; ValueError for anything we did not write."""
        found = cls.FORMAT.fullmatch(text)
        if found is None:
            raise ValueError("not a browse state")
        owner, matches, match, paragraph = found.groups()
        decoded = []
        for item in matches.split("-") if matches else ():
            ref, sentence = item.rsplit(".", 1)
            decoded.append((ParagraphRef.decode(ref), int(sentence, 36)))
        if int(match) >= max(len(decoded), 1) or (paragraph is None and not decoded):
            raise ValueError("not a browse state")
        return cls(
            owner_id=int(owner, 36),
            matches=tuple(decoded),
            match=int(match),
            paragraph=ParagraphRef.decode(paragraph) if paragraph else None,
        )

    def current(self, library: Library) -> Paragraph:
        """The paragraph on screen; StaleReferenceError if it changed since the message was sent."""
        if self.paragraph is not None:
            return library.paragraph(self.paragraph)
        return library.paragraph(self.matches[self.match][0])

    def shown(self, library: Library) -> tuple[Paragraph, int | None, list[Paragraph]]:
        """What the message shows: a paragraph, its answer sentence if it is a match, and the
        other matches. StaleReferenceError if any of them changed since it was sent."""
        if self.paragraph is not None:
            return self.current(library), None, []
        others = [
            library.paragraph(ref) for i, (ref, _) in enumerate(self.matches) if i != self.match
        ]
        return self.current(library), self.matches[self.match][1], others

    def embed(self, library: Library) -> discord.Embed:
        paragraph, sentence, others = self.shown(library)
        if sentence is None:
            return embeds.paragraph_embed(paragraph, library)
        return embeds.match_embed(paragraph, sentence, others, library)

    def text(self, library: Library) -> str:
        paragraph, sentence, others = self.shown(library)
        if sentence is None:
            return "\n".join(render.paragraph_text(paragraph, library))
        return render.match_text(paragraph, sentence, others, library)

    def view(self, library: Library, vote: Vote | None = None) -> discord.ui.View:
        """Previous paragraph, another match (when there are several), next paragraph, and the
        feedback buttons when the answer is being recorded."""
        current = self.current(library)
        document = library.document(current.document.id)
        assert document is not None

        def step(slot: str, number: int, emoji: str) -> BrowseButton:
            target = document.paragraphs[min(max(number, 1), len(document.paragraphs)) - 1]
            return BrowseButton(
                slot,
                replace(self, paragraph=target.ref),
                label=target.label,
                emoji=emoji,
                disabled=target is current,
            )

        view = discord.ui.View(timeout=None)
        view.add_item(step("<", current.number - 1, "◀️"))
        if len(self.matches) > 1:
            upcoming = (self.match + 1) % len(self.matches)
            view.add_item(
                BrowseButton(
                    "m",
                    replace(self, match=upcoming, paragraph=None),
                    label=f"Other match: ¶{self.matches[upcoming][0].number}",
                    style=discord.ButtonStyle.primary,
                )
            )
        view.add_item(step(">", current.number + 1, "▶️"))
        for button in vote.buttons() if vote is not None else ():
            view.add_item(button)
        return view


class BrowseButton(
    discord.ui.DynamicItem[discord.ui.Button],
    # Anything after the prefix is accepted here and decoded by the handler, so that a forged
    # id gets a clear answer instead of a traceback inside discord.py.
    template=r"sb:(?P<slot>[<m>]):(?P<state>.{0,100})",
):
    """A button that carries the state it shows; pressing it hands that state to the cog."""

    def __init__(
        self,
        slot: str,
        target: Browse | str,
        *,
        label: str = "",
        emoji: str | None = None,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        disabled: bool = False,
    ) -> None:
        state = target.encode() if isinstance(target, Browse) else target
        super().__init__(
            discord.ui.Button(
                custom_id=f"{CUSTOM_ID_PREFIX}{slot}:{state}",
                label=label,
                emoji=emoji,
                style=style,
                disabled=disabled,
            )
        )
        self.state = state

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> BrowseButton:
        return cls(match["slot"], match["state"])

    async def callback(self, interaction: discord.Interaction) -> None:
        interaction.client.dispatch(BROWSE_EVENT, interaction, self.state)


# Feedback: 👍 and 👎 under an answer, and the paragraph picker a 👎 opens.

VOTE_EVENT = "vote"
PICK_EVENT = "pick"
PICK_NONE_VALUE = "none"
PICK_NONE_LABEL = "None: the statement does not say"
# A select holds 25 options: "none" and the paragraphs nearest the one shown.
PICK_PARAGRAPHS = 24


@dataclass(frozen=True)
class Vote:
    """Which recorded answer a vote is about: its id, its document and the ¶ it showed."""

    answer_id: str
    document_id: str
    shown: int

    FORMAT = re.compile(r"([A-Za-z0-9_-]{1,12})\.([0-9a-f]{6})\.([0-9a-z]{1,4})")

    def encode(self) -> str:
        return f"{self.answer_id}.{self.document_id}.{to_base36(self.shown)}"

    @classmethod
    def decode(cls, text: str) -> Vote:
        found = cls.FORMAT.fullmatch(text)
        if found is None:
            raise ValueError("not a vote")
        answer_id, document_id, shown = found.groups()
        return cls(answer_id, document_id, int(shown, 36))

    def buttons(self) -> list[VoteButton]:
        return [VoteButton("up", self), VoteButton("down", self)]

    @classmethod
    def carried_by(cls, message: discord.Message | None) -> Vote | None:
        """The vote a message's 👍 button carries, so that turning pages keeps the buttons."""
        for row in message.components if message is not None else ():
            for component in getattr(row, "children", ()):
                custom_id = getattr(component, "custom_id", None) or ""
                if custom_id.startswith(f"{CUSTOM_ID_PREFIX}up:"):
                    try:
                        return cls.decode(custom_id.split(":", 2)[2])
                    except ValueError:
                        return None
        return None

    def picker(self, library: Library) -> discord.ui.View | None:
        """A select of the paragraphs that might answer instead, or None if the document is gone."""
        document = library.document(self.document_id)
        if document is None:
            return None
        first = max(0, min(self.shown - 1 - PICK_PARAGRAPHS // 2, len(document.paragraphs)))
        nearby = document.paragraphs[first : first + PICK_PARAGRAPHS]
        options = [
            discord.SelectOption(
                label=render.shorten(f"{p.label} — {p.text}", embeds.CHOICE_CHARS),
                value=str(p.number),
            )
            for p in nearby
        ]
        options.append(discord.SelectOption(label=PICK_NONE_LABEL, value=PICK_NONE_VALUE))
        view = discord.ui.View(timeout=None)
        view.add_item(PickSelect(self, options))
        return view


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"sb:(?P<direction>up|down):(?P<state>.{0,90})",
):
    """👍 or 👎 on an answer; pressing it hands the vote to the feedback cog."""

    def __init__(self, direction: str, vote: Vote | str) -> None:
        state = vote.encode() if isinstance(vote, Vote) else vote
        super().__init__(
            discord.ui.Button(
                custom_id=f"{CUSTOM_ID_PREFIX}{direction}:{state}",
                emoji="👍" if direction == "up" else "👎",
                style=discord.ButtonStyle.secondary,
            )
        )
        self.up = direction == "up"
        self.state = state

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> VoteButton:
        return cls(match["direction"], match["state"])

    async def callback(self, interaction: discord.Interaction) -> None:
        interaction.client.dispatch(VOTE_EVENT, interaction, self.state, self.up)


class PickSelect(
    discord.ui.DynamicItem[discord.ui.Select],
    template=r"sb:pick:(?P<state>.{0,90})",
):
    """Which paragraph answers it, after a 👎; choosing hands the pick to the feedback cog."""

    def __init__(self, vote: Vote | str, options: list[discord.SelectOption] | None = None) -> None:
        state = vote.encode() if isinstance(vote, Vote) else vote
        super().__init__(
            discord.ui.Select(
                custom_id=f"{CUSTOM_ID_PREFIX}pick:{state}",
                placeholder="Which paragraph answers it?",
                options=options or [discord.SelectOption(label=PICK_NONE_LABEL)],
            )
        )
        self.state = state

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Select, match: re.Match[str]
    ) -> PickSelect:
        return cls(match["state"], item.options)

    async def callback(self, interaction: discord.Interaction) -> None:
        interaction.client.dispatch(PICK_EVENT, interaction, self.state, list(self.item.values))
