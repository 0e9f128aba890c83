"""Cross-validated answer quality per kind of question, beside a naive baseline (`make eval`).

Every labelled question is scored once, by a system that never saw it: the questions are split
into folds (stratified by kind; identical questions share a fold), and for each fold the
examples index is built and the field weight and answerability model are fitted (tools/fit's
procedure, itself cross-fitted) from the examples file minus that fold's questions. Then each
labelled file is left out whole, so its questions are scored as another author's would be: with
none of their siblings (the same author's other wordings) in the index.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rank_bm25 import BM25Okapi

from bot.examples import parse_examples
from bot.library import Library
from bot.sources import FolderSource
from tools.crossval import (
    FOLDS,
    SEED,
    FitReport,
    Setup,
    Training,
    assign_folds,
    build,
    fit,
    normalized,
)

DEFAULT_FILES = tuple(Path("tests") / f"{name}_qa.jsonl" for name in ("dev", "train", "extra"))
# Rows with no naive figure beside ours: the baseline picks no sentence and has no middle verdict.
OURS_ONLY = frozenset({"sentence", "closest_right", "closest_out"})


KINDS = ("keyword", "paraphrase", "acronym", "messy", "out_of_scope")


@dataclass(frozen=True)
class Question:
    """A labelled question: the paragraph (and its sentence, from 1) that answers it, if any."""

    id: str
    question: str
    paragraph: int | None
    sentence: int | None
    kind: str


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


@dataclass(frozen=True)
class Outcome:
    """What a system did with one question."""

    ranking: tuple[int, ...]
    verdict: str
    sentence: int | None
    confidence: float = 0.0

    @property
    def answered(self) -> bool:
        return self.verdict == "answered"


@dataclass(frozen=True)
class Scored:
    question: Question
    source: str
    ours: Outcome
    naive: Outcome


ROWS: tuple[tuple[str, str], ...] = (
    ("accuracy", "answer accuracy"),
    ("top1", "in-scope top-1"),
    ("mrr", "in-scope MRR"),
    ("declined", "out-of-scope declined"),
    ("wrongful", "wrongful refusals"),
    ("sentence", "answer sentence"),
    ("closest_right", "in-scope closest, right ¶"),
    ("closest_out", "out-of-scope closest"),
)


def _mean(values: Sequence[bool | float]) -> float | None:
    return sum(values) / len(values) if values else None


def metrics(pairs: Sequence[tuple[Question, Outcome]]) -> dict[str, float | None]:
    """Answer accuracy: the right ¶ answered when in scope, not answered when out of scope."""
    inside = [(q, o) for q, o in pairs if q.paragraph is not None]
    outside = [o for q, o in pairs if q.paragraph is None]
    labelled = [(q, o) for q, o in inside if q.sentence is not None]
    has_sentences = any(o.sentence is not None for _, o in labelled)
    return {
        "accuracy": _mean(
            [
                o.answered and o.ranking[:1] == (q.paragraph,)
                if q.paragraph is not None
                else not o.answered
                for q, o in pairs
            ]
        ),
        "top1": _mean([o.ranking[:1] == (q.paragraph,) for q, o in inside]),
        "mrr": _mean(
            [
                1 / (o.ranking.index(q.paragraph) + 1) if q.paragraph in o.ranking else 0.0
                for q, o in inside
            ]
        ),
        "declined": _mean([not o.answered for o in outside]),
        "wrongful": _mean([not o.answered for _, o in inside]),
        "sentence": _mean(
            [o.ranking[:1] == (q.paragraph,) and o.sentence == q.sentence for q, o in labelled]
        )
        if has_sentences
        else None,
        "closest_right": _mean(
            [o.verdict == "closest" and o.ranking[:1] == (q.paragraph,) for q, o in inside]
        ),
        "closest_out": _mean([o.verdict == "closest" for o in outside]),
    }


def bot_system(library: Library) -> Callable[[str], Outcome]:
    """The bot's answer exactly as users get it (Library.ask), with every paragraph ranked."""

    def run(question: str) -> Outcome:
        answer = library.ask(question, limit=len(library.paragraphs))
        best = answer.best
        return Outcome(
            tuple(h.paragraph.number for h in answer.hits),
            answer.verdict,
            best.sentence_index + 1 if best else None,
            answer.confidence,
        )

    return run


