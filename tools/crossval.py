"""Fitting the field weight and the answerability model without letting a question grade itself.

A question that is in the examples index finds its own words there, so its examples score is
higher than a new question's would be; so are its siblings (its author's other wordings of the
same thing). Features for fitting are therefore cross-fitted: the training questions are split
into folds, an author a fold when there are several authors (fitting_folds), and each fold's
features are computed with an index built from the other folds only. The deployed model is
fitted the same way over every example and then used with every example in the index
(tools/fit.py); tools/evaluate.py repeats the whole fit inside each outer fold, so a scored
question never helps build the index or fit the model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from bot.answerability import FEATURES, FloatArray, Model, features, fit_logistic
from bot.examples import Example, format_examples
from bot.fields import FieldScores
from bot.library import Library, build_library
from bot.search import SearchIndex
from bot.sources import LibraryData

FOLDS = 10
SEED = 20240917
# Candidate weights of the examples field beside the text field (text counts 1).
EXAMPLES_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0)
# How many words of a sentence's start or end make a quote (quotes).
QUOTE_WORDS = 8
# The model is fitted to say how likely the top paragraph is the right answer, so without a view
# of strangers' questions it answers when that is more likely than not (a threshold fitted on
# random folds moved between 0.29 and 0.61 from one fold to the next, and was no better).
ANSWER_THRESHOLD = 0.5
# Candidates when examples by several authors show how a stranger's question fares: chosen by
# leaving out one author at a time, the threshold has been 0.25 to 0.5, with the examples.
ANSWER_THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
# Below the answer threshold and at or above one of these, the closest passage is offered with a
# caveat (one is chosen by the fit).
CLOSEST_THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45)
# The reply says the passage may not answer, and quotes it for the reader to judge. A quarter,
# not a third: the examples hold near misses on purpose (each helper wrote 40 in 100), more than
# people ask. With the examples of 3 December 2026 (eleven helper authors), the band from 0.2 was
# right 0.27 of the time for the examples' own rows, and about half the time (6 of 13) for the
# labelled files, each left out.
CLOSEST_RIGHT_SHARE = 1 / 4
# Candidate L2 penalties of the answerability model, one chosen by cross-validation. A stronger
# one spreads the weight over features that agree instead of leaning on a few.
PENALTIES = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
PENALTY_SPLITS = 10
# Examples by fewer authors than this are cross-fitted in random folds instead (fitting_folds).
MIN_AUTHORS = 3


@dataclass(frozen=True)
class Setup:
    """What stays fixed while the examples change: the data without examples or model, and the
    library built from it (its documents and how it reads words)."""

    data: LibraryData
    base: Library

    @classmethod
    def of(cls, data: LibraryData) -> Setup:
        bare = LibraryData(
            tuple(replace(f, examples="", examples_origin="") for f in data.documents),
            data.glossary,
        )
        return cls(bare, build_library(bare))


@dataclass(frozen=True)
class Training:
    """One labelled example question of one document (by its name)."""

    document: str
    example: Example


@dataclass(frozen=True)
class FitReport:
    """How the fit went, on its own cross-fitted features (not a held-out measure)."""

    questions: int
    answerable: int
    examples_weight: float
    penalty: float
    top1_by_weight: dict[float, float]
    # The share of quotes (see quotes) whose paragraph ranks first.
    quotes_by_weight: dict[float, float]
    # What each candidate answer threshold would do to the examples, out of fold.
    operating_points: tuple[OperatingPoint, ...] = ()


@dataclass(frozen=True)
class OperatingPoint:
    """What answering at or above a threshold does to the examples, each predicted by a model
    that did not see its row: the shares the issue's targets name, for choosing where to stand."""

    threshold: float
    # Of the examples the statement does not answer, the share left unanswered.
    declined: float
    # Of the answerable ones, the share not answered confidently.
    refused: float
    # Answerable ones answered with the wrong paragraph first, in rows.
    wrong_paragraph: int


class Choice(NamedTuple):
    """The L2 penalty and thresholds chosen, with the chosen penalty's out-of-fold probabilities
    (a line per split)."""

    penalty: float
    answer_threshold: float
    closest_threshold: float
    probabilities: FloatArray


