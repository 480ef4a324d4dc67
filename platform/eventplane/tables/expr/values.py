"""DynamoDB attribute values as wire dicts (``{"S": "x"}``), with DynamoDB's rules.

Values stay in the wire shape the API speaks (one type key per dict; B and BS hold
``bytes``; N and NS hold number strings), so the engine stores and returns exactly what
it was given after validation. The number rules, DynamoDB JSON and the plain-Python
serializer live in ``eventplane.attribute_values`` (shared with the SDK) and are
re-exported here. Numbers follow DynamoDB: at most 38 significant digits,
magnitudes from 1E-130 to 9.9999999999999999999999999999999999999E+125, arithmetic in a
38-digit decimal context. ``item_size`` follows the developer guide's "Item sizes"
rules so the 400 KB limit is enforced where DynamoDB enforces it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from eventplane.attribute_values import (
    EXACT_CONTEXT,
    NUMBER_CONTEXT,
    AttributeValue,
    Item,
    check_number,
    decode_json_item,
    decode_json_value,
    deserialize,
    deserialize_item,
    encode_json_item,
    encode_json_value,
    normalize_number,
    parse_number,
    serialize,
    serialize_item,
)
from eventplane.attribute_values import INVALID as _INVALID
from eventplane.tables.expr.errors import ValidationException

__all__ = [
    "MAX_ITEM_SIZE",
    "NUMBER_CONTEXT",
    "TYPES",
    "AttributeValue",
    "Item",
    "attribute_size",
    "compare_values",
    "decode_json_item",
    "decode_json_value",
    "deserialize",
    "deserialize_item",
    "encode_json_item",
    "encode_json_value",
    "extract_key",
    "item_size",
    "key_sort_key",
    "normalize_number",
    "parse_number",
    "serialize",
    "serialize_item",
    "type_of",
    "validate_item",
    "validate_item_size",
    "validate_value",
    "values_equal",
]


TYPES = ("S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS")
MAX_ITEM_SIZE = 400 * 1024
MAX_HASH_KEY_BYTES = 2048
MAX_RANGE_KEY_BYTES = 1024
MAX_DEPTH = 32


# --- numbers --------------------------------------------------------------------------


def number_arith(op: str, left: Decimal, right: Decimal) -> Decimal:
    """``left + right`` or ``left - right`` as DynamoDB computes them: exactly, then the
    result must fit (38 significant digits, DynamoDB's range)."""
    result = EXACT_CONTEXT.add(left, right) if op == "+" else EXACT_CONTEXT.subtract(left, right)
    return check_number(result)


# --- validation -----------------------------------------------------------------------


def type_of(value: AttributeValue) -> str:
    """The single type key of a (validated) attribute value."""
    return next(iter(value))


def _set_members_text(members: Iterable[Any], kind: str) -> str:
    if kind == "BS":
        return ", ".join(base64.b64encode(bytes(m)).decode() for m in members)
    return ", ".join(str(m) for m in members)


def validate_value(value: object, depth: int = 0) -> AttributeValue:
    """Check one attribute value; return it with numbers in canonical form."""
    if depth > MAX_DEPTH:
        raise ValidationException(
            "Nesting Levels have exceeded supported limits: "
            "Attributes in the item have nested levels beyond supported limit"
        )
    if not isinstance(value, Mapping) or not value:
        raise ValidationException(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        )
    if len(value) > 1:
        raise ValidationException(
            "Supplied AttributeValue has more than one datatypes set, "
            "must contain exactly one of the supported datatypes"
        )
    kind, raw = next(iter(value.items()))
    if kind == "S":
        if not isinstance(raw, str):
            raise ValidationException("Invalid attribute value type: S must be a string")
        return {"S": raw}
    if kind == "N":
        return {"N": normalize_number(parse_number(raw))}
    if kind == "B":
        if not isinstance(raw, bytes | bytearray):
            raise ValidationException("Invalid attribute value type: B must be bytes")
        return {"B": bytes(raw)}
    if kind == "BOOL":
        if not isinstance(raw, bool):
            raise ValidationException("Invalid attribute value type: BOOL must be a boolean")
        return {"BOOL": raw}
    if kind == "NULL":
        if raw is not True:
            raise ValidationException(
                _INVALID + "Null attribute value types must have the value of true"
            )
        return {"NULL": True}
    if kind == "M":
        if not isinstance(raw, Mapping):
            raise ValidationException("Invalid attribute value type: M must be a map")
        return {"M": {str(k): validate_value(v, depth + 1) for k, v in raw.items()}}
    if kind == "L":
        if not isinstance(raw, list | tuple):
            raise ValidationException("Invalid attribute value type: L must be a list")
        return {"L": [validate_value(v, depth + 1) for v in raw]}
    if kind in ("SS", "NS", "BS"):
        return {kind: _validate_set(kind, raw)}
    raise ValidationException(
        f"Supplied AttributeValue has an unsupported datatype {kind!r}, "
        "must contain exactly one of the supported datatypes"
    )


def _validate_set(kind: str, raw: object) -> list[Any]:
    if not isinstance(raw, list | tuple | set | frozenset):
        raise ValidationException(f"Invalid attribute value type: {kind} must be a list")
    members = list(raw)
    if not members:
        raise ValidationException(
            _INVALID
            + {
                "SS": "An string set  may not be empty",
                "NS": "An number set  may not be empty",
                "BS": "Binary sets should not be empty",
            }[kind]
        )
    if kind == "SS":
        if not all(isinstance(m, str) for m in members):
            raise ValidationException("Invalid attribute value type: SS members must be strings")
        if len(set(members)) != len(members):
            raise ValidationException(
                _INVALID
                + f"Input collection [{_set_members_text(members, kind)}] contains duplicates."
            )
        return members
    if kind == "NS":
        numbers = [parse_number(m) for m in members]
        if len(set(numbers)) != len(numbers):
            raise ValidationException(_INVALID + "Input collection contains duplicates")
        return [normalize_number(n) for n in numbers]
    if not all(isinstance(m, bytes | bytearray) for m in members):
        raise ValidationException("Invalid attribute value type: BS members must be bytes")
    blobs = [bytes(m) for m in members]
    if len(set(blobs)) != len(blobs):
        raise ValidationException(
            _INVALID
            + f"Input collection [{_set_members_text(blobs, kind)}]of type BS contains duplicates."
        )
    return blobs


def validate_item(item: object) -> Item:
    """Check every attribute of an item (names non-empty, values valid, size ≤ 400 KB)."""
    if not isinstance(item, Mapping):
        raise ValidationException("Item must be a map of attribute names to attribute values")
    out: Item = {}
    for name, value in item.items():
        if not isinstance(name, str) or not name:
            raise ValidationException(
                _INVALID + "An AttributeValue may not contain an empty attribute name"
            )
        out[name] = validate_value(value)
    validate_item_size(out)
    return out


# --- size -----------------------------------------------------------------------------


def _number_size(text: str) -> int:
    """1 byte per two significant digits, plus 1 (read from the text: no Decimal needed)."""
    mantissa = text.lstrip("+-").partition("E")[0].partition("e")[0].replace(".", "")
    significant = len(mantissa.strip("0")) or 1
    return (significant + 1) // 2 + 1


def attribute_size(value: AttributeValue) -> int:
    """Bytes a value counts for, without its attribute name (developer guide rules)."""
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(raw) if raw.isascii() else len(raw.encode("utf-8"))
    if kind == "N":
        return _number_size(raw)
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(m.encode("utf-8")) for m in raw)
    if kind == "NS":
        return sum(_number_size(m) for m in raw)
    if kind == "BS":
        return sum(len(m) for m in raw)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + attribute_size(v) + 1 for k, v in raw.items())
    if kind == "L":
        return 3 + sum(attribute_size(v) + 1 for v in raw)
    raise ValidationException(f"unsupported attribute type {kind}")


