"""Feedback on answers: a store, a review report and an export of confirmed questions.

Off by default (FEEDBACK=on turns it on). The Discord glue records each answer with
`AnswerRecord.new(...)` and `FeedbackStore.record_answer`, passes the answer id in the buttons'
custom ids, and calls `vote` / `pick`; every store failure is FeedbackUnavailable.
"""

from bot.feedback.model import (
    PICK_NONE,
    VERDICTS,
    AnswerRecord,
    FeedbackUnavailable,
    Period,
    Pick,
    PurgeCount,
    Verdict,
    VoteOutcome,
    VoteRecord,
    new_answer_id,
)
from bot.feedback.store import (
    DEFAULT_RETENTION_DAYS,
    FeedbackStore,
    make_store,
    open_store,
    purge_and_log,
    purge_daily,
)

__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "PICK_NONE",
    "VERDICTS",
    "AnswerRecord",
    "FeedbackStore",
    "FeedbackUnavailable",
    "Period",
    "Pick",
    "PurgeCount",
    "Verdict",
    "VoteOutcome",
    "VoteRecord",
    "make_store",
    "new_answer_id",
    "open_store",
    "purge_and_log",
    "purge_daily",
]