def normalized(text: str) -> str:
    """A question's identity: identical questions in several files are one question."""
    return " ".join(text.casefold().split())


def assign_folds(keys: Sequence[str], strata: Sequence[str], folds: int, seed: int) -> list[int]:
    """A fold for each item: equal keys share a fold; each stratum is spread over all folds."""
    first_of_key: dict[str, int] = {}
    groups: dict[str, list[str]] = {}
    for i, (key, stratum) in enumerate(zip(keys, strata, strict=True)):
        if key not in first_of_key:
            first_of_key[key] = i
            groups.setdefault(stratum, []).append(key)
    rng = np.random.default_rng(seed)
    fold_of_key: dict[str, int] = {}
    dealt = 0
    for stratum in sorted(groups):
        members = groups[stratum]
        for position in rng.permutation(len(members)):
            fold_of_key[members[position]] = dealt % folds
            dealt += 1
    return [fold_of_key[key] for key in keys]


def fitting_folds(
    training: Sequence[Training],
    keys: Sequence[str],
    targets: Sequence[int | None],
    folds: int,
    seed: int,
) -> tuple[list[int], int, bool]:
    """Each item's fold for cross-fitting, how many folds, and whether they are authors. `keys`
    are the items' normalized questions, and `targets` their paragraphs' positions.

    With examples by several authors (bot/examples.py; the maintainers are one), each author is a
    fold: their questions are scored by an index built from everyone else's, as a new user's
    question is. Random folds instead leave each question's siblings (its author's other wordings
    of the same thing) in the index, so the model learned to expect more help from the examples
    than a stranger's question gets, and refused a third of another author's answerable questions.
    """
    authors = sorted({item.example.author or "" for item in training})
    if len(authors) >= MIN_AUTHORS:
        return [authors.index(item.example.author or "") for item in training], len(authors), True
    strata = ["in" if t is not None else "out" for t in targets]
    return assign_folds(keys, strata, folds, seed), folds, False


def _by_document(training: Sequence[Training]) -> dict[str, list[Example]]:
    examples: dict[str, list[Example]] = {}
    for item in training:
        examples.setdefault(item.document, []).append(item.example)
    return examples


def build_index(
    setup: Setup, training: Sequence[Training], examples_weight: float | None = None
) -> SearchIndex:
    """The search index over these examples, for fitting (no model: it is being fitted)."""
    base = setup.base
    return SearchIndex(
        base.documents,
        base.index.analyzer,
        base.index.variant,
        _by_document(training),
        examples_weight=examples_weight,
    )


def build(setup: Setup, training: Sequence[Training], model: Model | None) -> Library:
    """The library users would get with these examples and this model: what evaluation asks."""
    examples = _by_document(training)
    files = tuple(
        replace(f, examples=format_examples(examples.get(d.name, ())))
        for f, d in zip(setup.data.documents, setup.base.documents, strict=True)
    )
    return build_library(LibraryData(files, setup.data.glossary, model))


def target_index(setup: Setup, item: Training) -> int | None:
    """The answering paragraph's position in the corpus, or None when out of scope."""
    if item.example.paragraph is None:
        return None
    start = 0
    for document in setup.base.documents:
        if document.name == item.document:
            return start + item.example.paragraph - 1
        start += len(document.paragraphs)
    return None


def quotes(setup: Setup) -> tuple[list[str], list[int]]:
    """What a user pastes to find where a statement says it: each sentence, and its first and last
    QUOTE_WORDS words; each with its paragraph's position. A quote must find where it comes from,
    whatever the examples say."""
    texts: list[str] = []
    targets: list[int] = []
    for position, paragraph in enumerate(setup.base.paragraphs):
        for sentence in paragraph.sentences:
            words = sentence.split()
            pieces = (sentence, " ".join(words[:QUOTE_WORDS]), " ".join(words[-QUOTE_WORDS:]))
            for piece in dict.fromkeys(pieces):
                texts.append(piece)
                targets.append(position)
    return texts, targets


