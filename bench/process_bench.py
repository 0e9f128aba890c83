"""Whole-process figures: a terminal chat's first answer, and the Discord bot's peak memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_QUESTION = "Who should lead on migration data?"

# What `python -m bot run` holds before it connects: discord.py and the bot's modules imported,
# the statement indexed, one answer rendered both ways.
BOT_PROCESS = """
import json, sys, time
from pathlib import Path
start = time.perf_counter()
import discord
imported_discord = time.perf_counter()
import bot.app
from bot.embeds import answer_embed
from bot.render import answer_text
from bot.library import load_library
from bot.sources import FolderSource
imported = time.perf_counter()
library = load_library(FolderSource(Path(sys.argv[1])))
found = library.ask(sys.argv[2])
answer_embed(found, library)
answer_text(found, library)
peak = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:")).split()[1]
print(json.dumps({
    "import_discord_s": imported_discord - start,
    "import_bot_s": imported - imported_discord,
    "index_and_answer_s": time.perf_counter() - imported,
    "peak_rss_bytes": int(peak) * 1024,
}))
"""


def _environment() -> dict[str, str]:
    # Without a token the bot would try to connect; the chat command never needs one.
    return {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}


def _peak_rss_of(pid: int) -> int:
    """A process's own peak RSS. Not ru_maxrss: a child started with vfork and exec inherits
    its parent's peak there (a 300 MB parent makes a 10 MB child report 311 MB)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise LookupError("VmHWM")


def chat_first_answer() -> dict[str, object]:
    """Seconds from starting `python -m bot chat` to the first line of its first answer."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat"],
        cwd=ROOT,
        env=_environment(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(FIRST_QUESTION + "\n")
    process.stdin.flush()
    first_line = process.stdout.readline()
    seconds = time.perf_counter() - start
    # The whole reply is printed at once, so the chat has answered: its peak so far is the peak.
    peak = _peak_rss_of(process.pid)
    process.stdin.close()
    rest = process.stdout.read()
    process.wait()
    process.stdout.close()
    assert process.stderr is not None
    errors = process.stderr.read()
    process.stderr.close()
    if process.returncode != 0 or not first_line.strip():
        raise RuntimeError(f"python -m bot chat failed ({process.returncode}): {errors}{rest}")
    return {"seconds": seconds, "first_line": first_line.strip(), "peak_rss_bytes": peak}


def bot_process_memory() -> dict[str, float]:
    process = subprocess.run(
        [sys.executable, "-c", BOT_PROCESS, str(ROOT / "data"), FIRST_QUESTION],
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(process.stdout)
