"""Answer quality, cross-validated: each question is scored by an index and a model built
without it (tools/evaluate.py). `make eval` prints the full tables."""

from __future__ import annotations

import pytest

from tests.conftest import DATA_DIR, ROOT
from tools.evaluate import (
    cross_validate,
    leave_file_out,
    load_questions,
    load_setup,
    metrics,
    report,
)

FILES = ("dev", "train", "extra")


def public_questions():
    return [
        (q, name) for name in FILES for q in load_questions(ROOT / "tests" / f"{name}_qa.jsonl")
    ]


def scored_and_reported(request, title, evaluate):
    """The public questions scored by evaluate(setup, questions, examples); the table is shown
    at the end of the run."""
    setup, examples = load_setup(DATA_DIR)
    result = evaluate(setup, public_questions(), examples)
    request.config.stash.setdefault("quality_reports", []).append(f"{title}\n{report(result)}")
    return result


@pytest.fixture(scope="module")
def scored(request):
    return scored_and_reported(request, "10-fold cross-validated answer quality", cross_validate)


@pytest.fixture(scope="module")
def scored_by_strangers(request):
    """Each file scored by an index and a model built without any of its questions."""
    return scored_and_reported(request, "Each file left out", leave_file_out)


@pytest.fixture(scope="module")
def scored_without_own_examples():
    """Without the maintainers' own examples: they were written after reading the questions."""
    setup, examples = load_setup(DATA_DIR)
    return cross_validate(setup, public_questions(), examples, own_examples=False)


def figures(scored, kind=None, source=None):
    return metrics(
        [
            (s.question, s.ours)
            for s in scored
            if (kind is None or s.question.kind == kind) and (source is None or s.source == source)
        ]
    )


def test_every_public_question_is_scored_once(scored):
    assert sorted(s.question.id for s in scored) == sorted(
        q.id for name in FILES for q in load_questions(ROOT / "tests" / f"{name}_qa.jsonl")
    )


# Floors a little below what `make eval` measures (see the README), so that a change that
# makes answers worse fails; cross-validation is deterministic, so they do not flake.
def test_answer_accuracy_floor(scored):
    assert figures(scored)["accuracy"] >= 0.91


def test_in_scope_ranking_floor(scored):
    assert figures(scored)["top1"] >= 0.95
    assert figures(scored)["mrr"] >= 0.97


def test_out_of_scope_declined_floor(scored):
    assert figures(scored)["declined"] >= 0.95


def test_wrongful_refusal_ceiling(scored):
    assert figures(scored)["wrongful"] <= 0.08


def test_answer_sentence_floor(scored):
    assert figures(scored)["sentence"] >= 0.88


def test_another_authors_questions_keep_a_floor(scored_by_strangers):
    every = figures(scored_by_strangers)
    assert every["accuracy"] >= 0.91
    assert every["top1"] >= 0.95
    assert every["declined"] >= 0.95
    assert every["wrongful"] <= 0.11
    # The public training questions' author wrote none of the other examples.
    assert figures(scored_by_strangers, source="train")["accuracy"] >= 0.87


def test_each_file_keeps_a_floor(scored):
    for source in FILES:
        assert figures(scored, source=source)["accuracy"] >= 0.87, source


def test_our_own_examples_are_not_what_carries_the_figures(scored_without_own_examples):
    without = figures(scored_without_own_examples)
    assert without["accuracy"] >= 0.91
    assert without["top1"] >= 0.95
    assert without["declined"] >= 0.95
    assert without["sentence"] >= 0.88


def test_beats_the_naive_baseline_on_every_kind(scored, scored_by_strangers):
    for kind in ("keyword", "paraphrase", "acronym", "messy", "out_of_scope"):
        # Strictly for another author's questions, what the fit is made for; in random folds,
        # never worse (keyword questions tie there: 31 of 33 each).
        assert figures(scored_by_strangers, kind)["accuracy"] > naive_of(
            scored_by_strangers, kind
        ), kind
        assert figures(scored, kind)["accuracy"] >= naive_of(scored, kind), kind


def naive_of(scored, kind):
    return metrics([(s.question, s.naive) for s in scored if s.question.kind == kind])["accuracy"]