def _top1_and_mrr(
    rankings: Sequence[list[FieldScores]], targets: Sequence[int | None], weight: float
) -> tuple[float, float]:
    top1 = mrr = 0.0
    answerable = [(r, t) for r, t in zip(rankings, targets, strict=True) if t is not None]
    for ranking, target in answerable:
        combined = sorted(ranking, key=lambda s: (-(s.text + weight * s.examples), s.index))
        order = [s.index for s in combined]
        if order[:1] == [target]:
            top1 += 1
        if target in order:
            mrr += 1 / (order.index(target) + 1)
    count = max(len(answerable), 1)
    return top1 / count, mrr / count


def fit(
    setup: Setup, training: Sequence[Training], folds: int = FOLDS, seed: int = SEED
) -> tuple[Model, FitReport]:
    """Fit the examples weight, then the answerability model, on cross-fitted features."""
    targets = [target_index(setup, item) for item in training]
    keys = [normalized(item.example.question) for item in training]
    inner, folds, by_author = fitting_folds(training, keys, targets, folds, seed)
    # A question another author also wrote is held out with the fold that scores it.
    held = [{k for k, fold in zip(keys, inner, strict=True) if fold == g} for g in range(folds)]
    others = [
        [item for item, key in zip(training, keys, strict=True) if key not in held[g]]
        for g in range(folds)
    ]

    rankings: list[list[FieldScores]] = [[] for _ in training]
    for g in range(folds):
        index = build_index(setup, others[g])
        for i, item in enumerate(training):
            if inner[i] == g:
                rankings[i] = index.field_ranking(item.example.question)
    quality = {w: _top1_and_mrr(rankings, targets, w) for w in EXAMPLES_WEIGHTS}
    quote_texts, quote_targets = quotes(setup)
    index = build_index(setup, training)
    quote_rankings = [index.field_ranking(text) for text in quote_texts]
    found = {w: _top1_and_mrr(quote_rankings, quote_targets, w)[0] for w in EXAMPLES_WEIGHTS}
    # Most quotes found, then best top-1, then best MRR, then the weight nearest 1 (the fields
    # counted alike): past 2, top-1 still crept up, and pieces of sentences began to lose to
    # paragraphs whose examples happen to share their words.
    weight = max(EXAMPLES_WEIGHTS, key=lambda w: (found[w], *quality[w], -abs(math.log(w + 0.1))))

    rows: list[list[float]] = []
    right: list[bool] = []
    answerable: list[bool] = []
    row_folds: list[int] = []
    paragraph_count = len(setup.base.paragraphs)
    for g in range(folds):
        index = build_index(setup, others[g], examples_weight=weight)
        for i, item in enumerate(training):
            if inner[i] != g:
                continue
            answer, evidence = index.assess(item.example.question, paragraph_count, explain=True)
            if evidence is None or answer.best is None:
                continue  # nothing found: never answered, whatever the model says
            rows.append(features(evidence))
            right.append(targets[i] is not None and answer.best.position == targets[i])
            answerable.append(targets[i] is not None)
            row_folds.append(g)
    x = np.array(rows)
    y = np.array(right, dtype=np.bool_)
    penalty, answer_threshold, closest_threshold, probabilities = choose_penalty_and_thresholds(
        x, y, seed, np.array(row_folds) if by_author else None
    )
    mean, scale, weights, bias = fit_logistic(x, y, penalty)
    model = Model(
        FEATURES,
        mean,
        scale,
        weights,
        bias,
        answer_threshold=answer_threshold,
        closest_threshold=closest_threshold,
        examples_weight=weight,
    )
    report = FitReport(
        questions=len(training),
        answerable=sum(t is not None for t in targets),
        examples_weight=weight,
        penalty=penalty,
        top1_by_weight={w: q[0] for w, q in quality.items()},
        quotes_by_weight=found,
        operating_points=operating_points(
            probabilities, y, np.array(answerable, dtype=np.bool_), ANSWER_THRESHOLDS
        ),
    )
    return model, report


