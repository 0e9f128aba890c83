"""Scenarios 6-8: the real bot against gateway outages and failing HTTP routes."""

from __future__ import annotations

import pytest

from .conftest import BotProcess
from .fake_discord import JSON, FakeDiscord, RecordedRequest, answer_body, message_text

pytestmark = pytest.mark.asyncio(loop_scope="module")

GFMD = "What does Canada think of the GFMD?"
DATA = "who should lead on migration data"
CALLBACK = r"/interactions/\d+/[^/]+/callback"


def replies_to(request: RecordedRequest, message: JSON) -> bool:
    """Whether ``request`` posts a reply to ``message`` in its channel."""
    if request.route != "create_message":
        return False
    reference = request.body.get("message_reference") or {}
    return str(reference.get("message_id")) == message["id"]


@pytest.mark.parametrize("fault", ["drop", "close-4000", "op7-reconnect"])
async def test_bot_resumes_and_loses_nothing(
    fake: FakeDiscord, bot: BotProcess, fault: str
) -> None:
    frames_mark = fake.frames.mark()
    connections_mark = fake.connections.mark()
    session = fake.active_session
    assert session is not None
    old = session.connection
    if fault == "drop":
        fake.drop_gateway()
    elif fault == "close-4000":
        await fake.close_gateway(4000)
    else:
        await fake.send_reconnect()
    # One question races the outage, the rest are sent while the bot is away: Discord keeps
    # them for the session and a RESUME must bring them back.
    racing = await fake.send_slash("ask", {"question": GFMD})
    await fake.disconnections.wait_for(lambda c: c is old, timeout=5)
    during = await fake.send_slash("ask", {"question": DATA})
    mention = await fake.send_user_message(f"<@{fake.application_id}> {DATA}")
    resume = await fake.wait_for_frame(
        lambda f: f.direction == "in" and f.op == 6, since=frames_mark, timeout=15
    )
    assert resume.d["session_id"] == session.session_id
    assert fake.connections.items[connections_mark].path == "/resume-gateway"
    assert not fake.frames_in(2, since=frames_mark), "the bot identified again instead of resuming"
    for interaction, reference in ((racing, "¶5"), (during, "¶6")):
        answer = await fake.wait_for_answer(interaction, timeout=10)
        assert reference in message_text(answer_body(answer))
        assert len(fake.answers_for(interaction)) == 1
    reply = await fake.wait_for_request(lambda r: replies_to(r, mention), timeout=10)
    assert "¶6" in message_text(reply.body)
    assert len(fake.requests.select(lambda r: replies_to(r, mention))) == 1
    after = await fake.send_slash("ask", {"question": GFMD})
    assert "¶5" in message_text(answer_body(await fake.wait_for_answer(after)))
    assert bot.process.returncode is None


async def test_429_on_callback_is_retried_after_retry_after(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    retry_after = 0.6
    fault = fake.fail_next("POST", CALLBACK, status=429, retry_after=retry_after)
    interaction = await fake.send_slash("ask", {"question": GFMD})
    answer = await fake.wait_for_answer(interaction, timeout=10)
    attempts = fake.requests_for(interaction)
    callbacks = [r for r in attempts if r.route == "interaction_callback"]
    assert callbacks[0] is fault.hits[0]
    assert callbacks[0].status == 429
    assert [r.status for r in callbacks[1:]] == [200], "exactly one successful callback"
    waited = callbacks[1].timestamp - callbacks[0].timestamp
    assert waited >= retry_after, f"retried after {waited:.3f}s, before retry_after"
    assert len(fake.answers_for(interaction)) == 1
    assert "¶5" in message_text(answer_body(answer))
    assert bot.process.returncode is None


async def test_500_on_channel_message_then_still_serving(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    fake.fail_next("POST", rf"/channels/{fake.channel_id}/messages", status=500)
    mention = await fake.send_user_message(f"<@{fake.application_id}> {DATA}")
    attempts = await fake.requests.wait_for_count(
        lambda r: replies_to(r, mention), 2, timeout=10, what="two attempts at the reply"
    )
    assert [r.status for r in attempts] == [500, 200]
    assert "¶6" in message_text(attempts[1].body)
    later = await fake.send_slash("ask", {"question": GFMD})
    assert "¶5" in message_text(answer_body(await fake.wait_for_answer(later)))
    assert bot.process.returncode is None


async def test_reconnects_do_not_sync_commands_again(fake: FakeDiscord, bot: BotProcess) -> None:
    frames_mark = fake.frames.mark()
    fake.drop_gateway()
    await fake.wait_for_frame(
        lambda f: f.direction == "in" and f.op == 6, since=frames_mark, timeout=15
    )
    state = await fake.send_slash("ask", {"question": GFMD})
    assert "¶5" in message_text(answer_body(await fake.wait_for_answer(state, timeout=10)))
    syncs = fake.requests.select(lambda r: r.route in {"guild_commands", "global_commands"})
    assert [(r.method, r.route) for r in syncs] == [("PUT", "guild_commands")]
    assert len(fake.frames_in(2)) == 1, "one IDENTIFY; every reconnect was a RESUME"


async def test_no_unknown_routes_and_no_tracebacks(fake: FakeDiscord, bot: BotProcess) -> None:
    fake.fail_next("POST", CALLBACK, status=500)
    state = await fake.send_slash("ask", {"question": GFMD})
    assert "¶5" in message_text(answer_body(await fake.wait_for_answer(state, timeout=10)))
    assert not fake.unknown_requests()
    assert not bot.tracebacks(), bot.stderr_text
