"""Sharding: two processes split the gateway's shards, and each guild is answered by its shard.

As an operator would run it: `python -m bot sync` once (global commands), then one process per
shard with SHARD_COUNT=2 and SHARD_IDS=0 or 1, against a server with four guilds.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from .conftest import BotProcess, bot_env
from .fake_discord import DEFAULT_TOKEN, FakeDiscord, answer_body, message_text, shard_of

pytestmark = pytest.mark.asyncio(loop_scope="module")

SHARDS = 2
GFMD = "What does Canada think of the GFMD?"


def shard_env(server: FakeDiscord, **settings: str) -> dict[str, str]:
    env = bot_env(server, **settings)
    # Several guilds: commands are global, synced once, not per guild at each start.
    env.pop("DISCORD_GUILD_ID")
    return env


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord(token=DEFAULT_TOKEN, guild_count=4, shard_count=SHARDS)
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shards(fake: FakeDiscord) -> AsyncIterator[list[BotProcess]]:
    sync = await BotProcess.start(shard_env(fake), "sync")
    assert await sync.wait_exit(30) == 0, sync.stderr_text
    processes = []
    for shard in range(SHARDS):
        mark = fake.ready.mark()
        process = await BotProcess.start(
            shard_env(fake, SHARD_COUNT=str(SHARDS), SHARD_IDS=str(shard))
        )
        processes.append(process)
        await fake.wait_for_ready(shard=(shard, SHARDS), since=mark, timeout=30)
    yield processes
    for process in processes:
        await process.stop()


async def test_the_commands_were_synced_globally_once(fake: FakeDiscord, shards) -> None:
    puts = fake.requests.select(lambda r: r.method == "PUT" and "commands" in r.path)
    assert [r.route for r in puts] == ["global_commands"]
    assert {c["name"] for c in fake.global_commands} >= {"ask", "section", "reload"}


async def test_each_process_identified_as_its_own_shard(fake: FakeDiscord, shards) -> None:
    identified = sorted(tuple(f.d["shard"]) for f in fake.frames_in(2))
    assert identified == [(0, SHARDS), (1, SHARDS)]


async def test_each_guild_is_answered_by_its_shard(fake: FakeDiscord, shards) -> None:
    assert {shard_of(g, SHARDS) for g in fake.guilds} == {0, 1}
    for guild_id in fake.guilds:
        state = await fake.send_slash("ask", {"question": GFMD}, guild_id=guild_id)
        answer = await fake.wait_for_answer(state, timeout=10)
        assert "¶5" in message_text(answer_body(answer))
        connection = fake.receiving_connection(state)
        assert connection is not None and connection.shard == (shard_of(guild_id, SHARDS), SHARDS)
        assert len(fake.answers_for(state)) == 1


async def test_a_shard_stops_cleanly_and_the_other_keeps_serving(fake: FakeDiscord, shards) -> None:
    first, second = shards
    first.process.send_signal(signal.SIGTERM)
    assert await first.wait_exit(30) == 0
    assert second.process.returncode is None
    guild = next(g for g in fake.guilds if shard_of(g, SHARDS) == 1)
    state = await fake.send_slash("ask", {"question": GFMD}, guild_id=guild)
    assert "¶5" in message_text(answer_body(await fake.wait_for_answer(state, timeout=10)))
    for process in shards:
        assert not process.tracebacks(), process.stderr_text