def naive_system(library: Library) -> Callable[[str], Outcome]:
    """`lower().split()` into BM25Okapi: answers whenever some word scores, gives no sentence."""
    paragraphs = library.paragraphs
    bm25 = BM25Okapi([p.text.lower().split() for p in paragraphs])

    def run(question: str) -> Outcome:
        scores = bm25.get_scores(question.lower().split())
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        answered = bool(max(scores, default=0) > 0)
        return Outcome(
            tuple(paragraphs[i].number for i in order),
            "answered" if answered else "not_addressed",
            None,
        )

    return run


def cross_validate(
    setup: Setup,
    questions: Sequence[tuple[Question, str]],
    examples: Sequence[Training],
    folds: int = FOLDS,
    seed: int = SEED,
    own_examples: bool = True,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Scored]:
    """Score each question with an index and a model built without its fold."""
    keys = [normalized(q.question) for q, _ in questions]
    if not own_examples:
        examples = without_own(examples, questions)
    outer = assign_folds(keys, [q.kind for q, _ in questions], folds, seed)
    naive = naive_system(setup.base)
    scored: list[Scored | None] = [None] * len(questions)
    for f in range(folds):
        held_out = {k for k, fold in zip(keys, outer, strict=True) if fold == f}
        ours, report = system_without(setup, examples, held_out, folds, seed)
        progress(
            f"fold {f + 1}/{folds}: {len(held_out)} held out, {report.questions} examples, "
            f"examples weight {report.examples_weight}, penalty {report.penalty}"
        )
        for i, (question, source) in enumerate(questions):
            if outer[i] == f:
                scored[i] = Scored(
                    question, source, ours(question.question), naive(question.question)
                )
    return [s for s in scored if s is not None]


def without_own(
    examples: Sequence[Training], questions: Sequence[tuple[Question, str]]
) -> list[Training]:
    """The examples minus the maintainers' own: those copied from the labelled questions, and
    those another author wrote (who had not read the labelled questions)."""
    labelled = {normalized(q.question) for q, _ in questions}
    return [
        e
        for e in examples
        if e.example.author is not None or normalized(e.example.question) in labelled
    ]


def leave_file_out(
    setup: Setup,
    questions: Sequence[tuple[Question, str]],
    examples: Sequence[Training],
    seed: int = SEED,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Scored]:
    """Score each file's questions with an index and a model built without any of them.

    A file is one author's questions: this is how questions written by someone else fare, such as
    the held-out sets', whose authors' other wordings are never in the index.
    """
    naive = naive_system(setup.base)
    scored = []
    for name in dict.fromkeys(source for _, source in questions):
        mine = [(q, source) for q, source in questions if source == name]
        held_out = {normalized(q.question) for q, _ in mine}
        ours, report = system_without(setup, examples, held_out, FOLDS, seed)
        progress(f"{name} left out: {report.questions} examples, penalty {report.penalty}")
        scored += [Scored(q, source, ours(q.question), naive(q.question)) for q, source in mine]
    return scored


def system_without(
    setup: Setup, examples: Sequence[Training], held_out: set[str], folds: int, seed: int
) -> tuple[Callable[[str], Outcome], FitReport]:
    """Our system as `make fit` would build it from the examples minus the held-out questions."""
    training = [e for e in examples if normalized(e.example.question) not in held_out]
    model, report = fit(setup, training, folds, seed)
    return bot_system(build(setup, training, model)), report


def _cell(ours: float | None, naive: float | None) -> str:
    if ours is None:
        return "-"
    return f"{ours:.2f}" + (f" ({naive:.2f})" if naive is not None else "")


