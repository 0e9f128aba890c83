"""What users see across a missing permission and a bot restart (deploys restart the bot)."""

from __future__ import annotations

import pytest

from .conftest import BotProcess, start_serving_bot
from .fake_discord import (
    FakeDiscord,
    RecordedRequest,
    answer_body,
    buttons,
    message_text,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

GFMD = "What does Canada think of the GFMD?"
MISSING_PERMISSIONS = {"message": "Missing Permissions", "code": 50013}


async def test_missing_permission_on_a_reply_keeps_the_bot_serving(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    fake.fail_next(
        "POST", rf"/channels/{fake.channel_id}/messages", status=403, body=MISSING_PERMISSIONS
    )
    denied = await fake.send_user_message(f"<@{fake.application_id}> {GFMD}")

    def reply_to(request: RecordedRequest, message_id: str) -> bool:
        if request.route != "create_message":
            return False
        reference = request.body.get("message_reference") or {}
        return str(reference.get("message_id")) == message_id

    attempt = await fake.wait_for_request(lambda r: reply_to(r, denied["id"]))
    assert attempt.status == 403
    later = await fake.send_user_message(f"<@{fake.application_id}> {GFMD}")
    reply = await fake.wait_for_request(lambda r: reply_to(r, later["id"]))
    assert reply.ok
    assert "¶5" in message_text(reply.body)
    assert bot.process.returncode is None


async def test_buttons_on_answers_from_before_a_restart_still_respond(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    user = fake.new_user()
    asked = await fake.send_slash("ask", {"question": GFMD}, user=user)
    await fake.wait_for_answer(asked)
    message = fake.message_of(asked)
    assert message is not None
    await bot.stop()
    restarted = await start_serving_bot(fake)
    try:
        click = await fake.click_button(message, buttons(message)[-1]["custom_id"], user=user)
        # Without any answer within 3 s Discord shows "This interaction failed" under the button.
        answer = await fake.wait_for_answer(click, timeout=3)
        assert message_text(answer_body(answer)).strip()
    finally:
        await restarted.stop()
