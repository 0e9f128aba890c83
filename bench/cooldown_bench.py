"""Cost of one cooldown hit, and memory per user, as the number of live users grows.

Run: .venv/bin/python bench/cooldown_bench.py  (prints a table; about 20 s)

The max column is the slowest single hit, which on a shared machine is mostly the process being
descheduled; p50 and p99 are the cost of the code.

Every user is hit once to fill the store, all inside one window, so every one of them is live;
then hits go to users picked at random among them (answers, notices and silences mixed) and to
new users (each one an insertion, and past max_users an eviction).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.cooldown import UserCooldown

SIZES = (1_000, 10_000, 50_000, 200_000)
TIMED_HITS = 100_000


class SteppingClock:
    """Advances a microsecond per call, so a 20 s window outlasts the whole run."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1e-6
        return self.now


def filled(users: int, max_users: int) -> UserCooldown:
    cooldown = UserCooldown(max_users=max_users, clock=SteppingClock())
    for user_id in range(users):
        cooldown.hit(user_id)
    return cooldown


def bytes_per_user(users: int) -> float:
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    cooldown = filled(users, max_users=users)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(cooldown) == users
    return (after - before) / users


def per_hit_ns(cooldown: UserCooldown, user_ids: list[int]) -> list[int]:
    timings = []
    clock = time.perf_counter_ns
    for user_id in user_ids:
        started = clock()
        cooldown.hit(user_id)
        timings.append(clock() - started)
    return timings


def main() -> None:
    rng = random.Random(10)
    print(f"{TIMED_HITS:,} timed hits per row; ns per hit (timer overhead included)")
    header = (
        f"{'live users':>10} {'kind':>9} {'mean':>7} {'p50':>6} {'p99':>7} {'max':>8} {'B/user':>7}"
    )
    print(header)
    for users in SIZES:
        memory = bytes_per_user(users)
        existing = filled(users, max_users=users)
        known = [rng.randrange(users) for _ in range(TIMED_HITS)]
        fresh = filled(users, max_users=users)
        new = list(range(users, users + TIMED_HITS))
        for kind, cooldown, ids in (("existing", existing, known), ("new", fresh, new)):
            timings = per_hit_ns(cooldown, ids)
            timings.sort()
            print(
                f"{users:>10,} {kind:>9} {statistics.fmean(timings):>7.0f} "
                f"{timings[len(timings) // 2]:>6} {timings[len(timings) * 99 // 100]:>7} "
                f"{timings[-1]:>8} {memory:>7.0f}"
            )
            assert len(cooldown) <= users


if __name__ == "__main__":
    main()
