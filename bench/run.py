"""`make bench`: latency and memory from the statement to 100,000 paragraphs, against rank-bm25.

Each corpus is measured in its own process (so its memory figures are its own), then the
process-level figures are taken; one table of medians is printed and every figure, per
repetition, is written to bench/results/bench.json. Run with --help for the knobs.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

from corpus_bench import Plan, run
from process_bench import bot_process_memory, chat_first_answer

RESULTS = Path(__file__).resolve().parent / "results" / "bench.json"
SIZES = ("statement", "1000", "10000", "100000")
PROCESS_RUNS = 5

# name → (paragraphs, reference-check questions, naive-baseline questions); rank-bm25 needs
# ~70 ms a query at 10,000 paragraphs and ~0.7 s at 100,000, so it gets fewer questions there.
CORPORA = {
    "statement": (0, 10_000, 10_000),
    "1000": (1_000, 500, 500),
    "10000": (10_000, 200, 100),
    "100000": (100_000, 30, 20),
}
TRACEMALLOC_MAX_PARAGRAPHS = 10_000
# Building 100,000 paragraphs takes ~25 s, so that index is built once and asked every pass.
BUILDS_AT_100K = 1

TARGETS = {
    ("answer p50 ms", "statement"): 0.3,
    ("answer p99 ms", "statement"): 1.0,
    ("answer p50 ms", "10000"): 5.0,
    ("answer p99 ms", "10000"): 20.0,
    ("answer p50 ms", "100000"): 50.0,
    ("index MB, after the questions", "100000"): 150.0,
    ("start → first answer, s", "statement"): 1.5,
    ("bot process peak RSS MB", "statement"): 70.0,
}


def plan_for(name: str, repetitions: int, question_count: int) -> Plan:
    paragraphs, reference, naive = CORPORA[name]
    return Plan(
        name=name,
        paragraphs=paragraphs,
        repetitions=repetitions,
        builds=BUILDS_AT_100K if paragraphs >= 100_000 else repetitions,
        generated_questions=question_count,
        reference_questions=min(reference, question_count + 20),
        naive_questions=min(naive, question_count + 20),
        tracemalloc_check=paragraphs <= TRACEMALLOC_MAX_PARAGRAPHS,
    )


def run_in_fresh_process(plan: Plan) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(asdict(plan))],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout)


def median(values: list[float]) -> float:
    return statistics.median(values)


def summarize(result: dict) -> dict[str, float | str]:
    """The table's figures for one corpus: medians over the passes and builds."""
    passes = result["passes"]
    memory = result["memory"]
    reference = result["reference"]
    naive = result["naive"]

    def over_passes(part: str, key: str) -> float:
        return median([p[part][key] for p in passes])

    answer_p50 = over_passes("answer", "p50")
    traced = memory.get("index_tracemalloc_bytes")
    peak = memory["build_peak_rss_delta_bytes"]
    return {
        "paragraphs (documents)": f"{result['paragraphs']:,} ({result['documents']:,})",
        "postings": f"{result['postings']:,}" if result["postings"] is not None else "-",
        "index build s": median(result["build_s"]),
        "index MB, after build": result_mb(memory["index_bytes"]),
        "index MB, after the questions": result_mb(result["index_bytes_after_questions"]),
        "index MB, tracemalloc": result_mb(traced) if traced is not None else "-",
        "build RSS growth MB (peak)": f"{result_mb(memory['rss_delta_bytes'])} "
        f"({result_mb(peak) if peak is not None else '?'})",
        "corpus MB (of which sentences)": f"{result_mb(result['corpus_bytes'])} "
        f"({result_mb(result['corpus_parts_bytes']['sentences'])})",
        "answer p50 ms": answer_p50,
        "answer p99 ms": over_passes("answer", "p99"),
        "answer max ms": over_passes("answer", "max"),
        "  search p50 / p99 ms": f"{over_passes('search', 'p50'):.3f} / "
        f"{over_passes('search', 'p99'):.3f}",
        "  render p50 / p99 ms": f"{over_passes('render', 'p50'):.3f} / "
        f"{over_passes('render', 'p99'):.3f}",
        "first answer after build ms": median(
            [p["cold_first_answer_ms"] for p in passes if p["fresh_index"]]
        ),
        "answers/s on one core": median([p["answers_per_second"] for p in passes]),
        "questions a pass × passes": f"{passes[0]['answer']['count']:,} × {len(passes)}",
        "longest full GC in a pass ms": median(
            [p["garbage_collection"]["oldest_generation_max_ms"] for p in passes]
        ),
        "full GC ms (after gc.freeze)": f"{result['full_collection_ms']['ms']:.1f} "
        f"({result['full_collection_ms']['frozen_ms']:.1f})",
        "rank only p50 / p99 ms": f"{reference['rank_only_ms']['p50']:.4f} / "
        f"{reference['rank_only_ms']['p99']:.4f}",
        "rank-bm25, same terms p50 ms": reference["rank_bm25_ms"]["p50"],
        "top-5 = rank-bm25 (bitwise)": f"{reference['same_top5']}/{reference['queries_checked']} "
        f"({reference['bitwise_equal']})",
        "max relative score diff": f"{reference['max_relative_difference']:.1e}",
        "naive p50 / p99 ms": f"{naive['p50']:.3f} / {naive['p99']:.3f}",
        "naive questions": naive["count"],
        "naive build s / RSS MB": f"{naive['build_s']:.2f} / {result_mb(naive['rss_delta_bytes'])}",
        "naive p50 ÷ answer p50": f"{naive['p50'] / answer_p50:.1f}×",
    }


