"""The table engine's one door to the expression core (``tables/expr``).

A request's expressions are parsed and checked together, once, before the
owner's write step runs (``compile``), so a bad expression, an undefined or an
unused placeholder is a ValidationException that never reaches the writer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from eventplane.tables.expr import (
    Expressions,
    KeyRange,
    UpdateResult,
    apply_update,
    condition_holds,
    key_condition,
    prepare,
)
from eventplane.tables.expr import project as _project
from eventplane.tables.model import TableDef

Item = dict[str, Any]

__all__ = ["Expressions", "KeyRange", "apply", "compile", "filter_of", "key_range", "projector"]


def compile(
    *,
    names: Mapping[str, str] | None,
    values: Mapping[str, Any] | None,
    condition: str = "",
    filter: str = "",
    key_condition: str = "",
    update: str = "",
    projection: str = "",
) -> Expressions:
    """Parse and check every expression of one request (an empty text: not given)."""
    return prepare(
        condition=condition or None,
        filter=filter or None,
        key_condition=key_condition or None,
        update=update or None,
        projection=projection or None,
        names=names,
        values=values,
    )


def condition_ok(ex: Expressions, item: Item | None) -> bool:
    """Whether the request's ConditionExpression holds (no condition: it does)."""
    if ex.condition is None:
        return True
    return condition_holds(ex.condition, item, ex.names, ex.values)


def filter_of(ex: Expressions) -> Callable[[Item], bool]:
    tree = ex.filter
    if tree is None:
        return lambda item: True
    return lambda item: condition_holds(tree, item, ex.names, ex.values)


def projector(ex: Expressions) -> Callable[[Item], Item]:
    tree = ex.projection
    if tree is None:
        return lambda item: item
    return lambda item: _project(tree, item, ex.names)


def apply(ex: Expressions, item: Item | None, table: TableDef) -> UpdateResult:
    assert ex.update is not None
    return apply_update(ex.update, item, ex.names, ex.values, key_names=table.key_names)


def key_range(
    ex: Expressions, table: TableDef, schema: list[tuple[str, str]] | None = None
) -> KeyRange:
    """The key range of a KeyConditionExpression over the table's keys (or an index's)."""
    assert ex.key_condition is not None
    if schema is None:
        schema = [(n, table.attribute_types[n]) for n in table.key_names]
    return key_condition(ex.key_condition, schema, ex.names, ex.values)