def item_size(item: Mapping[str, AttributeValue]) -> int:
    """The item's size: attribute name bytes plus value bytes, summed."""
    # A plain loop: item_size runs for every item a restore loads (PartitionStore.put).
    total = 0
    for name, v in item.items():
        total += (len(name) if name.isascii() else len(name.encode("utf-8"))) + attribute_size(v)
    return total


def validate_item_size(item: Mapping[str, AttributeValue]) -> None:
    if item_size(item) > MAX_ITEM_SIZE:
        raise ValidationException("Item size has exceeded the maximum allowed size")


# --- keys -----------------------------------------------------------------------------


def extract_key(
    item: Mapping[str, AttributeValue],
    key_schema: Iterable[tuple[str, str]],
    *,
    exact: bool = False,
) -> Item:
    """The key attributes of ``item`` per ``key_schema`` ((name, type) pairs, hash first).

    ``exact`` is for a Key parameter (GetItem/DeleteItem/UpdateItem): it must hold exactly
    the key attributes with the schema's types. Otherwise ``item`` is a full item (PutItem)
    that must contain the key attributes.
    """
    schema = list(key_schema)
    if exact and len(item) != len(schema):
        raise ValidationException("The provided key element does not match the schema")
    key: Item = {}
    for name, expected in schema:
        value = item.get(name)
        if value is None:
            if exact:
                raise ValidationException("The provided key element does not match the schema")
            raise ValidationException(_INVALID + f"Missing the key {name} in the item")
        actual = type_of(value)
        if actual != expected:
            if exact:
                raise ValidationException("The provided key element does not match the schema")
            raise ValidationException(
                _INVALID + f"Type mismatch for key {name} expected: {expected} actual: {actual}"
            )
        if actual in ("S", "B") and len(value[actual]) == 0:
            raise ValidationException(
                "One or more parameter values are not valid. The AttributeValue for a key "
                f"attribute cannot contain an empty {'string' if actual == 'S' else 'binary'} "
                f"value. Key: {name}"
            )
        if actual in ("S", "B"):
            size = len(value[actual].encode("utf-8")) if actual == "S" else len(value[actual])
        else:
            size = 0
        limit, what = (
            (MAX_HASH_KEY_BYTES, "hashkey") if not key else (MAX_RANGE_KEY_BYTES, "rangekey")
        )
        if size > limit:
            # sic: DynamoDB's message has no space before the number
            raise ValidationException(
                _INVALID + f"Size of {what} has exceeded the maximum size limit of{limit} bytes"
            )
        key[name] = value
    return key