def operating_points(
    probabilities: FloatArray,
    right: npt.NDArray[np.bool_],
    answerable: npt.NDArray[np.bool_],
    thresholds: Sequence[float],
) -> tuple[OperatingPoint, ...]:
    """What each threshold does to the rows, a row at or above it being answered. `right`: the
    row's top paragraph answers it. `probabilities` may hold several lines for the same rows: the
    shares are their means. Rows the index found nothing for are not here: never answered."""
    right, answerable = (
        np.broadcast_to(right, probabilities.shape),
        np.broadcast_to(answerable, probabilities.shape),
    )
    points = []
    for threshold in thresholds:
        answered = probabilities >= threshold
        points.append(
            OperatingPoint(
                threshold,
                declined=float((~answered[~answerable]).mean()) if (~answerable).any() else 1.0,
                refused=float((~answered[answerable]).mean()) if answerable.any() else 0.0,
                wrong_paragraph=round((answered & answerable & ~right).sum() / len(probabilities)),
            )
        )
    return tuple(points)


def choose_penalty_and_thresholds(
    x: FloatArray,
    y: npt.NDArray[np.bool_],
    seed: int,
    author_folds: npt.NDArray[np.int_] | None = None,
) -> Choice:
    """The L2 penalty, the answer threshold and the closest threshold.

    With rows by several authors, each author's rows are predicted by models fitted on the
    others', and the penalty and answer threshold are those that decide them best: a stranger's
    question gets less help from the examples than any fitted row did, so the model may be less
    sure of it than it should be (0.25 to 0.5 were chosen as authors were added). Otherwise,
    over random splits of the rows (one split's choice moved between 1 and 30 with its seed),
    with the threshold at 0.5.
    Counted in decisions, not log loss: log loss and the Brier score chose a weaker penalty, which
    answered worse under cross-validation. On a tie, the stronger penalty and the higher threshold.

    A stronger penalty draws probabilities towards the middle, so the closest threshold moves with
    it: the lowest at which the passages offered as closest were right often enough.
    """
    if author_folds is not None:
        splits = [author_folds]
        thresholds = ANSWER_THRESHOLDS
    else:
        rng = np.random.default_rng(seed)
        splits = [rng.permutation(len(y)) % FOLDS for _ in range(PENALTY_SPLITS)]
        thresholds = (ANSWER_THRESHOLD,)
    probabilities = {penalty: _out_of_fold(x, y, penalty, splits) for penalty in PENALTIES}
    penalty, answer = min(
        ((p, t) for p in PENALTIES for t in thresholds),
        key=lambda pt: (int(((probabilities[pt[0]] >= pt[1]) != y).sum()), -pt[0], -pt[1]),
    )
    chosen = probabilities[penalty]
    return Choice(penalty, answer, closest_threshold(chosen, y, answer), chosen)


def closest_threshold(
    probabilities: FloatArray, right: npt.NDArray[np.bool_], answer: float = ANSWER_THRESHOLD
) -> float:
    """The lowest threshold at which the rows offered as closest (from it up to the answer
    threshold) are right at least CLOSEST_RIGHT_SHARE of the time; the answer threshold (no
    closest band) if none.
    `probabilities` may hold several lines of out-of-fold probabilities for the same rows."""
    right = np.broadcast_to(right, probabilities.shape)
    for closest in CLOSEST_THRESHOLDS:
        if closest >= answer:
            break
        offered = (probabilities >= closest) & (probabilities < answer)
        if offered.any() and right[offered].mean() >= CLOSEST_RIGHT_SHARE:
            return closest
    return answer


def _out_of_fold(
    x: FloatArray, y: npt.NDArray[np.bool_], penalty: float, splits: Sequence[npt.NDArray[np.int_]]
) -> FloatArray:
    """Each row's probability from the model fitted on the other folds, a line per split."""
    z = np.empty((len(splits), len(y)))
    for line, folds in enumerate(splits):
        for fold in np.unique(folds):
            held = folds == fold
            mean, scale, weights, bias = fit_logistic(x[~held], y[~held], penalty)
            z[line, held] = ((x[held] - mean) / scale) @ weights + bias
    return 1.0 / (1.0 + np.exp(-z))
