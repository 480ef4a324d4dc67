"""SQS error codes, as the SQS JSON protocol names them."""

from __future__ import annotations

from eventplane.errors.base import (
    AlreadyExistsError,
    InvalidRequestError,
    NotFoundError,
    PreconditionError,
    ThrottledError,
)

__all__ = [
    "BatchEntryIdsNotDistinct",
    "BatchRequestTooLong",
    "EmptyBatchRequest",
    "InvalidAttributeName",
    "InvalidAttributeValue",
    "InvalidBatchEntryId",
    "InvalidMessageContents",
    "MessageNotInflight",
    "OverLimit",
    "PurgeQueueInProgress",
    "QueueDoesNotExist",
    "QueueNameExists",
    "ReceiptHandleIsInvalid",
    "RequestThrottled",
    "TooManyEntriesInBatchRequest",
    "UnsupportedOperation",
]


class QueueDoesNotExist(NotFoundError):
    code = "QueueDoesNotExist"


class QueueNameExists(AlreadyExistsError):
    code = "QueueNameExists"


class InvalidAttributeName(InvalidRequestError):
    code = "InvalidAttributeName"


class InvalidAttributeValue(InvalidRequestError):
    code = "InvalidAttributeValue"


class InvalidMessageContents(InvalidRequestError):
    code = "InvalidMessageContents"


class ReceiptHandleIsInvalid(InvalidRequestError):
    code = "ReceiptHandleIsInvalid"


class MessageNotInflight(PreconditionError):
    code = "MessageNotInflight"


class UnsupportedOperation(InvalidRequestError):
    code = "UnsupportedOperation"


class EmptyBatchRequest(InvalidRequestError):
    code = "EmptyBatchRequest"


class TooManyEntriesInBatchRequest(InvalidRequestError):
    code = "TooManyEntriesInBatchRequest"


class BatchEntryIdsNotDistinct(InvalidRequestError):
    code = "BatchEntryIdsNotDistinct"


class InvalidBatchEntryId(InvalidRequestError):
    code = "InvalidBatchEntryId"


class BatchRequestTooLong(InvalidRequestError):
    code = "BatchRequestTooLong"


class PurgeQueueInProgress(PreconditionError):
    code = "PurgeQueueInProgress"


class OverLimit(ThrottledError):
    code = "OverLimit"


class RequestThrottled(ThrottledError):
    code = "RequestThrottled"
