"""Scenarios 1 and 12: how the real bot starts, what it registers, and how it refuses to start.

The command snapshot is rewritten with ``UPDATE_SNAPSHOTS=1``; review the diff before committing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .conftest import TRACEBACK, BotProcess, bot_env
from .fake_discord import JSON, FakeDiscord

pytestmark = pytest.mark.asyncio(loop_scope="module")

SNAPSHOT = Path(__file__).parent / "snapshots" / "guild_commands.json"
PRIVILEGED_INTENTS = {
    "GUILD_MEMBERS": 1 << 1,
    "GUILD_PRESENCES": 1 << 8,
    "MESSAGE_CONTENT": 1 << 15,
}
NEEDED_INTENTS = {"GUILDS": 1 << 0, "GUILD_MESSAGES": 1 << 9, "DIRECT_MESSAGES": 1 << 12}
# Shaped like a real token, so only the server can tell it is wrong.
REJECTED_TOKEN = "MTQwMDAwMDAwMDAwMDAwMDAwMQ.GfAkEd.a-different-token-the-server-rejects"
EXIT_TIMEOUT = 30.0


def normalized(commands: list[JSON]) -> str:
    """Commands as sorted, indented JSON: stable across runs, readable in a diff."""
    ordered = sorted(commands, key=lambda c: (c.get("type", 1), c["name"]))
    return json.dumps(ordered, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def by_name(commands: list[JSON]) -> dict[str, JSON]:
    return {c["name"]: c for c in commands}


def options(command: JSON) -> dict[str, JSON]:
    return {o["name"]: o for o in command.get("options") or []}


async def test_identifies_without_privileged_intents(fake: FakeDiscord, bot: BotProcess) -> None:
    identifies = fake.frames_in(2)
    assert len(identifies) == 1
    identify = identifies[0].d
    assert identify["token"] == fake.token
    intents = identify["intents"]
    assert all(intents & bit for bit in NEEDED_INTENTS.values()), bin(intents)
    privileged = [name for name, bit in PRIVILEGED_INTENTS.items() if intents & bit]
    assert not privileged, f"asks for privileged intents {privileged}"
    assert fake.connections.items[0].query["v"] == "10"


async def test_syncs_exactly_the_expected_commands_to_the_guild_only(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    puts = fake.requests.select(lambda r: r.route == "guild_commands" and r.method == "PUT")
    assert len(puts) == 1, "one guild sync at start"
    assert puts[0].params["guild"] == str(fake.guild_id)
    assert not fake.requests.select(lambda r: r.route == "global_commands" and r.method == "PUT")
    commands = by_name(puts[0].body)
    assert set(commands) == {"ask", "section", "paragraph", "about", "reload", "Find in statement"}

    ask = options(commands["ask"])
    assert ask["question"]["type"] == 3
    assert ask["question"]["required"] is True
    assert ask["private"]["type"] == 5
    assert not ask["private"].get("required")
    section = options(commands["section"])
    assert section["query"]["type"] == 3
    assert section["query"]["autocomplete"] is True
    assert not section["query"].get("required")
    number = options(commands["paragraph"])["number"]
    assert number["type"] == 4
    assert number["required"] is True
    assert not options(commands["about"])
    assert commands["Find in statement"]["type"] == 3
    for command in puts[0].body:
        if command.get("type", 1) == 1:
            assert 1 <= len(command["description"]) <= 100
            assert all(1 <= len(o["description"]) <= 100 for o in command.get("options") or [])


async def test_command_payload_matches_snapshot(fake: FakeDiscord, bot: BotProcess) -> None:
    put = fake.requests.select(lambda r: r.route == "guild_commands" and r.method == "PUT")[0]
    actual = normalized(put.body)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(actual, encoding="utf-8")
    assert SNAPSHOT.is_file(), f"no snapshot yet: run with UPDATE_SNAPSHOTS=1 to write {SNAPSHOT}"
    expected = normalized(json.loads(SNAPSHOT.read_text(encoding="utf-8")))
    assert actual == expected, "synced commands differ from the snapshot"


async def test_login_used_the_token_and_nothing_unexpected(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    me = fake.requests.select(lambda r: r.route == "get_me")
    assert me
    assert me[0].headers["Authorization"] == f"Bot {fake.token}"
    assert not fake.unknown_requests()
    assert not bot.tracebacks(), bot.stderr_text


async def start_failing(fake: FakeDiscord, **env: str) -> tuple[int, list[str]]:
    """Start the bot with a bad setting; return its exit code and non-blank output lines."""
    environment = bot_env(fake, **env)
    # The default log level is what a user who got a setting wrong would run with.
    environment.pop("LOG_LEVEL")
    process = await BotProcess.start(environment)
    code = await process.wait_exit(EXIT_TIMEOUT)
    return code, process.output_lines


def assert_one_clear_line(code: int, lines: list[str], *mentions: str) -> None:
    assert code != 0
    assert not [line for line in lines if TRACEBACK.search(line)], lines
    assert len(lines) == 1, f"expected one line of output, got {len(lines)}:\n" + "\n".join(lines)
    assert all(word in lines[0] for word in mentions), lines[0]


async def test_empty_data_dir_exits_with_one_line(fake: FakeDiscord, tmp_path: Path) -> None:
    code, lines = await start_failing(fake, DATA_DIR=str(tmp_path))
    assert_one_clear_line(code, lines, str(tmp_path))


async def test_missing_data_dir_exits_with_one_line(fake: FakeDiscord, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    code, lines = await start_failing(fake, DATA_DIR=str(missing))
    assert_one_clear_line(code, lines, str(missing))


@pytest.mark.parametrize("guild_id", ["not-a-number", "12", "1234567890123456789012345"])
async def test_malformed_guild_id_exits_with_one_line(fake: FakeDiscord, guild_id: str) -> None:
    code, lines = await start_failing(fake, DISCORD_GUILD_ID=guild_id)
    assert_one_clear_line(code, lines, "DISCORD_GUILD_ID")


async def test_rejected_token_exits_2_with_one_line(fake: FakeDiscord) -> None:
    mark = fake.requests.mark()
    code, lines = await start_failing(fake, DISCORD_TOKEN=REJECTED_TOKEN)
    rejected = fake.requests.select(lambda r: r.route == "get_me", mark)
    assert [r.status for r in rejected] == [401]
    assert rejected[0].headers["Authorization"] == f"Bot {REJECTED_TOKEN}"
    assert code == 2
    assert_one_clear_line(code, lines, "DISCORD_TOKEN")
    assert not fake.frames.select(lambda f: f.op == 2 and f.d.get("token") == REJECTED_TOKEN)
