"""Feedback through the real bot, with each real database: vote, pick, turn pages, restart and vote
again, then the maintainer's report and export; the store going down mid-run; retention.

SQLite is a file in a temporary STATE_DIR; PostgreSQL is a real server (tests/conftest.py
starts one, or the PostgreSQL cases skip with the reason where none is installed).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot import render
from bot.examples import parse_examples
from bot.feedback.model import AnswerRecord, utc_now
from bot.feedback.store import open_store
from tests.conftest import library_of

from .conftest import REPO_ROOT, BotProcess, bot_env, start_serving_bot
from .fake_discord import (
    FLAG_EPHEMERAL,
    JSON,
    FakeDiscord,
    InteractionState,
    answer_body,
    buttons,
    message_text,
    select_menus,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

GFMD = "What does Canada think of the GFMD?"
HOSTILE = "**@everyone** what about `migration` data?\u202e <@&1> ||x||"
SALT = "protocol-tests-salt-0123456789"


@dataclass
class Setup:
    backend: str
    url: str
    state_dir: Path

    def env(self, fake: FakeDiscord, **more: str) -> dict[str, str]:
        return bot_env(
            fake,
            FEEDBACK="on",
            FEEDBACK_DATABASE_URL=self.url,
            FEEDBACK_SALT=SALT,
            STATE_DIR=str(self.state_dir),
            **more,
        )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def setup(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Setup:
    state_dir = tmp_path_factory.mktemp("state")
    if request.param == "sqlite":
        return Setup("sqlite", f"sqlite:///{state_dir / 'feedback.sqlite3'}", state_dir)
    cluster = request.getfixturevalue("postgres_cluster")
    return Setup("postgresql", cluster.new_url(), state_dir)


@dataclass
class Running:
    """The bot of this module, which some tests restart."""

    process: BotProcess

    async def restart(self, fake: FakeDiscord, env: dict[str, str]) -> BotProcess:
        await self.process.stop()
        self.process = await start_serving_bot(fake, **env)
        return self.process


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeDiscord, setup: Setup) -> AsyncIterator[Running]:
    running = Running(await start_serving_bot(fake, **setup.env(fake)))
    yield running
    await running.process.stop()


def button_id(message: JSON, emoji: str) -> str:
    (found,) = [b for b in buttons(message) if (b.get("emoji") or {}).get("name") == emoji]
    return found["custom_id"]


async def ephemeral_reply(fake: FakeDiscord, state: InteractionState) -> JSON:
    body = answer_body(await fake.wait_for_answer(state, timeout=10))
    # A vote is acknowledged at once ("thinking") and answered when it is written.
    if not message_text(body):
        await fake.requests.wait_for(
            lambda r: r.params.get("token") == state.token and r.route == "followup",
            timeout=10,
        )
        body = fake.message_of(state) or body
    assert int(body.get("flags") or 0) & FLAG_EPHEMERAL, body
    return body


async def vote(fake: FakeDiscord, message: JSON, emoji: str, user: JSON) -> tuple[str, JSON]:
    click = await fake.click_button(message, button_id(message, emoji), user=user)
    reply = await ephemeral_reply(fake, click)
    return message_text(reply), fake.message_of(click) or reply


async def pick(fake: FakeDiscord, picker: JSON, value: str, user: JSON) -> str:
    (menu,) = select_menus(picker)
    choice = await fake.choose_options(picker, menu["custom_id"], [value], user=user)
    return message_text(await ephemeral_reply(fake, choice))


async def ask(fake: FakeDiscord, question: str, user: JSON) -> JSON:
    state = await fake.send_slash("ask", {"question": question}, user=user)
    await fake.wait_for_answer(state)
    message = fake.message_of(state)
    assert message is not None
    return message


async def answers_recorded(setup: Setup, question: str) -> int:
    async with open_store(setup.url, state_dir=setup.state_dir, salt=SALT) as store:
        period = await store.period(utc_now() - timedelta(days=1), utc_now() + timedelta(days=1))
    return sum(a.question == question for a in period.answers)


async def ask_and_wait_until_recorded(
    fake: FakeDiscord, setup: Setup, question: str, user: JSON
) -> JSON:
    """Ask, then wait for the answer's row: the bot writes it after replying, off the event loop."""
    before = await answers_recorded(setup, question)
    message = await ask(fake, question, user)
    for _ in range(100):
        if await answers_recorded(setup, question) > before:
            return message
        await asyncio.sleep(0.1)
    raise AssertionError(f"the answer to {question!r} was not recorded within 10 s")


