"""Fixtures that run the real bot (``python -m bot``) against the fake Discord server.

Each test module gets one fake server and one bot process (module scope, module event loop), so
the suite pays the start-up cost a handful of times rather than once per test.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio

from .fake_discord import DEFAULT_TOKEN, FakeDiscord

REPO_ROOT = Path(__file__).resolve().parents[2]
BOT_ENV_KEYS = (
    "DISCORD_TOKEN",
    "DISCORD_API_URL",
    "DISCORD_GATEWAY_URL",
    "DISCORD_GUILD_ID",
    "DATA_DIR",
    "LOG_LEVEL",
    "SHARD_COUNT",
    "SHARD_IDS",
    "STARTUP_RETRY_SECONDS",
    "SHUTDOWN_GRACE_SECONDS",
    "STATE_DIR",
)
START_TIMEOUT = 30.0
# STATE_DIR for the bots a test does not give one, removed when the run ends.
RUN_STATE_DIR = Path(tempfile.mkdtemp(prefix="statement-bot-protocol-"))
atexit.register(shutil.rmtree, RUN_STATE_DIR, ignore_errors=True)
REPORT_KEY = pytest.StashKey[list[str]]()
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|Unhandled exception|Task exception")


@dataclass
class BotProcess:
    """A ``python -m bot`` subprocess whose output is drained continuously into memory."""

    process: asyncio.subprocess.Process
    started_at: float
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    _readers: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def start(cls, env: Mapping[str, str], *args: str) -> BotProcess:
        """Spawn ``python -m bot *args`` from the repository root with ``env`` on top of a
        cleaned environment."""
        # A developer's own Discord settings must not leak into the run; .env is ignored by
        # the bot for keys set here, and every key the bot reads is set here or removed.
        base = {k: v for k, v in os.environ.items() if k not in BOT_ENV_KEYS}
        base["PYTHONUNBUFFERED"] = "1"
        # The bot writes its index cache there: the run's own folder, not the repository's.
        base["STATE_DIR"] = str(RUN_STATE_DIR)
        base.pop("PYTHONDONTWRITEBYTECODE", None)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *args,
            cwd=REPO_ROOT,
            env={**base, **env},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=1024 * 1024,
        )
        bot = cls(process=process, started_at=time.monotonic())
        assert process.stdout is not None
        assert process.stderr is not None
        bot._readers = [
            asyncio.create_task(cls._drain(process.stdout, bot.stdout)),
            asyncio.create_task(cls._drain(process.stderr, bot.stderr)),
        ]
        return bot

    @staticmethod
    async def _drain(stream: asyncio.StreamReader, into: list[str]) -> None:
        while line := await stream.readline():
            into.append(line.decode("utf-8", "replace").rstrip("\n"))

    @property
    def stderr_text(self) -> str:
        """Everything the bot wrote to stderr so far."""
        return "\n".join(self.stderr)

    @property
    def output_lines(self) -> list[str]:
        """Non-blank lines of stdout and stderr."""
        return [line for line in [*self.stdout, *self.stderr] if line.strip()]

    def tracebacks(self) -> list[str]:
        """Lines of stderr that show an exception escaped somewhere."""
        return [line for line in self.stderr if TRACEBACK.search(line)]

    async def wait_exit(self, timeout: float) -> int:
        """Wait for the process to end by itself; returns its exit code."""
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            await self.stop()
            raise AssertionError(
                f"bot still running after {timeout}s; output:\n" + "\n".join(self.output_lines)
            ) from None
        await asyncio.gather(*self._readers)
        return code

    async def stop(self) -> int:
        """Ask the bot to stop (SIGINT, like Ctrl-C), then insist; returns the exit code."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        await asyncio.gather(*self._readers)
        assert self.process.returncode is not None
        return self.process.returncode


def bot_env(server: FakeDiscord, **overrides: str) -> dict[str, str]:
    """The environment that points the bot at ``server``; ``overrides`` win."""
    env = {
        "DISCORD_TOKEN": server.token,
        "DISCORD_API_URL": server.api_url,
        "DISCORD_GATEWAY_URL": server.gateway_url,
        "DISCORD_GUILD_ID": str(server.guild_id),
        "LOG_LEVEL": "INFO",
    }
    env.update(overrides)
    return env


async def start_serving_bot(server: FakeDiscord, **overrides: str) -> BotProcess:
    """Start the bot and wait until it identified, got its guild and synced its commands."""
    # Marks keep an earlier bot's start-up on the same server from counting for this one.
    frames, requests = server.frames.mark(), server.requests.mark()
    bot = await BotProcess.start(bot_env(server, **overrides))
    waiting = asyncio.gather(
        server.wait_until_ready(timeout=START_TIMEOUT, since=frames),
        server.wait_for_request(
            lambda r: r.route == "guild_commands" and r.method == "PUT" and r.ok,
            timeout=START_TIMEOUT,
            since=requests,
            what="the guild command sync",
        ),
    )
    exited = asyncio.ensure_future(bot.process.wait())
    done, _ = await asyncio.wait({waiting, exited}, return_when=asyncio.FIRST_COMPLETED)
    if exited in done:
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError, AssertionError):
            await waiting
        await asyncio.gather(*bot._readers)
        raise AssertionError(
            f"the bot exited with {bot.process.returncode} before serving:\n"
            + "\n".join(bot.output_lines[-40:])
        )
    exited.cancel()
    try:
        waiting.result()
    except AssertionError:
        await bot.stop()
        raise AssertionError(
            "the bot did not come up; its output:\n" + "\n".join(bot.output_lines[-40:])
        ) from None
    return bot


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fake() -> AsyncIterator[FakeDiscord]:
    """A fake Discord server for the whole module."""
    server = FakeDiscord(token=DEFAULT_TOKEN)
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeDiscord) -> AsyncIterator[BotProcess]:
    """The real bot, connected to ``fake`` and serving, for the whole module."""
    process = await start_serving_bot(fake)
    yield process
    await process.stop()


@pytest.fixture
def report(request: pytest.FixtureRequest) -> list[str]:
    """Lines to print in pytest's terminal summary (shown without ``-s``)."""
    return request.config.stash.setdefault(REPORT_KEY, [])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = terminalreporter.config.stash.get(REPORT_KEY, [])
    if lines:
        terminalreporter.section("protocol measurements")
        for line in lines:
            terminalreporter.write_line(line)
