"""Scenario 10: hostile and odd questions, fixed and generated, through the gateway.

Every one must get exactly one well-formed reply within Discord's limits, quickly, and the bot
must log no traceback. Commands are sent with the Discord client's own checks off
(``validate=False``): a modified client or a future Discord change can send anything.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import BotProcess
from .fake_discord import (
    FLAG_EPHEMERAL,
    JSON,
    FakeDiscord,
    RecordedRequest,
    answer_body,
    message_limit_violations,
    message_text,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

REPLY_DEADLINE = 3.0
FIXED_INPUTS = {
    "empty": "",
    "spaces": "   ",
    "whitespace": "\t\n \r\n\u00a0",
    "stop-words": "the of and is what to a in",
    "punctuation": "?!?...,;:",
    "10-kB": "migration data governance " * 400,
    "301 chars": "m" * 301,
    "300 chars": "who should lead on migration data " + "x" * 266,
    "zero-width": "\u200b\u200c\u200d\u2060GFMD\u200b",
    "control": "\x00\x01\x07\x1b[31mIOM\x1b[0m\x7f",
    "rtl": "\u202eATAD NOITARGIM\u202c \u200f\u061cمن يقود بيانات الهجرة؟",
    "emoji": "🇨🇦🏒🔥" * 60 + " GFMD?",
    "markdown": "**bold** __under__ ~~strike~~ ||spoiler|| `code` # heading\n> quote",
    "code-fence": "```py\nimport os; os.system('rm -rf /')\n```\nGFMD?",
    "mentions": "<@123456789012345678> <@!123456789012345678> <@&123456789012345678> "
    "@everyone @here <#123456789012345678> GFMD",
    "fake-links": "[the GFMD](https://evil.example/login) https://discord.gg/free-nitro "
    "<https://x.example> [¶5](javascript:alert(1))",
    "escapes": "\\*\\_ \\\\ \\` IOM \\",
    "bom": "\ufeffwho should lead on migration data\ufeff",
    "combining": "G\u0301\u0302\u0303F\u0310\u0311M\u0312D" * 30,
    "newlines": "\n" * 500 + "IOM",
}
FRAGMENTS = [
    "GFMD",
    "IOM",
    "migration",
    "¶5",
    "**",
    "```",
    "@everyone",
    "<@&123>",
    "<@1>",
    "\u200b",
    "\u202e",
    "\x00",
    "🔥",
    "[x](https://e.example)",
    "\n",
    " ",
    "||",
    "the",
    "?",
]
QUESTIONS = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=600),
    st.lists(st.sampled_from(FRAGMENTS), max_size=80).map("".join),
)


def assert_well_formed(request: RecordedRequest, body: JSON) -> None:
    assert request.ok, (request.status, request.response)
    problems = message_limit_violations(body)
    assert not problems, problems
    assert message_text(body).strip(), f"an empty reply: {body}"
    assert body.get("allowed_mentions") == {"parse": []}, body.get("allowed_mentions")


async def ask_and_check(fake: FakeDiscord, question: str) -> JSON:
    state = await fake.send_slash("ask", {"question": question}, validate=False)
    answer = await fake.wait_for_answer(state, timeout=REPLY_DEADLINE + 2)
    body = answer_body(answer)
    assert_well_formed(answer, body)
    assert state.dispatched_at is not None
    callback = fake.requests_for(state)[0]
    assert callback.timestamp - state.dispatched_at < REPLY_DEADLINE
    assert len(fake.answers_for(state)) == 1
    return body


async def mention_and_check(fake: FakeDiscord, text: str) -> JSON:
    mention = await fake.send_user_message(f"<@{fake.application_id}> {text}")
    reply = await fake.wait_for_request(
        lambda r: (
            r.route == "create_message"
            and str((r.body.get("message_reference") or {}).get("message_id")) == mention["id"]
        ),
        timeout=REPLY_DEADLINE + 2,
        what=f"a reply to mention {mention['id']}",
    )
    assert_well_formed(reply, reply.body)
    return reply.body


@pytest.mark.parametrize("text", FIXED_INPUTS.values(), ids=FIXED_INPUTS.keys())
async def test_fixed_bad_inputs_get_well_formed_replies(
    fake: FakeDiscord, bot: BotProcess, text: str
) -> None:
    await ask_and_check(fake, text)
    await mention_and_check(fake, text)


async def test_too_long_question_says_so_privately(fake: FakeDiscord, bot: BotProcess) -> None:
    body = await ask_and_check(fake, FIXED_INPUTS["10-kB"])
    assert int(body.get("flags") or 0) & FLAG_EPHEMERAL
    assert "300" in message_text(body)


async def test_blank_question_gets_guidance(fake: FakeDiscord, bot: BotProcess) -> None:
    body = await ask_and_check(fake, FIXED_INPUTS["whitespace"])
    assert "/ask" in message_text(body) or "?" in message_text(body)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(question=QUESTIONS)
async def test_generated_questions_get_well_formed_replies(
    fake: FakeDiscord, bot: BotProcess, question: str
) -> None:
    await ask_and_check(fake, question)
    await mention_and_check(fake, question)


async def test_bot_survives_every_bad_input_without_tracebacks(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    # Sent here too, so that this test means the same when it runs alone.
    for text in FIXED_INPUTS.values():
        await ask_and_check(fake, text)
        await mention_and_check(fake, text)
    assert bot.process.returncode is None
    state = await fake.send_slash("ask", {"question": "What does Canada think of the GFMD?"})
    assert "¶5" in message_text(answer_body(await fake.wait_for_answer(state)))
    assert not bot.tracebacks(), "\n".join(bot.stderr[-60:])
    assert not fake.unknown_requests()
