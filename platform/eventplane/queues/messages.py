"""Message-level SQS rules: body, attributes, sizes, digests, batches, FIFO ids, receive limits.

Pure functions, so the service can validate a request before it touches Kafka and tests can
pin every limit. Error classes and wording follow SQS; every message names the parameter.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Mapping, Sequence
from decimal import Decimal

from eventplane.delivery.payload import MessageAttribute as MessageAttribute
from eventplane.errors import InvalidParameterValue, MissingParameter
from eventplane.errors.queues import (
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    InvalidMessageContents,
    TooManyEntriesInBatchRequest,
)
from eventplane.queues.attributes import QueueConfig

MAX_MESSAGE_ATTRIBUTES = 10
MAX_ATTRIBUTE_NAME_LENGTH = 256
MAX_DATA_TYPE_LENGTH = 256
MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 1_048_576  # the total of one SendMessageBatch, whatever the queue's limit
MAX_DELAY_SECONDS = 900
MAX_VISIBILITY_TIMEOUT = 43_200
MAX_WAIT_TIME_SECONDS = 20
MAX_RECEIVE_MESSAGES = 10

_VALID_CHARS = "#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
# The XML 1.0 character set SQS allows in bodies and string attribute values. Lone surrogates
# (which a Python str can hold) fall outside it, as they should.
_INVALID_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_RESERVED_PREFIX = re.compile(r"(?i)(aws|amazon)\.")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_NUMBER_MIN = Decimal("1E-128")
_NUMBER_LIMIT = Decimal("1E126")
_NUMBER_PRECISION = 38
_BATCH_ENTRY_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
# MessageGroupId, MessageDeduplicationId, ReceiveRequestAttemptId: 1-128 ASCII alphanumerics
# and punctuation.
_FIFO_ID = re.compile(r"[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}")
_TRANSPORT_STRING = 1
_TRANSPORT_BINARY = 2


def _first_invalid_char(text: str) -> str | None:
    match = _INVALID_CHAR.search(text)
    if match is None:
        return None
    return f"U+{ord(match.group()):04X} at index {match.start()}"


def validate_body(body: str, field: str = "MessageBody") -> None:
    # SQS treats an empty body as a missing parameter, not as invalid contents.
    if not body:
        raise MissingParameter(f"The request must contain the parameter {field}.")
    bad = _first_invalid_char(body)
    if bad is not None:
        raise InvalidMessageContents(
            f"Invalid characters found in {field} ({bad}). Valid unicode characters are "
            f"{_VALID_CHARS}"
        )


def _base_type(data_type: str) -> str | None:
    """String, Number or Binary for a data type, custom label (``Number.float``) allowed."""
    base, dot, label = data_type.partition(".")
    if base not in ("String", "Number", "Binary") or (dot and not label):
        return None
    return base


def _check_attribute_name(name: str) -> None:
    reason = None
    if not name:
        reason = "Names must not be empty."
    elif len(name) > MAX_ATTRIBUTE_NAME_LENGTH:
        reason = f"Names can be at most {MAX_ATTRIBUTE_NAME_LENGTH} characters long."
    elif _ATTRIBUTE_NAME.fullmatch(name) is None:
        reason = (
            "Names can only contain upper and lower case letters, digits, periods, hyphens "
            "and underscores."
        )
    elif _RESERVED_PREFIX.match(name):
        reason = "Names beginning with 'AWS.' or 'Amazon.' are reserved for internal use."
    elif name.startswith(".") or name.endswith(".") or ".." in name:
        reason = "Names cannot start or end with '.' or contain '..'."
    if reason is not None:
        raise InvalidParameterValue(f"Message (user) attribute name '{name}' is invalid. {reason}")


def _check_number(name: str, value: str) -> None:
    if _NUMBER.fullmatch(value) is None:
        raise InvalidParameterValue(
            f"Can't cast the value of message (user) attribute '{name}' to a number."
        )
    # copy_abs is exact; abs() would round to the default 28-digit context first.
    number = Decimal(value).copy_abs()
    # Leading and trailing zeros do not count towards the precision, as SQS trims them.
    digits = "".join(map(str, number.as_tuple().digits)).strip("0")
    if number and (len(digits) > _NUMBER_PRECISION or not _NUMBER_MIN <= number < _NUMBER_LIMIT):
        raise InvalidParameterValue(
            f"Value {value} of message (user) attribute '{name}' is out of range. Numbers can "
            "have up to 38 digits of precision and lie between 10^-128 and 10^+126."
        )


def _check_attribute(name: str, attribute: MessageAttribute) -> None:
    _check_attribute_name(name)
    data_type = attribute.data_type
    if not data_type:
        raise InvalidParameterValue(
            f"The message attribute '{name}' must contain non-empty message attribute type."
        )
    if len(data_type) > MAX_DATA_TYPE_LENGTH or _first_invalid_char(data_type) is not None:
        raise InvalidParameterValue(
            f"The type of message (user) attribute '{name}' is invalid. Types can be at most "
            f"{MAX_DATA_TYPE_LENGTH} characters of the characters allowed in a message body."
        )
    base = _base_type(data_type)
    if base is None:
        raise InvalidParameterValue(
            f"The type of message (user) attribute '{name}' is invalid. You must use only the "
            "following supported type prefixes: Binary, Number, String."
        )
    if attribute.string_value is not None and attribute.binary_value is not None:
        raise InvalidParameterValue(f"Message (user) attribute '{name}' must have a single value.")
    value = attribute.binary_value if base == "Binary" else attribute.string_value
    if not value:
        raise InvalidParameterValue(
            f"Message (user) attribute '{name}' must contain a non-empty value of type '{base}'."
        )
    if isinstance(value, str):
        bad = _first_invalid_char(value)
        if bad is not None:
            # SQS answers InvalidParameterValue here, not InvalidMessageContents.
            raise InvalidParameterValue(
                f"Message (user) attribute '{name}' contains invalid characters ({bad}). "
                f"Valid unicode characters are {_VALID_CHARS}"
            )
        if base == "Number":
            _check_number(name, value)


def validate_message_attributes(attrs: Mapping[str, MessageAttribute]) -> None:
    if len(attrs) > MAX_MESSAGE_ATTRIBUTES:
        raise InvalidParameterValue(
            f"Number of message attributes [{len(attrs)}] exceeds the allowed maximum "
            f"[{MAX_MESSAGE_ATTRIBUTES}]."
        )
    for name, attribute in attrs.items():
        _check_attribute(name, attribute)


def _value_bytes(attribute: MessageAttribute) -> bytes:
    if attribute.binary_value is not None:
        return attribute.binary_value
    return (attribute.string_value or "").encode()


def message_size(body: str, attrs: Mapping[str, MessageAttribute]) -> int:
    """Bytes counted against MaximumMessageSize: the body plus every attribute's name, type
    and value."""
    size = len(body.encode())
    for name, attribute in attrs.items():
        size += (
            len(name.encode()) + len(attribute.data_type.encode()) + len(_value_bytes(attribute))
        )
    return size


def validate_size(body: str, attrs: Mapping[str, MessageAttribute], maximum: int) -> None:
    size = message_size(body, attrs)
    if size > maximum:
        raise InvalidParameterValue(
            "One or more parameters are invalid. Reason: Message must be shorter than "
            f"{maximum} bytes. MessageBody plus MessageAttributes is {size} bytes."
        )


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()


def _length_prefixed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def md5_of_message_attributes(attrs: Mapping[str, MessageAttribute]) -> str:
    """MD5OfMessageAttributes as SQS documents it; "" when there are none (SQS omits it).

    For each attribute in name order: length-prefixed name, length-prefixed data type, one
    transport byte (1 string/number, 2 binary), length-prefixed value; lengths are 4-byte
    big-endian.
    """
    if not attrs:
        return ""
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attrs):
        attribute = attrs[name]
        binary = _base_type(attribute.data_type) == "Binary"
        digest.update(_length_prefixed(name.encode()))
        digest.update(_length_prefixed(attribute.data_type.encode()))
        digest.update(bytes([_TRANSPORT_BINARY if binary else _TRANSPORT_STRING]))
        digest.update(_length_prefixed(_value_bytes(attribute)))
    return digest.hexdigest()


def validate_batch_entry_ids(ids: Sequence[str]) -> None:
    if not ids:
        raise EmptyBatchRequest("The request must contain at least one entry in parameter Entries.")
    if len(ids) > MAX_BATCH_ENTRIES:
        raise TooManyEntriesInBatchRequest(
            f"Parameter Entries has {len(ids)} entries; the maximum number of entries per "
            f"request is {MAX_BATCH_ENTRIES}."
        )
    seen: set[str] = set()
    for entry_id in ids:
        if _BATCH_ENTRY_ID.fullmatch(entry_id) is None:
            raise InvalidBatchEntryId(
                f"Value {entry_id} for parameter Id is invalid. Reason: A batch entry id can "
                "only contain alphanumeric characters, hyphens and underscores. It can be at "
                "most 80 letters long."
            )
        if entry_id in seen:
            raise BatchEntryIdsNotDistinct(
                f"Id {entry_id} repeated. Every entry's Id must be distinct within a request."
            )
        seen.add(entry_id)


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
    max_number: int, wait_seconds: int | None, visibility: int | None, attempt_id: str
) -> int:
    """Check a ReceiveMessage request; returns the effective MaxNumberOfMessages (0 means 1)."""
    if not 0 <= max_number <= MAX_RECEIVE_MESSAGES:
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
    return max_number or 1
