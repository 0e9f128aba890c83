from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from bot import cues
from bot.answerability import (
    FEATURES,
    MODEL_FILE,
    features,
    fit_logistic,
    parse_model,
)
from bot.corpus import DataError
from bot.examples import Example
from bot.sources import FolderSource
from tests.conftest import DATA_DIR, ROOT
from tools import english_zipf
from tools.crossval import (
    ANSWER_THRESHOLD,
    PENALTIES,
    Setup,
    Training,
    choose_penalty_and_thresholds,
    closest_threshold,
    fitting_folds,
    normalized,
    operating_points,
    quotes,
)
from tools.fit import fitted, model_json


def test_logistic_fit_separates_a_simple_rule():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 2))
    y = x[:, 0] - 0.5 * x[:, 1] > 0
    mean, scale, weights, bias = fit_logistic(x, y)
    assert weights[0] > 0 > weights[1]
    predicted = ((x - mean) / scale) @ weights + bias > 0
    assert (predicted == y).mean() > 0.95


@pytest.mark.parametrize("seed", range(3))
def test_the_penalty_is_weak_for_a_sharp_rule_and_strong_for_a_few_noisy_rows(seed):
    rng = np.random.default_rng(seed)
    # A rare class behind a sharp boundary: a strong penalty would shrink it away.
    x = rng.normal(size=(300, 1))
    assert choose_penalty_and_thresholds(x, x[:, 0] > 1.8, seed)[0] == min(PENALTIES)
    # Few rows, one useful feature among fourteen, noisy labels: a weak one would fit the noise.
    x = rng.normal(size=(80, 14))
    noisy = x[:, 0] + rng.normal(size=80) > 0
    assert choose_penalty_and_thresholds(x, noisy, seed)[0] >= 3.0


def test_the_closest_band_starts_where_its_passages_are_right_a_quarter_of_the_time():
    probabilities = np.array([[0.11, 0.12, 0.13, 0.14, 0.16, 0.17, 0.18, 0.32, 0.42, 0.9]])
    right = np.array([False] * 7 + [True, True, True])
    # From 0.1, two right in nine; from 0.15, two in five.
    assert closest_threshold(probabilities, right) == 0.15
    # Two lines of the same rows count together: from 0.1, one right in two; the first line
    # alone would have no band.
    two_lines = np.array([[0.6, 0.12], [0.4, 0.9]])
    assert closest_threshold(two_lines, np.array([True, False])) == 0.1
    assert closest_threshold(two_lines[:1], np.array([True, False])) == ANSWER_THRESHOLD
    # Never right below the answer threshold: no closest band at all.
    assert closest_threshold(probabilities, np.array([False] * 9 + [True])) == ANSWER_THRESHOLD


def test_the_closest_band_ends_at_the_answer_threshold():
    probabilities = np.array([[0.12, 0.35, 0.9]])
    right = np.array([False, True, True])
    assert closest_threshold(probabilities, right, answer=0.5) == 0.1
    # Below 0.3 only a wrong row: no band under that answer threshold.
    assert closest_threshold(probabilities, right, answer=0.3) == 0.3


def test_each_threshold_reports_what_it_declines_refuses_and_answers_wrongly():
    # Two near misses, then three answerable rows: right, right, ranked on the wrong paragraph.
    probabilities = np.array([[0.2, 0.6, 0.3, 0.7, 0.8], [0.2, 0.2, 0.3, 0.3, 0.8]])
    right = np.array([False, False, True, True, False])
    answerable = np.array([False, False, True, True, True])
    low, high = operating_points(probabilities, right, answerable, (0.25, 0.5))
    # At 0.25 the first line answers one near miss of two, the second none: 3 of 4 declined.
    assert (low.threshold, low.declined, low.refused, low.wrong_paragraph) == (0.25, 0.75, 0.0, 1)
    # At 0.5: declined 3 of 4; refused: the first line 1 of 3, the second 2 of 3.
    assert (high.declined, high.refused, high.wrong_paragraph) == (0.75, 0.5, 1)


def test_examples_by_several_authors_are_cross_fitted_an_author_a_fold():
    authors = ["train", None, "dev", "train", None]
    training = [Training("doc", Example(f"q{i}", 1, author=a)) for i, a in enumerate(authors)]
    keys = [normalized(t.example.question) for t in training]
    folds, count, by_author = fitting_folds(training, keys, [0] * 5, 10, 1)
    assert by_author and count == 3
    assert folds[0] == folds[3] and folds[1] == folds[4]
    assert len({folds[0], folds[1], folds[2]}) == 3
    # Two authors are too few to stand for a stranger: random folds.
    folds, count, by_author = fitting_folds(training[:2], keys[:2], [0, 0], 10, 1)
    assert not by_author and count == 10


