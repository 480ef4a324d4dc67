"""DynamoDB JSON text <-> the engine's attribute values, for the gRPC doors."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from eventplane.errors import ValidationException
from eventplane.tables.expr.values import (
    decode_json_item,
    decode_json_value,
    encode_json_item,
    encode_json_value,
)

Item = dict[str, Any]


def _json(text: str, field: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise ValidationException(f"{field} is not valid DynamoDB JSON") from None


def parse_item(text: str, field: str) -> Item:
    raw = _json(text, field) if text else {}
    if not isinstance(raw, dict):
        raise ValidationException(f"{field} must be a map of attribute names to values")
    try:
        return decode_json_item(raw)
    except (ValueError, TypeError, AttributeError, StopIteration):
        raise ValidationException(f"{field} holds an attribute value that is not valid") from None


def parse_values(text: str) -> dict[str, Any]:
    raw = _json(text, "ExpressionAttributeValues") if text else {}
    if not isinstance(raw, dict):
        raise ValidationException("ExpressionAttributeValues must be a map")
    try:
        return {k: decode_json_value(v) for k, v in raw.items()}
    except (ValueError, TypeError, AttributeError, StopIteration):
        raise ValidationException(
            "ExpressionAttributeValues holds an attribute value that is not valid"
        ) from None


def dump_values(values: Mapping[str, Any]) -> str:
    if not values:
        return ""
    return json.dumps({k: encode_json_value(v) for k, v in values.items()}, ensure_ascii=False)


def dump(item: Mapping[str, Any] | None) -> str:
    if item is None:
        return ""
    return json.dumps(encode_json_item(item), separators=(",", ":"), ensure_ascii=False)
