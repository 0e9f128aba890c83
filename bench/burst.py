"""A burst of /ask through the real bot: how long Discord would wait for each answer.

Starts the Discord-compatible test server (tests/protocol/fake_discord.py) and `python -m bot`
against it, sends N /ask interactions as fast as the gateway carries them, and prints the
callback latencies: Discord drops an interaction not answered within 3 s. A figure, not a test:
the protocol suite only checks that every one is answered exactly once.

    .venv/bin/python bench/burst.py [--count 500] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.protocol.conftest import start_serving_bot  # noqa: E402
from tests.protocol.fake_discord import DEFAULT_TOKEN, FakeDiscord  # noqa: E402

QUESTIONS = (
    "What does Canada think of the GFMD?",
    "who should lead on migration data",
    "Is Canada satisfied with the way the third round went?",
    "What does Canada say about integration and reintegration?",
)
DEADLINE_SECONDS = 3.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))]


async def burst(server: FakeDiscord, count: int) -> list[float]:
    states = [
        server.slash_payload("ask", {"question": QUESTIONS[i % len(QUESTIONS)]})
        for i in range(count)
    ]
    tokens = {state.token: state for state in states}
    mark = server.requests.mark()
    for state in states:
        await server.dispatch("INTERACTION_CREATE", state.payload)
    callbacks = await server.requests.wait_for_count(
        lambda r: r.route == "interaction_callback" and r.ok and r.params.get("token") in tokens,
        count,
        timeout=120,
        since=mark,
        what="callbacks to the burst",
    )
    return [c.timestamp - tokens[c.params["token"]].dispatched_at for c in callbacks]


async def main(count: int, runs: int) -> None:
    server = FakeDiscord(token=DEFAULT_TOKEN)
    await server.start()
    bot = await start_serving_bot(server)
    try:
        for run in range(1, runs + 1):
            latencies = await burst(server, count)
            late = sum(latency > DEADLINE_SECONDS for latency in latencies)
            print(
                f"run {run}: {count} /ask at once: callback p50 "
                f"{percentile(latencies, 0.5) * 1000:.0f} ms, p95 "
                f"{percentile(latencies, 0.95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms,"
                f" mean {statistics.fmean(latencies) * 1000:.0f} ms; "
                f"{late} after Discord's {DEADLINE_SECONDS:g} s"
            )
    finally:
        await bot.stop()
        await server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.count, arguments.runs))
