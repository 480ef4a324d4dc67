"""The table engine's one door to the expression core (``tables/expr``).

Expressions are compiled once per request, before the owner's write step runs,
so a bad expression is a ValidationException that never reaches the writer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eventplane.errors import ValidationException
from eventplane.tables.expr.values import validate_item_size

Item = dict[str, Any]
Condition = Any
Update = Any
Projection = Any


def _unsupported(kind: str) -> ValidationException:
    return ValidationException(f"{kind} is not supported yet")


def condition(text: str, names: Mapping[str, str], values: Mapping[str, Any]) -> Condition | None:
    if not text:
        return None
    raise _unsupported("ConditionExpression")


def holds(cond: Condition, item: Item) -> bool:
    return True


def update_and_condition(
    update: str, cond: str, names: Mapping[str, str], values: Mapping[str, Any]
) -> tuple[Update | None, Condition | None]:
    if update:
        raise _unsupported("UpdateExpression")
    return None, condition(cond, names, values)


def check_update_keys(update: Update, key_names: tuple[str, ...]) -> None:
    return None


def apply(update: Update, item: Item) -> tuple[Item, set[str]]:
    return item, set()


def check_size(item: Item) -> None:
    validate_item_size(item)


def projection(text: str, names: Mapping[str, str]) -> Projection | None:
    if not text:
        return None
    raise _unsupported("ProjectionExpression")


def project(proj: Projection | None, item: Item) -> Item:
    return item


class KeyRange:
    """What a KeyConditionExpression selects: one partition-key value, a range predicate."""

    def __init__(self, hash_value: Any, in_range: Any) -> None:
        self.hash_value = hash_value
        self.in_range = in_range


def query_expressions(
    table: Any,
    key_condition: str,
    filter_expression: str,
    projection_expression: str,
    names: Mapping[str, str],
    values: Mapping[str, Any],
) -> tuple[KeyRange, Condition | None, Projection | None]:
    raise _unsupported("Query")
