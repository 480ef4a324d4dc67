"""The pure DynamoDB item and expression core: values, expressions, evaluation.

No Kafka, no gRPC: the table engine (and its tests) call these functions directly.
"""

from __future__ import annotations

from eventplane.tables.expr.errors import ConditionalCheckFailedException, ValidationException
from eventplane.tables.expr.evaluate import UpdateResult, apply_update, condition_holds, project
from eventplane.tables.expr.keys import KeyRange, key_condition
from eventplane.tables.expr.parser import parse_condition, parse_projection, parse_update
from eventplane.tables.expr.reserved import RESERVED_WORDS, is_reserved
from eventplane.tables.expr.validate import Expressions, check_query_filter, prepare
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
    "Expressions",
    "Item",
    "KeyRange",
    "UpdateResult",
    "ValidationException",
    "apply_update",
    "check_query_filter",
    "condition_holds",
    "deserialize",
    "deserialize_item",
    "extract_key",
    "is_reserved",
    "item_size",
    "key_condition",
    "key_sort_key",
    "parse_condition",
    "parse_projection",
    "parse_update",
    "prepare",
    "project",
    "serialize",
    "serialize_item",
    "validate_item",
    "validate_value",
]
