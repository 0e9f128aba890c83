"""Does the best paragraph answer the question? A small logistic model, fitted by `make fit`.

The model reads a handful of features of the search (bot/search.py builds the Evidence) and
gives a probability that the top paragraph answers the question. Two thresholds split that into
three verdicts: a confident answer, the closest passage offered with a caveat, or not addressed.
Weights, feature scaling and thresholds are data (data/answerability.json), written by
tools/fit.py with numpy alone: L2-regularised logistic regression by Newton's method, deterministic
for the same questions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import compress
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from bot import cues
from bot.corpus import DataError

Verdict = Literal["answered", "closest", "not_addressed"]
MODEL_FILE = "answerability.json"

FEATURES = (
    "text_score",
    "text_margin",
    "examples_score",
    "examples_margin",
    "text_coverage",
    "examples_coverage",
    "missing_share",
    "specific_missing_share",
    "unknown_names",
    "answer_type_unmet",
    "searched_terms",
    "unanswerable_neighbours",
    "other_party",
    "statement_missing_share",
    "lookup_in_text",
)

FloatArray = npt.NDArray[np.float64]


class Evidence(NamedTuple):
    """What the search found for one question, as the model needs it (a named tuple: one is made
    for every question, and a frozen dataclass of twenty fields takes several times as long)."""

    question: str
    # Each searched word's weight, and whether the top paragraph's text / examples hold it.
    weights: tuple[float, ...]
    in_text: tuple[bool, ...]
    in_examples: tuple[bool, ...]
    # Whether any paragraph's text holds it: a word found only in example questions is a weaker
    # sign that the statement speaks of it.
    in_statement: tuple[bool, ...]
    # Words no paragraph's text or examples hold, and the weight each carries.
    missing: tuple[str, ...]
    missing_weight: float
    # The top paragraph's score on each field, the best other paragraph's, and the question's
    # total idf on each field (to put scores of long and short questions on one scale).
    text_score: float
    text_other: float
    text_idf: float
    examples_score: float
    examples_other: float
    examples_idf: float
    unknown_names: tuple[str, ...]
    asked: frozenset[str]
    held: frozenset[str]
    # Among the most similar example questions, the share (by score) the statement does not answer.
    unanswerable_neighbours: float
    # The question asks what someone other than the speaker said or did.
    other_party: bool
    # The question asks where the statement speaks of something (cues.asks_where_said).
    lookup: bool


def features(evidence: Evidence) -> list[float]:
    """The model's inputs, in the order of FEATURES."""
    e = evidence
    total = sum(e.weights) + e.missing_weight
    # The weights of the words held, in the question's order.
    text_found = sum(compress(e.weights, e.in_text))
    examples_found = sum(compress(e.weights, e.in_examples))
    statement_found = sum(compress(e.weights, e.in_statement))
    values = [
        _per(e.text_score, e.text_idf),
        _per(e.text_score - e.text_other, e.text_idf),
        _per(e.examples_score, e.examples_idf),
        _per(e.examples_score - e.examples_other, e.examples_idf),
        _per(text_found, total),
        _per(examples_found, total),
        _per(e.missing_weight, total),
        _per(sum(cues.specificity(w) for w in e.missing) * _missing_unit(e), total),
        float(len(e.unknown_names)),
        float(not (e.asked - e.held).isdisjoint(cues.ANSWER_TYPES)),
        math.log1p(len(e.weights)),
        e.unanswerable_neighbours,
        float(e.other_party),
        _per(total - statement_found, total),
        _per(text_found, total) if e.lookup else 0.0,
    ]
    return values


def _missing_unit(evidence: Evidence) -> float:
    """The weight of one missing word."""
    return evidence.missing_weight / len(evidence.missing) if evidence.missing else 0.0


def _per(value: float, total: float) -> float:
    return value / total if total > 0 else 0.0


