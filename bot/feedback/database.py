"""The two back-ends behind one small interface: transactions of parameterised SQL.

The store writes its SQL once, with `?` placeholders; each back-end connects, runs migrations
under its own lock, converts times, and turns every driver or OS failure into
FeedbackUnavailable with a one-line reason. Neither back-end blocks the event loop: aiosqlite
runs SQLite on its own thread, asyncpg is asynchronous.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

import aiosqlite

from bot.feedback.migrations import LATEST_VERSION, MIGRATIONS, SCHEMA_TABLE
from bot.feedback.model import FeedbackUnavailable, utc_now
from bot.feedback.targets import PostgresTarget, SqliteTarget, describe_postgres

log = logging.getLogger(__name__)

# Any fixed number: it names the lock PostgreSQL holds while one process migrates.
MIGRATION_LOCK_KEY: Final = 0x5EED_BAC4
SQLITE_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"

Dialect = Literal["sqlite", "postgresql"]
Row = Sequence[Any]


class Connection(ABC):
    """A connection inside a transaction."""

    @abstractmethod
    async def execute(self, sql: str, *args: object) -> int:
        """Run one statement; return the number of rows it changed."""

    @abstractmethod
    async def fetch(self, sql: str, *args: object) -> list[Row]:
        """Run one query; return its rows as sequences in column order."""


class Database(ABC):
    dialect: Dialect
    description: str  # for log lines and error reasons: never a password

    @abstractmethod
    async def connect(self, *, create: bool) -> None:
        """Connect and bring the schema to LATEST_VERSION; safe when processes start together."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def transaction(self, *, write: bool) -> Any:
        """An async context manager yielding a Connection; commits on success."""

    @abstractmethod
    def time_to_db(self, moment: datetime) -> object: ...

    @abstractmethod
    def time_from_db(self, value: Any) -> datetime: ...

    async def _migrate(self, connection: Connection) -> None:
        """Run inside the caller's locked write transaction."""
        await connection.execute(SCHEMA_TABLE[self.dialect])
        applied = {row[0] for row in await connection.fetch("SELECT version FROM feedback_schema")}
        newest = max(applied, default=0)
        if newest > LATEST_VERSION:
            raise FeedbackUnavailable(
                f"the feedback database {self.description} has schema version {newest}, newer "
                f"than this bot's {LATEST_VERSION}: upgrade the bot"
            )
        for migration in MIGRATIONS:
            if migration.version in applied:
                continue
            for statement in getattr(migration, self.dialect):
                await connection.execute(statement)
            await connection.execute(
                "INSERT INTO feedback_schema (version, name, applied_at) VALUES (?, ?, ?)",
                migration.version,
                migration.name,
                self.time_to_db(utc_now()),
            )
            log.info(
                "feedback store: applied migration %d (%s) to %s",
                migration.version,
                migration.name,
                self.description,
            )


# ---------------------------------------------------------------------------------- SQLite


class _SqliteConnection(Connection):
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, *args: object) -> int:
        cursor = await self._connection.execute(sql, args)
        changed = cursor.rowcount
        await cursor.close()
        return max(changed, 0)

    async def fetch(self, sql: str, *args: object) -> list[Row]:
        cursor = await self._connection.execute(sql, args)
        rows = await cursor.fetchall()
        await cursor.close()
        return list(rows)


# How often a start retries the switch to WAL while another process makes it.
WAL_SWITCH_RETRY_S = 0.02


def _is_busy(error: BaseException) -> bool:
    code = getattr(error, "sqlite_errorname", "")
    return code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(error)


def _sqlite_reason(error: BaseException, path: Path) -> str:
    if _is_busy(error):
        return f"the SQLite database {path} is locked by another process"
    return f"the SQLite database {path} cannot be used: {error}"


