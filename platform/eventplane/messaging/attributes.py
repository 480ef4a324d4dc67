"""Message attributes as SQS and SNS both define them: validation, size and MD5 digest.

A capability-neutral room: queues (SendMessage) and topics (Publish) accept the same typed
attributes (String, Number or Binary, with an optional ``.label``) under the same rules and
count them the same way against the message size, so both import these rules rather than
one importing the other. Pure functions; error classes and wording follow SQS, and every
message names the attribute.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from eventplane.errors import InvalidParameterValue

__all__ = [
    "MAX_ATTRIBUTE_NAME_LENGTH",
    "MAX_DATA_TYPE_LENGTH",
    "MAX_MESSAGE_ATTRIBUTES",
    "VALID_CHARS",
    "MessageAttribute",
    "base_type",
    "first_invalid_char",
    "md5_of_message_attributes",
    "message_size",
    "validate_message_attributes",
]

MAX_MESSAGE_ATTRIBUTES = 10
MAX_ATTRIBUTE_NAME_LENGTH = 256
MAX_DATA_TYPE_LENGTH = 256

VALID_CHARS = "#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
# The XML 1.0 character set SQS allows in bodies and string attribute values. Lone surrogates
# (which a Python str can hold) fall outside it, as they should.
_INVALID_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_RESERVED_PREFIX = re.compile(r"(?i)(aws|amazon)\.")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_NUMBER_MIN = Decimal("1E-128")
_NUMBER_LIMIT = Decimal("1E126")
_NUMBER_PRECISION = 38
_TRANSPORT_STRING = 1
_TRANSPORT_BINARY = 2


@dataclass(frozen=True)
class MessageAttribute:
    """A typed message attribute (String, Number or Binary, optionally ``.custom``),
    as queues and topics carry them."""

    data_type: str
    string_value: str | None = None
    binary_value: bytes | None = None


def first_invalid_char(text: str) -> str | None:
    match = _INVALID_CHAR.search(text)
    if match is None:
        return None
    return f"U+{ord(match.group()):04X} at index {match.start()}"


def base_type(data_type: str) -> str | None:
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
    if len(data_type) > MAX_DATA_TYPE_LENGTH or first_invalid_char(data_type) is not None:
        raise InvalidParameterValue(
            f"The type of message (user) attribute '{name}' is invalid. Types can be at most "
            f"{MAX_DATA_TYPE_LENGTH} characters of the characters allowed in a message body."
        )
    base = base_type(data_type)
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
        bad = first_invalid_char(value)
        if bad is not None:
            # SQS answers InvalidParameterValue here, not InvalidMessageContents.
            raise InvalidParameterValue(
                f"Message (user) attribute '{name}' contains invalid characters ({bad}). "
                f"Valid unicode characters are {VALID_CHARS}"
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
        binary = base_type(attribute.data_type) == "Binary"
        digest.update(_length_prefixed(name.encode()))
        digest.update(_length_prefixed(attribute.data_type.encode()))
        digest.update(bytes([_TRANSPORT_BINARY if binary else _TRANSPORT_STRING]))
        digest.update(_length_prefixed(_value_bytes(attribute)))
    return digest.hexdigest()