def test_the_saved_model_is_what_make_fit_writes_now():
    """Refit from the examples; the weights must match the saved file (make fit after edits)."""
    saved = json.loads((DATA_DIR / MODEL_FILE).read_text(encoding="utf-8"))
    model, report = fitted(DATA_DIR)
    refit = model_json(model, report, saved["about"]["folds"], saved["about"]["seed"])
    assert refit["features"] == saved["features"]
    for key in ("mean", "scale", "weights"):
        assert refit[key] == pytest.approx(saved[key], abs=1e-4), key
    for key in ("bias", "answer_threshold", "closest_threshold", "examples_weight"):
        assert refit[key] == pytest.approx(saved[key], abs=1e-4), key


def test_the_deployed_index_uses_the_saved_model(index):
    saved = FolderSource(DATA_DIR).load().model
    assert saved is not None
    assert index.model is not None
    assert np.array_equal(index.model.weights, saved.weights)
    assert index.model.examples_weight == saved.examples_weight


def test_every_quote_of_the_statement_finds_its_own_paragraph_first(library):
    texts, targets = quotes(Setup.of(FolderSource(DATA_DIR).load()))
    # Each sentence, its first eight words and its last eight.
    assert len(texts) == 3 * sum(len(p.sentences) for p in library.paragraphs)
    for text, target in zip(texts, targets, strict=True):
        assert library.index.field_ranking(text)[0].index == target, text


@pytest.mark.parametrize(
    "change",
    [
        lambda m: m.pop("weights"),
        lambda m: m.update(features=["text_score"]),
        lambda m: m.update(scale=[0.0] * len(FEATURES)),
        lambda m: m.update(answer_threshold=0.1, closest_threshold=0.5),
        lambda m: m.update(bias="high"),
    ],
)
def test_a_damaged_model_file_is_one_data_error(tmp_path, change):
    raw = json.loads((DATA_DIR / MODEL_FILE).read_text(encoding="utf-8"))
    change(raw)
    with pytest.raises(DataError) as error:
        parse_model(raw, "answerability.json")
    assert "make fit" in str(error.value)


def test_a_model_file_that_is_not_json_is_a_data_error(write_statement, tmp_path):
    folder = write_statement("Some text.")
    (tmp_path / MODEL_FILE).write_text("{", encoding="utf-8")
    with pytest.raises(DataError, match="make fit"):
        FolderSource(folder).load()


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("How many people work at IOM?", {"figure"}),
        ("What is the annual budget, how much?", {"figure"}),
        ("When was the GFMD founded?", {"date"}),
        ("gfmd founded when?", {"date"}),
        ("In which city was the consultation held?", {"place"}),
        ("Where is IOM headquartered?", {"place"}),
        ("Which countries supported the idea?", {"name"}),
        ("Who is the current Director General?", {"name", "person"}),
        ("Who's the chair of the forum?", {"person"}),
        ("Which Canadian official gave the speech?", {"official"}),
        ("Which UN official should IOM support?", {"official"}),
        ("Who moderated the panels?", {"person"}),
        ("Who is the lead agency?", {"name"}),
        ("Who leads the process?", set()),
        ("Who is the head of the process?", {"name"}),
        ("What individuals should sit on panels?", set()),
        ("Which speakers did Canada want?", {"name"}),
        ("What's the deadline for the action plans?", {"date"}),
        ("Which cost estimates does it give?", {"figure"}),
        ("Does Canada talk about budgets?", set()),
        ("Who should support the SRSG?", set()),
        ("What should national governance include?", set()),
    ],
)
def test_the_answer_type_a_question_asks_for(question, kinds):
    assert cues.asked_types(question) == kinds


def test_what_a_paragraph_can_answer(index):
    held = [cues.held_types(p.text) for p in index.paragraphs]
    assert "figure" in held[0]  # "the two days"
    assert "figure" not in held[3]  # ¶4 gives no count
    assert not any("date" in h for h in held)
    assert "name" in held[5]  # IOM, SRSG, GMG
    assert "person" in held[0]  # Dr. Koser, Special Representative Arbour
    assert "person" not in held[5]  # the SRSG, by title alone…
    assert "official" in held[5]  # …which is an office held by one person
    assert "official" not in held[4]  # decision-makers, stakeholders: no one in particular


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        # A person by a title and a name: a person, and so an official.
        ("Minister Hussen opened the session.", {"person", "official"}),
        ("We thank Ms. Arbour.", {"person", "official"}),
        # An office held by one person, without a name: an official only.
        ("The Director General of IOM spoke.", {"official"}),
        ("The Secretary-General's report.", {"official"}),
        ("we thank the moderators and the envoy.", {"official"}),
        # Neither.
        ("Representatives of many states.", set()),
        ("Member states and stakeholders met.", set()),
    ],
)
def test_whom_a_text_names_as_a_person_or_an_official(text, kinds):
    assert cues.held_types(text) & {"person", "official"} == kinds


