"""Settings, read once from the environment and `.env` into one frozen object."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from bot.feedback.targets import parse_database_url

DEFAULT_API_URL = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# A bot token is three dot-separated base64url parts; anything else cannot work, so say so early.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{10,}")


FEEDBACK_SWITCH = {"on": True, "true": True, "yes": True, "1": True}
FEEDBACK_SWITCH |= {"off": False, "false": False, "no": False, "0": False}
FEEDBACK_MAX_DAYS = 3650
FEEDBACK_DEFAULT_DAYS = 90
FEEDBACK_MIN_SALT_CHARS = 16


class ConfigError(Exception):
    """A setting is missing or wrong; the message says which one and how to fix it."""


@dataclass(frozen=True)
class FeedbackSettings:
    """Whether answers and votes are recorded, where, and for how long (README, Feedback)."""

    enabled: bool = False
    # May hold a password: kept out of repr and logs.
    database_url: str | None = field(default=None, repr=False)
    days: int = FEEDBACK_DEFAULT_DAYS
    # The secret that voters' ids are hashed with; generated in STATE_DIR when not set.
    salt: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Settings:
    """Everything the bot is configured with. The token is kept out of repr and logs."""

    token: str | None = field(default=None, repr=False)
    guild_id: int | None = None
    data_dir: Path = Path("data")
    # Where the bot keeps what it writes: the index cache, the feedback database.
    state_dir: Path = Path("state")
    log_level: str = "INFO"
    api_url: str = DEFAULT_API_URL
    gateway_url: str = DEFAULT_GATEWAY_URL
    # How long answers in flight may take to finish after SIGTERM or SIGINT.
    shutdown_grace_seconds: float = 10.0
    # How long start-up keeps retrying an unreachable Discord before giving up.
    startup_retry_seconds: float = 60.0
    # Gateway sharding: how many shards in all, and which of them this process runs.
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    feedback: FeedbackSettings = FeedbackSettings()

    @property
    def log_level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.log_level]


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Settings:
    """Read the settings; a real environment variable wins over the same key in `.env`."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)

    def get(key: str) -> str | None:
        value = values.get(key, "").strip()
        return value or None

    state_dir = Path(get("STATE_DIR") or "state")
    return Settings(
        token=_token(get("DISCORD_TOKEN")),
        guild_id=_guild_id(get("DISCORD_GUILD_ID")),
        data_dir=Path(get("DATA_DIR") or "data"),
        state_dir=state_dir,
        log_level=_log_level(get("LOG_LEVEL") or "INFO"),
        api_url=_url(
            get("DISCORD_API_URL") or DEFAULT_API_URL, "DISCORD_API_URL", ("http", "https")
        ),
        gateway_url=_url(
            get("DISCORD_GATEWAY_URL") or DEFAULT_GATEWAY_URL, "DISCORD_GATEWAY_URL", ("ws", "wss")
        ),
        shutdown_grace_seconds=_seconds("SHUTDOWN_GRACE_SECONDS", get, 10.0),
        startup_retry_seconds=_seconds("STARTUP_RETRY_SECONDS", get, 60.0),
        **_shards(get("SHARD_COUNT"), get("SHARD_IDS")),
        feedback=_feedback(get, state_dir),
    )


def _feedback(get: Callable[[str], str | None], state_dir: Path) -> FeedbackSettings:
    switch = (get("FEEDBACK") or "off").lower()
    if switch not in FEEDBACK_SWITCH:
        raise ConfigError("FEEDBACK must be on or off.")
    url = get("FEEDBACK_DATABASE_URL")
    try:
        parse_database_url(url, state_dir)
    except ValueError as error:
        raise ConfigError(f"FEEDBACK_DATABASE_URL: {error}.") from None
    days = get("FEEDBACK_DAYS") or str(FEEDBACK_DEFAULT_DAYS)
    if not days.isdigit() or not 1 <= int(days) <= FEEDBACK_MAX_DAYS:
        raise ConfigError(f"FEEDBACK_DAYS must be a number of days from 1 to {FEEDBACK_MAX_DAYS}.")
    salt = get("FEEDBACK_SALT")
    if salt is not None and len(salt) < FEEDBACK_MIN_SALT_CHARS:
        raise ConfigError(
            f"FEEDBACK_SALT must be at least {FEEDBACK_MIN_SALT_CHARS} characters (a random "
            f"secret); leave it unset to have one generated in {state_dir}."
        )
    return FeedbackSettings(FEEDBACK_SWITCH[switch], url, int(days), salt)


def _seconds(key: str, get: Callable[[str], str | None], default: float) -> float:
    if (value := get(key)) is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:
        raise ConfigError(f"{key} must be a number of seconds from 0 to 3600.")
    return seconds


def _shards(count: str | None, ids: str | None) -> dict[str, object]:
    """SHARD_COUNT, and SHARD_IDS as "0,1" or "0-3" (default: every shard)."""
    if count is None:
        if ids is not None:
            raise ConfigError("SHARD_IDS needs SHARD_COUNT, the number of shards in all.")
        return {}
    if not count.isdigit() or not 1 <= int(count) <= 10_000:
        raise ConfigError("SHARD_COUNT must be a whole number of shards from 1 to 10000.")
    total = int(count)
    if ids is None:
        return {"shard_count": total, "shard_ids": tuple(range(total))}
    chosen: list[int] = []
    for part in ids.replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if not first.isdigit() or not (last.isdigit() or not last):
            raise ConfigError('SHARD_IDS must list shard numbers, like "0,1" or "0-3".')
        chosen += range(int(first), int(last or first) + 1)
    if not chosen or max(chosen) >= total or len(set(chosen)) != len(chosen):
        raise ConfigError(
            f"SHARD_IDS must name different shards from 0 to {total - 1} (SHARD_COUNT is {total})."
        )
    return {"shard_count": total, "shard_ids": tuple(chosen)}


def _token(value: str | None) -> str | None:
    if value is None:
        return None
    if value.lower().startswith("bot "):
        raise ConfigError("DISCORD_TOKEN must be the bare token, without the 'Bot ' prefix.")
    if not TOKEN_SHAPE.fullmatch(value):
        raise ConfigError(
            "DISCORD_TOKEN does not look like a bot token; copy it again from the Developer "
            "Portal (Bot > Reset Token)."
        )
    return value


def _guild_id(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or not 15 <= len(value) <= 21:
        raise ConfigError(
            "DISCORD_GUILD_ID must be a server ID (a number of 17-20 digits); in Discord, "
            "enable Developer Mode and use 'Copy Server ID'."
        )
    return int(value)


def _log_level(value: str) -> str:
    level = value.upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}.")
    return level


def _url(value: str, key: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        raise ConfigError(f"{key} must be a {' or '.join(s + '://' for s in schemes)} URL.")
    return value.rstrip("/") if key == "DISCORD_API_URL" else value
