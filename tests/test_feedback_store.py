"""The feedback store against both real back-ends: a SQLite file, and a PostgreSQL server
started for the session (skipped with its reason where PostgreSQL is not installed; in CI a
missing server fails instead)."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import stat
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.examples import parse_examples
from bot.feedback.migrations import LATEST_VERSION, MIGRATIONS
from bot.feedback.model import PICK_NONE, AnswerRecord, FeedbackUnavailable, VoteOutcome
from bot.feedback.review import export_from_url, export_text, report_from_url, report_text
from bot.feedback.store import SALT_FILE_NAME, make_store, open_store, purge_daily

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
DOC = "canada-gcm-panel-4-summary"
SALT = "a-test-salt-of-enough-length"
HOSTILE = (
    "line one\nline two\r\n\ttabbed",
    "\x1b[2J\x1b[31mred\x1b[0m and a bell\x07",
    "right-to-left \u202eevil\u202c and zero\u200bwidth \ufeff",
    "line\u2028separator\u2029paragraph \x85 next-line",
    "`code` **bold** @everyone <@123456789012345678> ||spoiler|| > quote",
    "'; DROP TABLE feedback_answers; --",
    "emoji 👍🏽 👨‍👩‍👧 and combining e\u0301\u0301\u0301",
    "backslash \\n is not a newline \\x1b",
    "x" * 300,
)


# ------------------------------------------------------------------------------- back-ends


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(backend, request, tmp_path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'feedback.sqlite3'}"
    cluster = request.getfixturevalue("postgres_cluster")
    return cluster.new_url()


@pytest.fixture
def state_dir(tmp_path) -> Path:
    return tmp_path / "state"


@pytest.fixture
async def store(database_url, state_dir):
    async with open_store(database_url, state_dir=state_dir, salt=SALT) as opened:
        yield opened


def answer(
    question: str = "Who should lead on migration data?",
    *,
    verdict: str = "answered",
    confidence: float = 0.8,
    shown: int | None = 6,
    asked_at: datetime = NOW,
    document: str = DOC,
) -> AnswerRecord:
    return AnswerRecord.new(
        document=document,
        question=question,
        verdict=verdict,  # type: ignore[arg-type]
        confidence=confidence,
        shown=shown,
        now=asked_at,
    )


async def everything(store) -> tuple:
    period = await store.period(NOW - timedelta(days=3650), NOW + timedelta(days=1))
    return period.answers, period.votes


# ------------------------------------------------------------------------------- migrations


async def test_migrations_run_once_and_again_change_nothing(database_url, state_dir):
    for _ in range(3):
        async with open_store(database_url, state_dir=state_dir, salt=SALT) as store:
            assert await store.applied_migrations() == [m.version for m in MIGRATIONS]
            assert await store.schema_version() == LATEST_VERSION


async def test_connections_starting_together_migrate_once(database_url, state_dir):
    # A long wait for the lock: on a busy machine four migrations in a row can take seconds.
    stores = [
        make_store(database_url, state_dir=state_dir, salt=SALT, timeout=30) for _ in range(4)
    ]
    try:
        await asyncio.gather(*(store.start() for store in stores))
        for store in stores:
            assert await store.applied_migrations() == [m.version for m in MIGRATIONS]
        # Each connection can write at once: nothing was left locked or half-migrated.
        await asyncio.gather(*(store.record_answer(answer()) for store in stores))
        assert len((await everything(stores[0]))[0]) == len(stores)
    finally:
        await asyncio.gather(*(store.close() for store in stores))


async def test_the_default_is_a_sqlite_file_in_wal_mode_under_the_state_dir(state_dir):
    async with open_store(None, state_dir=state_dir) as store:
        await store.record_answer(answer())
    path = state_dir / "feedback.sqlite3"
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.execute("SELECT count(*) FROM feedback_answers").fetchone() == (1,)


def run_sql(backend: str, database_url: str, request, sql: str) -> None:
    """SQL from outside the store, as another program would run it."""
    if backend == "sqlite":
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
            connection.execute(sql)
    else:
        cluster = request.getfixturevalue("postgres_cluster")
        cluster.psql(sql, schema=database_url.rsplit("search_path=", 1)[1])


# Started as separate processes; each waits for the go file so that all start at once.
STARTER = """
import asyncio, pathlib, sys, time
from bot.feedback.store import open_store

