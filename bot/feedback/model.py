"""What the feedback store keeps: answers, votes, and the one error the bot has to handle."""

from __future__ import annotations

import enum
import math
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal, get_args

Verdict = Literal["answered", "closest", "not_addressed"]
VERDICTS: Final[tuple[str, ...]] = get_args(Verdict)

# What a voter picked after 👎: a paragraph number, or that the statement does not say.
PICK_NONE: Final = "none"
Pick = int | Literal["none"] | None

# Short enough to travel in a Discord custom id (100 characters) beside the rest of the button.
ANSWER_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{1,12}")
DOCUMENT_ID_MAX: Final = 200
# Characters no database here can hold (PostgreSQL text refuses NUL; neither driver can encode a
# lone surrogate). They are the only ones not stored verbatim.
UNSTORABLE: Final = re.compile("[\x00\ud800-\udfff]")


class FeedbackUnavailable(Exception):  # noqa: N818 - the name says what the bot must handle
    """The store cannot be used right now; str(error) is a one-line reason fit for a log line."""

    def __init__(self, reason: str) -> None:
        one_line = " ".join(reason.split())
        super().__init__(one_line[:300])


class VoteOutcome(enum.Enum):
    RECORDED = "recorded"  # the voter's first vote on this answer
    CHANGED = "changed"
    UNCHANGED = "unchanged"  # the same vote again
    UNKNOWN_ANSWER = "unknown_answer"  # never recorded (feedback was off) or purged since


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_answer_id() -> str:
    """64 random bits in 11 URL-safe characters: made before any I/O, so an answer can be sent
    with its buttons at once and recorded in the background."""
    return secrets.token_urlsafe(8)


def storable_text(text: str) -> str:
    return UNSTORABLE.sub("\ufffd", text)


@dataclass(frozen=True)
class AnswerRecord:
    """One answered question, as the bot showed it."""

    id: str
    asked_at: datetime
    document: str
    question: str
    verdict: Verdict
    confidence: float
    shown: int | None  # the ¶ the answer quoted, if any

    def __post_init__(self) -> None:
        if not ANSWER_ID_PATTERN.fullmatch(self.id):
            raise ValueError("an answer id is 1-12 characters of A-Z a-z 0-9 _ -")
        if self.asked_at.tzinfo is None:
            raise ValueError("asked_at must be timezone-aware")
        if not 0 < len(self.document) <= DOCUMENT_ID_MAX:
            raise ValueError(f"a document id is 1-{DOCUMENT_ID_MAX} characters")
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}")
        if not (math.isfinite(self.confidence) and 0.0 <= self.confidence <= 1.0):
            raise ValueError("confidence must be between 0 and 1")
        if self.shown is not None and self.shown < 1:
            raise ValueError("a paragraph number starts at 1")

    @classmethod
    def new(
        cls,
        *,
        document: str,
        question: str,
        verdict: Verdict,
        confidence: float,
        shown: int | None,
        now: datetime | None = None,
    ) -> AnswerRecord:
        return cls(
            id=new_answer_id(),
            asked_at=now or utc_now(),
            document=document,
            question=storable_text(question),
            verdict=verdict,
            confidence=confidence,
            shown=shown,
        )


@dataclass(frozen=True)
class VoteRecord:
    """One voter's current vote on one answer. `voter` is a salted hash, never a user id."""

    answer_id: str
    voter: str
    up: bool
    picked: Pick
    voted_at: datetime


@dataclass(frozen=True)
class Period:
    """The answers asked in [since, until) and every vote on them."""

    since: datetime
    until: datetime
    answers: tuple[AnswerRecord, ...]
    votes: tuple[VoteRecord, ...]


@dataclass(frozen=True)
class PurgeCount:
    answers: int
    votes: int


def check_pick(picked: Pick) -> Pick:
    if picked is None or picked == PICK_NONE:
        return picked
    if isinstance(picked, bool) or not isinstance(picked, int) or picked < 1:
        raise ValueError(f"a pick is a paragraph number from 1, {PICK_NONE!r} or None")
    return picked
