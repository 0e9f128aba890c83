"""Running the bot: start-up with bounded retries, signals, a graceful drain and a clean close.

Everything here acts on the process (signals, discord.py's class attributes, exit codes), which
is why it is kept apart from create_bot: tests build many bots, but only `python -m bot` runs one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import aiohttp
import discord
import yarl

from bot.app import StatementBot, create_bot
from bot.config import ConfigError, Settings
from bot.library import Library

if TYPE_CHECKING:
    from bot.feedback.store import FeedbackStore

log = logging.getLogger(__name__)
T = TypeVar("T")

# discord.py names the tasks that run handlers; these are the ones that may be answering someone.
HANDLER_TASK_PREFIXES = ("CommandTree-invoker", "discord.py: on_", "discord-ui-")
RETRY_FIRST_DELAY = 1.0
RETRY_MAX_DELAY = 15.0
PROBE_TIMEOUT = 10.0
# Interactions sent just before a stop signal may still be in the socket: the drain ends only
# after this long with no handler running.
DRAIN_QUIET_SECONDS = 0.5
# Discord's error code when a bot asks for a server it is not in.
MISSING_ACCESS = 50001

MISSING_TOKEN = "DISCORD_TOKEN is not set; add it to .env (see .env.example)."
REJECTED_TOKEN = (
    "Discord rejected DISCORD_TOKEN; copy a fresh token from the Developer Portal "
    "(Bot > Reset Token) into .env."
)
# Gateway close codes that mean the configuration is wrong, and what to change.
CONFIG_CLOSE_CODES = {
    4004: REJECTED_TOKEN,
    4010: "Discord refused the shard: SHARD_IDS must be below SHARD_COUNT.",
    4011: "Discord requires sharding for this many servers: set SHARD_COUNT (see README).",
    4013: "Discord refused the bot's gateway intents (4013); use a supported discord.py version.",
    4014: (
        "Discord refused a privileged gateway intent (4014); the bot needs none: in the Developer "
        "Portal (Bot > Privileged Gateway Intents) check the application, or use a fresh token."
    ),
}


class StartupError(Exception):
    """Discord could not be reached within STARTUP_RETRY_SECONDS; the message says so in a line."""


def prepare_discord(settings: Settings) -> None:
    """Point discord.py at the configured API and gateway, and make its failures one line each.

    discord.py reads the endpoints from class attributes, so this is process-wide: it is done
    where the bot is run, never where one is only built (the unit tests build many).
    """
    discord.http.Route.BASE = settings.api_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)
    # A text-only bot: warnings that voice needs PyNaCl and davey are noise.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
    for name in ("discord.client", "discord.shard"):
        logging.getLogger(name).addFilter(one_line_reconnects)


def one_line_reconnects(record: logging.LogRecord) -> bool:
    """discord.py logs each reconnect attempt with a traceback; a network blip is one line."""
    if record.exc_info and record.levelno < logging.CRITICAL:
        error = record.exc_info[1]
        record.msg = f"{record.msg} ({type(error).__name__}: {error})"
        record.exc_info = None
        record.exc_text = None
    return True


def _token(settings: Settings) -> str:
    if settings.token is None:
        raise ConfigError(MISSING_TOKEN)
    return settings.token


async def _retrying(
    attempt: Callable[[], Awaitable[T]], what: str, settings: Settings, deadline: float
) -> T:
    """attempt() until it stops failing for network reasons or the start-up deadline passes."""
    loop = asyncio.get_running_loop()
    delay = RETRY_FIRST_DELAY
    while True:
        try:
            # discord.py retries a 5xx itself for about 25 s; the deadline bounds that too.
            return await asyncio.wait_for(attempt(), max(deadline - loop.time(), RETRY_FIRST_DELAY))
        except (OSError, aiohttp.ClientError, TimeoutError, discord.DiscordServerError) as exc:
            reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise StartupError(
                    f"could not {what} in {settings.startup_retry_seconds:g} s ({reason}); check "
                    "the network, DISCORD_API_URL and DISCORD_GATEWAY_URL, or raise "
                    "STARTUP_RETRY_SECONDS."
                ) from None
            wait = min(delay, remaining)
            log.warning("could not %s (%s); retrying in %.1f s", what, reason, wait)
            await asyncio.sleep(wait)
            delay = min(delay * 2, RETRY_MAX_DELAY)


async def _probe_api(session: aiohttp.ClientSession, settings: Settings) -> None:
    async with session.get(f"{settings.api_url}/gateway") as response:
        if response.status >= 500:
            raise aiohttp.ClientResponseError(
                response.request_info, (), status=response.status, message=response.reason or ""
            )


async def _probe_gateway(session: aiohttp.ClientSession, settings: Settings) -> None:
    url = yarl.URL(settings.gateway_url).with_query(v="10", encoding="json")
    async with session.ws_connect(url, heartbeat=None):
        pass


async def _wait_until_reachable(settings: Settings, deadline: float) -> None:
    """Wait, with backoff, until Discord's API and gateway answer.

    discord.py can retry a connection that dropped, but not a first one that failed (it has no
    session to resume), so start-up checks that both ends are there before it connects.
    """
    timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await _retrying(lambda: _probe_api(session, settings), "reach the API", settings, deadline)
        await _retrying(
            lambda: _probe_gateway(session, settings), "reach the gateway", settings, deadline
        )


async def _login(bot: StatementBot, token: str) -> None:
    try:
        await bot.login(token)
    except discord.LoginFailure:
        raise ConfigError(REJECTED_TOKEN) from None


async def _sync_to_guild(bot: StatementBot, guild_id: int) -> None:
    # Guild commands update at once; global ones only on request (`python -m bot sync`).
    guild = discord.Object(guild_id)
    bot.tree.copy_global_to(guild=guild)
    try:
        synced = await bot.tree.sync(guild=guild)
    except discord.Forbidden as exc:
        if exc.code != MISSING_ACCESS:
            raise
        raise ConfigError(
            f"the bot cannot reach the server DISCORD_GUILD_ID={guild_id}: invite it there with "
            "the applications.commands scope (see README), or correct or unset DISCORD_GUILD_ID."
        ) from None
    log.info("synced %d commands to guild %s", len(synced), guild_id)


async def _start(bot: StatementBot, settings: Settings) -> None:
    """Log in, sync, connect: retried for network failures until STARTUP_RETRY_SECONDS."""
    token = _token(settings)
    deadline = asyncio.get_running_loop().time() + settings.startup_retry_seconds
    await _wait_until_reachable(settings, deadline)
    await _retrying(lambda: _login(bot, token), "log in", settings, deadline)
    if settings.guild_id is not None:
        await _retrying(
            lambda: _sync_to_guild(bot, settings.guild_id), "sync the commands", settings, deadline
        )
    bot.drop_malformed_events()
    try:
        await bot.connect()
    except discord.ConnectionClosed as exc:
        if exc.code in CONFIG_CLOSE_CODES:
            raise ConfigError(CONFIG_CLOSE_CODES[exc.code]) from None
        raise StartupError(f"Discord closed the gateway ({exc.code}): {exc.reason}") from None
    except discord.PrivilegedIntentsRequired:
        raise ConfigError(CONFIG_CLOSE_CODES[4014]) from None
    except Exception as exc:
        # discord.py cannot retry a first connection that failed (it has no session to resume);
        # past that, it reconnects by itself and anything else escaping is a bug to see whole.
        if bot.is_ready():
            raise
        raise StartupError(
            f"could not connect to the gateway ({type(exc).__name__}: {exc}); check "
            "DISCORD_GATEWAY_URL and the network, then start again."
        ) from None


def handlers_in_flight() -> set[asyncio.Task[object]]:
    current = asyncio.current_task()
    return {
        task
        for task in asyncio.all_tasks()
        if task is not current and task.get_name().startswith(HANDLER_TASK_PREFIXES)
    }


async def _drain(grace_seconds: float) -> int:
    """Let the answers in flight finish, up to the grace period; return how many were cut off.

    Questions asked before the signal are answered, later ones get a short notice; both keep
    arriving from the gateway until it closes, so the drain waits for a quiet moment.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace_seconds
    while (remaining := deadline - loop.time()) > 0:
        if pending := handlers_in_flight():
            await asyncio.wait(pending, timeout=remaining)
            continue
        await asyncio.sleep(min(DRAIN_QUIET_SECONDS, remaining))
        if not handlers_in_flight():
            break
    return len(handlers_in_flight())


