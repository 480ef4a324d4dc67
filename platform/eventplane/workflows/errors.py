"""Step Functions' error codes (defined in ``eventplane.errors.workflows``, which imports
nothing of the server, so the SDK and every front door share them)."""

from eventplane.errors.workflows import (
    ConflictException,
    ExecutionNotRedrivable,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    InvalidArn,
    InvalidDefinition,
    InvalidExecutionInput,
    InvalidName,
    InvalidOutput,
    InvalidToken,
    StateMachineAlreadyExists,
    StateMachineDoesNotExist,
    ServiceQuotaExceeded,
    StateMachineTypeNotSupported,
    StatesResourceNotFound,
    TaskDoesNotExist,
    TaskTimedOut,
)

__all__ = [
    "ConflictException",
    "ExecutionNotRedrivable",
    "ExecutionAlreadyExists",
    "ExecutionDoesNotExist",
    "InvalidArn",
    "InvalidDefinition",
    "InvalidExecutionInput",
    "InvalidName",
    "InvalidOutput",
    "InvalidToken",
    "StateMachineAlreadyExists",
    "StateMachineDoesNotExist",
    "ServiceQuotaExceeded",
    "StateMachineTypeNotSupported",
    "StatesResourceNotFound",
    "TaskDoesNotExist",
    "TaskTimedOut",
]
