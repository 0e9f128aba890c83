"""The pure half of feedback: records, the report, the export, settings and database URLs."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import ConfigError, load_settings
from bot.examples import parse_examples
from bot.feedback.export import confirmed_pairs, to_json_lines
from bot.feedback.model import PICK_NONE, AnswerRecord, Period, VoteRecord, new_answer_id
from bot.feedback.report import (
    INVISIBLE_CATEGORIES,
    bucket_of,
    build_report,
    question_key,
    render_report,
    visible,
)
from bot.feedback.review import period_bounds
from bot.feedback.targets import PostgresTarget, SqliteTarget, parse_database_url

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
DOC = "canada-gcm-panel-4-summary"


def answer(
    question: str,
    *,
    verdict: str = "answered",
    confidence: float = 0.8,
    shown: int | None = 6,
    minutes: int = 0,
    document: str = DOC,
) -> AnswerRecord:
    return AnswerRecord(
        id=new_answer_id(),
        asked_at=NOW + timedelta(minutes=minutes),
        document=document,
        question=question,
        verdict=verdict,  # type: ignore[arg-type]
        confidence=confidence,
        shown=shown,
    )


def vote(record: AnswerRecord, voter: str, *, up: bool, picked=None) -> VoteRecord:
    return VoteRecord(record.id, voter, up, picked, record.asked_at + timedelta(minutes=1))


def period(answers: list[AnswerRecord], votes: list[VoteRecord]) -> Period:
    return Period(NOW - timedelta(days=1), NOW + timedelta(days=1), tuple(answers), tuple(votes))


# ------------------------------------------------------------------------------- records


def test_answer_ids_fit_a_custom_id_and_differ():
    ids = {new_answer_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) <= 12 and i.replace("-", "").replace("_", "").isalnum() for i in ids)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id", "has space", "answer id"),
        ("id", "x" * 13, "answer id"),
        ("asked_at", datetime(2025, 1, 1), "timezone"),  # naive: the point of the test
        ("document", "", "document"),
        ("verdict", "maybe", "verdict"),
        ("confidence", 1.5, "confidence"),
        ("confidence", float("nan"), "confidence"),
        ("shown", 0, "paragraph"),
    ],
)
def test_an_answer_record_refuses_what_the_schema_would(field, value, message):
    fields = {
        "id": "abc",
        "asked_at": NOW,
        "document": DOC,
        "question": "q",
        "verdict": "answered",
        "confidence": 0.5,
        "shown": 1,
        field: value,
    }
    with pytest.raises(ValueError, match=message):
        AnswerRecord(**fields)


def test_times_must_say_their_time_zone():
    with pytest.raises(ValueError, match="timezone-aware"):
        AnswerRecord("abc", datetime(2025, 3, 1, 13, 0), DOC, "q", "answered", 0.5, 1)


# ------------------------------------------------------------------------------- report


def test_not_addressed_groups_case_and_spacing_and_ranks_by_count():
    answers = [
        answer("What about climate?", verdict="not_addressed", shown=None, minutes=0),
        answer("what about  CLIMATE?", verdict="not_addressed", shown=None, minutes=1),
        answer("what about  CLIMATE?", verdict="not_addressed", shown=None, minutes=2),
        answer("And trade?", verdict="not_addressed", shown=None, minutes=3),
        answer("Who leads?", minutes=4),
    ]
    report = build_report(period(answers, []))
    assert [(row.question, row.times) for row in report.not_addressed] == [
        ("what about  CLIMATE?", 3),
        ("And trade?", 1),
    ]
    assert build_report(period(answers, []), top=1).not_addressed[0].times == 3


def test_down_votes_list_what_people_picked():
    good = answer("Who leads?", shown=6)
    bad = answer("What is the Forum?", verdict="closest", shown=4, minutes=1)
    worse = answer("What is the GMG?", verdict="closest", shown=3, minutes=2)
    votes = [
        vote(good, "a", up=True),
        vote(bad, "a", up=False, picked=5),
        vote(bad, "b", up=False, picked=5),
        vote(bad, "c", up=False, picked=PICK_NONE),
        vote(bad, "d", up=True),
        vote(worse, "a", up=False),
    ]
    report = build_report(period([good, bad, worse], votes), top=1)
    assert report.down_voted_total == 2
    (row,) = report.down_voted
    assert row.answer == bad
    assert (row.up, row.down) == (1, 3)
    assert row.picks == ((5, 2), (PICK_NONE, 1))
    text = render_report(report)
    assert "up 1 down 3  picked: ¶5 ×2, none (does not say) ×1" in text
    assert "… and 1 more" in text


def test_up_rate_per_paragraph_counts_votes_on_answers_that_quoted_it():
    first = answer("a", shown=6)
    second = answer("b", shown=6, minutes=1)
    third = answer("c", shown=2, document="other", minutes=2)
    unvoted = answer("d", shown=1, minutes=3)
    abstained = answer("e", verdict="not_addressed", shown=3, minutes=4)
    votes = [
        vote(first, "a", up=True),
        vote(first, "b", up=False, picked=5),
        vote(second, "a", up=True),
        vote(third, "a", up=False),
        vote(abstained, "a", up=True),
    ]
    rates = build_report(period([first, second, third, unvoted, abstained], votes))
    assert [(r.document, r.paragraph, r.answers, r.up, r.down) for r in rates.paragraph_rates] == [
        (DOC, 6, 2, 2, 1),
        ("other", 2, 1, 0, 1),
    ]
    assert rates.paragraph_rates[0].rate == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("confidence", "bucket"),
    [(0.0, 0), (0.0999, 0), (0.1, 1), (0.55, 5), (0.9, 9), (0.999, 9), (1.0, 9)],
)
def test_confidence_buckets(confidence, bucket):
    assert bucket_of(confidence) == bucket


def test_calibration_compares_confidence_with_the_share_of_up_votes():
    sure = answer("a", confidence=0.95)
    also_sure = answer("b", confidence=0.91, minutes=1)
    unsure = answer("c", verdict="closest", confidence=0.32, minutes=2)
    votes = [
        vote(sure, "a", up=True),
        vote(sure, "b", up=True),
        vote(also_sure, "a", up=False),
        vote(unsure, "a", up=False),
    ]
    rows = build_report(period([sure, also_sure, unsure], votes)).calibration
    assert len(rows) == 10
    top, low = rows[9], rows[3]
    assert (top.answers, top.voted_answers, top.up, top.down) == (2, 2, 2, 1)
    assert top.share_up == pytest.approx(2 / 3)
    assert top.mean_confidence == pytest.approx(0.93)
    assert (low.up, low.down, low.share_up) == (0, 1, 0.0)
    assert rows[5].share_up is None and rows[5].mean_confidence is None


def test_an_empty_period_renders():
    text = render_report(build_report(period([], [])))
    assert "Questions: 0\n" in text
    assert text.count("(none)") == 2
    assert "(no votes)" in text


# ------------------------------------------------------------------------------- hostile text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("two\nlines", "two\\nlines"),
        ("cr\rtab\t", "cr\\rtab\\t"),
        ("\x1b[2Jcleared", "\\x1b[2Jcleared"),
        ("a\u202eb\u202c", "a\\u202eb\\u202c"),
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("line\u2028para\u2029", "line\\u2028para\\u2029"),
        ("next\x85line\x7f", "next\\x85line\\x7f"),
        ("tag \U000e0041", "tag \\U000e0041"),
        ("C:\\new", "C:\\\\new"),
        ("Réponse « ¶5 » 👍🏽 e\u0301", "Réponse « ¶5 » 👍🏽 e\u0301"),
    ],
)
def test_visible_escapes_what_would_hide_or_move(raw, shown):
    assert visible(raw) == shown


@given(st.text())
def test_visible_text_is_one_line_with_nothing_hidden(text):
    shown = visible(text)
    assert len(shown.splitlines()) <= 1
    assert not any(unicodedata.category(c) in INVISIBLE_CATEGORIES for c in shown)
    if "\\" not in text and not any(unicodedata.category(c) in INVISIBLE_CATEGORIES for c in text):
        assert shown == text


@given(st.lists(st.text(min_size=1), min_size=1, max_size=5))
def test_hostile_questions_cannot_add_lines_to_the_report(questions):
    """The same report with plain questions in place of the hostile ones has as many lines."""
    plain_names: dict[str, str] = {}
    for question in questions:
        plain_names.setdefault(question_key(question), f"plain {len(plain_names)}")

    def report_of(texts: list[str]) -> str:
        answers = [
            answer(text, verdict="not_addressed" if i % 2 else "closest", shown=1, minutes=i)
            for i, text in enumerate(texts)
        ]
        votes = [vote(a, "v", up=False, picked=2) for a in answers]
        return render_report(build_report(period(answers, votes)))

    hostile = report_of(questions)
    plain = report_of([plain_names[question_key(q)] for q in questions])
    assert len(hostile.splitlines()) == len(plain.splitlines())
    assert not any(
        unicodedata.category(c) in INVISIBLE_CATEGORIES
        for line in hostile.splitlines()
        for c in line
    )


# ------------------------------------------------------------------------------- export


def test_export_confirms_up_votes_and_picks_and_nothing_else():
    shown = answer("Who leads?", shown=6)
    missed = answer("What is the Forum?", verdict="closest", shown=4, minutes=1)
    abstained = answer("Climate?", verdict="not_addressed", shown=None, minutes=2)
    no_pick = answer("Trade?", verdict="closest", shown=2, minutes=3)
    nothing_shown = answer("Huh?", verdict="closest", shown=None, minutes=4)
    votes = [
        vote(shown, "a", up=True),
        vote(missed, "a", up=False, picked=5),
        vote(missed, "b", up=False, picked=PICK_NONE),
        vote(abstained, "a", up=True),
        vote(no_pick, "a", up=False),
        vote(nothing_shown, "a", up=True),
    ]
    pairs = confirmed_pairs(period([shown, missed, abstained, no_pick, nothing_shown], votes))
    assert [(p.question, p.paragraph) for p in pairs] == [
        ("Climate?", None),
        ("What is the Forum?", None),
        ("What is the Forum?", 5),
        ("Who leads?", 6),
    ]


def test_export_deduplicates_and_counts_distinct_voters():
    first = answer("Who leads on data?", shown=6)
    again = answer("who leads on  DATA?", shown=6, minutes=1)
    third = answer("Who leads on data?", shown=6, minutes=2)
    votes = [
        vote(first, "a", up=True),
        vote(again, "a", up=True),  # the same person twice counts once
        vote(third, "b", up=True),
    ]
    (pair,) = confirmed_pairs(period([first, again, third], votes))
    assert (pair.question, pair.paragraph, pair.voters) == ("Who leads on data?", 6, 2)
    assert confirmed_pairs(period([first, again, third], votes), min_voters=3) == []


def test_export_ids_are_stable_and_distinct():
    record = answer("Who leads?", shown=6)
    other = answer("Who leads?", shown=3, minutes=1)
    votes = [vote(record, "a", up=True), vote(other, "b", up=True)]
    first = [p.example_id for p in confirmed_pairs(period([record, other], votes))]
    later = answer("WHO  leads?", shown=6, minutes=5)
    second = [
        p.example_id
        for p in confirmed_pairs(period([later, other], [vote(later, "c", up=True), votes[1]]))
    ]
    assert len(set(first)) == 2
    assert sorted(first) == sorted(second)


def test_export_lines_are_example_questions(tmp_path):
    questions = ["Who leads?", "Ligne\u2028séparée «¶»\n", 'quote " and \\ backslash']
    answers = [answer(q, shown=i + 1, minutes=i) for i, q in enumerate(questions)]
    text = to_json_lines(confirmed_pairs(period(answers, [vote(a, "v", up=True) for a in answers])))
    assert "séparée" in text and text.count("\n") == len(questions)
    # What a maintainer merges into data/ reads back as examples of the statement.
    examples = parse_examples(text, "feedback.jsonl", [4] * 6)
    assert sorted(e.question for e in examples) == sorted(" ".join(q.split()) for q in questions)
    assert sorted(e.paragraph for e in examples) == [1, 2, 3]
    assert all(e.id.startswith("fb-") and e.sentence is None for e in examples)
    # Fitted as another author's: the team wrote none of the other examples.
    assert {e.author for e in examples} == {"feedback"}


# ------------------------------------------------------------------------------- settings


def settings_from(values: dict[str, str]):
    return load_settings(values, env_file=None).feedback


def test_feedback_is_off_by_default():
    settings = settings_from({})
    assert (settings.enabled, settings.database_url, settings.days, settings.salt) == (
        False,
        None,
        90,
        None,
    )


def test_feedback_settings_are_read():
    settings = settings_from(
        {
            "FEEDBACK": "On",
            "FEEDBACK_DATABASE_URL": "postgresql://bot:pw@db:5432/fb",
            "FEEDBACK_DAYS": "30",
            "FEEDBACK_SALT": "s" * 32,
        }
    )
    assert (settings.enabled, settings.days) == (True, 30)
    assert "pw" not in repr(settings) and "s" * 32 not in repr(settings)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("FEEDBACK", "maybe", "FEEDBACK must be on or off"),
        ("FEEDBACK_DAYS", "0", "FEEDBACK_DAYS"),
        ("FEEDBACK_DAYS", "ninety", "FEEDBACK_DAYS"),
        ("FEEDBACK_DAYS", "99999", "FEEDBACK_DAYS"),
        ("FEEDBACK_SALT", "short", "FEEDBACK_SALT"),
        ("FEEDBACK_DATABASE_URL", "mysql://db/fb", "unsupported database URL scheme"),
        ("FEEDBACK_DATABASE_URL", "postgresql://db:port/fb", "malformed"),
        ("FEEDBACK_DATABASE_URL", "postgresql:///fb", "needs a host"),
        ("FEEDBACK_DATABASE_URL", "sqlite://relative", "sqlite:///relative"),
    ],
)
def test_bad_feedback_settings_say_what_to_fix(key, value, message):
    with pytest.raises(ConfigError, match=message) as raised:
        settings_from({key: value})
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("url", "target"),
    [
        (None, SqliteTarget(Path("state/feedback.sqlite3"))),
        ("", SqliteTarget(Path("state/feedback.sqlite3"))),
        ("votes.db", SqliteTarget(Path("votes.db"))),
        ("/var/lib/bot/votes.db", SqliteTarget(Path("/var/lib/bot/votes.db"))),
        ("sqlite:///relative/votes.db", SqliteTarget(Path("relative/votes.db"))),
        ("sqlite:////abs/votes.db", SqliteTarget(Path("/abs/votes.db"))),
        ("postgresql://u:p@db:5432/fb", PostgresTarget("postgresql://u:p@db:5432/fb")),
        ("postgres://db/fb", PostgresTarget("postgresql://db/fb")),
        ("postgresql+asyncpg://db/fb", PostgresTarget("postgresql://db/fb")),
    ],
)
def test_database_urls(url, target):
    assert parse_database_url(url, Path("state")) == target


def test_a_postgres_target_hides_its_password():
    assert "secret" not in repr(parse_database_url("postgresql://u:secret@db/fb", Path(".")))


def test_review_periods():
    assert period_bounds(7, NOW) == (NOW - timedelta(days=7), NOW)
    assert period_bounds(None, NOW)[1] == NOW
    with pytest.raises(ValueError, match="--days"):
        period_bounds(0, NOW)
