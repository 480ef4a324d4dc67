"""The 25,000-event history quota: an execution that reaches it fails, as on AWS."""

from __future__ import annotations

from typing import Any

import pytest

from eventplane.workflows import redrive
from eventplane.workflows.model import FAILED

from .driver import run

FN = "arn:aws:lambda:local:000000000000:function:work"

# A loop that never ends on its own: Task -> Choice -> Task ...
LOOP: dict[str, Any] = {
    "StartAt": "Work",
    "States": {
        "Work": {"Type": "Task", "Resource": FN, "Next": "Again"},
        "Again": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.stop", "BooleanEquals": True, "Next": "Done"}],
            "Default": "Work",
        },
        "Done": {"Type": "Succeed"},
    },
}


@pytest.fixture
def small_quota(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(redrive, "MAX_HISTORY_EVENTS", 60)
    return 60


def test_an_execution_reaching_the_history_quota_fails_with_the_quota_event_last(
    small_quota: int,
) -> None:
    out = run(LOOP, {"stop": False}, {FN: [{"output": {"stop": False}}] * 100})
    assert out.state.status == FAILED
    assert out.state.error == "States.Runtime"
    assert str(small_quota) in (out.state.cause or "")
    assert len(out.events) == small_quota  # exactly the quota, the failure included
    assert [e.id for e in out.events] == list(range(1, small_quota + 1))
    assert out.types[-1] == "ExecutionFailed"
    # Every task that was run has its Started event: none runs once the history is full.
    assert len(out.dispatched) == out.types.count("LambdaFunctionStarted")
    assert redrive.redrive_status(FAILED, False, out.state.stop_ms, len(out.events), 0)[1] == (
        "Execution history event limit exceeded."
    )


def test_an_execution_below_the_quota_is_unaffected(small_quota: int) -> None:
    outcomes = [{"output": {"stop": False}}] * 3 + [{"output": {"stop": True}}]
    out = run(LOOP, {"stop": False}, {FN: outcomes})
    assert out.types[-1] == "ExecutionSucceeded"
    assert len(out.events) < small_quota
