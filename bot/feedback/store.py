"""FeedbackStore: record answers and votes, purge old rows, read a period back for review.

Every method is a coroutine that never blocks the event loop, and every failure of the
database, the disk or the network surfaces as FeedbackUnavailable with a one-line reason: the
bot answers anyway, says "could not record" to a voter, and logs that one line.
A store that could not connect tries again at its next operation.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from bot.feedback.database import Database, open_database
from bot.feedback.model import (
    ANSWER_ID_PATTERN,
    PICK_NONE,
    AnswerRecord,
    FeedbackUnavailable,
    Period,
    Pick,
    PurgeCount,
    VoteOutcome,
    VoteRecord,
    check_pick,
    storable_text,
    utc_now,
)
from bot.feedback.targets import PostgresTarget, SqliteTarget, parse_database_url

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = 2.0  # seconds; a Discord interaction must be acknowledged within 3
DEFAULT_RETENTION_DAYS: Final = 90
SALT_FILE_NAME: Final = "feedback-salt"
MIN_SALT_LENGTH: Final = 16
SECONDS_PER_DAY: Final = 86_400.0


class FeedbackStore:
    def __init__(self, database: Database, *, salt: str | None, state_dir: Path) -> None:
        self._database = database
        self._salt = salt.encode() if salt else None
        self._state_dir = state_dir

    def __repr__(self) -> str:
        return f"FeedbackStore({self._database.description!r})"

    @property
    def description(self) -> str:
        """Where the store is, for a log line: never a password."""
        return self._database.description

    async def start(self, *, create: bool = True) -> None:
        """Connect and migrate the schema. Raises FeedbackUnavailable; the store stays usable
        and tries again at its next operation."""
        await self._database.connect(create=create)

    async def close(self) -> None:
        await self._database.close()

    async def applied_migrations(self) -> list[int]:
        async with self._database.transaction(write=False) as connection:
            rows = await connection.fetch("SELECT version FROM feedback_schema ORDER BY version")
        return [int(row[0]) for row in rows]

    async def schema_version(self) -> int:
        return max(await self.applied_migrations(), default=0)

    async def record_answer(self, answer: AnswerRecord) -> None:
        async with self._database.transaction(write=True) as connection:
            await connection.execute(
                "INSERT INTO feedback_answers"
                " (id, asked_at, document, question, verdict, confidence, shown)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                answer.id,
                self._database.time_to_db(answer.asked_at),
                answer.document,
                storable_text(answer.question),
                answer.verdict,
                answer.confidence,
                answer.shown,
            )

    async def vote(
        self, answer_id: str, user_id: int, *, up: bool, now: datetime | None = None
    ) -> VoteOutcome:
        """👍 or 👎. A 👍 clears any paragraph picked; a repeated 👎 keeps the one picked."""
        return await self._upsert_vote(answer_id, user_id, up=up, picked=None, now=now)

    async def pick(
        self, answer_id: str, user_id: int, picked: Pick, *, now: datetime | None = None
    ) -> VoteOutcome:
        """The paragraph chosen after 👎 (or PICK_NONE): records a 👎 with that pick."""
        if picked is None:
            raise ValueError("pick() needs a paragraph number or PICK_NONE")
        return await self._upsert_vote(answer_id, user_id, up=False, picked=picked, now=now)

    async def purge(self, older_than_days: int, *, now: datetime | None = None) -> PurgeCount:
        """Delete answers asked and votes cast more than `older_than_days` days ago."""
        if older_than_days < 1:
            raise ValueError("keep feedback for at least one day")
        cutoff = self._database.time_to_db((now or utc_now()) - timedelta(days=older_than_days))
        async with self._database.transaction(write=True) as connection:
            # Votes first and explicitly, so they are counted and go even where a database
            # ignores ON DELETE CASCADE.
            votes = await connection.execute(
                "DELETE FROM feedback_votes WHERE voted_at < ? OR answer_id IN"
                " (SELECT id FROM feedback_answers WHERE asked_at < ?)",
                cutoff,
                cutoff,
            )
            answers = await connection.execute(
                "DELETE FROM feedback_answers WHERE asked_at < ?", cutoff
            )
        return PurgeCount(answers=answers, votes=votes)

    async def period(self, since: datetime, until: datetime) -> Period:
        """The answers asked in [since, until), oldest first, and every vote on them."""
        low, high = self._database.time_to_db(since), self._database.time_to_db(until)
        async with self._database.transaction(write=False) as connection:
            answer_rows = await connection.fetch(
                "SELECT id, asked_at, document, question, verdict, confidence, shown"
                " FROM feedback_answers WHERE asked_at >= ? AND asked_at < ?"
                " ORDER BY asked_at, id",
                low,
                high,
            )
            vote_rows = await connection.fetch(
                "SELECT v.answer_id, v.voter, v.up, v.picked, v.picked_none, v.voted_at"
                " FROM feedback_votes v JOIN feedback_answers a ON a.id = v.answer_id"
                " WHERE a.asked_at >= ? AND a.asked_at < ?"
                " ORDER BY v.voted_at, v.answer_id, v.voter",
                low,
                high,
            )
        to_time = self._database.time_from_db
        answers = tuple(
            AnswerRecord(
                id=row[0],
                asked_at=to_time(row[1]),
                document=row[2],
                question=row[3],
                verdict=row[4],
                confidence=float(row[5]),
                shown=row[6],
            )
            for row in answer_rows
        )
        votes = tuple(
            VoteRecord(
                answer_id=row[0],
                voter=row[1],
                up=bool(row[2]),
                picked=PICK_NONE if row[4] else row[3],
                voted_at=to_time(row[5]),
            )
            for row in vote_rows
        )
        return Period(since=since, until=until, answers=answers, votes=votes)

    async def voter_key(self, user_id: int) -> str:
        """The salted hash kept instead of a user id: enough to count one vote per person."""
        if self._salt is None:
            self._salt = await asyncio.to_thread(self._load_or_create_salt)
        return hmac.new(self._salt, str(user_id).encode(), hashlib.sha256).hexdigest()[:32]

    def _load_or_create_salt(self) -> bytes:
        path = self._state_dir / SALT_FILE_NAME
        try:
            return _read_salt(path)
        except FileNotFoundError:
            pass
        except OSError as error:
            raise FeedbackUnavailable(f"cannot read the salt file {path}: {error}") from error
        try:
            self._state_dir.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{SALT_FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="ascii") as file:
                file.write(secrets.token_hex(32) + "\n")
            try:
                # link() fails if the name exists: of two processes starting together, the
                # first one's salt wins and the other reads it, complete.
                os.link(temporary, path)
            except FileExistsError:
                pass
            finally:
                temporary.unlink()
            return _read_salt(path)
        except OSError as error:
            raise FeedbackUnavailable(f"cannot create the salt file {path}: {error}") from error

    async def _upsert_vote(
        self, answer_id: str, user_id: int, *, up: bool, picked: Pick, now: datetime | None
    ) -> VoteOutcome:
        picked = check_pick(picked)
        if not ANSWER_ID_PATTERN.fullmatch(answer_id):
            return VoteOutcome.UNKNOWN_ANSWER
        voter = await self.voter_key(user_id)
        voted_at = self._database.time_to_db(now or utc_now())
        async with self._database.transaction(write=True) as connection:
            rows = await connection.fetch(
                "SELECT a.id, v.up, v.picked, v.picked_none FROM feedback_answers a"
                " LEFT JOIN feedback_votes v ON v.answer_id = a.id AND v.voter = ?"
                " WHERE a.id = ?",
                voter,
                answer_id,
            )
            if not rows:
                return VoteOutcome.UNKNOWN_ANSWER
            _, before_up, before_picked, before_none = rows[0]
            before: tuple[bool, Pick] | None = None
            if before_up is not None:
                before = (bool(before_up), PICK_NONE if before_none else before_picked)
                if not up and picked is None and not before[0]:
                    picked = before[1]  # 👎 pressed again: keep what was picked
            await connection.execute(
                "INSERT INTO feedback_votes (answer_id, voter, up, picked, picked_none, voted_at)"
                " VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (answer_id, voter) DO UPDATE SET up = excluded.up,"
                " picked = excluded.picked, picked_none = excluded.picked_none,"
                " voted_at = excluded.voted_at",
                answer_id,
                voter,
                up,
                picked if isinstance(picked, int) else None,
                picked == PICK_NONE,
                voted_at,
            )
        if before is None:
            return VoteOutcome.RECORDED
        return VoteOutcome.UNCHANGED if before == (up, picked) else VoteOutcome.CHANGED


def _read_salt(path: Path) -> bytes:
    salt = path.read_text(encoding="ascii").strip()
    if len(salt) < MIN_SALT_LENGTH:
        raise OSError(f"the salt in {path} is shorter than {MIN_SALT_LENGTH} characters")
    return salt.encode()


def make_store(
    url: str | None,
    *,
    state_dir: Path,
    salt: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> FeedbackStore:
    """A store for FEEDBACK_DATABASE_URL (see parse_database_url), not yet connected.
    Raises ValueError for a URL that cannot work. Without `salt`, one is generated once into
    `state_dir`, at the first vote."""
    target: SqliteTarget | PostgresTarget = parse_database_url(url, state_dir)
    return FeedbackStore(open_database(target, timeout=timeout), salt=salt, state_dir=state_dir)


@asynccontextmanager
async def open_store(
    url: str | None,
    *,
    state_dir: Path,
    salt: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    create: bool = True,
) -> AsyncIterator[FeedbackStore]:
    """A started store, closed on exit. Raises FeedbackUnavailable if it cannot start."""
    store = make_store(url, state_dir=state_dir, salt=salt, timeout=timeout)
    try:
        await store.start(create=create)
        yield store
    finally:
        await store.close()


async def purge_and_log(store: FeedbackStore, days: int) -> PurgeCount | None:
    """One retention pass, logged in one line; None when the store is unavailable."""
    try:
        count = await store.purge(days)
    except FeedbackUnavailable as error:
        log.warning("feedback store: purge skipped: %s", error)
        return None
    if count.answers or count.votes:
        log.info(
            "feedback store: purged %d answers and %d votes older than %d days",
            count.answers,
            count.votes,
            days,
        )
    return count


async def purge_daily(
    store: FeedbackStore, days: int, *, interval: float = SECONDS_PER_DAY
) -> None:
    """Purge now and then every `interval` seconds, until cancelled (run it as a task)."""
    while True:
        await purge_and_log(store, days)
        await asyncio.sleep(interval)
