"""The schema, as numbered migrations applied in order at start, each once, in one transaction.

Each migration has a SQLite and a PostgreSQL form; they differ only in types. SQLite keeps times
as fixed-width UTC text ('2025-01-31T12:00:00.000000Z'), which sorts like the time it names;
PostgreSQL keeps timestamptz. Append new migrations; never edit one that has shipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sqlite: tuple[str, ...]
    postgresql: tuple[str, ...]


# Applied at the start of every migration run, inside the same transaction (and, on PostgreSQL,
# under the same advisory lock), so two processes starting together cannot both create it.
SCHEMA_TABLE: Final = {
    "sqlite": """
        CREATE TABLE IF NOT EXISTS feedback_schema (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TEXT NOT NULL
        )""",
    "postgresql": """
        CREATE TABLE IF NOT EXISTS feedback_schema (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL
        )""",
}

_ANSWERS = """
    CREATE TABLE feedback_answers (
        id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 12),
        asked_at {time} NOT NULL,
        document TEXT NOT NULL,
        question TEXT NOT NULL,
        verdict TEXT NOT NULL CHECK (verdict IN ('answered', 'closest', 'not_addressed')),
        confidence {real} NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
        shown INTEGER CHECK (shown >= 1)
    )"""

# One row per voter per answer: a changed vote replaces the row. `picked` is the paragraph chosen
# after 👎; `picked_none` says the voter chose "the statement does not say".
_VOTES = """
    CREATE TABLE feedback_votes (
        answer_id TEXT NOT NULL REFERENCES feedback_answers (id) ON DELETE CASCADE,
        voter TEXT NOT NULL,
        up {bool} NOT NULL,
        picked INTEGER CHECK (picked >= 1),
        picked_none {bool} NOT NULL,
        voted_at {time} NOT NULL,
        PRIMARY KEY (answer_id, voter),
        CHECK (NOT (picked_none AND picked IS NOT NULL)),
        CHECK (NOT up OR (picked IS NULL AND NOT picked_none))
    )"""

_INDEXES = (
    "CREATE INDEX feedback_answers_asked_at ON feedback_answers (asked_at)",
    "CREATE INDEX feedback_votes_voted_at ON feedback_votes (voted_at)",
)


def _initial(dialect: str) -> tuple[str, ...]:
    types = {
        "sqlite": {"time": "TEXT", "real": "REAL", "bool": "INTEGER"},
        "postgresql": {"time": "TIMESTAMPTZ", "real": "DOUBLE PRECISION", "bool": "BOOLEAN"},
    }[dialect]
    return (_ANSWERS.format(**types), _VOTES.format(**types), *_INDEXES)


MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(1, "answers and votes", _initial("sqlite"), _initial("postgresql")),
)
LATEST_VERSION: Final = MIGRATIONS[-1].version
