"""Operations, as an operator meets them: stop signals with answers in flight, start-up faults,
spam, rate limits, forged buttons, servers that refuse embeds, malformed events.

Each test that stops or breaks the bot runs its own process against the module's test server.
"""

from __future__ import annotations

import asyncio
import copy
import signal
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot import render

from .conftest import TRACEBACK, BotProcess, bot_env, start_serving_bot
from .fake_discord import (
    FLAG_EPHEMERAL,
    FakeDiscord,
    InteractionState,
    RecordedRequest,
    answer_body,
    button_ids,
    message_text,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

GFMD = "What does Canada think of the GFMD?"
DATA = "who should lead on migration data"
IN_FLIGHT = 200
EXIT_TIMEOUT = 30.0
CALLBACK = r"/interactions/\d+/[^/]+/callback"


def replied_to(request: RecordedRequest) -> str | None:
    """The id of the message a request replies to, if it posts a reply."""
    if request.route != "create_message":
        return None
    return str((request.body.get("message_reference") or {}).get("message_id"))


def assert_quiet(bot: BotProcess) -> None:
    assert not bot.tracebacks(), bot.stderr_text


async def dispatch_asks(fake: FakeDiscord, count: int) -> list[InteractionState]:
    states = [fake.slash_payload("ask", {"question": DATA}) for _ in range(count)]
    for state in states:
        await fake.dispatch("INTERACTION_CREATE", state.payload)
    return states


def answered_once_each(fake: FakeDiscord, states: list[InteractionState]) -> list[int]:
    return [len(fake.answers_for(state)) for state in states]


# Stopping.


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
async def test_a_stop_signal_finishes_the_answers_in_flight_and_closes_normally(
    fake: FakeDiscord, stop: signal.Signals
) -> None:
    bot = await start_serving_bot(fake)
    connection = fake.connections.items[-1]
    states = await dispatch_asks(fake, IN_FLIGHT)
    bot.process.send_signal(stop)
    assert await bot.wait_exit(EXIT_TIMEOUT) == 0
    assert answered_once_each(fake, states) == [1] * IN_FLIGHT
    assert all("¶6" in message_text(answer_body(fake.answers_for(s)[0])) for s in states)
    assert (connection.closed_by, connection.client_close_code) == ("client", 1000)
    assert sum(f"{stop.name}: finishing the answers in flight" in line for line in bot.stderr) == 1
    assert_quiet(bot)


async def test_an_idle_bot_stops_at_once_and_cleanly(fake: FakeDiscord) -> None:
    bot = await start_serving_bot(fake)
    connection = fake.connections.items[-1]
    started = asyncio.get_running_loop().time()
    bot.process.send_signal(signal.SIGTERM)
    assert await bot.wait_exit(EXIT_TIMEOUT) == 0
    assert asyncio.get_running_loop().time() - started < 5
    assert (connection.closed_by, connection.client_close_code) == ("client", 1000)
    assert_quiet(bot)


async def test_a_second_signal_exits_at_once_without_a_traceback(fake: FakeDiscord) -> None:
    bot = await start_serving_bot(fake)
    await dispatch_asks(fake, IN_FLIGHT)
    bot.process.send_signal(signal.SIGTERM)
    await asyncio.sleep(0.05)
    bot.process.send_signal(signal.SIGTERM)
    assert await bot.wait_exit(EXIT_TIMEOUT) == 128 + signal.SIGTERM
    assert any("SIGTERM again: exiting now" in line for line in bot.stderr)
    assert_quiet(bot)


async def test_questions_asked_after_the_signal_get_a_short_notice(fake: FakeDiscord) -> None:
    bot = await start_serving_bot(fake, SHUTDOWN_GRACE_SECONDS="5")
    before = await dispatch_asks(fake, 50)
    bot.process.send_signal(signal.SIGTERM)
    await asyncio.sleep(0.3)
    after = await fake.send_slash("ask", {"question": GFMD})
    assert await bot.wait_exit(EXIT_TIMEOUT) == 0
    assert answered_once_each(fake, before) == [1] * 50
    notices = fake.answers_for(after)
    if notices:  # unless it came after the gateway closed
        body = answer_body(notices[0])
        assert body["flags"] & FLAG_EPHEMERAL and render.RESTARTING in message_text(body)
    assert_quiet(bot)


# Starting.


async def start_and_wait(fake: FakeDiscord, **env: str) -> tuple[int, BotProcess]:
    environment = bot_env(fake, STARTUP_RETRY_SECONDS="3", **env)
    environment.pop("LOG_LEVEL")
    bot = await BotProcess.start(environment)
    return await bot.wait_exit(EXIT_TIMEOUT), bot


def error_line(bot: BotProcess) -> str:
    (line,) = [line for line in bot.stderr if line.startswith("error: ")]
    return line


async def test_a_server_the_bot_cannot_access_is_one_line_and_exit_2(fake: FakeDiscord) -> None:
    code, bot = await start_and_wait(fake, DISCORD_GUILD_ID="123456789012345678")
    assert code == 2
    assert bot.output_lines == [error_line(bot)]
    assert "DISCORD_GUILD_ID=123456789012345678" in error_line(bot)
    assert_quiet(bot)


@pytest.mark.parametrize("end", ["api", "gateway"])
async def test_an_unreachable_discord_is_retried_then_one_line(fake: FakeDiscord, end: str) -> None:
    setting = {
        "api": {"DISCORD_API_URL": fake.unreachable_api_url},
        "gateway": {"DISCORD_GATEWAY_URL": fake.unreachable_gateway_url},
    }[end]
    started = asyncio.get_running_loop().time()
    code, bot = await start_and_wait(fake, **setting)
    assert code == 1
    assert error_line(bot).startswith(
        f"error: could not reach the {'API' if end == 'api' else end}"
    )
    assert "STARTUP_RETRY_SECONDS" in error_line(bot)
    retries = [line for line in bot.stderr if "retrying in" in line]
    assert len(retries) >= 2
    assert asyncio.get_running_loop().time() - started < 15
    assert_quiet(bot)


async def test_a_gateway_that_comes_back_within_the_retry_time_is_served(
    fake: FakeDiscord,
) -> None:
    fake.refuse_gateway(times=2)
    bot = await start_serving_bot(fake)
    try:
        state = await fake.send_slash("ask", {"question": GFMD})
        assert "¶5" in message_text(answer_body(await fake.wait_for_answer(state)))
        assert sum("could not reach the gateway" in line for line in bot.stderr) == 2
        assert_quiet(bot)
    finally:
        await bot.stop()


@pytest.mark.parametrize(
    ("close_code", "names"), [(4004, "DISCORD_TOKEN"), (4014, "Privileged Gateway Intents")]
)
async def test_a_close_code_that_means_bad_configuration_names_the_setting(
    fake: FakeDiscord, close_code: int, names: str
) -> None:
    fake.reject_identify(close_code)
    code, bot = await start_and_wait(fake)
    assert code == 2
    assert names in error_line(bot)
    assert_quiet(bot)


async def test_a_command_sync_that_keeps_failing_is_bounded_and_one_line(
    fake: FakeDiscord,
) -> None:
    fake.fail_command_sync(status=500, times=100)
    started = asyncio.get_running_loop().time()
    code, bot = await start_and_wait(fake)
    fake.faults.clear()
    assert code == 1
    assert error_line(bot).startswith("error: could not sync the commands")
    assert asyncio.get_running_loop().time() - started < 15
    assert_quiet(bot)


# Serving.


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def serving(fake: FakeDiscord) -> AsyncIterator[BotProcess]:
    bot = await start_serving_bot(fake)
    yield bot
    await bot.stop()


async def test_a_mention_flood_gets_at_most_one_notice(
    fake: FakeDiscord, serving: BotProcess
) -> None:
    flooder = fake.new_user()
    mark = fake.requests.mark()
    flood = {
        (await fake.send_user_message(f"<@{fake.application_id}> {GFMD}", author=flooder))["id"]
        for _ in range(30)
    }
    other = await fake.send_user_message(f"<@{fake.application_id}> {GFMD}")
    await fake.wait_for_request(lambda r: replied_to(r) == other["id"], since=mark)
    # The replies are sent concurrently: on a busy machine the last may still be on its way.
    await fake.requests.wait_for_count(lambda r: replied_to(r) in flood, 6, timeout=10, since=mark)
    await fake.barrier()
    texts = [
        message_text(r.body) for r in fake.requests.select(lambda r: replied_to(r) in flood, mark)
    ]
    assert sum("¶5" in t for t in texts) == 5
    assert sum("try again in" in t for t in texts) == 1
    assert len(texts) == 6
    assert_quiet(serving)


async def test_consecutive_429s_on_an_answer_still_deliver_the_answer(
    fake: FakeDiscord, serving: BotProcess
) -> None:
    fake.fail_next("POST", CALLBACK, status=429, times=5, retry_after=0.1)
    state = await fake.send_slash("ask", {"question": GFMD})
    answer = await fake.wait_for_answer(state, timeout=10)
    assert "¶5" in message_text(answer_body(answer))
    statuses = [r.status for r in fake.requests_for(state)]
    assert statuses == [429] * 5 + [200]
    assert_quiet(serving)


@pytest.mark.parametrize("forged", ["sb:<:1", "sb:m:" + "9" * 95, "sb:>:zz:::"])
async def test_a_forged_button_gets_a_clear_answer_and_no_traceback(
    fake: FakeDiscord, serving: BotProcess, forged: str
) -> None:
    user = fake.new_user()
    state = await fake.send_slash("paragraph", {"number": 3}, user=user)
    await fake.wait_for_answer(state)
    message = copy.deepcopy(fake.message_of(state))
    real = button_ids(message)[0]
    for row in message["components"]:
        for component in row["components"]:
            if component.get("custom_id") == real:
                component["custom_id"] = forged
    message["id"] = str(fake.ids.next())
    click = await fake.click_button(message, forged, user=user)
    body = answer_body(await fake.wait_for_answer(click))
    assert body["flags"] & FLAG_EPHEMERAL
    assert message_text(body) == render.INVALID_BUTTON
    assert_quiet(serving)


async def test_a_button_id_too_long_to_be_ours_is_ignored_quietly(
    fake: FakeDiscord, serving: BotProcess
) -> None:
    user = fake.new_user()
    state = await fake.send_slash("paragraph", {"number": 3}, user=user)
    await fake.wait_for_answer(state)
    message = copy.deepcopy(fake.message_of(state))
    forged = "sb:<:" + "9" * 5000
    message["components"][0]["components"][0]["custom_id"] = forged
    message["id"] = str(fake.ids.next())
    lines = len(serving.stderr)
    click = await fake.click_button(message, forged, user=user)
    await fake.barrier()
    assert not fake.answers_for(click)
    assert serving.stderr[lines:] == []


async def test_a_malformed_event_is_skipped_and_the_bot_keeps_serving(
    fake: FakeDiscord, serving: BotProcess
) -> None:
    await fake.send_malformed_dm("What does Canada think of the GFMD?")
    state = await fake.send_slash("ask", {"question": GFMD})
    assert "¶5" in message_text(answer_body(await fake.wait_for_answer(state)))
    assert serving.process.returncode is None
    assert any("skipped a malformed MESSAGE_CREATE event" in line for line in serving.stderr)
    assert_quiet(serving)


async def test_without_embed_links_answers_come_as_text(
    fake: FakeDiscord, serving: BotProcess
) -> None:
    channel = await fake.add_text_channel("no-embeds", embed_links=False)
    await fake.barrier()
    state = await fake.send_slash("ask", {"question": GFMD}, channel_id=channel)
    body = answer_body(await fake.wait_for_answer(state))
    assert not body.get("embeds") and "¶5" in body["content"]
    mention = await fake.send_user_message(f"<@{fake.application_id}> {GFMD}", channel_id=channel)
    reply = await fake.wait_for_request(lambda r: replied_to(r) == mention["id"])
    assert reply.ok and not reply.body.get("embeds") and "¶5" in reply.body["content"]
    assert_quiet(serving)


async def test_a_server_that_refuses_our_embeds_gets_text(
    fake: FakeDiscord, serving: BotProcess
) -> None:
    fake.strict_embeds = True
    try:
        state = await fake.send_slash("ask", {"question": GFMD})
        answers = fake.requests_for(state)
        body = answer_body(await fake.wait_for_answer(state))
        answers = fake.requests_for(state)
        assert [r.status for r in answers] == [400, 200]
        assert "¶5" in body["content"] and not body.get("embeds")
        mention = await fake.send_user_message(f"<@{fake.application_id}> {DATA}")
        reply = await fake.wait_for_request(
            lambda r: (
                r.route == "create_message"
                and r.ok
                and str((r.body.get("message_reference") or {}).get("message_id")) == mention["id"]
            )
        )
        assert "¶6" in reply.body["content"]
    finally:
        fake.strict_embeds = False
    assert not [line for line in serving.stderr if TRACEBACK.search(line)]


# Logs.


async def test_debug_logs_show_the_question_but_no_token_of_any_kind(fake: FakeDiscord) -> None:
    bot = await start_serving_bot(fake, LOG_LEVEL="DEBUG")
    try:
        asked = await fake.send_slash("ask", {"question": GFMD})
        await fake.wait_for_answer(asked)
        # /reload answers with a deferral and a follow-up: a webhook URL with the token in it.
        reloaded = await fake.send_slash("reload", user=fake.owner)
        await fake.wait_for_answer(reloaded, timeout=10)
    finally:
        await bot.stop()
    logs = bot.stderr_text
    assert "question: 'What does Canada think of the GFMD?'" in logs
    assert "/interactions/" in logs and "/webhooks/" in logs
    for secret in (fake.token, asked.token, reloaded.token):
        assert secret not in logs
    assert_quiet(bot)


async def test_info_logs_say_what_was_done_not_what_was_asked(
    fake: FakeDiscord, serving: BotProcess
) -> None:
    question = "What does Canada think about the GFMD's private-sector arm?"
    state = await fake.send_slash("ask", {"question": question})
    await fake.wait_for_answer(state)
    await fake.barrier()
    assert "GFMD's private-sector" not in serving.stderr_text
    assert any("answered in" in line for line in serving.stderr)
