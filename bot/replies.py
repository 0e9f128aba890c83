"""What the bot sends, and how: an embed, or the same words as plain text where embeds fail.

Every reply carries both forms. It goes out as an embed, unless the channel does not allow the
bot to embed links, or the server refuses the embed (a Discord-compatible server that rejects
discord.py's embed fields); then the terminal's wording is sent as text, escaped and cut to
Discord's 2,000 characters. A rate-limited interaction answer is tried again while Discord's
3-second deadline allows.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from bot import embeds, render
from bot.corpus import Document, Paragraph
from bot.search import Answer
from bot.views import Browse, Vote

if TYPE_CHECKING:
    from bot.library import Library

log = logging.getLogger(__name__)

MESSAGE_CHARS = 2000
# Discord drops an interaction not answered within 3 s; a retry must land before that.
INTERACTION_DEADLINE = datetime.timedelta(seconds=3)
# Discord's "Invalid Form Body": what a server that rejects our embed fields answers.
INVALID_FORM_BODY = 50035


@dataclass(frozen=True)
class Reply:
    """One message: as an embed, as plain text, and the buttons under it."""

    embed: discord.Embed
    text: str
    view: discord.ui.View | None = None

    @property
    def content(self) -> str:
        """The plain-text form as Discord should get it: no Markdown, within its limit."""
        return render.shorten(embeds.escape(self.text), MESSAGE_CHARS)


def answer_reply(
    answer: Answer, library: Library, owner_id: int, vote: Vote | None = None
) -> Reply:
    browse = Browse.for_answer(answer, owner_id)
    return Reply(
        embeds.answer_embed(answer, library),
        render.answer_text(answer, library),
        browse.view(library, vote) if browse else None,
    )


def paragraph_reply(paragraph: Paragraph, library: Library, owner_id: int) -> Reply:
    browse = Browse.for_paragraph(paragraph, owner_id)
    return browse_reply(browse, library)


def browse_reply(browse: Browse, library: Library, vote: Vote | None = None) -> Reply:
    """What a message with buttons shows; StaleReferenceError if that changed since."""
    return Reply(browse.embed(library), browse.text(library), browse.view(library, vote))


def contents_reply(library: Library) -> Reply:
    return Reply(embeds.contents_embed(library), render.contents_text(library))


def section_reply(document: Document, heading: str) -> Reply:
    return Reply(embeds.section_embed(document, heading), render.section_text(document, heading))


def about_reply(library: Library, recording_days: int | None = None) -> Reply:
    """What the bot covers and how to ask; and, while feedback is on, that questions are kept."""
    embed, text = embeds.about_embed(library), render.about_text(library)
    if recording_days is not None:
        notice = render.recording_notice(recording_days)
        embed.add_field(name="Feedback", value=notice, inline=False)
        text = f"{text}\n\n{notice}"
    return Reply(embed, text)


def error_reply(message: str) -> Reply:
    return Reply(embeds.error_embed(message), message)


def _refused_embed(error: discord.HTTPException) -> bool:
    return error.status == 400 and error.code == INVALID_FORM_BODY


def _retry_after(error: discord.HTTPException) -> float:
    try:
        return float(error.response.headers.get("Retry-After", 1.0))
    except (TypeError, ValueError):
        return 1.0


async def respond(
    interaction: discord.Interaction, reply: Reply, *, ephemeral: bool = False
) -> None:
    """Answer an interaction, as an embed where the channel allows it, else as text."""
    use_embed = interaction.app_permissions.embed_links
    while True:
        try:
            if use_embed:
                await interaction.response.send_message(
                    embed=reply.embed, view=reply.view or discord.utils.MISSING, ephemeral=ephemeral
                )
            else:
                await interaction.response.send_message(
                    reply.content, view=reply.view or discord.utils.MISSING, ephemeral=ephemeral
                )
            return
        except discord.HTTPException as error:
            if use_embed and _refused_embed(error):
                log.warning("an embed was refused (%s); answering as text", error.text)
                use_embed = False
            elif error.status == 429 and await _time_for_another_try(interaction, error):
                continue
            else:
                raise


async def _time_for_another_try(
    interaction: discord.Interaction, error: discord.HTTPException
) -> bool:
    """Wait out a rate limit if the answer can still arrive in time; say whether it can."""
    wait = _retry_after(error)
    deadline = interaction.created_at + INTERACTION_DEADLINE
    if discord.utils.utcnow() + datetime.timedelta(seconds=wait) >= deadline:
        log.warning("an answer was rate-limited past Discord's 3-second deadline; dropped")
        return False
    await asyncio.sleep(wait)
    return True


async def edit(interaction: discord.Interaction, reply: Reply) -> None:
    """Replace the message a button is on, keeping its form: embed or text."""
    message = interaction.message
    as_text = message is not None and not message.embeds
    if not as_text:
        # The footer says what was searched; it stays while the asker turns the pages.
        old_footer = message.embeds[0].footer.text if message is not None else None
        if old_footer:
            reply.embed.set_footer(text=old_footer)
        try:
            await interaction.response.edit_message(embed=reply.embed, view=reply.view)
            return
        except discord.HTTPException as error:
            if not _refused_embed(error):
                raise
    await interaction.response.edit_message(content=reply.content, embed=None, view=reply.view)


async def reply_to(message: discord.Message, reply: Reply) -> None:
    """Reply to a mention or a DM; a refused reply (missing permissions) is one log line."""
    me = message.guild.me if message.guild is not None else None
    use_embed = me is None or message.channel.permissions_for(me).embed_links
    view = reply.view or discord.utils.MISSING
    try:
        try:
            if use_embed:
                await message.reply(embed=reply.embed, view=view)
                return
        except discord.HTTPException as error:
            if not _refused_embed(error):
                raise
        await message.reply(reply.content, view=view)
    except discord.HTTPException as exc:
        log.warning(
            "could not reply in channel %s: %s %s", message.channel.id, exc.status, exc.text
        )