def result_mb(count: float) -> float:
    return round(count / 1e6, 1)


def process_figures(runs: int) -> dict:
    chats = [chat_first_answer() for _ in range(runs)]
    bots = [bot_process_memory() for _ in range(runs)]
    return {
        "chat_runs": chats,
        "bot_runs": bots,
        "start_to_first_answer_s": median([c["seconds"] for c in chats]),
        "chat_peak_rss_bytes": median([c["peak_rss_bytes"] for c in chats]),
        "bot_peak_rss_bytes": median([b["peak_rss_bytes"] for b in bots]),
        "import_discord_s": median([b["import_discord_s"] for b in bots]),
    }


def render_table(columns: list[str], figures: dict[str, dict], process: dict | None) -> str:
    rows = list(next(iter(figures.values())))
    if process is not None and "statement" in figures:
        figures["statement"]["start → first answer, s"] = round(
            process["start_to_first_answer_s"], 3
        )
        figures["statement"]["chat process peak RSS MB"] = result_mb(process["chat_peak_rss_bytes"])
        figures["statement"]["bot process peak RSS MB"] = result_mb(process["bot_peak_rss_bytes"])
        figures["statement"]["  of which import discord s"] = round(process["import_discord_s"], 3)
        rows += [
            "start → first answer, s",
            "chat process peak RSS MB",
            "bot process peak RSS MB",
            "  of which import discord s",
        ]
    header = ["measure (median)", *(c if c == "statement" else f"{int(c):,} ¶" for c in columns)]
    lines = [header]
    for row in rows:
        cells = [row]
        for column in columns:
            value = figures.get(column, {}).get(row, "")
            text = _format(row, value)
            target = TARGETS.get((row, column))
            if target is not None and isinstance(value, float):
                text += f" {'✓' if value <= target else '✗'} ≤{target:g}"
            cells.append(text)
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for number, cells in enumerate(lines):
        out.append(
            "  ".join(
                cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                for i, cell in enumerate(cells)
            )
        )
        if number == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def _format(row: str, value: object) -> str:
    if not isinstance(value, float):
        return str(value)
    if "MB" in row or value >= 10:
        return f"{value:,.1f}"
    return f"{value:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help="corpora, comma-separated")
    parser.add_argument("--repetitions", type=int, default=3, help="passes (and builds) a corpus")
    parser.add_argument("--questions", type=int, default=2_000, help="drawn questions a pass")
    parser.add_argument("--no-process", action="store_true", help="skip the process figures")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run(Plan(**json.loads(args.worker)))))
        return 0

    started = time.perf_counter()
    columns = [s.strip() for s in args.sizes.split(",") if s.strip()]
    results = {}
    for name in columns:
        print(f"measuring {name}…", file=sys.stderr, flush=True)
        results[name] = run_in_fresh_process(plan_for(name, args.repetitions, args.questions))
    process = None
    if not args.no_process:
        print("measuring the processes…", file=sys.stderr, flush=True)
        process = process_figures(PROCESS_RUNS)
    figures = {name: summarize(result) for name, result in results.items()}
    table = render_table(columns, figures, process)
    elapsed = time.perf_counter() - started
    print(table)
    print(
        f"\n{args.repetitions} passes of {args.questions:,} drawn + 20 dev questions a corpus; "
        f"{BUILDS_AT_100K} build at 100,000 ¶; process figures over {PROCESS_RUNS} runs; "
        f"{elapsed:.0f} s in all."
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "table": figures,
                "process": process,
                "corpora": results,
                "targets": {f"{row} @ {column}": t for (row, column), t in TARGETS.items()},
                "python": sys.version,
                "machine": platform.platform(),
                "elapsed_s": round(elapsed, 1),
            },
            indent=2,
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    print(f"written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