url, state_dir, go = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])

async def main():
    async with open_store(url, state_dir=state_dir, timeout=30) as store:
        print(await store.schema_version(), await store.voter_key(7))

while not go.exists():
    time.sleep(0.001)
asyncio.run(main())
"""


def test_processes_starting_together_migrate_once_and_share_one_salt(
    database_url, state_dir, tmp_path
):
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, database_url, str(state_dir), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        for _ in range(4)
    ]
    go.touch()
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0] * 4, outputs
    lines = {stdout.strip() for stdout, _ in outputs}
    assert len(lines) == 1  # one schema version, one salt
    assert lines.pop().split()[0] == str(LATEST_VERSION)
    assert [p.name for p in state_dir.iterdir()] == [SALT_FILE_NAME]  # no temporary left


async def test_a_schema_newer_than_the_bot_is_refused(
    store, backend, database_url, state_dir, request
):
    run_sql(
        backend,
        database_url,
        request,
        "INSERT INTO feedback_schema (version, name, applied_at)"
        f" VALUES ({LATEST_VERSION + 1}, 'from the future', '2030-01-01T00:00:00.000000Z')",
    )
    late = make_store(database_url, state_dir=state_dir, salt=SALT)
    with pytest.raises(FeedbackUnavailable, match="newer than this bot"):
        await late.start()
    await late.close()


async def test_review_does_not_create_a_missing_database(backend, tmp_path, request):
    if backend == "sqlite":
        url = str(tmp_path / "nothing-here.sqlite3")
    else:
        cluster = request.getfixturevalue("postgres_cluster")
        url = cluster.new_url()
    with pytest.raises(FeedbackUnavailable, match="no feedback"):
        await report_from_url(url, state_dir=tmp_path)
    assert not (tmp_path / "nothing-here.sqlite3").exists()


# ------------------------------------------------------------------------------- records


async def test_answers_are_read_back_as_recorded(store):
    first = answer(asked_at=NOW - timedelta(hours=1))
    second = answer(
        "What is climate migration?",
        verdict="not_addressed",
        confidence=0.0,
        shown=None,
        asked_at=NOW,
    )
    third = answer("The Forum?", verdict="closest", confidence=1.0, shown=5, document="other")
    for record in (second, first, third):
        await store.record_answer(record)
    answers, votes = await everything(store)
    assert set(answers) == {first, second, third}
    assert answers[0] == first  # oldest first
    assert all(record.asked_at.tzinfo is not None for record in answers)
    assert votes == ()
    assert all(len(record.id) <= 12 for record in answers)


@pytest.mark.parametrize("question", HOSTILE)
async def test_hostile_questions_are_stored_verbatim(store, question):
    record = answer(question)
    await store.record_answer(record)
    (stored,), _ = await everything(store)
    assert stored.question == question


async def test_characters_no_database_holds_become_replacement_characters(store):
    await store.record_answer(answer("nul\x00 and a lone surrogate \ud800 here"))
    (stored,), _ = await everything(store)
    assert stored.question == "nul\ufffd and a lone surrogate \ufffd here"


async def test_period_bounds_are_half_open(store):
    for hours in (0, 1, 2):
        await store.record_answer(answer(asked_at=NOW + timedelta(hours=hours)))
    period = await store.period(NOW, NOW + timedelta(hours=2))
    assert [a.asked_at for a in period.answers] == [NOW, NOW + timedelta(hours=1)]


# ------------------------------------------------------------------------------- votes


async def test_one_vote_per_voter_changeable(store):
    record = answer()
    await store.record_answer(record)
    alice, bob = 111111111111111111, 222222222222222222

    assert await store.vote(record.id, alice, up=True) is VoteOutcome.RECORDED
    assert await store.vote(record.id, alice, up=True) is VoteOutcome.UNCHANGED
    assert await store.vote(record.id, alice, up=False) is VoteOutcome.CHANGED
    assert await store.pick(record.id, alice, 3) is VoteOutcome.CHANGED
    # 👎 pressed again (the select shown again, then dismissed) keeps the paragraph picked.
    assert await store.vote(record.id, alice, up=False) is VoteOutcome.UNCHANGED
    assert await store.pick(record.id, bob, PICK_NONE) is VoteOutcome.RECORDED

    _, votes = await everything(store)
    by_pick = {vote.picked: vote for vote in votes}
    assert len(votes) == 2
    assert set(by_pick) == {3, PICK_NONE}
    assert not any(vote.up for vote in votes)

    assert await store.vote(record.id, alice, up=True) is VoteOutcome.CHANGED
    _, votes = await everything(store)
    alice_vote = next(vote for vote in votes if vote.up)
    assert alice_vote.picked is None  # a 👍 clears the pick


async def test_voters_are_stored_as_salted_hashes(store):
    record = answer()
    await store.record_answer(record)
    user_id = 123456789012345678
    await store.vote(record.id, user_id, up=True)
    _, (vote,) = await everything(store)
    assert str(user_id) not in vote.voter
    assert vote.voter == await store.voter_key(user_id)
    other = make_store(None, state_dir=Path("unused"), salt="another-salt-of-enough-length")
    assert await other.voter_key(user_id) != vote.voter


async def test_votes_on_unknown_answers_are_not_recorded(store):
    assert await store.vote("nosuchid", 1, up=True) is VoteOutcome.UNKNOWN_ANSWER
    assert await store.pick("x" * 40, 1, 2) is VoteOutcome.UNKNOWN_ANSWER
    assert await everything(store) == ((), ())


async def test_a_bad_pick_is_a_programming_error(store):
    record = answer()
    await store.record_answer(record)
    for bad in (0, -1, "3", True, None):
        with pytest.raises(ValueError, match="pick"):
            await store.pick(record.id, 1, bad)


async def test_generated_salt_is_kept_so_a_restart_counts_the_same_voter(database_url, state_dir):
    record = answer()
    async with open_store(database_url, state_dir=state_dir) as store:
        await store.record_answer(record)
        assert await store.vote(record.id, 42, up=True) is VoteOutcome.RECORDED
    salt_file = state_dir / SALT_FILE_NAME
    assert stat.S_IMODE(salt_file.stat().st_mode) == 0o600
    async with open_store(database_url, state_dir=state_dir) as store:
        assert await store.vote(record.id, 42, up=False) is VoteOutcome.CHANGED
        assert len((await everything(store))[1]) == 1


async def test_stores_starting_together_share_one_salt(database_url, state_dir):
    stores = [make_store(database_url, state_dir=state_dir) for _ in range(4)]
    keys = await asyncio.gather(*(store.voter_key(7) for store in stores))
    assert len(set(keys)) == 1
    assert [p.name for p in state_dir.iterdir()] == [SALT_FILE_NAME]  # no temporary left


# ------------------------------------------------------------------------------- retention


async def test_purge_removes_rows_older_than_the_retention(store):
    old = answer("old", asked_at=NOW - timedelta(days=91))
    edge = answer("edge", asked_at=NOW - timedelta(days=89, hours=23))
    new = answer("new", asked_at=NOW - timedelta(days=1))
    for record in (old, edge, new):
        await store.record_answer(record)
    await store.vote(old.id, 1, up=True, now=old.asked_at + timedelta(minutes=5))
    await store.vote(old.id, 2, up=False, now=NOW - timedelta(days=89))
    await store.vote(new.id, 1, up=True, now=NOW - timedelta(days=1))

    count = await store.purge(90, now=NOW)

    assert (count.answers, count.votes) == (1, 2)
    answers, votes = await everything(store)
    assert {a.question for a in answers} == {"edge", "new"}
    assert [v.answer_id for v in votes] == [new.id]
    assert (await store.purge(90, now=NOW)).answers == 0


async def test_purge_daily_purges_at_start_and_again(store):
    await store.record_answer(answer("ancient", asked_at=datetime.now(UTC) - timedelta(days=400)))
    task = asyncio.create_task(purge_daily(store, 90, interval=0.05))
    try:
        async with asyncio.timeout(30):
            while (await everything(store))[0]:
                await asyncio.sleep(0.01)
            await store.record_answer(
                answer("ancient too", asked_at=datetime.now(UTC) - timedelta(days=400))
            )
            while (await everything(store))[0]:
                await asyncio.sleep(0.01)
    finally:
        task.cancel()


# ------------------------------------------------------------------------------- review


async def record_scenario(store) -> dict[str, AnswerRecord]:
    """Three people, five questions, every kind of vote."""
    records = {
        "lead": answer("Who should lead on migration data?", shown=6, confidence=0.92),
        "lead again": answer("who should LEAD on  migration data?", shown=6, confidence=0.95),
        "forum": answer("What is the Forum?", verdict="closest", shown=4, confidence=0.35),
        "climate": answer(
            "What about climate?", verdict="not_addressed", shown=None, confidence=0.05
        ),
        "climate again": answer(
            "what about climate?", verdict="not_addressed", shown=None, confidence=0.07
        ),
        "hostile": answer(HOSTILE[0], verdict="closest", shown=2, confidence=0.41),
    }
    for minutes, (name, record) in enumerate(records.items()):
        # A minute apart: the earlier of two equally frequent spellings is the one reported.
        records[name] = replace(record, asked_at=NOW + timedelta(minutes=minutes))
        await store.record_answer(records[name])
    await store.vote(records["lead"].id, 1, up=True)
    await store.vote(records["lead again"].id, 2, up=True)
    await store.vote(records["forum"].id, 1, up=False)
    await store.pick(records["forum"].id, 1, 5)
    await store.pick(records["forum"].id, 2, 5)
    await store.pick(records["forum"].id, 3, PICK_NONE)
    await store.vote(records["climate"].id, 3, up=True)
    await store.vote(records["hostile"].id, 3, up=False)
    return records


async def test_report_through_the_store(store):
    await record_scenario(store)
    text = await report_text(store, days=30, now=NOW + timedelta(hours=1))
    lines = text.splitlines()
    assert "Questions: 6 (answered 2, closest 2, not addressed 2)" in lines
    assert "Votes: 7 (👍 3, 👎 4)" in lines
    assert "      2  What about climate?" in lines
    forum = next(line for line in lines if "¶4" in line and "picked:" in line)
    assert "closest 0.35" in forum
    assert "up 0 down 3  picked: ¶5 ×2, none (does not say) ×1" in forum
    assert "      line one\\nline two\\r\\n\\ttabbed" in lines
    assert "  ¶6        2   2     0     100%  canada-gcm-panel-4-summary" in lines
    assert "     0.9–1.0        2      2   2     0      100%  0.94" in lines
    assert "     0.0–0.1        2      0   0     0         –  –" in lines  # not-addressed answers


async def test_export_through_the_store_loads_as_example_questions(store, tmp_path):
    records = await record_scenario(store)
    text = await export_text(store, days=30, now=NOW + timedelta(hours=1))
    output = tmp_path / "feedback.jsonl"
    output.write_text(text, encoding="utf-8")
    examples = parse_examples(text, str(output), [2, 2, 3, 5, 4, 4])
    assert {(e.question, e.paragraph) for e in examples} == {
        ("Who should lead on migration data?", 6),  # two voters, two spellings: one pair
        ("What is the Forum?", 5),  # picked after 👎 by two voters
        ("What is the Forum?", None),  # picked "none"
        ("What about climate?", None),  # 👍 on "not addressed"
    }
    assert all(e.id.startswith("fb-") and e.sentence is None for e in examples)
    assert records["hostile"].question not in text  # 👎 with no pick confirms nothing


async def test_export_needs_a_document_when_several_are_recorded(store):
    await store.record_answer(answer(document="a"))
    await store.record_answer(answer(document="b"))
    with pytest.raises(ValueError, match="--document"):
        await export_text(store, now=NOW + timedelta(hours=1))
    assert await export_text(store, now=NOW + timedelta(hours=1), document="a") == ""


async def test_review_from_a_url(store, database_url, state_dir):
    await record_scenario(store)
    text = await report_from_url(database_url, state_dir=state_dir, now=NOW + timedelta(hours=1))
    assert "Questions: 6" in text
    lines = await export_from_url(database_url, state_dir=state_dir, now=NOW + timedelta(hours=1))
    assert len(lines.splitlines()) == 4


# ------------------------------------------------------------------------------- failures


@pytest.fixture
def blocker(backend, database_url, request):
    """Another program holding the write lock, for the store to wait on."""
    if backend == "sqlite":
        return SqliteLock(Path(database_url.removeprefix("sqlite:///")))
    request.getfixturevalue("postgres_cluster")
    return PostgresLock(database_url)


class SqliteLock:
    def __init__(self, path: Path) -> None:
        self.path = path

    async def acquire(self) -> None:
        self.connection = sqlite3.connect(self.path, isolation_level=None)
        self.connection.execute("BEGIN EXCLUSIVE")

    async def release(self) -> None:
        self.connection.rollback()
        self.connection.close()


class PostgresLock:
    def __init__(self, url: str) -> None:
        self.url = url

    async def acquire(self) -> None:
        import asyncpg

        self.connection = await asyncpg.connect(self.url)
        self.transaction = self.connection.transaction()
        await self.transaction.start()
        await self.connection.execute("LOCK TABLE feedback_answers IN ACCESS EXCLUSIVE MODE")

    async def release(self) -> None:
        await self.transaction.rollback()
        await self.connection.close()


async def test_a_locked_store_is_unavailable_then_recovers(database_url, state_dir, blocker):
    async with open_store(database_url, state_dir=state_dir, salt=SALT, timeout=0.3) as store:
        await blocker.acquire()
        try:
            with pytest.raises(FeedbackUnavailable) as raised:
                await store.record_answer(answer())
        finally:
            await blocker.release()
        assert "\n" not in str(raised.value)
        await store.record_answer(answer())
        assert len((await everything(store))[0]) == 1


async def test_waiting_on_a_lock_does_not_block_the_event_loop(database_url, state_dir, blocker):
    async with open_store(database_url, state_dir=state_dir, salt=SALT, timeout=30) as store:
        await blocker.acquire()

        releasing = asyncio.Event()

        async def release_after_a_few_ticks() -> None:
            for _ in range(3):
                await asyncio.sleep(0.01)
            releasing.set()
            await blocker.release()

        releaser = asyncio.create_task(release_after_a_few_ticks())
        # The write waits on the lock. Only the event loop, running the task above meanwhile,
        # can release it: a write that blocked the loop would wait out its timeout and fail.
        await store.record_answer(answer())
        assert releasing.is_set()
        await releaser
        assert len((await everything(store))[0]) == 1


async def test_sqlite_under_a_file_is_unavailable(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    store = make_store(str(tmp_path / "a-file" / "feedback.sqlite3"), state_dir=tmp_path)
    with pytest.raises(FeedbackUnavailable, match="cannot be used") as raised:
        await store.start()
    assert "\n" not in str(raised.value)
    with pytest.raises(FeedbackUnavailable):
        await store.record_answer(answer())
    await store.close()


async def test_sqlite_that_is_not_a_database_is_unavailable(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    path.write_bytes(b"this is not a database file, but it is long enough to look like one" * 20)
    with pytest.raises(FeedbackUnavailable, match="not a database"):
        async with open_store(str(path), state_dir=tmp_path):
            pass


@pytest.fixture
def small_filesystem(tmp_path):
    """A 256 KiB tmpfs of our own, to fill up or make read-only (needs root's mount)."""
    where = tmp_path / "mount"
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or 'not root'}")
    yield where
    if subprocess.run(["umount", str(where)], check=False).returncode:
        subprocess.run(["umount", "--lazy", str(where)], check=False)


