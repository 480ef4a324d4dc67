"""The errors of the States language itself, as an execution sees them.

``StatesError`` is what a state raises *inside* an execution: the engine turns
it into a failed state (matched by Retry/Catch on ``error``) and, when nothing
catches it, into ExecutionFailed with ``error`` and ``cause``. It is not an
API error: a request never fails with it. ``InvalidDefinition`` is the API
error (AWS code ``InvalidDefinition``) for a definition with ERROR diagnostics.
"""

from __future__ import annotations

from eventplane.errors.workflows import InvalidDefinition

__all__ = [
    "BRANCH_FAILED",
    "EXCEED_TOLERATED_FAILURE_THRESHOLD",
    "HEARTBEAT_TIMEOUT",
    "INTRINSIC_FAILURE",
    "ITEM_READER_FAILED",
    "NO_CHOICE_MATCHED",
    "PARAMETER_PATH_FAILURE",
    "QUERY_EVALUATION_ERROR",
    "RESULT_PATH_MATCH_FAILURE",
    "RUNTIME",
    "TASK_FAILED",
    "TIMEOUT",
    "InvalidDefinition",
    "StatesError",
]

RUNTIME = "States.Runtime"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
TASK_FAILED = "States.TaskFailed"
TIMEOUT = "States.Timeout"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
BRANCH_FAILED = "States.BranchFailed"
EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
ITEM_READER_FAILED = "States.ItemReaderFailed"


class StatesError(Exception):
    """A state failed with a States-language error name and a cause text.

    ``cause`` is the detail AWS prints; AWS prefixes runtime failures with the
    state and the event that entered it, which only the engine knows, so the
    engine calls ``for_state`` when it records the failure.
    """

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause

    def for_state(self, state_name: str, entered_event_id: int) -> StatesError:
        """The same error with AWS's prefix naming the state that raised it."""
        prefix = (
            f"An error occurred while executing the state '{state_name}' "
            f"(entered at the event id #{entered_event_id})."
        )
        return StatesError(self.error, f"{prefix} {self.cause}")

    def __reduce__(self) -> tuple[type[StatesError], tuple[str, str]]:
        return (type(self), (self.error, self.cause))
