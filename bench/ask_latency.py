"""Question → answer latency on the statement: p50 and p90 over the labelled questions.

.venv/bin/python bench/ask_latency.py [--data-dir data] [--rounds 5] [--answers FILE]

The first pass asks each question once on a fresh library (its per-word caches empty, as after
a start); the warm rounds ask them all again. With --answers, every answer (verdict, ranking,
sentence, confidence, words searched and missing) is written to FILE if it does not exist, or
compared with it: a speed-up must not change a single answer.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from bot.library import Library, load_library
from bot.sources import FolderSource

ROOT = Path(__file__).resolve().parent.parent
# Confidences are compared to this many decimals: summing the same floats in another order may
# change the last bits, never a verdict.
CONFIDENCE_DECIMALS = 9


def answers(library: Library, questions: list[str]) -> dict[str, dict[str, object]]:
    """What the library says to each question, in a form that compares exactly."""
    result = {}
    for question in questions:
        answer = library.ask(question, limit=len(library.paragraphs))
        result[question] = {
            "verdict": answer.verdict,
            "confidence": round(answer.confidence, CONFIDENCE_DECIMALS),
            "ranking": [h.paragraph.ref.encode() for h in answer.hits],
            "sentence": answer.best.sentence_index if answer.best else None,
            "searched": list(answer.searched),
            "missing": list(answer.missing),
            "corrections": [list(pair) for pair in answer.corrections],
            "expansions": [list(pair) for pair in answer.expansions],
        }
    return result


def compare(path: Path, now: dict[str, dict[str, object]]) -> int:
    if not path.exists():
        path.write_text(json.dumps(now, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {len(now)} answers to {path}")
        return 0
    before = json.loads(path.read_text(encoding="utf-8"))
    changed = [q for q in before.keys() | now.keys() if before.get(q) != now.get(q)]
    for question in sorted(changed):
        print(f"changed: {question}\n  before {before.get(question)}\n  now    {now.get(question)}")
    print(f"{len(now)} answers compared with {path}: {len(changed)} changed")
    return 1 if changed else 0


def timed(library: Library, questions: list[str]) -> list[float]:
    times = []
    for question in questions:
        start = time.perf_counter()
        library.ask(question)
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(times: list[float]) -> str:
    times = sorted(times)
    return (
        f"p50 {statistics.median(times):.3f} ms, p90 {times[int(len(times) * 0.9)]:.3f} ms, "
        f"max {times[-1]:.3f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--answers", type=Path, help="write, or compare with, every answer")
    args = parser.parse_args()
    questions = [
        json.loads(line)["question"]
        for name in ("dev", "extra", "train")
        for line in (ROOT / "tests" / f"{name}_qa.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    start = time.perf_counter()
    library = load_library(FolderSource(args.data_dir))
    print(f"library built in {(time.perf_counter() - start) * 1000:.0f} ms")
    first = timed(library, questions)
    print(f"{len(first)} questions, first pass: {summary(first)}")
    warm = [t for _ in range(args.rounds) for t in timed(library, questions)]
    print(f"{len(warm)} questions, warm: {summary(warm)}")
    return compare(args.answers, answers(library, questions)) if args.answers else 0


if __name__ == "__main__":
    sys.exit(main())
