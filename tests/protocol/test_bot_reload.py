"""Reloading the statements without a restart: /reload for the owner, and SIGHUP.

The bot serves a copy of data/ in a temporary folder, which the tests edit between reloads.
Old buttons keep showing what they named, or say they are from an older version.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.conftest import DATA_DIR, STATEMENT

from .conftest import BotProcess, start_serving_bot
from .fake_discord import FLAG_EPHEMERAL, JSON, FakeDiscord, answer_body, buttons, message_text

pytestmark = pytest.mark.asyncio(loop_scope="module")

GFMD = "What does Canada think of the GFMD?"
OLD_PHRASE = "informal, state-led nature"
NEW_PHRASE = "informal, state-driven character"
# A statement whose file sorts before Canada's: the positions of documents in the list change.
FIRST_STATEMENT = (
    "Another Statement\n\nThis statement is about maritime shipping lanes.\n\n"
    "Its second paragraph is about ports and harbours.\n\nA third one, about lighthouses."
)
# Quoted whether the answer is confident or the closest passage: the new document is served.
SHIPPING_PARAGRAPH = "This statement is about maritime shipping lanes."


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    for path in DATA_DIR.iterdir():
        shutil.copy(path, folder / path.name)
    return folder


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeDiscord, data_dir: Path) -> AsyncIterator[BotProcess]:
    process = await start_serving_bot(fake, DATA_DIR=str(data_dir))
    yield process
    await process.stop()


def button_with(message: JSON, emoji: str) -> str:
    (found,) = [b for b in buttons(message) if (b.get("emoji") or {}).get("name") == emoji]
    return found["custom_id"]


async def reload_as(fake: FakeDiscord, user: JSON) -> JSON:
    state = await fake.send_slash("reload", user=user)
    answer = answer_body(await fake.wait_for_answer(state, timeout=20))
    assert int(answer.get("flags") or 0) & FLAG_EPHEMERAL
    return answer


async def asked(fake: FakeDiscord, question: str, user: JSON | None = None) -> tuple[JSON, str]:
    state = await fake.send_slash("ask", {"question": question}, user=user)
    body = answer_body(await fake.wait_for_answer(state))
    message = fake.message_of(state)
    assert message is not None
    return message, message_text(body)


async def test_only_the_owner_can_reload(fake: FakeDiscord, bot: BotProcess) -> None:
    answer = await reload_as(fake, fake.new_user())
    assert "Only the bot's owner can reload" in message_text(answer)


async def test_a_good_change_is_served_and_old_buttons_stay_true(
    fake: FakeDiscord, bot: BotProcess, data_dir: Path
) -> None:
    user = fake.owner
    _, text = await asked(fake, GFMD, user)
    assert "¶5" in text and OLD_PHRASE in text
    # A message showing ¶4, whose ◀ button names Canada's ¶3 and ▶ button its ¶5.
    state = await fake.send_slash("paragraph", {"number": 4}, user=user)
    await fake.wait_for_answer(state)
    message = fake.message_of(state)
    assert message is not None

    statement = data_dir / STATEMENT.name
    statement.write_text(
        statement.read_text(encoding="utf-8").replace(OLD_PHRASE, NEW_PHRASE), encoding="utf-8"
    )
    (data_dir / "a-first.txt").write_text(FIRST_STATEMENT, encoding="utf-8")
    answer = await reload_as(fake, user)
    assert message_text(answer).startswith("Reloaded: 2 document(s), 9 paragraphs")

    _, text = await asked(fake, GFMD)
    assert NEW_PHRASE in text and OLD_PHRASE not in text
    _, text = await asked(fake, "shipping lanes and harbours")
    assert SHIPPING_PARAGRAPH in text

    # ¶5 was edited: its button says so rather than showing something else as ¶5.
    click = await fake.click_button(message, button_with(message, "▶️"), user=user)
    stale = answer_body(await fake.wait_for_answer(click))
    assert int(stale.get("flags") or 0) & FLAG_EPHEMERAL
    assert "older version" in message_text(stale)
    # ¶3 did not change, and the document now in front of Canada's (which has a ¶3 of its own)
    # does not change which ¶3 the button shows.
    click = await fake.click_button(message, button_with(message, "◀️"), user=user)
    shown = message_text(answer_body(await fake.wait_for_answer(click)))
    assert "¶3" in shown and "cross-regional groups" in shown and "lighthouses" not in shown
    assert not bot.tracebacks(), bot.stderr_text


async def test_bad_data_keeps_the_old_library_and_tells_the_owner(
    fake: FakeDiscord, bot: BotProcess, data_dir: Path
) -> None:
    (data_dir / "a-first.txt").write_bytes(b"\xff\xfe not UTF-8")
    answer = await reload_as(fake, fake.owner)
    text = message_text(answer)
    assert text.startswith("Reload failed, still serving the previous data: ")
    assert "a-first.txt is not UTF-8" in text and "\n" not in text
    _, text = await asked(fake, GFMD)
    assert NEW_PHRASE in text
    _, text = await asked(fake, "shipping lanes and harbours")
    assert SHIPPING_PARAGRAPH in text
    assert any("reload failed" in line for line in bot.stderr)
    assert not bot.tracebacks(), bot.stderr_text


async def test_sighup_reloads(fake: FakeDiscord, bot: BotProcess, data_dir: Path) -> None:
    (data_dir / "a-first.txt").unlink()
    lines = len(bot.stderr)
    bot.process.send_signal(signal.SIGHUP)
    for _ in range(100):
        if any("reloaded: 1 document(s)" in line for line in bot.stderr[lines:]):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("no reload logged after SIGHUP:\n" + "\n".join(bot.stderr[lines:]))
    _, text = await asked(fake, "shipping lanes and harbours")
    assert "Not addressed" in text
    assert bot.process.returncode is None
    assert not bot.tracebacks(), bot.stderr_text
