"""Keep secrets out of the logs: the bot token, interaction tokens and webhook URLs.

discord.py logs at DEBUG every request URL (an interaction's token is part of its callback and
webhook URLs) and every gateway event (an INTERACTION_CREATE carries its token). Anyone holding
an interaction token can answer as the bot for 15 minutes, and a webhook URL is a credential
too, so a log shared for debugging must not contain them.

``install(token)`` puts one ``RedactingFilter`` on every handler of the root logger. It must be
on the handlers: a filter on a logger does not see the records its child loggers (``discord.*``)
pass up.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "[redacted]"

# The token part of a URL path: anything up to the next separator or quote.
_PATH_TOKEN = r"[^/?#\s'\"]+"
_PATTERNS = (
    # Webhook and interaction follow-up URLs: /webhooks/<id>/<token>[/messages/...]
    re.compile(rf"(/webhooks/\d+/){_PATH_TOKEN}"),
    # Interaction callbacks: /interactions/<id>/<token>/callback
    re.compile(rf"(/interactions/\d+/){_PATH_TOKEN}"),
    # A "token" field in JSON or in a Python dict's repr (gateway events, IDENTIFY, RESUME).
    re.compile(r"""(["']token["']\s*:\s*["'])[^"']*"""),
)
# Anything shaped like a bot token (three base64url parts), even one we were not given.
_BOT_TOKEN = re.compile(r"(?<![\w-])[\w-]{20,}\.[\w-]{6,}\.[\w-]{20,}(?![\w-])", re.ASCII)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret, token-shaped string and tokened URL replaced."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(rf"\g<1>{REDACTED}", text)
    return _BOT_TOKEN.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Rewrites each record it sees so that no handler can print a secret.

    The message is formatted once and stored redacted (``args`` cleared), and a traceback is
    rendered to text and redacted too, since exception messages can hold URLs.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]
        self._formatter = logging.Formatter()

    def __repr__(self) -> str:
        return f"<RedactingFilter with {len(self._secrets)} secret(s)>"

    def add_secret(self, secret: str) -> None:
        """Redact ``secret`` too from now on."""
        if secret and secret not in self._secrets:
            self._secrets.append(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            # A bad format string: keep the template and drop the arguments, which logging would
            # otherwise print whole when it reports the error.
            message = f"{record.msg} [arguments withheld: they did not fit the message]"
        record.msg = redact(message, self._secrets)
        record.args = None
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = self._formatter.formatException(record.exc_info)
            # Handlers would render the exception again from exc_info, unredacted.
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self._secrets)
        return True


def install(
    secrets: Iterable[str] = (), *, logger: logging.Logger | None = None
) -> RedactingFilter:
    """Attach one ``RedactingFilter`` to every handler of ``logger`` (the root by default).

    Call it after the handlers are set up (``logging.basicConfig``); a handler added later needs
    ``handler.addFilter(filter)`` with the filter this returns.
    """
    redacting = RedactingFilter(secrets)
    for handler in (logger or logging.getLogger()).handlers:
        handler.addFilter(redacting)
    return redacting
