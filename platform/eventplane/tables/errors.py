"""DynamoDB and DynamoDB Streams error codes, in one place for the engine and the SDK."""

from __future__ import annotations

from eventplane.errors import (
    AlreadyExistsError,
    InvalidRequestError,
    ResourceNotFound,
    ValidationException,
)
from eventplane.tables.expr.errors import ConditionalCheckFailedException

__all__ = [
    "ConditionalCheckFailedException",
    "ExpiredIteratorException",
    "ResourceInUseException",
    "ResourceNotFound",
    "TrimmedDataAccessException",
    "ValidationException",
]


class ResourceInUseException(AlreadyExistsError):
    """The table exists already (CreateTable) or is busy."""

    code = "ResourceInUseException"


class ExpiredIteratorException(InvalidRequestError):
    """A shard iterator older than 15 minutes."""

    code = "ExpiredIteratorException"


class TrimmedDataAccessException(InvalidRequestError):
    """A sequence number below the shard's retention horizon."""

    code = "TrimmedDataAccessException"
