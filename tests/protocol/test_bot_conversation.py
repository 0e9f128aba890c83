"""Scenarios 2-5 and 11: the real bot answering commands, buttons, mentions and floods."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from .conftest import BotProcess
from .fake_discord import (
    FLAG_EPHEMERAL,
    JSON,
    ClientRejectedError,
    FakeDiscord,
    InteractionState,
    RecordedRequest,
    answer_body,
    buttons,
    iter_message_bodies,
    message_limit_violations,
    message_text,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

# A phrase from each paragraph of the statement, to tell which one a reply quotes.
PARAGRAPH_PHRASES = {
    1: "Dr. Koser",
    2: "constructive overall",
    3: "cross-regional groups",
    4: "national governance",
    5: "informal, state-led nature",
    6: "lead migration agency",
}


def quoted_paragraph(body: JSON) -> int:
    """The number of the one paragraph a reply quotes in full (from its embed)."""
    embeds = body.get("embeds") or []
    assert embeds, f"no embed in {body}"
    title = embeds[0].get("title") or ""
    description = embeds[0].get("description") or ""
    found = [n for n, phrase in PARAGRAPH_PHRASES.items() if phrase in description]
    assert len(found) == 1, f"expected one quoted paragraph in {description!r}"
    assert f"¶{found[0]}" in title, f"¶{found[0]} quoted but the title says {title!r}"
    return found[0]


def is_ephemeral(body: JSON) -> bool:
    return bool(int(body.get("flags") or 0) & FLAG_EPHEMERAL)


def button(message: JSON, label_prefix: str = "", emoji: str = "") -> str:
    """The custom id of the one button whose label starts with ``label_prefix`` / has ``emoji``."""
    matches = [
        b
        for b in buttons(message)
        if (b.get("label") or "").startswith(label_prefix)
        and (not emoji or (b.get("emoji") or {}).get("name") == emoji)
    ]
    assert len(matches) == 1, f"{label_prefix!r}{emoji} among {buttons(message)}"
    return matches[0]["custom_id"]


PREVIOUS, NEXT = "◀️", "▶️"


async def ask(
    fake: FakeDiscord, question: str, *, user: JSON | None = None, **options: object
) -> tuple[InteractionState, RecordedRequest, JSON]:
    state = await fake.send_slash("ask", {"question": question, **options}, user=user)
    answer = await fake.wait_for_answer(state)
    assert len(fake.answers_for(state)) == 1
    return state, answer, answer_body(answer)


@pytest.mark.parametrize(
    ("question", "paragraph"),
    [
        ("What does Canada think of the GFMD?", 5),
        ("who should lead on migration data", 6),
        ("Does Canada want the remaining panels to be more balanced?", 3),
    ],
)
async def test_ask_quotes_the_right_paragraph(
    fake: FakeDiscord, bot: BotProcess, question: str, paragraph: int
) -> None:
    _, answer, body = await ask(fake, question)
    assert answer.route == "interaction_callback"
    assert answer.body["type"] == 4
    assert quoted_paragraph(body) == paragraph
    assert f"¶{paragraph}" in message_text(body)
    assert not is_ephemeral(body)
    assert body["allowed_mentions"] == {"parse": []}


async def test_ask_private_is_ephemeral(fake: FakeDiscord, bot: BotProcess) -> None:
    _, _, body = await ask(fake, "What does Canada think of the GFMD?", private=True)
    assert is_ephemeral(body)
    assert quoted_paragraph(body) == 5


async def test_ask_too_long_gets_clear_ephemeral_message(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    _, _, body = await ask(fake, "migration " * 40)
    assert is_ephemeral(body)
    assert "300" in message_text(body)


@pytest.mark.parametrize(("typed", "expected"), [("GFMD", {5}), ("IOM", {6}), ("gf", {5})])
async def test_section_autocomplete_matches_what_was_typed(
    fake: FakeDiscord, bot: BotProcess, typed: str, expected: set[int]
) -> None:
    state = await fake.send_autocomplete("section", {"query": typed}, focused="query")
    answer = await fake.wait_for_answer(state)
    choices = answer.body["data"]["choices"]
    assert 1 <= len(choices) <= 25
    assert all(1 <= len(c["name"]) <= 100 and len(str(c["value"])) <= 100 for c in choices)
    numbers = {int(m.group(1)) for c in choices if (m := re.match(r"¶(\d)", c["name"]))}
    assert numbers == expected, choices


@pytest.mark.parametrize("typed", ["", "migr", "x" * 150, "¶", "  ", "<@&1> **"])
async def test_section_autocomplete_is_always_well_formed(
    fake: FakeDiscord, bot: BotProcess, typed: str
) -> None:
    state = await fake.send_autocomplete("section", {"query": typed}, focused="query")
    choices = (await fake.wait_for_answer(state)).body["data"]["choices"]
    assert len(choices) <= 25
    assert all(1 <= len(c["name"]) <= 100 and len(str(c["value"])) <= 100 for c in choices)


async def test_autocomplete_keystrokes_are_not_rate_limited(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    user = fake.new_user()
    for typed in ("G", "GF", "GFM", "GFMD", "GFMD ", "GFMD f", "GFMD fo", "GFMD foc"):
        state = await fake.send_autocomplete(
            "section", {"query": typed}, focused="query", user=user
        )
        answer = await fake.wait_for_answer(state)
        assert answer.body["type"] == 8


async def test_section_by_autocomplete_value_and_by_words(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    state = await fake.send_autocomplete("section", {"query": "GFMD"}, focused="query")
    value = (await fake.wait_for_answer(state)).body["data"]["choices"][0]["value"]
    chosen = await fake.send_slash("section", {"query": value})
    assert quoted_paragraph(answer_body(await fake.wait_for_answer(chosen))) == 5
    typed = await fake.send_slash("section", {"query": "national action plans"})
    assert quoted_paragraph(answer_body(await fake.wait_for_answer(typed))) == 4


async def test_section_without_query_lists_contents(fake: FakeDiscord, bot: BotProcess) -> None:
    state = await fake.send_slash("section")
    body = answer_body(await fake.wait_for_answer(state))
    text = message_text(body)
    assert all(f"¶{n}" in text for n in range(1, 7)), text
    assert not message_limit_violations(body)


async def test_section_unknown_query_is_an_ephemeral_error(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    state = await fake.send_slash("section", {"query": "zzqx wibble"})
    body = answer_body(await fake.wait_for_answer(state))
    assert is_ephemeral(body)
    assert "/section" in message_text(body)


@pytest.mark.parametrize("number", [1, 6])
async def test_paragraph_shows_that_paragraph(
    fake: FakeDiscord, bot: BotProcess, number: int
) -> None:
    state = await fake.send_slash("paragraph", {"number": number})
    body = answer_body(await fake.wait_for_answer(state))
    assert quoted_paragraph(body) == number
    assert not is_ephemeral(body)


@pytest.mark.parametrize("number", [0, 7, -3, 10**12])
async def test_paragraph_out_of_range_is_a_clear_ephemeral_error(
    fake: FakeDiscord, bot: BotProcess, number: int
) -> None:
    state = await fake.send_slash("paragraph", {"number": number})
    body = answer_body(await fake.wait_for_answer(state))
    assert is_ephemeral(body)
    text = message_text(body)
    assert "¶1-¶6" in text, text


async def test_about_is_answered(fake: FakeDiscord, bot: BotProcess) -> None:
    state = await fake.send_slash("about")
    body = answer_body(await fake.wait_for_answer(state))
    assert "/ask" in message_text(body)
    assert not message_limit_violations(body)


async def test_find_in_statement_context_menu(fake: FakeDiscord, bot: BotProcess) -> None:
    target = fake.user_message_payload("I wonder who should lead on migration data")
    state = await fake.send_message_command("Find in statement", target)
    body = answer_body(await fake.wait_for_answer(state))
    assert quoted_paragraph(body) == 6


async def test_find_in_statement_on_a_message_without_text(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    target = fake.user_message_payload("")
    target["attachments"] = []
    state = await fake.send_message_command("Find in statement", target)
    body = answer_body(await fake.wait_for_answer(state))
    assert is_ephemeral(body)
    assert message_text(body).strip()


async def test_paragraph_document_autocomplete(fake: FakeDiscord, bot: BotProcess) -> None:
    state = await fake.send_autocomplete(
        "paragraph", {"number": 1, "document": "can"}, focused="document"
    )
    choices = (await fake.wait_for_answer(state)).body["data"]["choices"]
    assert 1 <= len(choices) <= 25
    assert all(1 <= len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)
    chosen = await fake.send_slash("paragraph", {"number": 2, "document": choices[0]["value"]})
    assert quoted_paragraph(answer_body(await fake.wait_for_answer(chosen))) == 2


async def test_previous_paragraph_button_twice(fake: FakeDiscord, bot: BotProcess) -> None:
    user = fake.new_user()
    state, _, body = await ask(fake, "What does Canada think of the GFMD?", user=user)
    assert quoted_paragraph(body) == 5
    message = fake.message_of(state)
    assert message is not None
    for expected in (4, 3):
        click = await fake.click_button(message, button(message, emoji=PREVIOUS), user=user)
        update = await fake.wait_for_answer(click)
        assert update.body["type"] == 7, "a click must update the message in place"
        assert quoted_paragraph(answer_body(update)) == expected
        message = fake.messages[int(message["id"])]
        assert quoted_paragraph(message) == expected
        assert len(fake.answers_for(click)) == 1


async def test_next_paragraph_button_twice_then_disabled(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    user = fake.new_user()
    state = await fake.send_slash("paragraph", {"number": 4}, user=user)
    await fake.wait_for_answer(state)
    message = fake.message_of(state)
    assert message is not None
    for expected in (5, 6):
        click = await fake.click_button(message, button(message, emoji=NEXT), user=user)
        update = await fake.wait_for_answer(click)
        assert update.body["type"] == 7
        assert quoted_paragraph(answer_body(update)) == expected
        message = fake.messages[int(message["id"])]
    with pytest.raises(ClientRejectedError, match="disabled"):
        await fake.click_button(message, button(message, emoji=NEXT), user=user)


async def test_other_match_button_shows_another_paragraph_in_full(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    user = fake.new_user()
    state, _, body = await ask(fake, "migration governance", user=user)
    first = quoted_paragraph(body)
    message = fake.message_of(state)
    assert message is not None
    shown = [first]
    for _ in range(2):
        click = await fake.click_button(message, button(message, "Other match"), user=user)
        update = await fake.wait_for_answer(click)
        assert update.body["type"] == 7
        shown.append(quoted_paragraph(answer_body(update)))
        message = fake.messages[int(message["id"])]
    assert shown[1] != shown[0], f"'Other match' showed the same paragraph: {shown}"


async def test_buttons_answer_only_their_owner(fake: FakeDiscord, bot: BotProcess) -> None:
    owner = fake.new_user()
    state, _, _ = await ask(fake, "What does Canada think of the GFMD?", user=owner)
    message = fake.message_of(state)
    assert message is not None
    before = [dict(e) for e in message["embeds"]]
    click = await fake.click_button(message, button(message, emoji=NEXT), user=fake.new_user())
    reply = await fake.wait_for_answer(click)
    assert reply.body["type"] == 4
    assert is_ephemeral(answer_body(reply))
    assert fake.messages[int(message["id"])]["embeds"] == before


def _reply_to(message: JSON) -> Callable[[RecordedRequest], bool]:
    def matches(request: RecordedRequest) -> bool:
        if request.route != "create_message":
            return False
        reference = request.body.get("message_reference") or {}
        return str(reference.get("message_id")) == message["id"]

    return matches


@pytest.mark.parametrize("form", ["<@{id}> {q}", "<@!{id}> {q}", "{q} <@{id}>"])
async def test_mention_is_answered_as_a_reply(
    fake: FakeDiscord, bot: BotProcess, form: str
) -> None:
    question = "who should lead on migration data?"
    mention = await fake.send_user_message(form.format(id=fake.application_id, q=question))
    reply = await fake.wait_for_request(_reply_to(mention))
    assert reply.ok
    assert reply.params["channel"] == str(fake.channel_id)
    assert reply.body["message_reference"]["channel_id"] == int(mention["channel_id"])
    assert quoted_paragraph(reply.body) == 6
    assert reply.body["allowed_mentions"] == {"parse": []}


async def test_direct_message_is_answered(fake: FakeDiscord, bot: BotProcess) -> None:
    dm = await fake.send_user_message("What does Canada think of the GFMD?", dm=True)
    reply = await fake.wait_for_request(_reply_to(dm))
    assert reply.ok
    assert reply.params["channel"] == dm["channel_id"]
    assert quoted_paragraph(reply.body) == 5


async def test_buttons_work_in_direct_messages(fake: FakeDiscord, bot: BotProcess) -> None:
    user = fake.new_user()
    dm = await fake.send_user_message("What does Canada think of the GFMD?", author=user, dm=True)
    reply = await fake.wait_for_request(_reply_to(dm))
    message = reply.response
    click = await fake.click_button(message, button(message, emoji=NEXT), user=user)
    update = await fake.wait_for_answer(click)
    assert update.body["type"] == 7
    assert quoted_paragraph(answer_body(update)) == 6


@pytest.mark.parametrize(
    "text",
    [
        "@everyone what does Canada think of the GFMD?",
        "<@&123456789012345678> and @here: who should lead on migration data?",
        "ask <@{owner}> about the GFMD",
    ],
)
async def test_mentions_in_questions_ping_nobody(
    fake: FakeDiscord, bot: BotProcess, text: str
) -> None:
    content = f"<@{fake.application_id}> " + text.format(owner=fake.owner["id"])
    mention = await fake.send_user_message(content, mention_everyone="@everyone" in text)
    reply = await fake.wait_for_request(_reply_to(mention))
    assert reply.ok
    allowed = reply.body["allowed_mentions"]
    assert allowed["parse"] == []
    assert not allowed.get("users")
    assert not allowed.get("roles")
    assert not allowed.get("replied_user")


@pytest.mark.parametrize("case", ["from-a-bot", "everyone-without-bot-mention"])
async def test_messages_not_for_the_bot_are_ignored(
    fake: FakeDiscord, bot: BotProcess, case: str
) -> None:
    if case == "from-a-bot":
        other_bot = {**fake.new_user("otherbot"), "bot": True}
        ignored = await fake.send_user_message(
            f"<@{fake.application_id}> What does Canada think of the GFMD?", author=other_bot
        )
    else:
        ignored = await fake.send_user_message(
            "@everyone what does Canada think of the GFMD?", mention_everyone=True
        )
    # Events are handled in order, so once a later mention is answered the ignored one has
    # been seen and passed over.
    barrier = await fake.send_user_message(f"<@{fake.application_id}> GFMD?")
    await fake.wait_for_request(_reply_to(barrier))
    assert not fake.requests.select(_reply_to(ignored))


async def test_flooding_user_gets_cooldown_and_others_are_still_answered(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    flooder = fake.new_user()
    flood = [
        await fake.send_slash(
            "ask", {"question": "What does Canada think of the GFMD?"}, user=flooder
        )
        for _ in range(8)
    ]
    bodies = [answer_body(await fake.wait_for_answer(state)) for state in flood]
    cooled = [b for b in bodies if is_ephemeral(b) and "try again" in message_text(b)]
    answered = [b for b in bodies if not is_ephemeral(b)]
    assert cooled, "eight questions at once from one user never hit the cooldown"
    assert answered, "the first questions of a flood should be answered"
    assert len(cooled) + len(answered) == len(bodies)
    assert all(quoted_paragraph(b) == 5 for b in answered)
    other = fake.new_user()
    _, _, body = await ask(fake, "who should lead on migration data", user=other)
    assert quoted_paragraph(body) == 6
    # Told once already (privately): a mention in the same window gets no public reply at all.
    mention = await fake.send_user_message(f"<@{fake.application_id}> GFMD?", author=flooder)
    # Someone else's mention, sent after it and answered the same way, marks when a reply to
    # the flooder would have come.
    later = await fake.send_user_message(f"<@{fake.application_id}> GFMD?", author=other)
    await fake.wait_for_request(_reply_to(later))
    await fake.barrier()
    assert not fake.requests.select(_reply_to(mention))


async def test_every_message_stays_within_limits_and_pings_nobody(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    bodies = list(iter_message_bodies(fake.requests))
    assert len(bodies) > 20
    for request, body in bodies:
        assert not message_limit_violations(body), (request.path, body)
        assert body.get("allowed_mentions", {}).get("parse") == [], (request.path, body)
    rejected = [r for r in fake.requests if r.status >= 400]
    assert not rejected, [(r.method, r.path, r.status, r.response) for r in rejected]
    assert not fake.unknown_requests()
    assert not bot.tracebacks(), bot.stderr_text
