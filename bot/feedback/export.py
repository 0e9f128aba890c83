"""Confirmed questions, in the format of the example-question files, for a maintainer to review.

A pair is confirmed by a 👍 on the paragraph an answer showed (or on "not addressed"), or by the
paragraph a voter picked after a 👎 (null when they picked "the statement does not say").
Nothing here reaches the index: a maintainer reads the file and merges what is right into data/.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from bot.examples import Example, format_examples
from bot.feedback.model import PICK_NONE, AnswerRecord, Period, VoteRecord
from bot.feedback.report import most_common_spelling, question_key

FEEDBACK_AUTHOR = "feedback"


@dataclass(frozen=True)
class ConfirmedPair:
    document: str
    question: str  # the most frequent spelling, verbatim
    paragraph: int | None  # None: the statement does not address it
    voters: int  # distinct voters who confirmed it

    @property
    def example_id(self) -> str:
        """Stable across exports, so a maintainer can tell a pair already merged."""
        key = f"{self.document}\n{question_key(self.question)}\n{self.paragraph}"
        return "fb-" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:10]

    def as_example(self) -> Example:
        # The team's questions are a stranger's to the rest of the examples (tools/crossval.py).
        return Example(self.question, self.paragraph, id=self.example_id, author=FEEDBACK_AUTHOR)


@dataclass(frozen=True)
class Confirmation:
    paragraph: int | None  # None: the statement does not address the question


def confirmation(answer: AnswerRecord, vote: VoteRecord) -> Confirmation | None:
    """What this vote confirms for the question; None when it confirms nothing (a 👍 on an
    answer that showed no paragraph, or a 👎 with no pick yet)."""
    if vote.up:
        if answer.verdict == "not_addressed":
            return Confirmation(None)
        return None if answer.shown is None else Confirmation(answer.shown)
    if vote.picked is None:
        return None
    return Confirmation(None if vote.picked == PICK_NONE else vote.picked)


def confirmed_pairs(period: Period, *, min_voters: int = 1) -> list[ConfirmedPair]:
    """One pair per document, question (case and spacing aside) and paragraph, with at least
    `min_voters` distinct voters; when people disagree, each answer they gave is its own pair."""
    answers = {answer.id: answer for answer in period.answers}
    voters: defaultdict[tuple[str, str, int | None], set[str]] = defaultdict(set)
    spellings: defaultdict[tuple[str, str, int | None], list[str]] = defaultdict(list)
    for vote in period.votes:
        answer = answers.get(vote.answer_id)
        confirmed = None if answer is None else confirmation(answer, vote)
        if answer is None or confirmed is None:
            continue
        key = (answer.document, question_key(answer.question), confirmed.paragraph)
        voters[key].add(vote.voter)
        spellings[key].append(answer.question)
    pairs = []
    for key, who in voters.items():
        document, _, paragraph = key
        if len(who) >= min_voters:
            pairs.append(
                ConfirmedPair(document, most_common_spelling(spellings[key]), paragraph, len(who))
            )
    pairs.sort(
        key=lambda pair: (
            pair.document,
            question_key(pair.question),
            -pair.voters,
            -1 if pair.paragraph is None else pair.paragraph,
        )
    )
    return pairs


def to_json_lines(pairs: list[ConfirmedPair]) -> str:
    """The pairs as lines of an examples file (bot/examples.py), ready to review and merge."""
    return format_examples([pair.as_example() for pair in pairs])