def test_names_and_numbers_the_library_lacks():
    known = {"canada", "iom", "gfmd"}
    assert cues.unknown_names("What did Mexico say about the GFMD in 2017?", known) == (
        "mexico",
        "2017",
    )
    assert cues.unknown_names("Does IOM lead? Canada thinks so.", known) == ()
    # A question in capitals tells nothing about names.
    assert cues.unknown_names("CANADA WANTS MORE CONCRETE IDEAS WHY", known) == ()
    # A sentence's first word counts only in capitals; a word joined by a hyphen or apostrophe
    # is one word; digits count only as a whole word.
    assert cues.unknown_names("Ask. Then UNHCR and X-Ray! o'Neil 5G 12 x-Ray", set()) == (
        "unhcr",
        "x-ray",
        "12",
    )


def test_words_given_to_held_types_are_used_only_where_no_apostrophe_joined_two():
    # bot/text.py reads "x'one" as "xone"; the held types still see "one", a figure.
    assert "figure" in cues.held_types("The x'one case.", ["the", "xone", "case"])
    held = cues.held_types("two days, may 3.", ["two", "days", "may", "3"])
    assert held == {"figure", "date", "name"}  # a number is a name too


@pytest.mark.parametrize(
    ("question", "other"),
    [
        ("What did the US delegation say about IOM?", True),
        ("How did the EU react to the proposal?", True),
        ("What position did Mexico take on the GFMD?", True),
        ("What did Canada say about the GFMD?", False),
        ("What does the statement say about data?", False),
        ("Who did Canada thank?", False),
        ("What did Ottawa say about the GFMD?", True),
    ],
)
def test_questions_about_what_another_party_said(question, other):
    assert cues.asks_other_party(question, frozenset({"Canada"})) is other


@pytest.mark.parametrize(
    ("question", "lookup"),
    [
        ("What about the donors?", True),
        ("so what about returns", True),
        ("Did they mention national action plans?", True),
        ("does the statement say anything on integration", True),
        ("Find me the paragraph on the GFMD", True),
        ("Where does the statement talk about data?", True),
        ("What did Canada say about IOM's mandate?", True),
        ("Are returns mentioned at all?", True),
        ("What's said about the business mechanism?", True),
        ("Is there anything on remittances?", True),
        ("any mention of donors", True),
        ("How many consultations remain?", False),
        ("Is there a budget for the action plans?", False),
        ("Is IOM the lead agency?", False),
        ("Who should lead on migration data?", False),
        ("What is the GFMD?", False),
        ("Why does Canada value the GFMD's business mechanism?", False),
        ("What should a national action plan include?", False),
    ],
)
def test_questions_asking_whether_or_where_the_statement_speaks_of_something(question, lookup):
    assert cues.asks_where_said(question) is lookup


def test_a_lookup_counts_by_the_share_of_its_words_the_top_paragraph_holds(index):
    position = FEATURES.index("lookup_in_text")
    coverage = FEATURES.index("text_coverage")
    _, evidence = index.assess("Did they mention national action plans?", explain=True)
    assert evidence is not None
    values = features(evidence)
    assert values[position] == values[coverage] > 0.5
    _, evidence = index.assess("Why do they want national action plans?", explain=True)
    assert evidence is not None
    assert features(evidence)[position] == 0.0


def test_the_speakers_other_names_are_the_speaker(index):
    assert "Ottawa" in index.speakers
    assert not cues.asks_other_party("What did Ottawa say about the GFMD?", index.speakers)


def test_specific_unknown_words_weigh_more_than_everyday_ones():
    assert cues.specificity("cryptocurrency") > cues.specificity("uniquely") + 0.3
    assert cues.specificity("the") == 0.0
    assert cues.specificity("xqzvbl") == 1.0
    # A phrase is as specific as its rarest word; a number is no everyday word.
    assert cues.specificity("global cryptocurrency") == cues.specificity("cryptocurrency")
    assert cues.specificity("2017") == 1.0


def test_the_english_frequency_table_is_what_the_tool_writes_from_wordfreq():
    assert (ROOT / "bot" / cues.ENGLISH_ZIPF_FILE).read_text(
        encoding="utf-8"
    ) == english_zipf.table_text()


def test_a_question_with_an_unknown_word_does_not_load_wordfreq():
    """wordfreq's import and data take 0.3-0.7 s: too long inside a Discord interaction."""
    script = (
        "import sys\n"
        "from bot.library import load_library\n"
        "from pathlib import Path\n"
        "from bot.sources import FolderSource\n"
        f"library = load_library(FolderSource(Path({str(DATA_DIR)!r})))\n"
        "answer = library.ask('Does Canada regulate cryptocurrency remittances?')\n"
        "assert answer.missing, answer\n"
        "print('wordfreq' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "False"
