"""Retry and Catch helpers: which handler matches an error, and how long to wait.

Matching rules (AWS): ``States.ALL`` matches every error; ``States.TaskFailed``
matches every error except ``States.Timeout`` (AWS documents it as "any error
except States.Timeout"; a heartbeat timeout is a timeout too) and the runtime
errors no handler may catch. ``States.Timeout`` also matches
``States.HeartbeatTimeout`` (AWS: a timeout is "ran longer than TimeoutSeconds
or failed to heartbeat") (``States.Runtime``, which always fails the
execution, and ``States.DataLimitExceeded``). Otherwise names match exactly.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eventplane.workflows.asl.definition import CatcherDef, RetrierDef

__all__ = [
    "catch_output",
    "error_output",
    "find_catcher",
    "find_retrier",
    "matches_error",
    "retry_delay",
]

# These terminate the execution whatever Retry/Catch say (States.ALL included).
_UNCATCHABLE = {"States.Runtime", "States.DataLimitExceeded"}
_NOT_TASK_FAILED = {"States.Timeout", "States.HeartbeatTimeout"}


def matches_error(error_equals: Sequence[str], error: str) -> bool:
    if error in _UNCATCHABLE:
        return False
    for name in error_equals:
        if name == "States.ALL" or name == error:
            return True
        if name == "States.Timeout" and error == "States.HeartbeatTimeout":
            return True
        if name == "States.TaskFailed" and error not in _NOT_TASK_FAILED:
            return True
    return False


def find_retrier(retriers: Sequence[RetrierDef], error: str) -> int | None:
    """Index of the first retrier whose ErrorEquals matches, else None."""
    for i, retrier in enumerate(retriers):
        if matches_error(retrier.error_equals, error):
            return i
    return None


def find_catcher(catchers: Sequence[CatcherDef], error: str) -> CatcherDef | None:
    for catcher in catchers:
        if matches_error(catcher.error_equals, error):
            return catcher
    return None


def retry_delay(
    retrier: RetrierDef, attempt: int, rng: random.Random | None = None
) -> float | None:
    """Seconds to wait before retry number ``attempt`` (1-based), or None when exhausted.

    IntervalSeconds * BackoffRate^(attempt-1), capped by MaxDelaySeconds; with
    JitterStrategy FULL a uniformly random delay in [0, that]. Each retrier
    counts its own attempts (the engine keeps one counter per retrier index).
    """
    if attempt < 1 or attempt > retrier.max_attempts:
        return None
    delay = float(retrier.interval_seconds) * (retrier.backoff_rate ** (attempt - 1))
    if retrier.max_delay_seconds is not None:
        delay = min(delay, float(retrier.max_delay_seconds))
    if retrier.jitter_strategy == "FULL":
        delay = (rng or random.Random()).uniform(0.0, delay)
    return delay


def error_output(error: str, cause: str) -> dict[str, str]:
    """What a Catch hands on: AWS's ``{"Error": ..., "Cause": ...}`` object."""
    return {"Error": error, "Cause": cause}


def catch_output(
    query_language: str,
    catcher: CatcherDef,
    raw_input: Any,
    error: str,
    cause: str,
    context: Any = None,
    variables: dict[str, Any] | None = None,
) -> Any:
    """The input of the Catch's Next state.

    JSONPath: the error output placed into the state's raw input at the
    Catcher's ResultPath (default ``$``: the error output replaces the input).
    JSONata: the Catcher's Output with ``$states.errorOutput``, else the error output.
    """
    output = error_output(error, cause)
    if query_language == "JSONata":
        from eventplane.workflows.asl.jsonata_mode import JsonataEnv, evaluate_template

        if catcher.output is None:
            return output
        env = JsonataEnv(input=raw_input, error_output=output, context=context, variables=variables)
        return evaluate_template(catcher.output, env, field="Output")
    from eventplane.workflows.asl.paths import apply_result_path

    return apply_result_path(raw_input, output, catcher.result_path)
