"""'Step Functions Execution Status Change' events: what bus rules see of executions.

AWS puts one event on the default bus each time a Standard execution changes status
(RUNNING when it starts or is redriven, then SUCCEEDED, FAILED, TIMED_OUT or ABORTED),
so rules can react to outcomes without polling. The owner writes the event through the
delivery layer's bus port in the same Kafka transaction as the step that changed the
status, so a rule sees each change exactly once, and never a change the history lacks.
Express executions have no such events (AWS does not emit them either).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Final

from eventplane import arn as arns
from eventplane.delivery.payload import Payload
from eventplane.workflows.lang import dumps
from eventplane.workflows.model import RUNNING, SUCCEEDED, ExecutionState
from eventplane.workflows.redrive import redrive_status

__all__ = ["DETAIL_TYPE", "SOURCE", "TARGET", "changes", "detail", "payload", "target"]

SOURCE: Final = "aws.states"
DETAIL_TYPE: Final = "Step Functions Execution Status Change"
# The installation's default bus (its state machines' events go there).
TARGET: Final = arns.bus_arn(arns.DEFAULT_BUS)


def target(state: ExecutionState) -> str:
    """Where AWS sends the events of ``state``: the default bus of the execution's
    account (each account has its own) and region."""
    return arns.bus_arn(arns.DEFAULT_BUS, arns.account_of(state.state_machine_arn) or None)


def changes(before: ExecutionState | None, after: ExecutionState) -> list[ExecutionState]:
    """The statuses a step from ``before`` (None: the execution is new) to ``after``
    reports, in order. A start or redrive reports RUNNING even when the same step
    already ended the execution (a machine of Pass states ends in its first step):
    AWS's rules see RUNNING, then the end."""
    restarted = before is None or before.redrive_count != after.redrive_count
    if not restarted:
        assert before is not None
        return [after] if before.status != after.status else []
    if after.status == RUNNING:
        return [after]
    running = dataclasses.replace(
        after, status=RUNNING, stop_ms=None, output=None, error=None, cause=None
    )
    return [running, after]


def detail(state: ExecutionState, input_text: str | None = None, events: int = 0) -> dict[str, Any]:
    """The event's ``detail`` as AWS shapes it: dates in epoch milliseconds, input and
    output as JSON text, output only when the execution succeeded.

    Args:
        state: The execution after the step.
        input_text: The input as the caller sent it (kept verbatim); else re-encoded.
        events: History events so far, for the redrive status.
    """
    succeeded = state.status == SUCCEEDED
    redrive, reason = redrive_status(
        state.status, False, state.stop_ms, events, state.stop_ms or state.start_ms
    )
    return {
        "executionArn": state.execution_arn,
        "stateMachineArn": state.state_machine_arn,
        "name": state.name,
        "status": state.status,
        "startDate": state.start_ms,
        "stopDate": None if state.status == RUNNING else state.stop_ms,
        "input": input_text if input_text is not None else dumps(state.input),
        "output": dumps(state.output) if succeeded else None,
        "inputDetails": {"included": True},
        "outputDetails": {"included": True} if succeeded else None,
        "error": state.error,
        "cause": state.cause,
        "redriveCount": state.redrive_count,
        "redriveDate": state.redrive_ms,
        "redriveStatus": redrive,
        "redriveStatusReason": reason,
    }


def payload(state: ExecutionState, input_text: str | None = None, events: int = 0) -> Payload:
    """What the bus port turns into the event (it adds id, time, account and region)."""
    return Payload(
        json.dumps(detail(state, input_text, events), separators=(",", ":")),
        origin="workflow",
        source=SOURCE,
        detail_type=DETAIL_TYPE,
        resources=(state.execution_arn,),
        source_arn=state.state_machine_arn,
    )
