"""DynamoDB and DynamoDB Streams error codes, as the AWS API returns them.

Two of them carry data beside the message: ``ConditionalCheckFailedException``
holds the current item when the caller asked for it
(ReturnValuesOnConditionCheckFailure=ALL_OLD), and ``TransactionCanceledException``
holds one ``CancellationReason`` per action, in order. gRPC trailing metadata
carries only code and message, so the tables service returns that data in its
response (``condition_failure``, ``cancellation_reasons``) and the SDK raises
these classes from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventplane.errors.base import (
    AlreadyExistsError,
    InvalidRequestError,
    NotFoundError,
    PreconditionError,
)

__all__ = [
    "CancellationReason",
    "ConditionalCheckFailedException",
    "ExpiredIteratorException",
    "IdempotentParameterMismatchException",
    "ItemCollectionSizeLimitExceededException",
    "ResourceInUseException",
    "TableNotFoundException",
    "TransactionCanceledException",
    "TransactionConflictException",
    "TrimmedDataAccessException",
]


class ResourceInUseException(AlreadyExistsError):
    """The table exists already (CreateTable) or is busy."""

    code = "ResourceInUseException"


class TableNotFoundException(NotFoundError):
    """The continuous-backups actions' "no such table" (the others answer
    ResourceNotFoundException)."""

    code = "TableNotFoundException"


class IdempotentParameterMismatchException(InvalidRequestError):
    """A ClientRequestToken reused within 10 minutes for a different request."""

    code = "IdempotentParameterMismatchException"


class ItemCollectionSizeLimitExceededException(InvalidRequestError):
    """A write would grow an item collection (the items of one partition-key value and
    their local secondary index entries) of a table with LSIs past its limit (10 GB)."""

    code = "ItemCollectionSizeLimitExceededException"

    def __init__(self, message: str = "Collection size exceeded") -> None:
        super().__init__(message)


class ExpiredIteratorException(InvalidRequestError):
    """A shard iterator older than 15 minutes."""

    code = "ExpiredIteratorException"


class TrimmedDataAccessException(InvalidRequestError):
    """A sequence number below the shard's retention horizon."""

    code = "TrimmedDataAccessException"


class ConditionalCheckFailedException(PreconditionError):
    """A ConditionExpression evaluated to false against the stored item."""

    code = "ConditionalCheckFailedException"

    def __init__(
        self, message: str = "The conditional request failed", item: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.item = item


class TransactionConflictException(PreconditionError):
    """The item is part of a transaction still in progress (TransactWriteItems over the
    items of several replicas locks them until it commits or aborts): retry."""

    code = "TransactionConflictException"

    def __init__(self, message: str = "Transaction is ongoing for the item") -> None:
        super().__init__(message)


@dataclass(frozen=True)
class CancellationReason:
    """Why one action of a cancelled transaction failed (AWS's CancellationReason)."""

    code: str  # "None" | "ConditionalCheckFailed"
    message: str = ""
    item: dict[str, Any] | None = None


class TransactionCanceledException(InvalidRequestError):
    """At least one action's condition failed; nothing was written."""

    code = "TransactionCanceledException"

    def __init__(self, message: str, reasons: list[CancellationReason] | None = None) -> None:
        super().__init__(message)
        self.cancellation_reasons = reasons or []