class SqliteDatabase(Database):
    """One connection per process, serialised by a lock; WAL lets other processes read
    while one writes, and the busy timeout makes a writer wait its turn before giving up."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: Path, *, timeout: float) -> None:
        self.path = path
        self.description = f"SQLite {path}"
        self._timeout = timeout
        self._connection: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._create = True  # as asked at start; a later reconnection does the same

    async def connect(self, *, create: bool) -> None:
        self._create = create
        async with self._lock, self._guard():
            if self._connection is not None:
                return
            if not create and not await asyncio.to_thread(self.path.is_file):
                raise FeedbackUnavailable(f"no feedback database at {self.path}")
            await asyncio.to_thread(self.path.parent.mkdir, parents=True, exist_ok=True)
            connection = await aiosqlite.connect(
                self.path, timeout=self._timeout, isolation_level=None
            )
            try:
                await self._use_wal(connection)
                await connection.execute("PRAGMA foreign_keys=ON")
                # With WAL, NORMAL syncs at checkpoints only: a power cut can lose the last
                # votes, never corrupt the file. Feedback is worth that trade for the write speed.
                await connection.execute("PRAGMA synchronous=NORMAL")
                await connection.execute("BEGIN IMMEDIATE")
                try:
                    await self._migrate(_SqliteConnection(connection))
                    await connection.commit()
                except BaseException:
                    await connection.rollback()
                    raise
            except BaseException:
                await connection.close()
                raise
            self._connection = connection

    async def _use_wal(self, connection: aiosqlite.Connection) -> None:
        """journal_mode=WAL is a property of the file: set once, kept by every process.

        Switching needs the file to itself, and SQLite answers "locked" at once, without its
        busy timeout, while another process switches the same new file: wait that out too.
        """
        deadline = asyncio.get_running_loop().time() + self._timeout
        while True:
            try:
                await connection.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or asyncio.get_running_loop().time() >= deadline:
                    raise
            await asyncio.sleep(WAL_SWITCH_RETRY_S)

    async def close(self) -> None:
        async with self._lock:
            if self._connection is not None:
                connection, self._connection = self._connection, None
                try:
                    await connection.close()
                except (sqlite3.Error, OSError) as error:
                    log.warning("feedback store: closing %s: %s", self.description, error)

    @asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        """Call with the lock held."""
        try:
            yield
        except FeedbackUnavailable:
            raise
        except (sqlite3.Error, OSError) as error:
            if not _is_busy(error) and self._connection is not None:
                # Anything but a lock held elsewhere (an I/O error, a replaced or corrupt file):
                # start afresh with the next operation.
                connection, self._connection = self._connection, None
                with contextlib.suppress(sqlite3.Error, OSError):
                    await connection.close()
            raise FeedbackUnavailable(_sqlite_reason(error, self.path)) from error

    @asynccontextmanager
    async def transaction(self, *, write: bool) -> AsyncIterator[Connection]:
        if self._connection is None:
            await self.connect(create=self._create)
        async with self._lock, self._guard():
            connection = self._connection
            if connection is None:  # closed while we waited for the lock
                raise FeedbackUnavailable(f"the feedback store {self.description} is closed")
            # IMMEDIATE takes the write lock up front, so a writer waits at BEGIN (within the
            # busy timeout) rather than failing halfway through.
            await connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield _SqliteConnection(connection)
                await connection.commit()
            except BaseException:
                await connection.rollback()
                raise

    def time_to_db(self, moment: datetime) -> str:
        return moment.astimezone(UTC).strftime(SQLITE_TIME_FORMAT)

    def time_from_db(self, value: Any) -> datetime:
        return datetime.strptime(value, SQLITE_TIME_FORMAT).replace(tzinfo=UTC)


# ---------------------------------------------------------------------------------- PostgreSQL

_PLACEHOLDER = re.compile(r"\?")


def _numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's $1, $2, … (our SQL has no `?` in literals)."""
    counter = iter(range(1, 10_000))
    return _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)