async def test_sqlite_on_a_full_disk_is_unavailable_and_still_reads(small_filesystem):
    async with open_store(
        str(small_filesystem / "feedback.sqlite3"), state_dir=small_filesystem
    ) as store:
        recorded = 0

        async def fill() -> None:
            nonlocal recorded
            for _ in range(10_000):  # 3 MB of questions do not fit in 256 KiB
                await store.record_answer(answer("q" * 300))
                recorded += 1

        with pytest.raises(FeedbackUnavailable) as raised:
            await fill()
        assert "full" in str(raised.value) or "I/O" in str(raised.value)
        assert "\n" not in str(raised.value)
        assert recorded > 10
        assert len((await everything(store))[0]) == recorded


async def test_sqlite_on_a_read_only_filesystem_is_unavailable_then_recovers(small_filesystem):
    url = str(small_filesystem / "feedback.sqlite3")
    async with open_store(url, state_dir=small_filesystem) as store:
        await store.record_answer(answer())

    def remount(mode: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{mode}", str(small_filesystem)], check=True)

    remount("ro")
    store = make_store(url, state_dir=small_filesystem)
    try:
        with pytest.raises(FeedbackUnavailable, match="cannot be used") as raised:
            await store.start()
        assert "\n" not in str(raised.value)
        with pytest.raises(FeedbackUnavailable):
            await store.record_answer(answer())
    finally:
        remount("rw")
    try:
        await store.record_answer(answer())
        assert len((await everything(store))[0]) == 2
    finally:
        await store.close()


async def test_a_salt_that_cannot_be_written_makes_votes_unavailable(database_url, tmp_path):
    not_a_folder = tmp_path / "state-is-a-file"
    not_a_folder.write_text("")
    async with open_store(database_url, state_dir=not_a_folder) as store:
        record = answer()
        await store.record_answer(record)
        with pytest.raises(FeedbackUnavailable, match="salt file"):
            await store.vote(record.id, 1, up=True)


async def test_postgres_on_a_closed_port_is_unavailable(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = make_store(f"postgresql://feedback@127.0.0.1:{port}/postgres", state_dir=tmp_path)
    with pytest.raises(FeedbackUnavailable, match=rf"PostgreSQL 127.0.0.1:{port}/postgres"):
        await store.start()
    with pytest.raises(FeedbackUnavailable):
        await store.record_answer(answer())
    await store.close()


def tracebacks(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.exc_info]


async def test_postgres_stopped_mid_run_is_unavailable_then_recovers(
    postgres_cluster, tmp_path, caplog
):
    url = postgres_cluster.new_url()
    async with open_store(url, state_dir=tmp_path, salt=SALT) as store:
        await store.record_answer(answer())
        postgres_cluster.stop()
        try:
            for _ in range(2):  # the pooled connection is gone, then the server refuses
                with pytest.raises(FeedbackUnavailable) as raised:
                    await store.record_answer(answer())
                assert "\n" not in str(raised.value)
        finally:
            postgres_cluster.start()
        await store.record_answer(answer())
        assert len((await everything(store))[0]) == 2
    assert tracebacks(caplog) == []


async def test_postgres_down_at_start_is_used_once_it_is_up(postgres_cluster, tmp_path, caplog):
    url = postgres_cluster.new_url()
    store = make_store(url, state_dir=tmp_path, salt=SALT)
    postgres_cluster.stop()
    try:
        with pytest.raises(FeedbackUnavailable):
            await store.start()
    finally:
        postgres_cluster.start()
    try:
        await store.record_answer(answer())
        assert await store.applied_migrations() == [m.version for m in MIGRATIONS]
    finally:
        await store.close()
    assert tracebacks(caplog) == []


def test_a_password_never_shows(tmp_path):
    store = make_store("postgresql://bot:s3cret-pw@db.example:6543/fb", state_dir=tmp_path)
    assert "s3cret" not in repr(store)
    assert store.description == "PostgreSQL db.example:6543/fb"
