"""Retry/Catch matching and retry delays, as AWS documents them."""

from __future__ import annotations

import random

import pytest

from eventplane.workflows.asl.definition import CatcherDef, RetrierDef
from eventplane.workflows.asl.retry import (
    catch_output,
    find_catcher,
    find_retrier,
    matches_error,
    retry_delay,
)


@pytest.mark.parametrize(
    ("error_equals", "error", "matches"),
    [
        (["States.ALL"], "Lambda.ServiceException", True),
        (["States.ALL"], "States.Timeout", True),
        (["States.ALL"], "States.Runtime", False),
        (["States.ALL"], "States.DataLimitExceeded", False),
        (["States.TaskFailed"], "MyError", True),
        (["States.TaskFailed"], "States.Permissions", True),
        (["States.TaskFailed"], "States.Timeout", False),
        (["States.TaskFailed"], "States.HeartbeatTimeout", False),
        (["States.Timeout"], "States.HeartbeatTimeout", True),
        (["States.HeartbeatTimeout"], "States.Timeout", False),
        (["MyError"], "MyError", True),
        (["MyError"], "myerror", False),
        (["A", "B"], "B", True),
        (["A"], "States.TaskFailed", False),
    ],
)
def test_matches_error(error_equals: list[str], error: str, matches: bool) -> None:
    assert matches_error(error_equals, error) is matches


def test_the_first_matching_retrier_and_catcher_win() -> None:
    retriers = [RetrierDef(error_equals=("A",)), RetrierDef(error_equals=("States.ALL",))]
    assert find_retrier(retriers, "A") == 0
    assert find_retrier(retriers, "Z") == 1
    assert find_retrier(retriers[:1], "Z") is None
    catchers = [
        CatcherDef(error_equals=("A",), next="One"),
        CatcherDef(error_equals=("States.ALL",), next="Two"),
    ]
    found = find_catcher(catchers, "Z")
    assert found is not None and found.next == "Two"


def test_exponential_backoff_capped_by_max_delay() -> None:
    retrier = RetrierDef(
        error_equals=("X",),
        interval_seconds=3,
        max_attempts=5,
        backoff_rate=2.0,
        max_delay_seconds=20,
    )
    delays = [retry_delay(retrier, n) for n in range(1, 7)]
    assert delays == [3.0, 6.0, 12.0, 20.0, 20.0, None]


def test_defaults_are_one_second_doubling_three_times() -> None:
    retrier = RetrierDef(error_equals=("X",))
    assert [retry_delay(retrier, n) for n in range(1, 5)] == [1.0, 2.0, 4.0, None]


def test_max_attempts_zero_never_retries() -> None:
    assert retry_delay(RetrierDef(error_equals=("X",), max_attempts=0), 1) is None


def test_full_jitter_is_between_zero_and_the_backoff() -> None:
    retrier = RetrierDef(
        error_equals=("X",), interval_seconds=10, backoff_rate=1.0, jitter_strategy="FULL"
    )
    rng = random.Random(5)
    delays = [retry_delay(retrier, 1, rng) for _ in range(200)]
    assert all(d is not None and 0.0 <= d <= 10.0 for d in delays)
    assert len({round(d or 0, 6) for d in delays}) > 100  # really random, not a constant


def test_catch_output_uses_result_path_or_replaces_the_input() -> None:
    raw = {"order": 1}
    replace = CatcherDef(error_equals=("States.ALL",), next="F")
    assert catch_output("JSONPath", replace, raw, "E", "c") == {"Error": "E", "Cause": "c"}
    keep = CatcherDef(error_equals=("States.ALL",), next="F", result_path="$.error")
    assert catch_output("JSONPath", keep, raw, "E", "c") == {
        "order": 1,
        "error": {"Error": "E", "Cause": "c"},
    }
    drop = CatcherDef(error_equals=("States.ALL",), next="F", result_path=None)
    assert catch_output("JSONPath", drop, raw, "E", "c") == raw
    jsonata = CatcherDef(
        error_equals=("States.ALL",),
        next="F",
        output="{% {'why': $states.errorOutput.Cause, 'in': $states.input.order} %}",
    )
    assert catch_output("JSONata", jsonata, raw, "E", "c") == {"why": "c", "in": 1}