def key_sort_key(value: AttributeValue) -> Decimal | bytes:
    """Order of key values as DynamoDB sorts range keys: N numerically, S by UTF-8 bytes,
    B bytewise (unsigned)."""
    kind, raw = next(iter(value.items()))
    if kind == "N":
        return Decimal(raw)
    if kind == "S":
        return bytes(raw.encode("utf-8"))
    if kind == "B":
        return bytes(raw)
    raise ValidationException(f"Key attributes must be S, N or B, not {kind}")


# --- comparison -----------------------------------------------------------------------


def values_equal(left: AttributeValue, right: AttributeValue) -> bool:
    """DynamoDB equality: same type and value; sets compare as sets, numbers numerically."""
    kind = type_of(left)
    if kind != type_of(right):
        return False
    a, b = left[kind], right[kind]
    if kind == "N":
        return bool(Decimal(a) == Decimal(b))
    if kind == "NS":
        return {Decimal(m) for m in a} == {Decimal(m) for m in b}
    if kind in ("SS", "BS"):
        return {bytes(m) if kind == "BS" else m for m in a} == {
            bytes(m) if kind == "BS" else m for m in b
        }
    if kind == "M":
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    if kind == "L":
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    if kind == "B":
        return bytes(a) == bytes(b)
    return bool(a == b)


def compare_values(left: AttributeValue, right: AttributeValue) -> int | None:
    """-1/0/1 for two N, S or B values of the same type (key order); None if not ordered."""
    kind = type_of(left)
    if kind != type_of(right) or kind not in ("N", "S", "B"):
        return None
    a, b = key_sort_key(left), key_sort_key(right)
    return (a > b) - (a < b)  # type: ignore[operator]
