"""The review report: pure functions from a Period to figures, and from figures to text.

Question text is kept verbatim in the figures. The text rendering makes every character that
could move the cursor, reorder a line or hide itself (control, format and separator characters)
visible as an escape, so a hostile question cannot break the layout or forge a line.
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from bot.feedback.model import PICK_NONE, VERDICTS, AnswerRecord, Period, Pick

CALIBRATION_BUCKETS: Final = 10
DEFAULT_TOP: Final = 10
# Categories shown as escapes: controls, format (bidi overrides, zero-width), line and paragraph
# separators, surrogates, unassigned.
INVISIBLE_CATEGORIES: Final = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Cn"})
_SIMPLE_ESCAPES: Final = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


@dataclass(frozen=True)
class NotAddressed:
    question: str  # the most frequent spelling, verbatim
    times: int
    documents: tuple[str, ...]


@dataclass(frozen=True)
class DownVoted:
    answer: AnswerRecord
    up: int
    down: int
    picks: tuple[tuple[Pick, int], ...]  # what 👎 voters picked, most picked first


@dataclass(frozen=True)
class ParagraphRate:
    document: str
    paragraph: int
    answers: int  # answers that showed this paragraph and got a vote
    up: int
    down: int

    @property
    def rate(self) -> float:
        return self.up / (self.up + self.down)


@dataclass(frozen=True)
class CalibrationRow:
    low: float
    high: float
    answers: int
    voted_answers: int  # that quoted a paragraph and got a vote
    up: int
    down: int
    mean_confidence: float | None  # over the voted answers

    @property
    def share_up(self) -> float | None:
        votes = self.up + self.down
        return self.up / votes if votes else None


@dataclass(frozen=True)
class Report:
    since: datetime
    until: datetime
    answers: int
    verdicts: tuple[tuple[str, int], ...]
    votes: int
    up: int
    down: int
    not_addressed: tuple[NotAddressed, ...]
    down_voted: tuple[DownVoted, ...]
    down_voted_total: int
    paragraph_rates: tuple[ParagraphRate, ...]
    calibration: tuple[CalibrationRow, ...]


def question_key(question: str) -> str:
    """Two askings are the same question when they differ only in case and spacing."""
    return " ".join(question.casefold().split())


def most_common_spelling(spellings: Iterable[str]) -> str:
    """The most frequent; among equals, the first seen."""
    counts = Counter(spellings)
    return max(counts, key=counts.__getitem__)


def build_report(period: Period, *, top: int = DEFAULT_TOP) -> Report:
    answers_by_id = {answer.id: answer for answer in period.answers}
    votes = [vote for vote in period.votes if vote.answer_id in answers_by_id]
    up_by_answer: Counter[str] = Counter(vote.answer_id for vote in votes if vote.up)
    down_by_answer: Counter[str] = Counter(vote.answer_id for vote in votes if not vote.up)

    not_addressed = _not_addressed(period.answers, top)

    picks_by_answer: defaultdict[str, Counter[Pick]] = defaultdict(Counter)
    for vote in votes:
        if not vote.up:
            picks_by_answer[vote.answer_id][vote.picked] += 1
    down_voted = sorted(
        (
            DownVoted(
                answer=answers_by_id[answer_id],
                up=up_by_answer[answer_id],
                down=down,
                picks=tuple(picks_by_answer[answer_id].most_common()),
            )
            for answer_id, down in down_by_answer.items()
        ),
        key=lambda row: (-row.down, row.answer.asked_at, row.answer.id),
    )

    per_paragraph: defaultdict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    for answer in period.answers:
        ups, downs = up_by_answer[answer.id], down_by_answer[answer.id]
        if answer.shown is None or answer.verdict == "not_addressed" or not ups + downs:
            continue
        tally = per_paragraph[(answer.document, answer.shown)]
        tally[0] += 1
        tally[1] += ups
        tally[2] += downs
    paragraph_rates = tuple(
        ParagraphRate(document, paragraph, answers, ups, downs)
        for (document, paragraph), (answers, ups, downs) in sorted(per_paragraph.items())
    )

    return Report(
        since=period.since,
        until=period.until,
        answers=len(period.answers),
        verdicts=tuple(
            (verdict, count)
            for verdict in VERDICTS
            if (count := sum(answer.verdict == verdict for answer in period.answers))
        ),
        votes=len(votes),
        up=sum(up_by_answer.values()),
        down=sum(down_by_answer.values()),
        not_addressed=not_addressed,
        down_voted=tuple(down_voted[:top]),
        down_voted_total=len(down_voted),
        paragraph_rates=paragraph_rates,
        calibration=_calibration(period.answers, up_by_answer, down_by_answer),
    )


def _not_addressed(answers: Iterable[AnswerRecord], top: int) -> tuple[NotAddressed, ...]:
    spellings: defaultdict[str, list[str]] = defaultdict(list)
    documents: defaultdict[str, set[str]] = defaultdict(set)
    for answer in answers:
        if answer.verdict == "not_addressed":
            key = question_key(answer.question)
            spellings[key].append(answer.question)
            documents[key].add(answer.document)
    rows = [
        NotAddressed(most_common_spelling(spelled), len(spelled), tuple(sorted(documents[key])))
        for key, spelled in spellings.items()
    ]
    rows.sort(key=lambda row: (-row.times, question_key(row.question)))
    return tuple(rows[:top])


def bucket_of(confidence: float) -> int:
    """0.0–0.1 is bucket 0, …, 0.9–1.0 (1.0 included) is the last."""
    return min(int(confidence * CALIBRATION_BUCKETS), CALIBRATION_BUCKETS - 1)


def _calibration(
    answers: Iterable[AnswerRecord], up: Counter[str], down: Counter[str]
) -> tuple[CalibrationRow, ...]:
    counts = [[0, 0, 0, 0, 0.0] for _ in range(CALIBRATION_BUCKETS)]
    for answer in answers:
        row = counts[bucket_of(answer.confidence)]
        row[0] += 1
        # A vote on a quoted paragraph says whether the answer was right; a 👍 on "not
        # addressed" says something else, and would blur the table.
        if answer.verdict != "not_addressed" and up[answer.id] + down[answer.id]:
            row[1] += 1
            row[2] += up[answer.id]
            row[3] += down[answer.id]
            row[4] += answer.confidence
    return tuple(
        CalibrationRow(
            low=index / CALIBRATION_BUCKETS,
            high=(index + 1) / CALIBRATION_BUCKETS,
            answers=int(answers_in),
            voted_answers=int(voted),
            up=int(ups),
            down=int(downs),
            mean_confidence=total / voted if voted else None,
        )
        for index, (answers_in, voted, ups, downs, total) in enumerate(counts)
    )


# ------------------------------------------------------------------------------------ text


def visible(text: str) -> str:
    """The text on one line with nothing hidden: backslash, controls, bidi and zero-width
    characters, separators and surrogates become escapes; everything else is kept."""
    out = []
    for character in text:
        if character in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[character])
        elif unicodedata.category(character) in INVISIBLE_CATEGORIES:
            code = ord(character)
            out.append(
                f"\\x{code:02x}"
                if code < 0x100
                else f"\\u{code:04x}"
                if code < 0x10000
                else f"\\U{code:08x}"
            )
        else:
            out.append(character)
    return "".join(out)


def _pick_label(picked: Pick) -> str:
    if picked is None:
        return "no pick"
    if picked == PICK_NONE:
        return "none (does not say)"
    return f"¶{picked}"


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]], indent: str = "  ") -> list[str]:
    """Columns right-aligned except the last, which is left free (it may hold a question)."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = []
    for *fixed, free in (header, *rows):
        aligned = [cell.rjust(width) for cell, width in zip(fixed, widths, strict=False)]
        lines.append((indent + "  ".join([*aligned, free])).rstrip())
    return lines


