"""Answer quality on labelled questions, per kind, beside a naive BM25 baseline (`make eval`)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rank_bm25 import BM25Okapi

from bot.library import Library, load_library
from bot.ranking import BM25_VARIANTS, Variant
from bot.sources import FolderSource

KINDS = ("keyword", "paraphrase", "acronym", "messy", "out_of_scope")


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    paragraph: int | None
    sentence: int | None  # the sentence number within `paragraph`, from 1
    kind: str


@dataclass(frozen=True)
class Outcome:
    """What a system did with one question: its ranking, whether it answered, its sentence."""

    ranking: tuple[int, ...]
    answered: bool
    sentence: int | None


@dataclass(frozen=True)
class Metrics:
    questions: int
    top1: float | None
    mrr: float | None
    abstention_precision: float | None
    abstention_recall: float | None
    wrongful_abstention: float | None
    sentence: float | None
    accuracy: float

    ROWS = (
        ("top1", "top-1"),
        ("mrr", "MRR"),
        ("abstention_precision", "abst. prec."),
        ("abstention_recall", "abst. recall"),
        ("wrongful_abstention", "wrong abst."),
        ("sentence", "sentence"),
        ("accuracy", "answer acc."),
    )


def load_questions(path: Path) -> list[Question]:
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            sentence = raw.get("sentence")
            questions.append(
                Question(
                    raw["id"],
                    raw["question"],
                    raw["paragraph"],
                    sentence and sentence[1],
                    raw["kind"],
                )
            )
    return questions


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def measure(questions: Sequence[Question], outcomes: Sequence[Outcome]) -> Metrics:
    """Answer accuracy: right top paragraph when in scope, abstention when out of scope."""
    in_scope = [(q, o) for q, o in zip(questions, outcomes, strict=True) if q.paragraph is not None]
    out_scope = [(q, o) for q, o in zip(questions, outcomes, strict=True) if q.paragraph is None]
    abstained = [q for q, o in zip(questions, outcomes, strict=True) if not o.answered]
    with_sentence = [
        (q, o) for q, o in in_scope if q.sentence is not None and o.sentence is not None
    ]
    correct = [
        (o.answered and o.ranking[:1] == (q.paragraph,))
        if q.paragraph is not None
        else not o.answered
        for q, o in zip(questions, outcomes, strict=True)
    ]
    return Metrics(
        questions=len(questions),
        top1=_mean([o.ranking[:1] == (q.paragraph,) for q, o in in_scope]),
        mrr=_mean(
            [
                1 / (o.ranking.index(q.paragraph) + 1) if q.paragraph in o.ranking else 0.0
                for q, o in in_scope
            ]
        ),
        abstention_precision=_mean([q.paragraph is None for q in abstained]),
        abstention_recall=_mean([not o.answered for _, o in out_scope]),
        wrongful_abstention=_mean([not o.answered for _, o in in_scope]),
        sentence=_mean(
            [o.ranking[:1] == (q.paragraph,) and o.sentence == q.sentence for q, o in with_sentence]
        )
        if any(q.sentence is not None for q in questions)
        else None,
        accuracy=_mean(correct) or 0.0,
    )


def bot_outcome(library: Library) -> Callable[[str], Outcome]:
    """The bot's answer exactly as users get it, with every paragraph ranked."""

    def run(question: str) -> Outcome:
        answer = library.ask(question, limit=len(library.paragraphs))
        best = answer.best
        return Outcome(
            ranking=tuple(h.paragraph.number for h in answer.hits),
            answered=answer.answered,
            sentence=best.sentence_index + 1 if best else None,
        )

    return run


def baseline_outcome(library: Library) -> Callable[[str], Outcome]:
    """`lower().split()` into BM25Okapi: no abstention beyond a zero score, no sentence."""
    paragraphs = library.paragraphs
    bm25 = BM25Okapi([p.text.lower().split() for p in paragraphs])

    def run(question: str) -> Outcome:
        scores = bm25.get_scores(question.lower().split())
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        return Outcome(
            ranking=tuple(paragraphs[i].number for i in order),
            answered=bool(max(scores, default=0) > 0),
            sentence=None,
        )

    return run


def by_kind(questions: Sequence[Question], system: Callable[[str], Outcome]) -> dict[str, Metrics]:
    outcomes = [system(q.question) for q in questions]
    table = {
        kind: measure(
            [q for q in questions if q.kind == kind],
            [o for q, o in zip(questions, outcomes, strict=True) if q.kind == kind],
        )
        for kind in KINDS
        if any(q.kind == kind for q in questions)
    }
    table["all"] = measure(questions, outcomes)
    return table


def format_table(title: str, table: dict[str, Metrics], baseline: dict[str, Metrics]) -> str:
    kinds = list(table)
    lines = [title, f"{'':14}" + "".join(f"{k:>14}" for k in kinds)]
    lines.append(f"{'questions':14}" + "".join(f"{table[k].questions:>14}" for k in kinds))
    for attribute, label in Metrics.ROWS:
        cells = []
        for kind in kinds:
            ours, naive = getattr(table[kind], attribute), getattr(baseline[kind], attribute)
            cell = "-" if ours is None else f"{ours:.2f}"
            if naive is not None and attribute != "sentence":
                cell += f" ({naive:.2f})"
            cells.append(f"{cell:>14}")
        lines.append(f"{label:14}" + "".join(cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure answer quality on labelled questions.")
    parser.add_argument("files", nargs="+", type=Path, help="JSON-lines question files")
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    args = parser.parse_args(argv)
    source = FolderSource(args.data_dir)
    library = load_library(source)
    baseline = baseline_outcome(library)
    for path in args.files:
        questions = load_questions(path)
        table = by_kind(questions, bot_outcome(library))
        print(
            format_table(
                f"{path} — ours (naive lower().split() BM25Okapi)",
                table,
                by_kind(questions, baseline),
            )
        )
        variants: list[Variant] = list(BM25_VARIANTS)  # type: ignore[assignment]
        overall = {
            variant: by_kind(questions, bot_outcome(load_library(source, variant)))["all"]
            for variant in variants
        }
        print(
            "  BM25 variants, all questions: "
            + "; ".join(
                f"{v}: acc {m.accuracy:.2f}, top-1 {m.top1:.2f}, MRR {m.mrr:.2f}"
                for v, m in overall.items()
            )
        )
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
