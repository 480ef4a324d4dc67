"""Step Functions' error codes, as the AWS API returns them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventplane.errors.base import (
    AlreadyExistsError,
    InvalidRequestError,
    NotFoundError,
    PreconditionError,
    ThrottledError,
)


class InvalidDefinition(InvalidRequestError):
    """The definition has at least one ERROR diagnostic (AWS ``InvalidDefinition``).

    ``diagnostics`` are ``workflows.asl`` Diagnostics (severity, code, message, location).
    """

    code = "InvalidDefinition"

    def __init__(self, diagnostics: Sequence[Any] | str) -> None:
        if isinstance(diagnostics, str):
            # from_code / unpickling rebuilds the error from its message alone
            self.diagnostics: list[Any] = []
            super().__init__(diagnostics)
            return
        self.diagnostics = list(diagnostics)
        errors = [d for d in self.diagnostics if d.severity == "ERROR"] or self.diagnostics
        # AWS's wording: every error as "CODE: message at location", comma separated
        text = ", ".join(f"{d.code}: {d.message} at {d.location}" for d in errors)
        super().__init__(f"Invalid State Machine Definition: '{text}'")


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


class ConflictException(PreconditionError):
    """The resource's state forbids the call: a version an alias routes to, a stale
    revisionId, an alias created again with another configuration."""

    code = "ConflictException"


class StatesResourceNotFound(NotFoundError):
    """A state machine version or alias that does not exist (AWS ``ResourceNotFound``)."""

    code = "ResourceNotFound"


class ServiceQuotaExceeded(ThrottledError):
    """Too many versions or aliases of one state machine."""

    code = "ServiceQuotaExceededException"
    retriable = False


class MissingRequiredParameter(InvalidRequestError):
    """UpdateStateMachine with nothing to update (neither definition nor roleArn)."""

    code = "MissingRequiredParameter"


class ExecutionNotRedrivable(PreconditionError):
    code = "ExecutionNotRedrivable"


class ActivityDoesNotExist(NotFoundError):
    code = "ActivityDoesNotExist"


class TooManyTags(InvalidRequestError):
    """More than 50 tags on one state machine or activity; ``resource_name`` is its ARN."""

    code = "TooManyTags"

    def __init__(self, message: str, resource_name: str = "") -> None:
        super().__init__(message)
        self.resource_name = resource_name


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
    "MissingRequiredParameter",
    "ServiceQuotaExceeded",
    "StateMachineAlreadyExists",
    "StateMachineDoesNotExist",
    "StateMachineTypeNotSupported",
    "StatesResourceNotFound",
    "TaskDoesNotExist",
    "TaskTimedOut",
    "TooManyTags",
]
