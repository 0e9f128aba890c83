"""Secrets never reach a log handler's output, at any level, whatever logged them."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.redact import REDACTED, RedactingFilter, install, redact

BOT_TOKEN = "MTQwMDAwMDAwMDAwMDAwMDAwMA.GfAkEd.protocol-tests-only-not-a-real-token"
INTERACTION_TOKEN = "aW50ZXJhY3Rpb246MTQwMDAwMDAwMDAwMDAwMDAwMDpFeGFtcGxlVG9rZW5Gb3JUZXN0cw"
WEBHOOK_TOKEN = "Zk9jYVJfZXhhbXBsZS13ZWJob29rLXRva2VuLW5vdC1yZWFsLTEyMzQ1Njc4OTAxMjM0"
API = "https://discord.com/api/v10"
CALLBACK_URL = f"{API}/interactions/1400000000000000001/{INTERACTION_TOKEN}/callback"
FOLLOWUP_URL = f"{API}/webhooks/1400000000000000000/{INTERACTION_TOKEN}/messages/@original"
WEBHOOK_URL = f"https://discord.com/api/webhooks/1400000000000000002/{WEBHOOK_TOKEN}"
LEVELS = [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL]


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger named like discord.py's, whose one handler redacts and writes to a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter([BOT_TOKEN]))
    logger = logging.getLogger("discord.http.redaction-test")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


@pytest.mark.parametrize("level", LEVELS, ids=logging.getLevelName)
def test_interaction_callback_url_at_every_level(
    captured: tuple[logging.Logger, io.StringIO], level: int
) -> None:
    logger, stream = captured
    # The exact call discord.py's HTTP client makes after each request.
    logger.log(level, "%s %s with %s has returned %s", "POST", CALLBACK_URL, None, 204)
    output = stream.getvalue()
    assert INTERACTION_TOKEN not in output
    assert f"/interactions/1400000000000000001/{REDACTED}/callback with None" in output


def test_followup_and_webhook_urls(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.debug("%s %s has received %s", "PATCH", FOLLOWUP_URL, {"id": "1"})
    logger.warning("posting to %s failed", WEBHOOK_URL)
    output = stream.getvalue()
    assert INTERACTION_TOKEN not in output
    assert WEBHOOK_TOKEN not in output
    assert f"/webhooks/1400000000000000000/{REDACTED}/messages/@original" in output
    assert f"/webhooks/1400000000000000002/{REDACTED} failed" in output


def test_gateway_event_with_an_interaction_token(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    event = {"t": "INTERACTION_CREATE", "op": 0, "d": {"id": "1", "token": INTERACTION_TOKEN}}
    logger.debug("For Shard ID %s: WebSocket Event: %s", None, event)
    logger.debug('raw: {"op": 2, "d": {"token": "%s", "intents": 1}}', BOT_TOKEN)
    output = stream.getvalue()
    assert INTERACTION_TOKEN not in output
    assert BOT_TOKEN not in output
    assert f"'token': '{REDACTED}'" in output
    assert f'"token": "{REDACTED}"' in output
    assert "INTERACTION_CREATE" in output


def test_bot_token_given_or_only_token_shaped(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    other = "OTk5OTk5OTk5OTk5OTk5OTk5OQ.AbCdEf.another-token-we-were-never-told-about"
    logger.info("Authorization: Bot %s", BOT_TOKEN)
    logger.error("config said %s", other)
    output = stream.getvalue()
    assert BOT_TOKEN not in output
    assert other not in output
    assert f"Authorization: Bot {REDACTED}" in output


def test_exception_text_is_redacted(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    try:
        raise ConnectionError(f"503 Service Unavailable, url={CALLBACK_URL}")
    except ConnectionError:
        logger.exception("answer failed")
    output = stream.getvalue()
    assert "Traceback (most recent call last)" in output
    assert "ConnectionError: 503 Service Unavailable" in output
    assert INTERACTION_TOKEN not in output


def test_arguments_that_do_not_fit_are_withheld(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.warning("one placeholder %s %s", BOT_TOKEN)
    output = stream.getvalue()
    assert BOT_TOKEN not in output
    assert "one placeholder" in output
    assert "arguments withheld" in output


def test_ordinary_text_is_left_alone() -> None:
    text = (
        "POST https://discord.com/api/v10/channels/1400000000000000003/messages has returned 200;"
        " answered ¶5 · PANEL 4: Summary Panel (score 3.21, version 2.7.1)"
    )
    assert redact(text) == text


def test_redaction_is_idempotent() -> None:
    once = redact(f"{CALLBACK_URL} {FOLLOWUP_URL} token={BOT_TOKEN}", [BOT_TOKEN])
    assert redact(once, [BOT_TOKEN]) == once


def test_the_filter_does_not_show_its_secrets() -> None:
    redacting = RedactingFilter([BOT_TOKEN])
    assert BOT_TOKEN not in repr(redacting)
    assert BOT_TOKEN not in str(vars(redacting).get("name"))


def test_install_covers_records_from_child_loggers() -> None:
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    saved_handlers, saved_level = root.handlers[:], root.level
    root.handlers = [handler]
    root.setLevel(logging.DEBUG)
    try:
        redacting = install([BOT_TOKEN])
        assert handler.filters == [redacting]
        logging.getLogger("discord.gateway").debug("identify with %s", BOT_TOKEN)
        redacting.add_secret("a-late-secret-value")
        logging.getLogger("bot").info("then a-late-secret-value")
    finally:
        root.handlers, root.level = saved_handlers, saved_level
    output = stream.getvalue()
    assert BOT_TOKEN not in output
    assert "a-late-secret-value" not in output
    assert output.count(REDACTED) == 2
