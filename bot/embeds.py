"""Discord rendering: answers, paragraphs and overviews as embeds within Discord's limits."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot import render
from bot.corpus import Document, Paragraph
from bot.search import Answer

if TYPE_CHECKING:
    from bot.library import Library

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
EMBED_TITLE_CHARS = 256
EMBED_DESCRIPTION_CHARS = 4096
EMBED_FIELD_NAME_CHARS = 256
EMBED_FIELD_VALUE_CHARS = 1024
EMBED_FOOTER_CHARS = 2048
EMBED_TOTAL_CHARS = 6000
EMBED_FIELDS = 25
AUTOCOMPLETE_CHOICES = 25
CHOICE_CHARS = 100
# Our own cap keeps title + description + fields + footer under the 6000 total.
FOOTER_CHARS = 500

ANSWER_COLOUR = discord.Colour.blurple()
NOT_FOUND_COLOUR = discord.Colour.light_grey()
ERROR_COLOUR = discord.Colour.red()


def escape(text: str) -> str:
    """User or document text made inert: no Markdown, no mentions."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def quote(
    paragraph: Paragraph, emphasis: int | None = None, limit: int = EMBED_DESCRIPTION_CHARS
) -> str:
    """The paragraph as a block quote, its answer sentence in bold, cut to fit the limit."""
    parts = []
    for i, sentence in enumerate(paragraph.sentences):
        text = escape(sentence)
        parts.append(f"**{text}**" if i == emphasis else text)
    quoted = "> " + " ".join(parts)
    if len(quoted) <= limit:
        return quoted
    # Cutting inside bold would leave a dangling "**", so a long paragraph is cut unemphasised.
    return "> " + render.shorten(escape(paragraph.text), limit - 2)


def _footer(text: str) -> str:
    return render.shorten(text, FOOTER_CHARS)


def _title(text: str) -> str:
    return render.shorten(escape(text), EMBED_TITLE_CHARS)


def _snippet_lines(paragraphs: list[Paragraph], library: Library) -> str:
    lines = [
        f"**{escape(render.reference(p, library))}** {escape(render.snippet(p))}"
        for p in paragraphs
    ]
    return render.shorten("\n".join(lines), EMBED_FIELD_VALUE_CHARS)


def paragraph_embed(
    paragraph: Paragraph, library: Library, emphasis: int | None = None
) -> discord.Embed:
    """One paragraph, quoted in full with its reference and source."""
    embed = discord.Embed(
        title=_title(f"{render.reference(paragraph, library)} · {paragraph.section}".rstrip(" ·")),
        description=quote(paragraph, emphasis),
        colour=ANSWER_COLOUR,
    )
    embed.set_footer(text=_footer(paragraph.document.title))
    return embed


def match_embed(
    paragraph: Paragraph, sentence: int, others: list[Paragraph], library: Library
) -> discord.Embed:
    """A match in full with its answer sentence in bold; the other matches as snippets."""
    embed = paragraph_embed(paragraph, library, emphasis=sentence)
    if others:
        embed.add_field(name="Also relevant", value=_snippet_lines(others, library), inline=False)
    return embed


def answer_embed(answer: Answer, library: Library) -> discord.Embed:
    """The answer to a question: the best hit in full, the others as snippets."""
    if answer.asked_nothing:
        return discord.Embed(description=escape(render.NO_QUESTION), colour=NOT_FOUND_COLOUR)
    if answer.verdict == "closest" and answer.hits:
        hit = answer.hits[0]
        embed = paragraph_embed(hit.paragraph, library)
        embed.title = _title(render.closest_passage(hit, library))
        embed.colour = NOT_FOUND_COLOUR
    elif not answer.answered or not answer.hits:
        embed = discord.Embed(
            title=_title("Not addressed in the statement"),
            description=escape(render.not_addressed(answer)),
            colour=NOT_FOUND_COLOUR,
        )
        if related := answer.shown:
            embed.add_field(
                name="Possibly related",
                value=_snippet_lines([related.paragraph], library),
                inline=False,
            )
    else:
        hit = answer.hits[0]
        others = [h.paragraph for h in render.other_hits(answer, hit)]
        embed = match_embed(hit.paragraph, hit.sentence_index, others, library)
    note = render.search_note(answer)
    document = answer.hits[0].paragraph.document.title if answer.hits else ""
    embed.set_footer(text=_footer(" · ".join(part for part in (note, document) if part)))
    return embed


def contents_embed(library: Library) -> discord.Embed:
    """The table of contents: every document, its heading and each paragraph's first words."""
    embed = discord.Embed(title="Contents", colour=ANSWER_COLOUR)
    for document, entries in render.table_of_contents(library)[:EMBED_FIELDS]:
        embed.add_field(
            name=render.shorten(escape(document.title), EMBED_FIELD_NAME_CHARS),
            value=render.shorten("\n".join(escape(e) for e in entries), EMBED_FIELD_VALUE_CHARS),
            inline=False,
        )
    embed.set_footer(text="Use /paragraph or /section to read one in full.")
    return _fit_total(embed)


def section_embed(document: Document, heading: str) -> discord.Embed:
    """A section: its heading, and each of its paragraphs with its first words."""
    lines = render.paragraph_lines(p for p in document.paragraphs if p.section == heading)
    embed = discord.Embed(
        title=_title(heading or document.title),
        description=render.shorten("\n".join(escape(e) for e in lines), EMBED_DESCRIPTION_CHARS),
        colour=ANSWER_COLOUR,
    )
    embed.set_footer(text=_footer(document.title))
    return embed


def about_embed(library: Library) -> discord.Embed:
    documents = "\n".join(
        f"**{escape(d.title)}**: {escape(', '.join(d.sections))} ({len(d.paragraphs)} paragraphs)"
        for d in library.documents
    )
    examples = "\n".join(f"• {escape(q)}" for q in render.EXAMPLE_QUESTIONS)
    embed = discord.Embed(
        title="About statement-bot",
        description=render.shorten(render.ABOUT + "\n\n" + documents, EMBED_DESCRIPTION_CHARS),
        colour=ANSWER_COLOUR,
    )
    embed.add_field(name="How to ask", value=render.HOW_TO_ASK, inline=False)
    embed.add_field(name="Try", value=examples, inline=False)
    return _fit_total(embed)


def error_embed(message: str) -> discord.Embed:
    return discord.Embed(
        description=render.shorten(message, EMBED_DESCRIPTION_CHARS), colour=ERROR_COLOUR
    )


def _fit_total(embed: discord.Embed) -> discord.Embed:
    """Drop trailing fields until the embed is within Discord's 6000-character total."""
    while len(embed) > EMBED_TOTAL_CHARS and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    return embed
