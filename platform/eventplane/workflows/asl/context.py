"""The context object (``$$`` in JSONPath, ``$states.context`` in JSONata).

One builder so every front door and the engine show the same shape AWS does:
``Execution`` (Id, Input, Name, RoleArn, StartTime, RedriveCount, RedriveTime),
``State`` (EnteredTime, Name, RetryCount), ``StateMachine`` (Id, Name), and,
when they apply, ``Task.Token`` and ``Map.Item`` (Index, Value).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventplane.workflows.asl.timestamps import format_timestamp

__all__ = ["context_object"]


def context_object(
    *,
    execution_arn: str,
    execution_name: str,
    execution_input: Any,
    start_time: datetime,
    state_machine_arn: str,
    state_machine_name: str,
    state_name: str,
    entered_time: datetime,
    retry_count: int = 0,
    role_arn: str | None = None,
    redrive_count: int = 0,
    redrive_time: datetime | None = None,
    task_token: str | None = None,
    map_item: tuple[int, Any] | None = None,
) -> dict[str, Any]:
    """A fresh context object for one state entry (times as AWS prints them, UTC ms)."""
    execution: dict[str, Any] = {
        "Id": execution_arn,
        "Input": execution_input,
        "Name": execution_name,
        "StartTime": format_timestamp(start_time),
        "RedriveCount": redrive_count,
    }
    if role_arn is not None:
        execution["RoleArn"] = role_arn
    if redrive_time is not None:
        execution["RedriveTime"] = format_timestamp(redrive_time)
    context: dict[str, Any] = {
        "Execution": execution,
        "State": {
            "EnteredTime": format_timestamp(entered_time),
            "Name": state_name,
            "RetryCount": retry_count,
        },
        "StateMachine": {"Id": state_machine_arn, "Name": state_machine_name},
    }
    if task_token is not None:
        context["Task"] = {"Token": task_token}
    if map_item is not None:
        context["Map"] = {"Item": {"Index": map_item[0], "Value": map_item[1]}}
    return context