class _PostgresConnection(Connection):
    def __init__(self, connection: Any) -> None:
        self._connection = connection

    async def execute(self, sql: str, *args: object) -> int:
        status = await self._connection.execute(_numbered(sql), *args)
        # asyncpg returns the command tag, e.g. "DELETE 3" or "INSERT 0 1".
        last = status.rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else 0

    async def fetch(self, sql: str, *args: object) -> list[Row]:
        return [tuple(record) for record in await self._connection.fetch(_numbered(sql), *args)]


class PostgresDatabase(Database):
    """A small connection pool; it replaces connections lost when the server restarts."""

    dialect: Dialect = "postgresql"

    def __init__(self, dsn: str, *, timeout: float, max_connections: int = 4) -> None:
        self._dsn = dsn
        self.description = f"PostgreSQL {describe_postgres(dsn)}"
        self._timeout = timeout
        self._max_connections = max_connections
        self._pool: Any = None
        self._connect_lock = asyncio.Lock()
        self._create = True

    def __repr__(self) -> str:
        return f"PostgresDatabase({self.description!r})"

    async def connect(self, *, create: bool) -> None:
        import asyncpg  # only a PostgreSQL deployment pays for loading it

        self._create = create
        async with self._connect_lock, self._guard():
            if self._pool is not None:
                return
            pool = await asyncpg.create_pool(
                self._dsn,
                # No floor: asyncpg would keep restoring it in the background while the server
                # is down, logging a traceback each time. Connections open when needed.
                min_size=0,
                max_size=self._max_connections,
                timeout=self._timeout,
                command_timeout=self._timeout,
            )
            try:
                async with pool.acquire(timeout=self._timeout) as connection:
                    if not create and not await connection.fetchval(
                        "SELECT to_regclass('feedback_schema') IS NOT NULL"
                    ):
                        raise FeedbackUnavailable(f"no feedback tables in {self.description}")
                    async with connection.transaction():
                        # Two processes starting together: the second waits here, then finds
                        # every migration applied.
                        await connection.execute(
                            "SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY
                        )
                        await self._migrate(_PostgresConnection(connection))
            except BaseException:
                pool.terminate()
                raise
            self._pool = pool

    async def close(self) -> None:
        async with self._connect_lock:
            if self._pool is not None:
                pool, self._pool = self._pool, None
                try:
                    await asyncio.wait_for(pool.close(), self._timeout)
                except Exception:
                    pool.terminate()
                except asyncio.CancelledError:
                    pool.terminate()
                    raise

    @asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        import asyncpg

        try:
            yield
        except FeedbackUnavailable:
            raise
        except (
            asyncpg.PostgresError,
            asyncpg.InterfaceError,
            asyncpg.InternalClientError,
            OSError,
            TimeoutError,
        ) as error:
            detail = str(error) or type(error).__name__
            raise FeedbackUnavailable(
                f"the feedback database {self.description} cannot be used: {detail}"
            ) from error

    @asynccontextmanager
    async def transaction(self, *, write: bool) -> AsyncIterator[Connection]:
        if self._pool is None:
            await self.connect(create=self._create)
        async with self._guard():
            pool = self._pool
            if pool is None:
                raise FeedbackUnavailable(f"the feedback store {self.description} is closed")
            async with (
                pool.acquire(timeout=self._timeout) as connection,
                connection.transaction(readonly=not write),
            ):
                yield _PostgresConnection(connection)

    def time_to_db(self, moment: datetime) -> datetime:
        return moment.astimezone(UTC)

    def time_from_db(self, value: Any) -> datetime:
        return value.astimezone(UTC)


def open_database(
    target: SqliteTarget | PostgresTarget, *, timeout: float
) -> SqliteDatabase | PostgresDatabase:
    if isinstance(target, SqliteTarget):
        return SqliteDatabase(target.path, timeout=timeout)
    return PostgresDatabase(target.dsn, timeout=timeout)
