"""The single-item writes (PutItem, UpdateItem, DeleteItem, BatchWriteItem) as owner steps.

Each action is validated up front (anything that does not depend on the stored
item), then turned into a ``prepare`` step the writer runs in order against the
staged items: evaluate the condition, compute the new image, and return the
change plus what the caller gets back. A write that changes nothing returns no
change, so nothing reaches Kafka and the stream stays silent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eventplane.errors import ValidationException
from eventplane.tables import expressions as ex
from eventplane.tables.expr import ConditionalCheckFailedException, extract_key, validate_item
from eventplane.tables.keys import canonical_key, partition_of
from eventplane.tables.model import TableDef
from eventplane.tables.writer import Change, Staged

Item = dict[str, Any]

RETURN_VALUES = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")


@dataclass(frozen=True)
class PutItemInput:
    table_name: str
    item: Item
    condition_expression: str = ""
    expression_attribute_names: Mapping[str, str] | None = None  # None: not given
    expression_attribute_values: Mapping[str, Any] | None = None
    return_values: str = ""
    return_values_on_condition_check_failure: str = ""


@dataclass(frozen=True)
class UpdateItemInput:
    table_name: str
    key: Item
    update_expression: str = ""
    condition_expression: str = ""
    expression_attribute_names: Mapping[str, str] | None = None  # None: not given
    expression_attribute_values: Mapping[str, Any] | None = None
    return_values: str = ""
    return_values_on_condition_check_failure: str = ""


@dataclass(frozen=True)
class DeleteItemInput:
    table_name: str
    key: Item
    condition_expression: str = ""
    expression_attribute_names: Mapping[str, str] | None = None  # None: not given
    expression_attribute_values: Mapping[str, Any] | None = None
    return_values: str = ""
    return_values_on_condition_check_failure: str = ""


@dataclass(frozen=True)
class WriteResult:
    """``attributes`` per ReturnValues (None: nothing to return)."""

    attributes: Item | None = None


@dataclass(frozen=True)
class Located:
    """An item key resolved against its table: where it lives."""

    table: TableDef
    partition: int
    key: str
    keys: Item


def locate(table: TableDef, keys: Item) -> Located:
    return Located(
        table,
        partition_of(keys[table.hash_key], table.partitions),
        canonical_key(keys, table.key_names),
        keys,
    )


def key_schema(table: TableDef) -> list[tuple[str, str]]:
    return [(n, table.attribute_types[n]) for n in table.key_names]


def item_key(table: TableDef, item: Item) -> Item:
    return extract_key(item, key_schema(table))


def exact_key(table: TableDef, key: Item) -> Item:
    if not isinstance(key, Mapping):
        raise ValidationException("The provided key element does not match the schema")
    return extract_key(validate_item(key), key_schema(table), exact=True)


def _return_values(value: str, allowed: tuple[str, ...], action: str) -> str:
    value = value or "NONE"
    if value not in allowed:
        raise ValidationException(
            f"ReturnValues can only be {' or '.join(allowed)} for {action}"
            if value in RETURN_VALUES
            else f"1 validation error detected: Value '{value}' at "
            "'returnValues' failed to satisfy constraint: Member must "
            "satisfy enum value set: [" + ", ".join(RETURN_VALUES) + "]"
        )
    return value


def on_failure(value: str) -> bool:
    if value in ("", "NONE"):
        return False
    if value != "ALL_OLD":
        raise ValidationException(
            f"1 validation error detected: Value '{value}' at "
            "'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must "
            "satisfy enum value set: [ALL_OLD, NONE]"
        )
    return True


def check(exprs: ex.Expressions, old: Item | None, want_item: bool) -> None:
    if not ex.condition_ok(exprs, old):
        raise ConditionalCheckFailedException(
            "The conditional request failed", item=old if want_item and old else None
        )


Step = Callable[[Staged], tuple[list[Change], WriteResult]]


def put_step(table: TableDef, req: PutItemInput) -> tuple[Located, Step]:
    item = validate_item(req.item)
    where = locate(table, item_key(table, item))
    rv = _return_values(req.return_values, ("NONE", "ALL_OLD"), "PutItem")
    want_old = on_failure(req.return_values_on_condition_check_failure)
    exprs = ex.compile(
        condition=req.condition_expression,
        names=req.expression_attribute_names,
        values=req.expression_attribute_values,
    )

    def step(staged: Staged) -> tuple[list[Change], WriteResult]:
        old = staged.get(table.name, where.partition, where.key)
        check(exprs, old, want_old)
        changes = [] if old == item else [_change(where, old, item)]
        return changes, WriteResult(old if rv == "ALL_OLD" else None)

    return where, step


def delete_step(table: TableDef, req: DeleteItemInput) -> tuple[Located, Step]:
    where = locate(table, exact_key(table, req.key))
    rv = _return_values(req.return_values, ("NONE", "ALL_OLD"), "DeleteItem")
    want_old = on_failure(req.return_values_on_condition_check_failure)
    exprs = ex.compile(
        condition=req.condition_expression,
        names=req.expression_attribute_names,
        values=req.expression_attribute_values,
    )

    def step(staged: Staged) -> tuple[list[Change], WriteResult]:
        old = staged.get(table.name, where.partition, where.key)
        check(exprs, old, want_old)
        changes = [] if old is None else [_change(where, old, None)]
        return changes, WriteResult(old if rv == "ALL_OLD" else None)

    return where, step


def update_step(table: TableDef, req: UpdateItemInput) -> tuple[Located, Step]:
    where = locate(table, exact_key(table, req.key))
    rv = _return_values(req.return_values, RETURN_VALUES, "UpdateItem")
    want_old = on_failure(req.return_values_on_condition_check_failure)
    if not req.update_expression:
        raise ValidationException(
            "Invalid UpdateExpression: The expression can not be empty; an UpdateItem needs an "
            "UpdateExpression (the legacy AttributeUpdates form is not supported)"
        )
    exprs = ex.compile(
        condition=req.condition_expression,
        update=req.update_expression,
        names=req.expression_attribute_names,
        values=req.expression_attribute_values,
    )

    def step(staged: Staged) -> tuple[list[Change], WriteResult]:
        old = staged.get(table.name, where.partition, where.key)
        check(exprs, old, want_old)
        done = ex.apply(exprs, old if old is not None else dict(where.keys), table)
        new = done.item
        changes = [] if old == new else [_change(where, old, new)]
        result = {
            "ALL_OLD": old,
            "ALL_NEW": new,
            "UPDATED_OLD": done.updated_old or None,
            "UPDATED_NEW": done.updated_new or None,
        }.get(rv)
        return changes, WriteResult(result)

    return where, step


def _change(where: Located, old: Item | None, new: Item | None) -> Change:
    return Change(where.table, where.partition, where.key, where.keys, old, new)


@dataclass(frozen=True)
class BatchWrite:
    """One entry of BatchWriteItem: a put (item) or a delete (key)."""

    item: Item | None = None
    key: Item | None = None


def batch_write_steps(
    tables: Mapping[str, TableDef], request_items: Mapping[str, list[BatchWrite]]
) -> list[tuple[Located, Item | None]]:
    """Validate BatchWriteItem (1-25 requests, no key twice) into (where, new image or None)."""
    total = sum(len(v) for v in request_items.values())
    if total == 0:
        raise ValidationException(
            "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"
        )
    if total > 25:
        raise ValidationException(
            "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: "
            "Map value must satisfy constraint: [Member must have length less than or equal to "
            "25, Member must have length greater than or equal to 1]"
        )
    out: list[tuple[Located, Item | None]] = []
    seen: set[tuple[str, str]] = set()
    for name, entries in request_items.items():
        table = tables[name]
        for e in entries:
            if (e.item is None) == (e.key is None):
                raise ValidationException(
                    "Supplied AttributeValue has more than one datatypes set, must contain "
                    "exactly one of the supported datatypes"
                )
            if e.item is not None:
                item = validate_item(e.item)
                where = locate(table, item_key(table, item))
                out.append((where, item))
            else:
                assert e.key is not None
                where = locate(table, exact_key(table, e.key))
                out.append((where, None))
            if (name, where.key) in seen:
                raise ValidationException("Provided list of item keys contains duplicates")
            seen.add((name, where.key))
    return out


def batch_step(
    writes: list[tuple[Located, Item | None]],
) -> Callable[[Staged], tuple[list[Change], None]]:
    def step(staged: Staged) -> tuple[list[Change], None]:
        changes = []
        for where, new in writes:
            old = staged.get(where.table.name, where.partition, where.key)
            if old != new:
                changes.append(_change(where, old, new))
        return changes, None

    return step
