"""Step Functions' error codes (defined in ``eventplane.errors.workflows``, which imports
nothing of the server, so the SDK and every front door share them)."""

from eventplane.errors.workflows import (
    ActivityDoesNotExist,
    ConflictException,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionNotRedrivable,
    InvalidArn,
    InvalidDefinition,
    InvalidExecutionInput,
    InvalidName,
    InvalidOutput,
    InvalidToken,
    ServiceQuotaExceeded,
    StateMachineAlreadyExists,
    StateMachineDoesNotExist,
    StateMachineTypeNotSupported,
    StatesResourceNotFound,
    TaskDoesNotExist,
    TaskTimedOut,
)

__all__ = [
    "ActivityDoesNotExist",
    "ConflictException",
    "ExecutionAlreadyExists",
    "ExecutionDoesNotExist",
    "ExecutionNotRedrivable",
    "InvalidArn",
    "InvalidDefinition",
    "InvalidExecutionInput",
    "InvalidName",
    "InvalidOutput",
    "InvalidToken",
    "ServiceQuotaExceeded",
    "StateMachineAlreadyExists",
    "StateMachineDoesNotExist",
    "StateMachineTypeNotSupported",
    "StatesResourceNotFound",
    "TaskDoesNotExist",
    "TaskTimedOut",
]
