"""`make bench`: the bot against bm25s and tantivy, black-box through the CLI and in-process.

For each corpus (see corpora.py) the same questions go to:

- `python -m bot ask --json` with DATA_DIR at the corpus's folder (cli_bench.py): start-up and
  first answer, per-question times, p50/p99, CPU time per question, the process's peak RSS;
  with --baseline, the CLI of another checkout too (say `git archive <commit>` unpacked), run
  alternately with ours on the same questions, for before/after figures;
- a fresh in-process run (inprocess.py): start-up split, search and render, the scorer alone,
  postings touched, and the top-5 checked bit for bit against rank-bm25;
- bm25s, tantivy and naive rank-bm25, each in a fresh process (peers.py).

One table is printed, ours beside theirs with ratios (ours ÷ theirs: below 1 is faster), and
every figure goes to bench/results/bench.json. These are figures, never pass/fail tests; the
targets of issue 11 are marked ✓/✗ beside them. Run with --help for the knobs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from cli_bench import ask_through_cli, bot_process_with_discord
from corpora import GENERATED, Corpus, paragraph_texts, prepare

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results" / "bench.json"
DEFAULT_CORPORA = (
    "statement",
    "stdlib-10000",
    "content-10000",
    "stopwords-10000",
    "content-100000",
    "stopwords-100000",
)
PEERS = ("bm25s", "tantivy", "rank-bm25")
# rank-bm25 scores every paragraph in Python: ~50 ms a question at 10,000, ~0.5 s at 100,000.
NAIVE_QUESTIONS = {0: 300, 10_000: 60, 100_000: 10}
# Issue 11's targets, per question through the CLI and for the whole process.
PER_QUESTION_TARGET_MS = {0: 0.2, 10_000: 1.0, 100_000: 3.0}
COLD_START_TARGET_S = {100_000: 20.0}
WARM_START_TARGET_S = {100_000: 1.0}
PEAK_RSS_TARGET_MB = {100_000: 300.0}
STATEMENT_BOT_RSS_TARGET_MB = 60.0
TAIL_TARGET = 3.0


def worker(script: str, *args: str) -> dict:
    # This checkout's bot package, as `python -m bot` from it imports, not the installed one.
    environ = os.environ | {
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    }
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
        env=environ,
    )
    return json.loads(done.stdout)


def paragraphs_file(corpus: Corpus) -> Path:
    """The corpus's paragraphs as the bot segments them, one JSON string a line, for the peers."""
    path = GENERATED / f"{corpus.name}.paragraphs.jsonl"
    stamp = GENERATED / f"{corpus.name}.stamp.json"
    if not path.exists() or path.stat().st_mtime < stamp.stat().st_mtime:
        texts = paragraph_texts(corpus.data_dir)
        path.write_text("".join(json.dumps(t) + "\n" for t in texts), encoding="utf-8")
    return path


def bucket(paragraphs: int, table: dict[int, float]) -> float | None:
    """The entry for the largest size at or below paragraphs."""
    fitting = [size for size in table if size <= paragraphs]
    return table[max(fitting)] if fitting else None


def measure(corpus: Corpus, args: argparse.Namespace) -> dict:
    def progress(message: str) -> None:
        print(f"  [{corpus.name}] {message}", file=sys.stderr, flush=True)

    progress("preparing the data folder and questions")
    questions = prepare(corpus, args.questions)
    result: dict = {"corpus": corpus.name, "questions": len(questions)}
    # The first run starts with an empty STATE_DIR (a cold start: build, then write the index
    # cache); the others find the cache it wrote (a warm start).
    runs = max(2, args.cli_runs or (2 if corpus.paragraphs >= 100_000 else 3))
    checkouts = {"cli": ROOT} | ({"baseline_cli": args.baseline} if args.baseline else {})
    state_dirs = {name: Path(tempfile.mkdtemp(prefix=f"bench-{name}-")) for name in checkouts}
    cli_runs: dict[str, list[dict]] = {name: [] for name in checkouts}
    for run in range(runs):
        # Alternately, so that a busy spell on a shared machine hits both alike.
        for name, root in checkouts.items():
            cli_runs[name].append(
                ask_through_cli(corpus.data_dir, questions, state_dirs[name], root=root)
            )
            progress(
                f"{name} run {run + 1}/{runs} ({'cold' if run == 0 else 'warm'}): first answer "
                f"{cli_runs[name][-1]['first_answer_s']:.2f} s, median gap "
                f"{statistics.median(cli_runs[name][-1]['gaps_ms']):.3f} ms"
            )
    for name, done in cli_runs.items():
        result[f"{name}_runs"] = [{k: v for k, v in r.items() if k != "gaps_ms"} for r in done]
        result[name] = cli_summary(done)
    if corpus.kind == "statement":
        result["bot_with_discord"] = bot_process_with_discord(corpus.data_dir, state_dirs["cli"])
    for state_dir in state_dirs.values():
        shutil.rmtree(state_dir, ignore_errors=True)
    if not args.no_inprocess:
        progress("in-process run")
        extra = []
        if args.profile_dir:
            extra = ["--profile", f"{args.profile_dir}/{corpus.name}.pstats"]
        result["inprocess"] = worker(
            "inprocess.py", corpus.name, "--questions", str(args.questions), *extra
        )
    if not args.no_peers:
        paragraphs = paragraphs_file(corpus)
        for engine in PEERS:
            progress(f"{engine}")
            limit = []
            if engine == "rank-bm25":
                limit = ["--limit", str(int(bucket(corpus.paragraphs, NAIVE_QUESTIONS) or 10))]
            result[engine] = worker(
                "peers.py", engine, str(paragraphs), str(corpus.questions_file), *limit
            )
    return result