async def run_bot(settings: Settings, library: Library) -> None:
    """Connect and serve until SIGTERM or SIGINT; SIGHUP reloads the statements.

    The first SIGTERM or SIGINT stops taking new work, lets answers in flight finish (up to
    SHUTDOWN_GRACE_SECONDS), closes the gateway normally and returns; a second one exits at once.
    """
    _token(settings)
    prepare_discord(settings)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    background: set[asyncio.Task[object]] = set()

    def on_stop_signal(signum: int) -> None:
        if stopping.is_set():
            log.warning("%s again: exiting now", signal.Signals(signum).name)
            logging.shutdown()
            os._exit(128 + signum)
        log.info(
            "%s: finishing the answers in flight (up to %g s), then closing",
            signal.Signals(signum).name,
            settings.shutdown_grace_seconds,
        )
        stopping.set()

    async with create_bot(settings, library, _feedback_store(settings)) as bot:

        def on_reload_signal() -> None:
            log.info("SIGHUP: reloading the statements")
            task = loop.create_task(bot.statements.reload_library())
            background.add(task)
            task.add_done_callback(background.discard)

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, on_stop_signal, signum)
        loop.add_signal_handler(signal.SIGHUP, on_reload_signal)
        serving = asyncio.create_task(_start(bot, settings))
        stop = asyncio.create_task(stopping.wait())
        await asyncio.wait({serving, stop}, return_when=asyncio.FIRST_COMPLETED)
        if serving.done():
            stop.cancel()
            serving.result()
            return
        bot.statements.stop_taking_work()
        cut_off = await _drain(settings.shutdown_grace_seconds)
        if cut_off:
            log.warning("%d answers were still running after the grace period", cut_off)
        # Stop reading the gateway first: closing under a running read loop makes discord.py
        # close with 4000 (a resumable drop) instead of 1000, a normal close.
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError, discord.ConnectionClosed):
            await serving
        await bot.close()
        log.info("closed")


def _feedback_store(settings: Settings) -> FeedbackStore | None:
    """The store answers and votes go to, when FEEDBACK is on (its drivers load only then)."""
    if not settings.feedback.enabled:
        return None
    from bot.feedback.store import make_store

    return make_store(
        settings.feedback.database_url, state_dir=settings.state_dir, salt=settings.feedback.salt
    )


async def sync_globally(settings: Settings, library: Library) -> int:
    """Register the commands for every server (shown within an hour); return the count."""
    token = _token(settings)
    prepare_discord(settings)
    async with create_bot(settings, library) as bot:
        await _login(bot, token)
        return len(await bot.tree.sync())
