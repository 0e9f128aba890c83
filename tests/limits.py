"""Discord's limits, checked on what the bot would send."""

from __future__ import annotations

import discord

from bot import embeds


def assert_embed_within_limits(embed: discord.Embed) -> None:
    assert len(embed.title or "") <= embeds.EMBED_TITLE_CHARS
    assert len(embed.description or "") <= embeds.EMBED_DESCRIPTION_CHARS
    assert len(embed.fields) <= embeds.EMBED_FIELDS
    for field in embed.fields:
        assert 0 < len(field.name) <= embeds.EMBED_FIELD_NAME_CHARS
        assert 0 < len(field.value) <= embeds.EMBED_FIELD_VALUE_CHARS
    assert len(embed.footer.text or "") <= embeds.EMBED_FOOTER_CHARS
    assert len(embed) <= embeds.EMBED_TOTAL_CHARS
    embed.to_dict()