def cli_summary(runs: list[dict]) -> dict:
    # Per question: every gap of every run together, so p99 has enough samples.
    gaps = np.concatenate([r["gaps_ms"] for r in runs])
    cold, warm = runs[0], runs[1:]
    return {
        "cold_first_answer_s": cold["first_answer_s"],
        "cold_peak_rss_bytes": cold["peak_rss_bytes"],
        "first_answer_s": statistics.median(r["first_answer_s"] for r in warm),
        "per_question_ms": {
            "mean": float(gaps.mean()),
            "p50": float(np.percentile(gaps, 50)),
            "p99": float(np.percentile(gaps, 99)),
            "max": float(gaps.max()),
        },
        "cpu_per_question_ms": statistics.median(r["cpu_per_question_ms"] for r in runs),
        "system_cpu_per_question_ms": statistics.median(
            r["system_cpu_per_question_ms"] for r in runs
        ),
        "page_faults_per_question": statistics.median(r["page_faults_per_question"] for r in runs),
        "peak_rss_bytes": statistics.median(r["peak_rss_bytes"] for r in warm),
        "private_rss_bytes": statistics.median(r["private_rss_bytes"] for r in warm),
        "file_rss_bytes": statistics.median(r["file_rss_bytes"] for r in warm),
    }


def mark(value: float | None, target: float | None) -> str:
    if value is None or target is None:
        return ""
    return f" {'✓' if value <= target else '✗'}≤{target:g}"


def ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or not theirs:
        return ""
    return f" ({ours / theirs:.2f}×)"


