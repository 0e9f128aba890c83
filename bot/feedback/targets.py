"""Where the feedback is stored, read from FEEDBACK_DATABASE_URL: a SQLite file or PostgreSQL.

Kept apart from the drivers, so that reading the settings imports neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit

DEFAULT_SQLITE_NAME: Final = "feedback.sqlite3"


@dataclass(frozen=True)
class SqliteTarget:
    path: Path


@dataclass(frozen=True)
class PostgresTarget:
    dsn: str  # may hold a password: never logged, never in a repr or a message

    def __repr__(self) -> str:
        return f"PostgresTarget({describe_postgres(self.dsn)!r})"


def parse_database_url(url: str | None, state_dir: Path) -> SqliteTarget | PostgresTarget:
    """`None` or "" → the SQLite file under `state_dir`; `sqlite:///relative`, `sqlite:////abs`
    or a bare path → SQLite; `postgresql://…` (or `postgres://…`) → PostgreSQL.
    Raises ValueError with a one-line reason naming no password."""
    if not url:
        return SqliteTarget(state_dir / DEFAULT_SQLITE_NAME)
    scheme, separator, rest = url.partition("://")
    if not separator:
        return SqliteTarget(Path(url))
    scheme = scheme.lower()
    if scheme == "sqlite":
        # sqlite:///relative/path and sqlite:////absolute/path, as SQLAlchemy spells them.
        if not rest.startswith("/") or rest == "/":
            raise ValueError("a SQLite URL is sqlite:///relative/path or sqlite:////absolute/path")
        return SqliteTarget(Path(unquote(rest[1:])))
    if scheme in ("postgresql", "postgres", "postgresql+asyncpg"):
        dsn = "postgresql://" + rest
        try:
            parts = urlsplit(dsn)
            parts.port  # noqa: B018 - raises ValueError on a port that is not a number
        except ValueError:
            raise ValueError("the PostgreSQL URL is malformed (check the host and port)") from None
        if not parts.hostname and "host=" not in parts.query:
            raise ValueError("a PostgreSQL URL needs a host: postgresql://user@host:5432/database")
        return PostgresTarget(dsn)
    raise ValueError(
        f"unsupported database URL scheme {scheme!r}: use a path, sqlite:///… or postgresql://…"
    )


def describe_postgres(dsn: str) -> str:
    """host:port/database, without user or password."""
    parts = urlsplit(dsn)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or '/'}"
