"""Message-level SQS rules: body, sizes, digests, batches, FIFO ids, receive limits.

Pure functions, so the service can validate a request before it touches Kafka and tests can
pin every limit. Error classes and wording follow SQS; every message names the parameter.
The attribute rules and batch entry ids SNS shares live in :mod:`eventplane.messaging`;
they are re-exported here so the queue room reads SQS's message rules in one place.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from eventplane.errors import InvalidParameterValue, MissingParameter
from eventplane.errors.queues import BatchRequestTooLong, InvalidMessageContents
from eventplane.messaging.attributes import MAX_MESSAGE_ATTRIBUTES as MAX_MESSAGE_ATTRIBUTES
from eventplane.messaging.attributes import VALID_CHARS, first_invalid_char
from eventplane.messaging.attributes import MessageAttribute as MessageAttribute
from eventplane.messaging.attributes import (
    md5_of_message_attributes as md5_of_message_attributes,
)
from eventplane.messaging.attributes import message_size as message_size
from eventplane.messaging.attributes import (
    validate_message_attributes as validate_message_attributes,
)
from eventplane.messaging.batches import MAX_BATCH_ENTRIES as MAX_BATCH_ENTRIES
from eventplane.messaging.batches import validate_batch_entry_ids as validate_batch_entry_ids
from eventplane.queues.attributes import QueueConfig

MAX_BATCH_BYTES = 1_048_576  # the total of one SendMessageBatch, whatever the queue's limit
MAX_DELAY_SECONDS = 900
MAX_VISIBILITY_TIMEOUT = 43_200
MAX_WAIT_TIME_SECONDS = 20
MAX_RECEIVE_MESSAGES = 10

# MessageGroupId, MessageDeduplicationId, ReceiveRequestAttemptId: 1-128 ASCII alphanumerics
# and punctuation.
_FIFO_ID = re.compile(r"[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}")


def validate_body(body: str, field: str = "MessageBody") -> None:
    # SQS treats an empty body as a missing parameter, not as invalid contents.
    if not body:
        raise MissingParameter(f"The request must contain the parameter {field}.")
    bad = first_invalid_char(body)
    if bad is not None:
        raise InvalidMessageContents(
            f"Invalid characters found in {field} ({bad}). Valid unicode characters are "
            f"{VALID_CHARS}"
        )


def validate_size(body: str, attrs: Mapping[str, MessageAttribute], maximum: int) -> None:
    size = message_size(body, attrs)
    if size > maximum:
        raise InvalidParameterValue(
            "One or more parameters are invalid. Reason: Message must be shorter than "
            f"{maximum} bytes. MessageBody plus MessageAttributes is {size} bytes."
        )


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()


def validate_batch_size(total_bytes: int, maximum: int) -> None:
    if total_bytes > maximum:
        raise BatchRequestTooLong(
            f"Batch requests cannot be longer than {maximum} bytes. You have sent "
            f"{total_bytes} bytes."
        )


def _check_fifo_id(parameter: str, value: str) -> None:
    if _FIFO_ID.fullmatch(value) is None:
        raise InvalidParameterValue(
            f"Value {value} for parameter {parameter} is invalid. Reason: {parameter} can only "
            "include alphanumeric and punctuation characters. 1 to 128 in length."
        )


def _check_range(parameter: str, value: int, high: int) -> None:
    if not 0 <= value <= high:
        raise InvalidParameterValue(
            f"Value {value} for parameter {parameter} is invalid. Reason: Must be an integer "
            f"from 0 to {high} seconds."
        )


def validate_send_for_queue(
    config: QueueConfig, *, delay_seconds: int | None, group_id: str, dedup_id: str, body: str
) -> tuple[int, str]:
    """(effective delay, effective deduplication id) for a message sent to this queue.

    ``group_id``/``dedup_id`` use "" for absent. Standard queues accept a MessageGroupId (it
    enables SQS fair queues) but not a MessageDeduplicationId; their dedup id is always "".
    """
    if delay_seconds is not None:
        _check_range("DelaySeconds", delay_seconds, MAX_DELAY_SECONDS)
    if group_id:
        _check_fifo_id("MessageGroupId", group_id)
    if not config.fifo:
        if dedup_id:
            raise InvalidParameterValue(
                f"Value {dedup_id} for parameter MessageDeduplicationId is invalid. Reason: The "
                "request include parameter that is not valid for this queue type."
            )
        return (config.delay_seconds if delay_seconds is None else delay_seconds), ""
    # FIFO queues delay only at queue level; SQS still accepts an explicit 0.
    if delay_seconds:
        raise InvalidParameterValue(
            f"Value {delay_seconds} for parameter DelaySeconds is invalid. Reason: The request "
            "include parameter that is not valid for this queue type."
        )
    if not group_id:
        raise MissingParameter("The request must contain the parameter MessageGroupId.")
    if dedup_id:
        _check_fifo_id("MessageDeduplicationId", dedup_id)
        return config.delay_seconds, dedup_id
    if not config.content_based_deduplication:
        raise InvalidParameterValue(
            "The queue should either have ContentBasedDeduplication enabled or "
            "MessageDeduplicationId provided explicitly"
        )
    return config.delay_seconds, hashlib.sha256(body.encode()).hexdigest()


def validate_visibility_timeout(value: int) -> None:
    _check_range("VisibilityTimeout", value, MAX_VISIBILITY_TIMEOUT)


def validate_receive(
    max_number: int | None, wait_seconds: int | None, visibility: int | None, attempt_id: str
) -> int:
    """Check a ReceiveMessage request; returns the effective MaxNumberOfMessages (default 1)."""
    if max_number is not None and not 1 <= max_number <= MAX_RECEIVE_MESSAGES:
        raise InvalidParameterValue(
            f"Value {max_number} for parameter MaxNumberOfMessages is invalid. Reason: Must be "
            f"between 1 and {MAX_RECEIVE_MESSAGES}, if provided."
        )
    if wait_seconds is not None:
        _check_range("WaitTimeSeconds", wait_seconds, MAX_WAIT_TIME_SECONDS)
    if visibility is not None:
        validate_visibility_timeout(visibility)
    if attempt_id:
        _check_fifo_id("ReceiveRequestAttemptId", attempt_id)
    return 1 if max_number is None else max_number
