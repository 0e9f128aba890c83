"""Fit the examples weight and the answerability model on every example; save them (`make fit`).

The examples file beside each statement is the training set: its questions with a paragraph are
answerable there, those with `"paragraph": null` are not. Features are cross-fitted (see
tools/crossval.py) and the result is written to data/answerability.json, which the bot loads.
The same examples give the same file: folds come from a fixed seed and Newton's method has no
randomness.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.answerability import MODEL_FILE, Model
from tools.crossval import FOLDS, SEED, FitReport, fit
from tools.evaluate import load_setup


def fitted(data_dir: Path, folds: int = FOLDS, seed: int = SEED) -> tuple[Model, FitReport]:
    setup, examples = load_setup(data_dir)
    if not examples:
        raise SystemExit(f"no examples in {data_dir}: add <statement>.examples.jsonl first.")
    return fit(setup, examples, folds, seed)


def model_json(model: Model, report: FitReport, folds: int, seed: int) -> dict[str, object]:
    return model.to_json(
        {
            "fitted_by": "make fit (python -m tools.fit)",
            "examples": report.questions,
            "answerable": report.answerable,
            "penalty": report.penalty,
            "folds": folds,
            "seed": seed,
        }
    )


def describe(model: Model, report: FitReport) -> str:
    lines = [
        f"{report.questions} examples ({report.answerable} answerable); examples weight "
        f"{model.examples_weight} (cross-fitted top-1 by weight: "
        + ", ".join(f"{w}: {q:.3f}" for w, q in report.top1_by_weight.items())
        + "; quotes found: "
        + ", ".join(f"{w}: {q:.3f}" for w, q in report.quotes_by_weight.items())
        + ")",
        f"chosen by cross-validation: L2 penalty {report.penalty}, "
        f"answer threshold {model.answer_threshold:.3f}, closest threshold "
        f"{model.closest_threshold:.3f}, bias {model.bias:+.3f}",
        "weights on standardised features:",
    ]
    lines += [
        f"  {name:22} {weight:+.3f}"
        for name, weight in zip(model.feature_names, model.weights, strict=True)
    ]
    if report.operating_points:
        lines += [
            "each answer threshold, on the examples the index found a paragraph for, each "
            "predicted by a model fitted without it:",
            "  threshold  not answerable, declined  answerable, refused  answered, wrong ¶",
        ]
        lines += [
            f"  {p.threshold:9.2f}  {p.declined:24.3f}  {p.refused:19.3f}  {p.wrong_paragraph:17d}"
            + ("  (chosen)" if p.threshold == model.answer_threshold else "")
            for p in report.operating_points
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("--folds", type=int, default=FOLDS)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    model, report = fitted(args.data_dir, args.folds, args.seed)
    path = args.data_dir / MODEL_FILE
    data = model_json(model, report, args.folds, args.seed)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(describe(model, report))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