@dataclass(frozen=True)
class Model:
    """Logistic regression on standardised features, with the verdict thresholds."""

    feature_names: tuple[str, ...]
    mean: FloatArray
    scale: FloatArray
    weights: FloatArray
    bias: float
    # At or above: a confident answer. At or above closest_threshold: the closest passage.
    answer_threshold: float
    closest_threshold: float
    # How much a paragraph's examples count beside its text in ranking (bot/fields.py).
    examples_weight: float

    def probability(self, x: Sequence[float]) -> float:
        # In plain floats: for a few features, numpy's per-call cost is most of the work.
        z = self.bias + sum(
            (value - mean) / scale * weight
            for value, (mean, scale, weight) in zip(x, self._coefficients, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    @cached_property
    def _coefficients(self) -> list[tuple[float, float, float]]:
        return list(
            zip(self.mean.tolist(), self.scale.tolist(), self.weights.tolist(), strict=True)
        )

    def verdict(self, probability: float) -> Verdict:
        if probability >= self.answer_threshold:
            return "answered"
        if probability >= self.closest_threshold:
            return "closest"
        return "not_addressed"

    def to_json(self, about: dict[str, object]) -> dict[str, object]:
        return {
            "about": about,
            "features": list(self.feature_names),
            "mean": _rounded(self.mean),
            "scale": _rounded(self.scale),
            "weights": _rounded(self.weights),
            "bias": round(self.bias, 6),
            "answer_threshold": round(self.answer_threshold, 6),
            "closest_threshold": round(self.closest_threshold, 6),
            "examples_weight": round(self.examples_weight, 6),
        }


def _rounded(values: FloatArray) -> list[float]:
    return [round(float(v), 6) for v in values]


def parse_model(raw: object, source: str) -> Model:
    """A model from its JSON form; anything unexpected is a one-line DataError."""
    fix = f"{source} is not a valid answerability model; run `make fit` to write it again."
    if not isinstance(raw, dict):
        raise DataError(fix)
    try:
        names = tuple(raw["features"])
        if names != FEATURES:
            raise DataError(
                f"{source} was fitted for other features than this version uses; run `make fit`."
            )
        vectors = [np.array(raw[key], dtype=np.float64) for key in ("mean", "scale", "weights")]
        numbers = [
            float(raw[key])
            for key in ("bias", "answer_threshold", "closest_threshold", "examples_weight")
        ]
    except (KeyError, TypeError, ValueError):
        raise DataError(fix) from None
    if any(v.shape != (len(FEATURES),) for v in vectors) or not all(
        math.isfinite(n) for n in numbers
    ):
        raise DataError(fix)
    mean, scale, weights = vectors
    if not np.all(np.isfinite(vectors)) or np.any(scale <= 0):
        raise DataError(fix)
    bias, answer_threshold, closest_threshold, examples_weight = numbers
    if not 0 <= closest_threshold <= answer_threshold <= 1 or examples_weight < 0:
        raise DataError(fix)
    return Model(
        FEATURES, mean, scale, weights, bias, answer_threshold, closest_threshold, examples_weight
    )


# Fitting (tools/fit.py and tools/evaluate.py).

L2_PENALTY = 1.0
NEWTON_STEPS = 50


def fit_logistic(
    x: FloatArray, y: npt.NDArray[np.bool_], penalty: float = L2_PENALTY
) -> tuple[FloatArray, FloatArray, FloatArray, float]:
    """(mean, scale, weights, bias) of an L2-regularised logistic regression, by Newton's method.

    Features are standardised first, so one penalty suits them all; the bias is not penalised.
    """
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    target = y.astype(np.float64)
    beta = np.zeros(z.shape[1])
    ridge = np.full(z.shape[1], penalty)
    ridge[-1] = 0.0
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ beta, -30, 30)))
        gradient = z.T @ (p - target) + ridge * beta
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(ridge) + 1e-9 * np.eye(len(beta))
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if float(np.max(np.abs(step))) < 1e-10:
            break
    return mean, scale, beta[:-1], float(beta[-1])
