"""Step Functions' error codes, as the AWS API returns them."""

from __future__ import annotations

from eventplane.errors import (
    AlreadyExistsError,
    InvalidRequestError,
    NotFoundError,
    PreconditionError,
)
from eventplane.workflows.asl.errors import InvalidDefinition


class StateMachineDoesNotExist(NotFoundError):
    code = "StateMachineDoesNotExist"


class StateMachineAlreadyExists(AlreadyExistsError):
    code = "StateMachineAlreadyExists"


class ExecutionDoesNotExist(NotFoundError):
    code = "ExecutionDoesNotExist"


class ExecutionAlreadyExists(AlreadyExistsError):
    code = "ExecutionAlreadyExists"


class InvalidName(InvalidRequestError):
    code = "InvalidName"


class InvalidArn(InvalidRequestError):
    code = "InvalidArn"


class InvalidExecutionInput(InvalidRequestError):
    code = "InvalidExecutionInput"


class InvalidOutput(InvalidRequestError):
    code = "InvalidOutput"


class InvalidToken(InvalidRequestError):
    code = "InvalidToken"


class TaskDoesNotExist(NotFoundError):
    code = "TaskDoesNotExist"


class TaskTimedOut(PreconditionError):
    code = "TaskTimedOut"


class StateMachineTypeNotSupported(InvalidRequestError):
    code = "StateMachineTypeNotSupported"


__all__ = [
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
    "StateMachineTypeNotSupported",
    "TaskDoesNotExist",
    "TaskTimedOut",
]
