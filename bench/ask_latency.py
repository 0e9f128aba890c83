"""Question → answer latency on the statement: p50 and p90 over the labelled questions.

.venv/bin/python bench/ask_latency.py [--data-dir data] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from bot.library import load_library
from bot.sources import FolderSource

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    library = load_library(FolderSource(args.data_dir))
    questions = [
        json.loads(line)["question"]
        for name in ("dev", "extra", "train")
        for line in (ROOT / "tests" / f"{name}_qa.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    for question in questions:  # warm caches and the lazily imported word frequencies
        library.ask(question)
    times = []
    for _ in range(args.rounds):
        for question in questions:
            start = time.perf_counter()
            library.ask(question)
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    print(
        f"{len(times)} questions: p50 {statistics.median(times):.3f} ms, "
        f"p90 {times[int(len(times) * 0.9)]:.3f} ms, max {times[-1]:.3f} ms"
    )


if __name__ == "__main__":
    main()
