"""The feedback settings, checked at start-up like the others (one line, exit code 2)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from bot.config import ConfigError
from bot.feedback.database import parse_database_url
from bot.feedback.store import DEFAULT_RETENTION_DAYS, MIN_SALT_LENGTH

ON: Final = frozenset({"on", "true", "yes", "1"})
OFF: Final = frozenset({"off", "false", "no", "0"})
MAX_DAYS: Final = 3650


@dataclass(frozen=True)
class FeedbackSettings:
    enabled: bool = False
    database_url: str | None = field(default=None, repr=False)  # may hold a password
    days: int = DEFAULT_RETENTION_DAYS
    salt: str | None = field(default=None, repr=False)
    state_dir: Path = Path("state")


def feedback_settings(get: Callable[[str], str | None], state_dir: Path) -> FeedbackSettings:
    """Read FEEDBACK, FEEDBACK_DATABASE_URL, FEEDBACK_DAYS and FEEDBACK_SALT with `get`
    (which returns None for a missing or blank key). Raises ConfigError."""
    switch = (get("FEEDBACK") or "off").lower()
    if switch not in ON | OFF:
        raise ConfigError("FEEDBACK must be on or off.")
    url = get("FEEDBACK_DATABASE_URL")
    try:
        parse_database_url(url, state_dir)
    except ValueError as error:
        raise ConfigError(f"FEEDBACK_DATABASE_URL: {error}.") from None
    days_text = get("FEEDBACK_DAYS") or str(DEFAULT_RETENTION_DAYS)
    if not days_text.isdigit() or not 1 <= int(days_text) <= MAX_DAYS:
        raise ConfigError(f"FEEDBACK_DAYS must be a number of days from 1 to {MAX_DAYS}.")
    salt = get("FEEDBACK_SALT")
    if salt is not None and len(salt) < MIN_SALT_LENGTH:
        raise ConfigError(
            f"FEEDBACK_SALT must be at least {MIN_SALT_LENGTH} characters (a random secret); "
            f"leave it unset to have one generated in {state_dir}."
        )
    return FeedbackSettings(
        enabled=switch in ON,
        database_url=url,
        days=int(days_text),
        salt=salt,
        state_dir=state_dir,
    )
