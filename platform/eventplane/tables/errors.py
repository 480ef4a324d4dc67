"""DynamoDB and DynamoDB Streams error codes, re-exported for the engine.

The classes live in ``eventplane.errors.tables`` (neutral about transport, loaded by
the SDK alone); this module keeps the engine's imports in one place.
"""

from __future__ import annotations

from eventplane.errors import ResourceNotFound, ValidationException
from eventplane.errors.tables import (
    CancellationReason,
    ConditionalCheckFailedException,
    ExpiredIteratorException,
    IdempotentParameterMismatchException,
    ItemCollectionSizeLimitExceededException,
    ResourceInUseException,
    TransactionCanceledException,
    TransactionConflictException,
    TrimmedDataAccessException,
)

__all__ = [
    "CancellationReason",
    "ConditionalCheckFailedException",
    "ExpiredIteratorException",
    "IdempotentParameterMismatchException",
    "ItemCollectionSizeLimitExceededException",
    "ResourceInUseException",
    "ResourceNotFound",
    "TransactionCanceledException",
    "TransactionConflictException",
    "TrimmedDataAccessException",
    "ValidationException",
]
