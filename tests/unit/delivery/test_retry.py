"""The retry runner's verdict and backoff, shared by bus deliveries and async invokes."""

from __future__ import annotations

import pytest

from eventplane.delivery.retry import GiveUp, RetryPolicy, backoff


@pytest.mark.parametrize(
    ("failed", "due_ms", "expected"),
    [
        (1, 5_000, 5_000),  # within attempts and age: retry when asked
        (2, 60_000, 60_000),  # the last allowed attempt, at the very end of the age
        (3, 5_000, GiveUp.ATTEMPTS),  # attempts used up (checked before the age)
        (1, 60_001, GiveUp.AGE),  # would come after the maximum age
    ],
)
def test_next_attempt_or_give_up(failed: int, due_ms: int, expected: int | GiveUp) -> None:
    policy = RetryPolicy(maximum_retry_attempts=2, maximum_event_age_seconds=60)
    assert policy.next(failed, 0, due_ms) == expected


def test_zero_retries_gives_up_at_the_first_failure() -> None:
    assert RetryPolicy(0, 60).next(1, 0, 1) is GiveUp.ATTEMPTS


@pytest.mark.parametrize("step", [0, 1, 5, 30])
def test_backoff_is_exponential_capped_and_jittered_down(step: int) -> None:
    for _ in range(50):
        delay = backoff(step, base_s=1.0, max_s=180.0, time_scale=0.5)
        ceiling = min(180.0, 2.0**step) * 0.5
        assert 0.8 * ceiling <= delay <= ceiling
