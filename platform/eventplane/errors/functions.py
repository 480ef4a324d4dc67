"""Errors raised by the functions capability, with the codes Lambda returns.

Codes that eventplane already registers (``ResourceNotFoundException``,
``ValidationException``) are re-exported under Lambda's names rather than declared
again: one code maps to one class, so the SDK rebuilds the same type the server raised.
"""

from __future__ import annotations

from typing import ClassVar

from eventplane.errors.base import (
    AlreadyExistsError,
    Category,
    EventplaneError,
    InvalidRequestError,
    PreconditionError,
    ResourceNotFound,
    ThrottledError,
    ValidationException,
)

# Lambda's ResourceNotFoundException is eventplane's generic ResourceNotFound (same code).
ResourceNotFoundException = ResourceNotFound

__all__ = [
    "CodeStorageExceededException",
    "InvalidParameterValueException",
    "InvalidRequestContentException",
    "InvalidZipFileException",
    "PolicyLengthExceededException",
    "PreconditionFailedException",
    "RequestTooLargeException",
    "ResourceConflictException",
    "ResourceInUseConflict",
    "ResourceNotFoundException",
    "ServiceException",
    "TooManyRequestsException",
    "ValidationException",
]


class InvalidParameterValueException(InvalidRequestError):
    """A parameter Lambda would refuse for what it means (reserved environment keys, a
    handler that names no function, an event source that is not a queue, ...).

    Range and pattern violations use ``ValidationException`` instead, as Lambda does.
    """

    code = "InvalidParameterValueException"


class ResourceConflictException(AlreadyExistsError):
    """The resource already exists (a function, an alias, an event source mapping)."""

    code = "ResourceConflictException"


class ResourceInUseConflict(ResourceConflictException):
    """Lambda's ResourceConflictException for a resource whose state forbids the call
    (deleting an alias a mapping still uses, ...).

    It shares its parent's code, so the SDK raises ``ResourceConflictException``; only the
    category (and so the transport status) differs.
    """

    category = Category.PRECONDITION


class TooManyRequestsException(ThrottledError):
    """The function is at its concurrency limit; retrying later may succeed.

    ``reason`` is Lambda's Reason field: ``ReservedFunctionConcurrentInvocationLimitExceeded``
    when the function's reserved concurrency is used up, ``ConcurrentInvocationLimitExceeded``
    when the runner's own limit is.
    """

    code = "TooManyRequestsException"
    RESERVED_LIMIT: ClassVar[str] = "ReservedFunctionConcurrentInvocationLimitExceeded"
    RUNNER_LIMIT: ClassVar[str] = "ConcurrentInvocationLimitExceeded"

    def __init__(self, message: str = "Rate Exceeded.", reason: str = RESERVED_LIMIT) -> None:
        super().__init__(message)
        self.reason = reason

    def __reduce__(self) -> tuple[type[EventplaneError], tuple[str, str]]:  # type: ignore[override]
        return (type(self), (self.message, self.reason))


class RequestTooLargeException(InvalidRequestError):
    """A payload or code package over Lambda's limit (HTTP 413 in Lambda).

    Lambda's wire code is ``RequestEntityTooLargeException`` (the SDK models name the
    class RequestTooLargeException): ``Request must be smaller than 6291456 bytes for the
    InvokeFunction operation``.
    """

    code = "RequestEntityTooLargeException"


class InvalidZipFileException(PreconditionError):
    """A stored code package that cannot be unzipped when the function is about to run.

    An upload that is not a zip is refused earlier, at CreateFunction/UpdateFunctionCode,
    with ``InvalidParameterValueException: Could not unzip uploaded file...`` as Lambda does.
    """

    code = "InvalidZipFileException"


class CodeStorageExceededException(ThrottledError):
    """The code storage quota is used up; deleting old versions frees it."""

    code = "CodeStorageExceededException"
    retriable = False


class ServiceException(EventplaneError):
    """Lambda's internal error (HTTP 500); SDKs retry it."""

    code = "ServiceException"
    category = Category.INTERNAL
    retriable = True


class InvalidRequestContentException(InvalidRequestError):
    """A payload that is not JSON: ``Could not parse request body into json``."""

    code = "InvalidRequestContentException"


class PreconditionFailedException(PreconditionError):
    """A RevisionId that is not the resource's latest (AddPermission, RemovePermission):
    someone changed it since the caller read it; read it again and retry."""

    code = "PreconditionFailedException"


class PolicyLengthExceededException(InvalidRequestError):
    """A function's resource-based policy would grow past Lambda's 20 KB."""

    code = "PolicyLengthExceededException"
