"""Black-box figures, as a user sees them: `python -m bot ask --json` with questions on stdin.

The child is started with DATA_DIR pointing at the corpus's folder and every question written
to its stdin at once; each answer is one JSON line, flushed as it is ready. The time from the
start to the first line is start-up plus the first answer; the gaps between later lines are the
per-question times (pipe included, as for a user). The child's own peak RSS (VmHWM, not
ru_maxrss, which a vfork+exec child inherits from its parent) is read after the last answer,
before stdin closes and the child exits.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DISCORD_IMPORT = """
import json, sys, time
start = time.perf_counter()
import discord  # noqa: F401
import bot.app  # noqa: F401
imported = time.perf_counter()
from pathlib import Path
from bot.embeds import answer_embed
from bot.cli import index_dir
from bot.config import load_settings
from bot.library import load_library
from bot.sources import FolderSource
# As `python -m bot run` loads it: through the index cache under STATE_DIR.
library = load_library(FolderSource(Path(sys.argv[1])), cache_dir=index_dir(load_settings()))
answer_embed(library.ask("Who should lead on migration data?"), library)
peak = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:")).split()[1]
print(json.dumps({"import_s": imported - start, "peak_rss_bytes": int(peak) * 1024}))
"""


def environment(data_dir: Path, state_dir: Path) -> dict[str, str]:
    # No token: `ask` never connects, and a developer's .env must not change what is measured.
    environ = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    environ["DATA_DIR"] = str(data_dir)
    # The index cache lives here: an empty folder measures a cold start, a used one a warm one.
    environ["STATE_DIR"] = str(state_dir)
    return environ


def status_bytes(pid: int, *keys: str) -> list[int]:
    """Fields of /proc/<pid>/status given in kB, in bytes: VmHWM is the peak RSS; RssAnon and
    RssFile split the current RSS into private memory and pages of mapped files (the libraries'
    code and the index cache, which the kernel may drop and other processes share)."""
    found: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in keys:
                found[key] = int(value.split()[0]) * 1024
    return [found[key] for key in keys]


def usage_of(pid: int) -> tuple[float, float, int]:
    """The process's user and system CPU seconds so far (in clock ticks of 10 ms, usually),
    and its minor page faults."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # minflt, utime and stime are fields 10, 14 and 15 of stat; fields[0] here is field 3.
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick, int(fields[7])


def ask_through_cli(
    data_dir: Path,
    questions: list[str],
    state_dir: Path,
    root: Path = ROOT,
    python: str = sys.executable,
) -> dict:
    """One run of the CLI over all the questions: start-up, per-question gaps, peak RSS, and
    the CPU time the questions after the first took (less noisy than wall time on a busy
    machine).

    root is the checkout whose `python -m bot` runs (another one to compare with, say)."""
    payload = "".join(q.replace("\n", " ") + "\n" for q in questions)
    start = time.perf_counter()
    child = subprocess.Popen(
        [python, "-m", "bot", "ask", "--json"],
        cwd=root,
        env=environment(data_dir, state_dir),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    assert child.stdin is not None and child.stdout is not None and child.stderr is not None

    def feed() -> None:
        # A thread, so that a pipe fuller than its buffer cannot block the reader.
        child.stdin.write(payload)
        child.stdin.flush()

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    arrivals: list[float] = []
    answered = 0
    at_first = at_last = (0.0, 0.0, 0)
    for _ in questions:
        line = child.stdout.readline()
        if not line:
            break
        arrivals.append(time.perf_counter())
        if len(arrivals) == 1:
            at_first = usage_of(child.pid)
        answered += bool(json.loads(line).get("answered"))
    peak = private = file_pages = None
    if len(arrivals) == len(questions):
        peak, private, file_pages = status_bytes(child.pid, "VmHWM", "RssAnon", "RssFile")
        at_last = usage_of(child.pid)
    writer.join()
    child.stdin.close()
    child.stdout.read()
    errors = child.stderr.read()
    child.wait()
    if child.returncode != 0 or len(arrivals) != len(questions):
        raise RuntimeError(f"python -m bot ask exited {child.returncode}: {errors.strip()}")
    gaps_ms = [(b - a) * 1e3 for a, b in itertools.pairwise(arrivals)]
    return {
        "questions": len(questions),
        "answered": answered,
        "first_answer_s": arrivals[0] - start,
        "total_s": arrivals[-1] - start,
        "gaps_ms": gaps_ms,
        "cpu_per_question_ms": (sum(at_last[:2]) - sum(at_first[:2])) * 1e3 / max(len(gaps_ms), 1),
        "system_cpu_per_question_ms": (at_last[1] - at_first[1]) * 1e3 / max(len(gaps_ms), 1),
        "page_faults_per_question": (at_last[2] - at_first[2]) / max(len(gaps_ms), 1),
        "peak_rss_bytes": peak,
        "private_rss_bytes": private,
        "file_rss_bytes": file_pages,
    }


def bot_process_with_discord(data_dir: Path, state_dir: Path, python: str = sys.executable) -> dict:
    """What the Discord bot holds before it connects: discord.py imported, the index, one embed."""
    done = subprocess.run(
        [python, "-c", DISCORD_IMPORT, str(data_dir)],
        cwd=ROOT,
        env=environment(data_dir, state_dir),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)
