"""AWS Step Functions history events: the source of truth of a Standard execution.

An event is what ``GetExecutionHistory`` returns: ``id``, ``previousEventId``,
``timestamp``, ``type`` and one details object whose key is derived from the type
(``TaskScheduled`` -> ``taskScheduledEventDetails``). The interpreter writes them; the
runtime journals them on Kafka before anything they cause is acted on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# State type -> the prefix of its Entered/Exited events.
STATE_EVENT_PREFIX = {
    "Task": "TaskState",
    "Pass": "PassState",
    "Choice": "ChoiceState",
    "Wait": "WaitState",
    "Succeed": "SucceedState",
    "Fail": "FailState",
    "Parallel": "ParallelState",
    "Map": "MapState",
}

# Event types whose details AWS files under a key that does not follow the rule.
_DETAILS_KEY = {
    **{f"{p}Entered": "stateEnteredEventDetails" for p in STATE_EVENT_PREFIX.values()},
    **{f"{p}Exited": "stateExitedEventDetails" for p in STATE_EVENT_PREFIX.values()},
    "MapIterationStarted": "mapIterationStartedEventDetails",
    "MapIterationSucceeded": "mapIterationSucceededEventDetails",
    "MapIterationFailed": "mapIterationFailedEventDetails",
    "MapIterationAborted": "mapIterationAbortedEventDetails",
}

# Event types that end an execution, with the status they leave it in.
TERMINAL = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionAborted": "ABORTED",
    "ExecutionTimedOut": "TIMED_OUT",
}


def details_key(event_type: str) -> str | None:
    """The key of an event's details object, or None for the types that carry none."""
    if event_type in _DETAILS_KEY:
        return _DETAILS_KEY[event_type]
    if event_type in ("ParallelStateStarted", "ParallelStateSucceeded", "ParallelStateFailed"):
        return None
    if event_type in ("ParallelStateAborted", "MapStateSucceeded", "MapStateAborted"):
        return None
    if event_type in ("MapRunSucceeded", "MapRunAborted"):
        return None
    if event_type == "WaitStateAborted":
        return None
    return event_type[0].lower() + event_type[1:] + "EventDetails"


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One history event; ``details`` holds AWS's details object (without its key)."""

    id: int
    previous_event_id: int
    timestamp_ms: int
    type: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_aws(self) -> dict[str, Any]:
        """The event as Step Functions' GetExecutionHistory shows it."""
        out: dict[str, Any] = {
            "id": self.id,
            "previousEventId": self.previous_event_id,
            "timestamp": self.timestamp_ms,
            "type": self.type,
        }
        key = details_key(self.type)
        if key is not None and self.details:
            out[key] = self.details
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "prev": self.previous_event_id,
            "ts": self.timestamp_ms,
            "type": self.type,
            "details": self.details,
        }

    @staticmethod
    def from_json(raw: dict[str, Any]) -> HistoryEvent:
        return HistoryEvent(raw["id"], raw["prev"], raw["ts"], raw["type"], raw["details"])
