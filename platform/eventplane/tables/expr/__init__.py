"""The pure DynamoDB item and expression core: values, expressions, evaluation.

No Kafka, no gRPC: the table engine (and its tests) call these functions directly.
"""

from __future__ import annotations

from eventplane.tables.expr.errors import ConditionalCheckFailedException, ValidationException
from eventplane.tables.expr.reserved import RESERVED_WORDS, is_reserved
from eventplane.tables.expr.values import (
    MAX_ITEM_SIZE,
    AttributeValue,
    Item,
    deserialize,
    deserialize_item,
    extract_key,
    item_size,
    key_sort_key,
    serialize,
    serialize_item,
    validate_item,
    validate_value,
)

__all__ = [
    "MAX_ITEM_SIZE",
    "RESERVED_WORDS",
    "AttributeValue",
    "ConditionalCheckFailedException",
    "Item",
    "ValidationException",
    "deserialize",
    "deserialize_item",
    "extract_key",
    "is_reserved",
    "item_size",
    "key_sort_key",
    "serialize",
    "serialize_item",
    "validate_item",
    "validate_value",
]
