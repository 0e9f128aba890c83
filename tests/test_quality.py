"""Answer quality on the dev questions; `make eval` prints the full table."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT
from tools.evaluate import baseline_outcome, bot_outcome, by_kind, format_table, load_questions

DEV = ROOT / "tests" / "dev_qa.jsonl"
# Our own questions, written like the dev set's, to catch tuning that only fits the dev words.
EXTRA = ROOT / "tests" / "extra_qa.jsonl"


@pytest.fixture(scope="module")
def dev_table(library, request):
    questions = load_questions(DEV)
    table = by_kind(questions, bot_outcome(library))
    request.config.stash.setdefault("quality_reports", []).append(
        format_table(
            "dev questions — ours (naive baseline)",
            table,
            by_kind(questions, baseline_outcome(library)),
        )
    )
    return table


def test_dev_set_covers_every_kind():
    assert {q.kind for q in load_questions(DEV)} == {
        "keyword",
        "paraphrase",
        "acronym",
        "messy",
        "out_of_scope",
    }


def test_answer_accuracy_floor(dev_table):
    assert dev_table["all"].accuracy >= 0.90


def test_in_scope_ranking_floor(dev_table):
    assert dev_table["all"].top1 >= 0.90
    assert dev_table["all"].mrr >= 0.93


def test_abstention_floor(dev_table):
    assert dev_table["all"].abstention_recall >= 0.90
    assert dev_table["all"].wrongful_abstention <= 0.05


def test_answer_sentence_floor(dev_table):
    assert dev_table["all"].sentence >= 0.85


def test_own_questions_floor(library):
    table = by_kind(load_questions(EXTRA), bot_outcome(library))
    assert table["all"].accuracy >= 0.90
    assert table["out_of_scope"].abstention_recall >= 0.80
    assert table["all"].wrongful_abstention <= 0.05


def test_beats_the_naive_baseline(library):
    questions = load_questions(DEV)
    ours = by_kind(questions, bot_outcome(library))["all"]
    naive = by_kind(questions, baseline_outcome(library))["all"]
    assert ours.accuracy > naive.accuracy
