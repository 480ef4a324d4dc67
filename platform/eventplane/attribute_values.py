"""DynamoDB attribute values without a server: numbers, DynamoDB JSON, plain Python.

The one implementation of what both sides need, in a neutral room below both: the
SDK (``client.tables`` and its ``table(name)`` helper, the CLI) converts plain Python
values and DynamoDB JSON with it, and the tables engine (``eventplane.tables.expr.values``)
imports the same functions. It imports nothing but the neutral errors and the standard
library, so the SDK stays free of the server and the engine free of the SDK.

Values keep the wire shape the API speaks (one type key per dict; B and BS hold
``bytes``; N and NS hold number strings). Numbers follow DynamoDB: at most 38
significant digits, magnitudes from 1E-130 to 9.9999999999999999999999999999999999999E+125.
"""

from __future__ import annotations

import base64
import decimal
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from eventplane.errors.base import ValidationException

__all__ = [
    "EXACT_CONTEXT",
    "INVALID",
    "NUMBER_CONTEXT",
    "AttributeValue",
    "Item",
    "check_number",
    "decode_json_item",
    "decode_json_value",
    "deserialize",
    "deserialize_item",
    "encode_json_item",
    "encode_json_value",
    "normalize_number",
    "parse_number",
    "serialize",
    "serialize_item",
]

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

EXACT_CONTEXT = decimal.Context(prec=1000, Emax=999_999, Emin=-999_999)
"""Wide enough to hold any sum of two DynamoDB numbers exactly (|exponents| ≤ 130 + 38)."""

NUMBER_CONTEXT = decimal.Context(
    prec=38,
    rounding=decimal.ROUND_HALF_EVEN,
    Emax=125,
    Emin=-130,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
"""DynamoDB's number arithmetic: 38 significant digits (results are checked, not rounded)."""

INVALID = "One or more parameter values were invalid: "
_TOO_PRECISE = "Attempting to store more than 38 significant digits in a Number"
_OVERFLOW = (
    "Number overflow. Attempting to store a number with magnitude larger than supported range"
)
_UNDERFLOW = (
    "Number underflow. Attempting to store a number with magnitude smaller than supported range"
)


# --- numbers --------------------------------------------------------------------------


def parse_number(text: object) -> Decimal:
    """The Decimal of a DynamoDB number string, validated for precision and range."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationException("The parameter cannot be converted to a numeric value")
    try:
        value = Decimal(text.strip())
    except decimal.InvalidOperation:
        raise ValidationException(
            f"The parameter cannot be converted to a numeric value: {text}"
        ) from None
    if not value.is_finite():
        raise ValidationException(f"The parameter cannot be converted to a numeric value: {text}")
    check_number(value)
    return value


def check_number(value: Decimal) -> Decimal:
    """Reject what DynamoDB cannot store: >38 significant digits, out-of-range magnitude."""
    if value == 0:
        return value
    magnitude = value.adjusted()
    if magnitude > 125:
        raise ValidationException(_OVERFLOW)
    if magnitude < -130:
        raise ValidationException(_UNDERFLOW)
    digits = value.normalize(EXACT_CONTEXT).as_tuple().digits
    if len(digits) > 38:
        raise ValidationException(_TOO_PRECISE)
    return value


def normalize_number(value: Decimal) -> str:
    """DynamoDB's canonical text: no leading/trailing zeros, plain notation where short."""
    if value == 0:
        return "0"
    norm = value.normalize(EXACT_CONTEXT)
    if -30 <= norm.adjusted() <= 45:
        return format(norm, "f")
    return str(norm)


# --- JSON wire form (base64 binaries) -------------------------------------------------


def decode_json_value(value: Mapping[str, Any]) -> AttributeValue:
    """DynamoDB JSON (binaries as base64 text) to the in-memory wire form (bytes)."""
    kind, raw = next(iter(value.items()))
    if kind == "B":
        return {"B": base64.b64decode(raw)}
    if kind == "BS":
        return {"BS": [base64.b64decode(m) for m in raw]}
    if kind == "M":
        return {"M": {k: decode_json_value(v) for k, v in raw.items()}}
    if kind == "L":
        return {"L": [decode_json_value(v) for v in raw]}
    return {kind: raw}


def encode_json_value(value: AttributeValue) -> dict[str, Any]:
    kind, raw = next(iter(value.items()))
    if kind == "B":
        return {"B": base64.b64encode(raw).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(m).decode() for m in raw]}
    if kind == "M":
        return {"M": {k: encode_json_value(v) for k, v in raw.items()}}
    if kind == "L":
        return {"L": [encode_json_value(v) for v in raw]}
    return {kind: raw}


def decode_json_item(item: Mapping[str, Any]) -> Item:
    return {k: decode_json_value(v) for k, v in item.items()}


def encode_json_item(item: Mapping[str, AttributeValue]) -> dict[str, Any]:
    return {k: encode_json_value(v) for k, v in item.items()}


# --- plain Python values (boto3's TypeSerializer / TypeDeserializer) ------------------


def _to_number_text(value: object) -> str:
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, int | Decimal):
        dec = Decimal(value)
        if not dec.is_finite():
            raise TypeError("Infinity and NaN are not supported")
        return normalize_number(check_number(dec))
    raise TypeError(f"not a number: {value!r}")


def serialize(value: object) -> AttributeValue:
    """A plain Python value as an attribute value: None, bool, int/Decimal/float, str,
    bytes, set/frozenset of str/number/bytes, list/tuple, dict."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float | Decimal):
        return {"N": _to_number_text(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, set | frozenset):
        return _serialize_set(value)
    if isinstance(value, list | tuple):
        return {"L": [serialize(v) for v in value]}
    if isinstance(value, Mapping):
        return {"M": {str(k): serialize(v) for k, v in value.items()}}
    raise TypeError(f"Unsupported type {type(value).__name__} for value {value!r}")


def _serialize_set(value: set[Any] | frozenset[Any]) -> AttributeValue:
    if not value:
        raise ValidationException(
            INVALID + "An empty set cannot be stored; remove the attribute instead"
        )
    members = list(value)
    if all(isinstance(m, str) for m in members):
        return {"SS": sorted(members)}
    if all(isinstance(m, int | float | Decimal) and not isinstance(m, bool) for m in members):
        return {"NS": sorted({_to_number_text(m) for m in members}, key=Decimal)}
    if all(isinstance(m, bytes | bytearray) for m in members):
        return {"BS": sorted(bytes(m) for m in members)}
    raise TypeError("a set must hold only strings, only numbers or only bytes")


def deserialize(value: Mapping[str, Any]) -> Any:
    """An attribute value as plain Python (Decimal for numbers, sets for SS/NS/BS)."""
    kind, raw = next(iter(value.items()))
    if kind == "S":
        return raw
    if kind == "N":
        return Decimal(raw)
    if kind == "B":
        return bytes(raw)
    if kind == "BOOL":
        return bool(raw)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: deserialize(v) for k, v in raw.items()}
    if kind == "L":
        return [deserialize(v) for v in raw]
    if kind == "SS":
        return set(raw)
    if kind == "NS":
        return {Decimal(m) for m in raw}
    if kind == "BS":
        return {bytes(m) for m in raw}
    raise TypeError(f"unsupported attribute type {kind}")


def serialize_item(item: Mapping[str, Any]) -> Item:
    return {str(k): serialize(v) for k, v in item.items()}


def deserialize_item(item: Mapping[str, AttributeValue]) -> dict[str, Any]:
    return {k: deserialize(v) for k, v in item.items()}