def table_rows(result: dict) -> dict[str, str]:
    size = (
        result.get("inprocess", {}).get("paragraphs") or Corpus.parse(result["corpus"]).paragraphs
    )
    cli = result["cli"]
    per_question = cli["per_question_ms"]
    p50, p99 = per_question["p50"], per_question["p99"]
    peers = {e: result.get(e, {}) for e in PEERS}

    def peer_p50(engine: str) -> float | None:
        return peers[engine].get("question_ms", {}).get("p50")

    rows = {
        "paragraphs": f"{size:,}" if size else "",
        "per question, ours (CLI mean)": f"{per_question['mean']:.3f} ms"
        + mark(per_question["mean"], bucket(size, PER_QUESTION_TARGET_MS)),
        "  CLI p50 / p99 (p99÷p50)": f"{p50:.3f} / {p99:.3f} ({p99 / p50:.1f}"
        + mark(p99 / p50, TAIL_TARGET).replace("≤3", "≤3×")
        + ")",
        "  CLI CPU time per question (system)": f"{cli['cpu_per_question_ms']:.3f} ms "
        f"({cli['system_cpu_per_question_ms']:.3f})",
        "  CLI page faults per question": f"{cli['page_faults_per_question']:.1f}",
    }
    before = result.get("baseline_cli")
    if before:
        was = before["per_question_ms"]
        rows["before: per question (CLI mean)"] = f"{was['mean']:.3f} ms" + ratio(
            per_question["mean"], was["mean"]
        )
        rows["  before: p50 / p99 (p99÷p50)"] = (
            f"{was['p50']:.3f} / {was['p99']:.3f} ({was['p99'] / was['p50']:.1f})"
        )
        rows["  before: CPU time per question (system)"] = (
            f"{before['cpu_per_question_ms']:.3f} ms "
            f"({before['system_cpu_per_question_ms']:.3f})"
            + ratio(cli["cpu_per_question_ms"], before["cpu_per_question_ms"])
        )
        rows["  before: page faults per question"] = f"{before['page_faults_per_question']:.1f}"
    for engine in ("bm25s", "tantivy", "rank-bm25"):
        peer = peers[engine]
        if "missing" in peer:
            rows[f"{engine} p50 (ours CLI p50 ÷ it)"] = "not installed"
        elif peer:
            rows[f"{engine} p50 (ours CLI p50 ÷ it)"] = f"{peer_p50(engine):.3f} ms" + ratio(
                p50, peer_p50(engine)
            )
    inprocess = result.get("inprocess")
    if inprocess:
        rows["in-process search+render p50 / p99"] = (
            f"{inprocess['answer_ms']['p50']:.3f} / {inprocess['answer_ms']['p99']:.3f}"
        )
        rows["  in-process CPU p50 / p99"] = (
            f"{inprocess['answer_cpu_ms']['p50']:.3f} / {inprocess['answer_cpu_ms']['p99']:.3f}"
        )
        rows["  page faults per question"] = f"{inprocess['page_faults_per_question']:.1f}"
        rows["  scorer alone p50 / p99 (CPU)"] = (
            f"{inprocess['rank_ms']['p50']:.3f} / {inprocess['rank_ms']['p99']:.3f}"
        )
        rows["  postings touched p50 / p90 / max"] = (
            f"{inprocess['postings_touched']['p50']:,.0f} / "
            f"{inprocess['postings_touched']['p90']:,.0f} / "
            f"{inprocess['postings_touched']['max']:,.0f}"
        )
        for engine in ("bm25s", "tantivy"):
            if peer_p50(engine):
                rows[f"  in-process ÷ {engine} p50"] = (
                    f"{inprocess['answer_ms']['p50'] / peer_p50(engine):.2f}×"
                )
        rows["top-5 = rank-bm25, bitwise"] = (
            f"{inprocess['exactness']['bitwise_equal']}/{inprocess['exactness']['checked']}"
        )
    rows["start-up + first answer, warm cache"] = f"{cli['first_answer_s']:.2f} s" + mark(
        cli["first_answer_s"], bucket(size, WARM_START_TARGET_S)
    )
    rows["  start-up cold (build, write the cache)"] = f"{cli['cold_first_answer_s']:.2f} s" + mark(
        cli["cold_first_answer_s"], bucket(size, COLD_START_TARGET_S)
    )
    if before:
        rows["  before: start-up + first answer"] = f"{before['first_answer_s']:.2f} s" + ratio(
            cli["first_answer_s"], before["first_answer_s"]
        )
    if inprocess:
        rows["  load corpus / build index"] = (
            f"{inprocess['load_corpus_s']:.2f} / {inprocess['build_index_s']:.2f} s"
        )
    builds = [
        f"{peers[e]['build_s']:.2f}" if peers[e].get("build_s") is not None else "-"
        for e in ("bm25s", "tantivy")
    ]
    if any(b != "-" for b in builds):
        rows["index build bm25s / tantivy"] = " / ".join(builds) + " s"
    rss_mb = cli["peak_rss_bytes"] / 1e6
    rows["peak RSS ours (CLI, warm cache)"] = f"{rss_mb:.0f} MB" + mark(
        rss_mb, bucket(size, PEAK_RSS_TARGET_MB)
    )
    rows["  at the last answer: private / mapped files"] = (
        f"{cli['private_rss_bytes'] / 1e6:.0f} / {cli['file_rss_bytes'] / 1e6:.0f} MB"
    )
    cold_mb = cli["cold_peak_rss_bytes"] / 1e6
    rows["  peak RSS cold (build, write the cache)"] = f"{cold_mb:.0f} MB" + mark(
        cold_mb, bucket(size, PEAK_RSS_TARGET_MB)
    )
    if before:
        rows["  before: peak RSS"] = f"{before['peak_rss_bytes'] / 1e6:.0f} MB"
    peer_rss = [
        f"{peers[e]['peak_rss_bytes'] / 1e6:.0f}" if peers[e].get("peak_rss_bytes") else "-"
        for e in ("bm25s", "tantivy")
    ]
    if any(r != "-" for r in peer_rss):
        rows["peak RSS bm25s / tantivy"] = " / ".join(peer_rss) + " MB"
    if "bot_with_discord" in result:
        bot_mb = result["bot_with_discord"]["peak_rss_bytes"] / 1e6
        rows["bot with discord.py, peak RSS"] = f"{bot_mb:.0f} MB" + mark(
            bot_mb, STATEMENT_BOT_RSS_TARGET_MB
        )
    return rows


def render_table(results: dict[str, dict]) -> str:
    columns = list(results)
    per_column = {name: table_rows(result) for name, result in results.items()}
    rows = list(dict.fromkeys(r for name in columns for r in per_column[name]))
    lines = [["", *columns]]
    lines += [[row, *(per_column[name].get(row, "") for name in columns)] for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default=",".join(DEFAULT_CORPORA), help="comma-separated")
    parser.add_argument("--questions", type=int, default=300, help="questions per corpus")
    parser.add_argument(
        "--cli-runs", type=int, help="CLI runs per corpus, the first cold (default 3; 2 at 100k)"
    )
    parser.add_argument("--no-peers", action="store_true", help="skip bm25s, tantivy, rank-bm25")
    parser.add_argument("--no-inprocess", action="store_true", help="skip the in-process run")
    parser.add_argument("--profile-dir", help="write cProfile stats of the in-process questions")
    parser.add_argument(
        "--baseline", type=Path, help="another checkout whose CLI to run alongside, for before"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    started = time.perf_counter()
    results = {}
    for name in (n.strip() for n in args.corpora.split(",") if n.strip()):
        print(f"measuring {name}…", file=sys.stderr, flush=True)
        results[name] = measure(Corpus.parse(name), args)
    elapsed = time.perf_counter() - started
    print(render_table(results))
    print(
        f"\n{args.questions} questions a corpus (1 in 20 with a typo); per-question figures are "
        f"the gaps between answers of `python -m bot ask --json`; ratios are ours ÷ theirs. "
        f"{elapsed:.0f} s in all."
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "corpora": results,
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