def table(title: str, groups: dict[str, list[Scored]], repeats: int = 1) -> str:
    """One column per group: ours, with the naive baseline in brackets."""
    columns = {
        name: (
            metrics([(s.question, s.ours) for s in group]),
            metrics([(s.question, s.naive) for s in group]),
        )
        for name, group in groups.items()
    }
    width = 14
    lines = [title, f"{'':27}" + "".join(f"{name:>{width}}" for name in groups)]
    # Each question is scored once a repeat: count the questions, not the scorings.
    counts = (len(g) // repeats for g in groups.values())
    lines.append(f"{'questions':27}" + "".join(f"{n:>{width}}" for n in counts))
    for key, label in ROWS:
        cells = []
        for ours, naive in columns.values():
            baseline = None if key in OURS_ONLY else naive[key]
            cells.append(f"{_cell(ours[key], baseline):>{width}}")
        lines.append(f"{label:27}" + "".join(cells))
    return "\n".join(lines)


def report(scored: Sequence[Scored], repeats: int = 1, how: str = "") -> str:
    by_kind = {k: [s for s in scored if s.question.kind == k] for k in KINDS}
    by_kind = {k: v for k, v in by_kind.items() if v}
    by_kind["all"] = list(scored)
    sources = sorted({s.source for s in scored})
    by_source = {name: [s for s in scored if s.source == name] for name in sources}
    by_source["all"] = list(scored)
    return "\n\n".join(
        [
            table(f"Per kind{how} — ours (naive lower().split() BM25Okapi)", by_kind, repeats),
            table(f"Per file{how} — ours (naive)", by_source, repeats),
        ]
    )


def errors(scored: Sequence[Scored], repeats: int = 1) -> str:
    """Each question answered wrongly, declined wrongly or ranked wrongly, with what we did
    (the first time, when cross-validation was repeated) and in how many repeats."""
    wrong: dict[str, list[Scored]] = {}
    for s in scored:
        q, o = s.question, s.ours
        right = o.ranking[:1] == (q.paragraph,) if q.paragraph is not None else not o.answered
        if not right or (q.paragraph is not None and not o.answered):
            wrong.setdefault(q.id, []).append(s)
    lines = [
        "Scored wrong (id, kind, labelled ¶, our ranking, verdict, confidence, question"
        + (", repeats wrong):" if repeats > 1 else "):")
    ]
    for times in wrong.values():
        q, o = times[0].question, times[0].ours
        ranking = "".join(map(str, o.ranking[:3])) or "-"
        count = f"  [{len(times)}/{repeats}]" if repeats > 1 else ""
        lines.append(
            f"  {q.id:5} {q.kind:12} {q.paragraph or '-'} {ranking:3} {o.verdict:13} "
            f"{o.confidence:.2f}  {q.question}{count}"
        )
    return "\n".join(lines)


def load_setup(data_dir: Path) -> tuple[Setup, list[Training]]:
    """The statements in data_dir, and their example questions as training items."""
    data = FolderSource(data_dir, read_model=False).load()
    setup = Setup.of(data)
    examples = [
        Training(document.name, example)
        for file, document in zip(data.documents, setup.base.documents, strict=True)
        for example in parse_examples(
            file.examples,
            file.examples_origin,
            [len(p.sentence_spans) for p in document.paragraphs],
        )
    ]
    return setup, examples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=list(DEFAULT_FILES))
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("--folds", type=int, default=FOLDS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="repeat the cross-validation with this many seeds (seed, seed + 1, ...) and pool "
        "the figures: one split's luck moves accuracy by a point or two",
    )
    parser.add_argument(
        "--no-own-examples",
        action="store_true",
        help="leave out the maintainers' own examples (kept: copies of the labelled questions, "
        "and examples another author wrote)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--errors", action="store_true", help="list each question scored wrong")
    args = parser.parse_args(argv)
    setup, examples = load_setup(args.data_dir)
    document = setup.base.documents[0].name
    questions = [(q, path.stem) for path in args.files for q in load_questions(path)]
    if len(setup.base.documents) > 1:
        print(f"labelled questions are taken to be about {document}", file=sys.stderr)
    if args.no_own_examples:
        examples = without_own(examples, questions)
    seeds = [args.seed + r for r in range(max(args.repeats, 1))]

    def progress(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr)

    scored: list[Scored] = []
    accuracy_by_seed = []
    for seed in seeds:
        once = cross_validate(
            setup,
            questions,
            examples,
            args.folds,
            seed,
            progress=progress,
        )
        accuracy_by_seed.append(metrics([(s.question, s.ours) for s in once])["accuracy"])
        scored += once
    count = len(questions)
    if len(seeds) == 1:
        print(
            f"{args.folds}-fold cross-validated over {count} questions "
            f"(seed {args.seed}; folds stratified by kind)\n"
        )
    else:
        print(
            f"{args.folds}-fold cross-validation repeated with {len(seeds)} seeds "
            f"({seeds[0]}-{seeds[-1]}; folds stratified by kind) over {count} questions: "
            "each figure pools every repeat\n"
            "answer accuracy by seed: " + ", ".join(f"{a:.3f}" for a in accuracy_by_seed) + "\n"
        )
    print(report(scored, len(seeds)))
    if args.errors:
        print("\n" + errors(scored, len(seeds)))
    if len({source for _, source in questions}) > 1:
        by_author = leave_file_out(setup, questions, examples, args.seed, progress)
        print(
            "\n\nEach file left out: its questions scored by an index and a model built without "
            "any of them, as another author's questions are\n"
        )
        print(report(by_author, how=", its file left out"))
        if args.errors:
            print("\n" + errors(by_author))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
