"""The core of `python -m bot feedback report|export`: a store (or its URL) in, text out.

The CLI parses its arguments, calls one of these, prints or writes the text, and turns
FeedbackUnavailable and ValueError into one line on stderr with a non-zero exit code.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from bot.feedback.export import confirmed_pairs, to_json_lines
from bot.feedback.model import Period, utc_now
from bot.feedback.report import DEFAULT_TOP, build_report, render_report
from bot.feedback.store import FeedbackStore, open_store

# Review runs by hand, perhaps against a remote database: wait longer than the bot does.
REVIEW_TIMEOUT: Final = 15.0
BEGINNING: Final = datetime(1970, 1, 1, tzinfo=UTC)


def period_bounds(days: int | None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The last `days` days up to now; with no `days`, everything the store still keeps."""
    until = now or utc_now()
    if days is None:
        return BEGINNING, until
    if days < 1:
        raise ValueError("--days must be at least 1")
    return until - timedelta(days=days), until


async def report_text(
    store: FeedbackStore,
    *,
    days: int | None = None,
    now: datetime | None = None,
    top: int = DEFAULT_TOP,
) -> str:
    since, until = period_bounds(days, now)
    return render_report(build_report(await store.period(since, until), top=top))


async def export_text(
    store: FeedbackStore,
    *,
    days: int | None = None,
    now: datetime | None = None,
    document: str | None = None,
    min_voters: int = 1,
) -> str:
    """JSON lines of confirmed pairs. The example format names no document, so a period that
    holds several needs `document` to choose one (ValueError otherwise)."""
    since, until = period_bounds(days, now)
    period = await store.period(since, until)
    documents = sorted({answer.document for answer in period.answers})
    if document is not None:
        period = Period(
            since=period.since,
            until=period.until,
            answers=tuple(answer for answer in period.answers if answer.document == document),
            votes=period.votes,
        )
    elif len(documents) > 1:
        raise ValueError(
            f"feedback covers {len(documents)} documents ({', '.join(documents)}): "
            "export one at a time with --document"
        )
    return to_json_lines(confirmed_pairs(period, min_voters=min_voters))


async def report_from_url(
    url: str | None,
    *,
    state_dir: Path,
    days: int | None = None,
    now: datetime | None = None,
) -> str:
    async with open_store(url, state_dir=state_dir, timeout=REVIEW_TIMEOUT, create=False) as store:
        return await report_text(store, days=days, now=now)


async def export_from_url(
    url: str | None,
    *,
    state_dir: Path,
    days: int | None = None,
    now: datetime | None = None,
    document: str | None = None,
    min_voters: int = 1,
) -> str:
    async with open_store(url, state_dir=state_dir, timeout=REVIEW_TIMEOUT, create=False) as store:
        return await export_text(
            store, days=days, now=now, document=document, min_voters=min_voters
        )