def run_cli(setup: Setup, fake: FakeDiscord, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "FEEDBACK"))}
    env.update(setup.env(fake))
    done = subprocess.run(
        [sys.executable, "-m", "bot", "feedback", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=60,
    )
    return done.returncode, done.stdout, done.stderr


async def test_about_says_questions_are_recorded(fake: FakeDiscord, bot: Running) -> None:
    state = await fake.send_slash("about")
    body = answer_body(await fake.wait_for_answer(state))
    assert "are recorded" in message_text(body) and "for 90 days" in message_text(body)


async def test_vote_pick_turn_pages_restart_and_vote_again(
    fake: FakeDiscord, bot: Running, setup: Setup, tmp_path: Path
) -> None:
    alice, bob = fake.new_user(), fake.new_user()
    answer = await ask(fake, GFMD, alice)
    assert [(b.get("emoji") or {}).get("name") for b in buttons(answer)][-2:] == ["👍", "👎"]

    said, _ = await vote(fake, answer, "👍", alice)
    assert said == render.VOTE_RECORDED
    said, picker = await vote(fake, answer, "👎", alice)
    assert said == render.PICK_PROMPT
    assert await pick(fake, picker, "4", alice) == render.PICKED.format(reference="¶4")
    said, picker = await vote(fake, answer, "👎", bob)
    assert await pick(fake, picker, "none", bob) == render.PICKED_NONE

    # Turning the pages keeps the vote buttons under the answer.
    click = await fake.click_button(answer, button_id(answer, "▶️"), user=alice)
    await fake.wait_for_answer(click)
    turned = fake.messages[int(answer["id"])]
    assert "¶6" in message_text(turned)
    assert button_id(turned, "👍") == button_id(answer, "👍")

    hostile = await ask(fake, HOSTILE, bob)
    said, picker = await vote(fake, hostile, "👎", bob)
    assert await pick(fake, picker, "3", bob) == render.PICKED.format(reference="¶3")
    declined = await ask(fake, "Who won the hockey playoffs?", alice)
    assert not [b for b in buttons(declined) if (b.get("emoji") or {}).get("name") == "👍"]

    # The buttons keep no state in the bot: after a restart a vote still counts, once per person.
    restarted = await bot.restart(fake, setup.env(fake))
    said, _ = await vote(fake, answer, "👍", alice)
    assert said == render.VOTE_CHANGED
    said, _ = await vote(fake, answer, "👍", alice)
    assert said == render.VOTE_RECORDED
    assert not restarted.tracebacks(), restarted.stderr_text

    code, report, errors = run_cli(setup, fake, "report")
    assert code == 0, errors
    assert "Questions most often not addressed" in report and "hockey playoffs" in report, report
    assert GFMD in report and "picked: none (does not say) ×1" in report, report
    # Hostile text is reported as it was asked, but cannot break the report's lines.
    assert "\\u202e" in report and "\u202e" not in report

    output = tmp_path / "confirmed.jsonl"
    code, said_cli, errors = run_cli(setup, fake, "export", "--output", str(output))
    assert code == 0, errors
    assert said_cli.startswith("wrote ") and "review them before merging" in said_cli
    counts = [len(p.sentence_spans) for p in library_of(Path(REPO_ROOT) / "data").paragraphs]
    examples = parse_examples(output.read_text(encoding="utf-8"), str(output), counts)
    assert {(e.question, e.paragraph) for e in examples} >= {(GFMD, 5), (GFMD, None)}


async def test_votes_are_stored_without_user_ids(
    fake: FakeDiscord, bot: Running, setup: Setup
) -> None:
    user = fake.new_user()
    answer = await ask(fake, GFMD, user)
    await vote(fake, answer, "👍", user)
    async with open_store(setup.url, state_dir=setup.state_dir, salt=SALT) as store:
        period = await store.period(utc_now() - timedelta(days=1), utc_now())
    voters = {v.voter for v in period.votes}
    assert voters and not any(user["id"] in voter for voter in voters)
    assert len(next(iter(voters))) == 32


async def test_the_store_down_mid_run_loses_the_vote_not_the_answer(
    fake: FakeDiscord, bot: Running, setup: Setup, request: pytest.FixtureRequest
) -> None:
    user = fake.new_user()
    answer = await ask_and_wait_until_recorded(fake, setup, GFMD, user)
    if setup.backend == "sqlite":
        # Another process holding the database's write lock, past the store's 2 s wait.
        blocker = sqlite3.connect(setup.url.removeprefix("sqlite:///"), timeout=10)
        blocker.execute("BEGIN EXCLUSIVE")
        restore = blocker.close
    else:
        cluster = request.getfixturevalue("postgres_cluster")
        cluster.stop()
        restore = cluster.start
    try:
        said, _ = await vote(fake, answer, "👍", user)
        assert said == render.VOTE_NOT_RECORDED
        later = await ask(fake, GFMD, user)
        assert "¶5" in message_text(later)
    finally:
        restore()
    lines = [line for line in bot.process.stderr if "feedback store" in line]
    assert lines and all("Traceback" not in line for line in lines)
    assert not bot.process.tracebacks(), bot.process.stderr_text
    await asyncio.sleep(0.1)
    said, _ = await vote(fake, answer, "👍", user)
    assert said == render.VOTE_RECORDED


async def test_rows_past_retention_are_purged_at_start(
    fake: FakeDiscord, bot: Running, setup: Setup
) -> None:
    old = AnswerRecord.new(
        document="c2d669",
        question="an old question",
        verdict="not_addressed",
        confidence=0.0,
        shown=None,
        now=utc_now() - timedelta(days=3),
    )
    async with open_store(setup.url, state_dir=setup.state_dir, salt=SALT) as store:
        await store.record_answer(old)
    restarted = await bot.restart(fake, setup.env(fake, FEEDBACK_DAYS="2"))
    await purge_logged(restarted)
    async with open_store(setup.url, state_dir=setup.state_dir, salt=SALT) as store:
        period = await store.period(utc_now() - timedelta(days=30), utc_now())
    assert "an old question" not in {a.question for a in period.answers}
    assert period.answers, "answers within the retention period are kept"


async def purge_logged(bot: BotProcess) -> None:
    for _ in range(100):
        if any("purged" in line for line in bot.stderr):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("no purge logged:\n" + bot.stderr_text)
