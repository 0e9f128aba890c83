"""A per-user rate limit: at most ``rate`` answers in any ``per`` seconds, one notice past that.

Each hit costs the same at any number of users: one dictionary look-up, a tuple of at most
``rate`` times, and at most three removals. The store is ordered by last hit (least recent
first), so users whose window has passed are found at the front and dropped as new hits come,
and past ``max_users`` the least recent user is forgotten; nothing ever walks the whole store.

A user over the limit gets one notice for that stretch and silence after it, so a spammer cannot
make the bot flood the channel with notices either.
"""

from __future__ import annotations

import enum
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_RATE = 5
DEFAULT_PER = 20.0
DEFAULT_MAX_USERS = 100_000
# Evicting two stale users per hit, while a hit adds at most one, keeps the store draining.
EVICTIONS_PER_HIT = 2


class Verdict(enum.Enum):
    """What the caller should do with one question."""

    ANSWER = "answer"
    NOTICE = "notice"  # the one over-limit notice of this stretch
    SILENT = "silent"  # over the limit and already told: no public reply


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict for one hit; ``retry_after`` is how many seconds until the user may ask again
    (0.0 when answered)."""

    verdict: Verdict
    retry_after: float = 0.0


ANSWER = Decision(Verdict.ANSWER)


class _UserWindow:
    """The times of a user's last answered hits (oldest first), and whether they were told."""

    __slots__ = ("answered", "noticed")

    def __init__(self) -> None:
        self.answered: tuple[float, ...] = ()
        self.noticed = False


class UserCooldown:
    """Sliding-window rate limit keyed by user id, with bounded memory."""

    def __init__(
        self,
        rate: int = DEFAULT_RATE,
        per: float = DEFAULT_PER,
        *,
        max_users: int = DEFAULT_MAX_USERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate < 1:
            raise ValueError(f"rate must be at least 1, not {rate}")
        if not per > 0:
            raise ValueError(f"per must be a positive number of seconds, not {per}")
        if max_users < 1:
            raise ValueError(f"max_users must be at least 1, not {max_users}")
        self.rate = rate
        self.per = per
        self.max_users = max_users
        self._clock = clock
        self._users: OrderedDict[int, _UserWindow] = OrderedDict()

    def __len__(self) -> int:
        """Users currently remembered (some may be past their window and not yet dropped)."""
        return len(self._users)

    def hit(self, user_id: int) -> Decision:
        """Count one question from ``user_id`` and say whether to answer, notify or stay silent.

        Only answered questions count towards the limit, so a user who keeps asking while
        blocked is let back in as soon as the oldest answered question leaves the window.
        """
        now = self._clock()
        self._drop_expired(now)
        window = self._users.get(user_id)
        if window is None:
            window = self._users[user_id] = _UserWindow()
            if len(self._users) > self.max_users:
                # Forgetting the least recent user errs towards answering, never towards silence.
                self._users.popitem(last=False)
        else:
            self._users.move_to_end(user_id)
        answered = window.answered
        if len(answered) < self.rate:
            window.answered = (*answered, now)
        elif answered[0] <= now - self.per:
            window.answered = (*answered[1:], now)
        else:
            retry_after = answered[0] + self.per - now
            if window.noticed:
                return Decision(Verdict.SILENT, retry_after)
            window.noticed = True
            return Decision(Verdict.NOTICE, retry_after)
        window.noticed = False
        return ANSWER

    def _drop_expired(self, now: float) -> None:
        users = self._users
        horizon = now - self.per
        for _ in range(EVICTIONS_PER_HIT):
            if not users:
                return
            oldest = next(iter(users.values()))
            # A user whose newest answer has left the window is the same as one never seen.
            if oldest.answered[-1] > horizon:
                return
            users.popitem(last=False)