def _verdict(verdict: str) -> str:
    return verdict.replace("_", " ")


def render_report(report: Report) -> str:
    verdicts = ", ".join(f"{_verdict(verdict)} {count}" for verdict, count in report.verdicts)
    lines = [
        f"Feedback from {_time(report.since)} to {_time(report.until)} UTC",
        f"Questions: {report.answers}" + (f" ({verdicts})" if verdicts else ""),
        f"Votes: {report.votes} (👍 {report.up}, 👎 {report.down})",
        "",
        "Questions most often not addressed",
    ]
    if report.not_addressed:
        lines += _table(
            ("times", "question"),
            [(str(row.times), visible(row.question)) for row in report.not_addressed],
        )
    else:
        lines.append("  (none)")

    lines += ["", f"Answers voted 👎 ({report.down_voted_total})"]
    if not report.down_voted:
        lines.append("  (none)")
    for row in report.down_voted:
        answer = row.answer
        shown = f"¶{answer.shown}" if answer.shown is not None else "no ¶"
        picks = ", ".join(f"{_pick_label(pick)} ×{count}" for pick, count in row.picks)
        lines.append(
            f"  {_time(answer.asked_at)}  {visible(answer.document)} {shown}"
            f"  {_verdict(answer.verdict)} {answer.confidence:.2f}"
            f"  up {row.up} down {row.down}  picked: {picks}"
        )
        lines.append(f"      {visible(answer.question)}")
    if report.down_voted_total > len(report.down_voted):
        lines.append(f"  … and {report.down_voted_total - len(report.down_voted)} more")

    lines += ["", "👍 rate per paragraph shown"]
    if report.paragraph_rates:
        lines += _table(
            ("¶", "answers", "up", "down", "up rate", "document"),
            [
                (
                    f"¶{row.paragraph}",
                    str(row.answers),
                    str(row.up),
                    str(row.down),
                    _share(row.rate),
                    visible(row.document),
                )
                for row in report.paragraph_rates
            ],
        )
    else:
        lines.append("  (no votes)")

    lines += ["", "Confidence against votes on quoted paragraphs"]
    lines += _table(
        ("confidence", "answers", "voted", "up", "down", "up share", "mean conf."),
        [
            (
                f"{row.low:.1f}–{row.high:.1f}",
                str(row.answers),
                str(row.voted_answers),
                str(row.up),
                str(row.down),
                _share(row.share_up),
                "–" if row.mean_confidence is None else f"{row.mean_confidence:.2f}",
            )
            for row in report.calibration
        ],
    )
    return "\n".join(lines) + "\n"
