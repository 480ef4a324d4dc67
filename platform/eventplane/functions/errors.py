"""Errors of the functions capability (defined in ``eventplane.errors.functions``,
which imports nothing of the server, so the SDK and every front door share them)."""

from eventplane.errors.functions import (
    CodeStorageExceededException,
    InvalidParameterValueException,
    InvalidRequestContentException,
    InvalidZipFileException,
    PolicyLengthExceededException,
    PreconditionFailedException,
    RequestTooLargeException,
    ResourceConflictException,
    ResourceInUseConflict,
    ResourceNotFoundException,
    ServiceException,
    TooManyRequestsException,
    ValidationException,
)

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
