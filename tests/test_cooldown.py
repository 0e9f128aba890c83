"""The per-user rate limit: exact sliding windows, one notice per stretch, bounded memory."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cooldown import UserCooldown, Verdict


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def verdicts(cooldown: UserCooldown, user_id: int, count: int) -> list[Verdict]:
    return [cooldown.hit(user_id).verdict for _ in range(count)]


def test_five_answers_then_one_notice_then_silence(clock: Clock) -> None:
    cooldown = UserCooldown(5, 20.0, clock=clock)
    assert verdicts(cooldown, 1, 5) == [Verdict.ANSWER] * 5
    clock.now += 3.0
    notice = cooldown.hit(1)
    assert notice.verdict is Verdict.NOTICE
    assert notice.retry_after == pytest.approx(17.0)
    clock.now += 1.0
    silent = cooldown.hit(1)
    assert silent.verdict is Verdict.SILENT
    assert silent.retry_after == pytest.approx(16.0)
    assert verdicts(cooldown, 1, 25) == [Verdict.SILENT] * 25


def test_an_answer_has_no_wait(clock: Clock) -> None:
    answer = UserCooldown(clock=clock).hit(7)
    assert answer.verdict is Verdict.ANSWER
    assert answer.retry_after == 0.0


def test_the_window_slides_with_the_oldest_answer(clock: Clock) -> None:
    cooldown = UserCooldown(5, 20.0, clock=clock)
    start = clock.now
    for offset in (0.0, 5.0, 10.0, 15.0, 19.0):
        clock.now = start + offset
        assert cooldown.hit(1).verdict is Verdict.ANSWER
    clock.now = start + 19.5
    assert cooldown.hit(1).retry_after == pytest.approx(0.5)
    clock.now = start + 20.0
    assert cooldown.hit(1).verdict is Verdict.ANSWER, "the answer at 0 s has left the window"
    clock.now = start + 20.1
    blocked = cooldown.hit(1)
    assert blocked.verdict is Verdict.NOTICE, "a new stretch over the limit gets its own notice"
    assert blocked.retry_after == pytest.approx(4.9)


def test_asking_while_blocked_does_not_extend_the_wait(clock: Clock) -> None:
    cooldown = UserCooldown(5, 20.0, clock=clock)
    start = clock.now
    assert verdicts(cooldown, 1, 5) == [Verdict.ANSWER] * 5
    for second in range(1, 20):
        clock.now = start + second
        assert cooldown.hit(1).verdict is not Verdict.ANSWER
    clock.now = start + 20.0
    assert verdicts(cooldown, 1, 5) == [Verdict.ANSWER] * 5


def test_users_are_limited_separately(clock: Clock) -> None:
    cooldown = UserCooldown(2, 20.0, clock=clock)
    assert verdicts(cooldown, 1, 3) == [Verdict.ANSWER, Verdict.ANSWER, Verdict.NOTICE]
    assert verdicts(cooldown, 2, 3) == [Verdict.ANSWER, Verdict.ANSWER, Verdict.NOTICE]


def test_a_rate_of_one(clock: Clock) -> None:
    cooldown = UserCooldown(1, 10.0, clock=clock)
    assert verdicts(cooldown, 1, 3) == [Verdict.ANSWER, Verdict.NOTICE, Verdict.SILENT]
    clock.now += 10.0
    assert verdicts(cooldown, 1, 2) == [Verdict.ANSWER, Verdict.NOTICE]


def test_memory_is_bounded_by_forgetting_the_least_recent_user(clock: Clock) -> None:
    cooldown = UserCooldown(1, 20.0, max_users=3, clock=clock)
    for user_id in range(10):
        assert cooldown.hit(user_id).verdict is Verdict.ANSWER
        assert len(cooldown) <= 3
    assert cooldown.hit(9).verdict is Verdict.NOTICE, "the most recent users are remembered"
    assert cooldown.hit(0).verdict is Verdict.ANSWER, "a forgotten user is let through, not muted"


def test_users_past_their_window_are_dropped_as_hits_come(clock: Clock) -> None:
    cooldown = UserCooldown(5, 20.0, clock=clock)
    for user_id in range(100):
        cooldown.hit(user_id)
    assert len(cooldown) == 100
    clock.now += 20.0
    for user_id in range(1000, 1050):
        cooldown.hit(user_id)
    # Each hit drops up to two users whose window has passed: 100 - 2 * 50 + 50 new users.
    assert len(cooldown) == 50


def test_a_user_still_in_the_window_is_not_dropped(clock: Clock) -> None:
    cooldown = UserCooldown(2, 20.0, clock=clock)
    assert verdicts(cooldown, 1, 2) == [Verdict.ANSWER, Verdict.ANSWER]
    clock.now += 19.0
    for user_id in range(2, 50):
        cooldown.hit(user_id)
    assert cooldown.hit(1).verdict is Verdict.NOTICE


@pytest.mark.parametrize(
    ("rate", "per", "max_users"), [(0, 20.0, 10), (5, 0.0, 10), (5, -1.0, 10), (5, 20.0, 0)]
)
def test_invalid_settings_are_refused(rate: int, per: float, max_users: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        UserCooldown(rate, per, max_users=max_users)


@settings(max_examples=200, deadline=None)
@given(
    rate=st.integers(1, 4),
    hits=st.lists(
        st.tuples(st.integers(0, 3), st.floats(0.0, 6.0, allow_nan=False)),
        max_size=80,
    ),
)
def test_exactly_rate_answers_in_any_window_and_one_notice_per_stretch(
    rate: int, hits: list[tuple[int, float]]
) -> None:
    per = 10.0
    clock = Clock()
    cooldown = UserCooldown(rate, per, clock=clock)
    answered: dict[int, list[float]] = {}
    told_since_answer: dict[int, bool] = {}
    for user_id, gap in hits:
        clock.now += gap
        decision = cooldown.hit(user_id)
        recent = [t for t in answered.get(user_id, []) if t > clock.now - per]
        if len(recent) < rate:
            assert decision.verdict is Verdict.ANSWER
            answered.setdefault(user_id, []).append(clock.now)
            told_since_answer[user_id] = False
        else:
            expected = Verdict.SILENT if told_since_answer.get(user_id) else Verdict.NOTICE
            assert decision.verdict is expected
            assert decision.retry_after == pytest.approx(min(recent) + per - clock.now)
            told_since_answer[user_id] = True
