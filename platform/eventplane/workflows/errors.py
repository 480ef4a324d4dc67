"""Step Functions' error codes (defined in ``eventplane.errors.workflows``, which imports
nothing of the server, so the SDK and every front door share them)."""

from eventplane.errors.workflows import (
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
    MissingRequiredParameter,
    ServiceQuotaExceeded,
    StateMachineAlreadyExists,
    StateMachineDoesNotExist,
    StateMachineTypeNotSupported,
    StatesResourceNotFound,
    TaskDoesNotExist,
    TaskTimedOut,
)

__all__ = [
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
    "MissingRequiredParameter",
    "ServiceQuotaExceeded",
    "StateMachineAlreadyExists",
    "StateMachineDoesNotExist",
    "StateMachineTypeNotSupported",
    "StatesResourceNotFound",
    "TaskDoesNotExist",
    "TaskTimedOut",
]
