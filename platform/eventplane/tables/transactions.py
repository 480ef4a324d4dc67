"""TransactWriteItems: all or nothing, as one step of the owner's writer.

Every action is validated first; then, in the writer, every condition is
evaluated against the committed items and, only if all hold, every change goes
into the same Kafka transaction as one group (changelog images and stream
records of all items together). Kafka's transaction makes that atomic under a
SIGKILL at any point: read_committed readers (restores, streams) see all of it
or none of it. A transaction over the items of several replicas is coordinated
by ``coordinator.py`` on top of the same evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eventplane.errors import ValidationException
from eventplane.errors.tables import (
    CancellationReason,
    TransactionCanceledException,
    TransactionConflictException,
)
from eventplane.tables import expressions as ex
from eventplane.tables import item_collections as ic
from eventplane.tables import items as it
from eventplane.tables.expr import ConditionalCheckFailedException, item_size
from eventplane.tables.model import TableDef
from eventplane.tables.writer import Change, Staged

Item = dict[str, Any]
KINDS = ("Put", "Update", "Delete", "ConditionCheck")
MAX_ACTIONS = 100
MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class TransactAction:
    kind: str
    table_name: str
    item: Item | None = None
    key: Item | None = None
    condition_expression: str = ""
    update_expression: str = ""
    expression_attribute_names: Mapping[str, str] | None = None  # None: not given
    expression_attribute_values: Mapping[str, Any] | None = None
    return_values_on_condition_check_failure: str = ""


def _check_step(table: TableDef, a: TransactAction) -> tuple[it.Located, it.Step]:
    if not a.condition_expression:
        raise ValidationException("The ConditionExpression of a ConditionCheck must not be empty")
    where = it.locate(table, it.exact_key(table, a.key or {}))
    exprs = ex.compile(
        condition=a.condition_expression,
        names=a.expression_attribute_names,
        values=a.expression_attribute_values,
    )
    want_old = it.on_failure(a.return_values_on_condition_check_failure)

    def step(staged: Staged) -> tuple[list[Change], it.WriteResult]:
        old = staged.get(table.name, where.partition, where.key)
        it.check(exprs, old, want_old)
        return [], it.WriteResult()

    return where, step


def plan(
    tables: Mapping[str, TableDef], actions: list[TransactAction]
) -> list[tuple[it.Located, it.Step]]:
    """Validate the actions (1-100, one per item, 4 MB) into located write steps."""
    if not 1 <= len(actions) <= MAX_ACTIONS:
        raise ValidationException(
            "1 validation error detected: Value at 'transactItems' failed to satisfy "
            "constraint: Member must have length less than or equal to 100 and greater than "
            "or equal to 1"
        )
    steps: list[tuple[it.Located, it.Step]] = []
    size = 0
    for a in actions:
        table = tables[a.table_name]
        common: dict[str, Any] = {
            "condition_expression": a.condition_expression,
            "expression_attribute_names": a.expression_attribute_names,
            "expression_attribute_values": a.expression_attribute_values,
            "return_values_on_condition_check_failure": (
                a.return_values_on_condition_check_failure
            ),
        }
        if a.kind == "Put":
            steps.append(it.put_step(table, it.PutItemInput(a.table_name, a.item or {}, **common)))
            size += item_size(a.item or {})
        elif a.kind == "Update":
            steps.append(
                it.update_step(
                    table,
                    it.UpdateItemInput(
                        a.table_name, a.key or {}, update_expression=a.update_expression, **common
                    ),
                )
            )
        elif a.kind == "Delete":
            steps.append(
                it.delete_step(table, it.DeleteItemInput(a.table_name, a.key or {}, **common))
            )
        elif a.kind == "ConditionCheck":
            steps.append(_check_step(table, a))
        else:
            raise ValidationException(
                f"Invalid transact item kind {a.kind!r}: one of " + ", ".join(KINDS)
            )
    if size > MAX_BYTES:
        raise ValidationException("Transaction size has exceeded the maximum allowed size of 4 MB")
    seen = set()
    for where, _ in steps:
        k = (where.table.name, where.key)
        if k in seen:
            raise ValidationException(
                "Transaction request cannot include multiple operations on one item"
            )
        seen.add(k)
    return steps


def evaluate(
    steps: list[tuple[it.Located, it.Step]], staged: Staged
) -> tuple[list[Change], list[CancellationReason]]:
    """Every action against ``staged``: the changes, and one reason per action (all
    "None" when the transaction may commit)."""
    changes: list[Change] = []
    reasons: list[CancellationReason] = []
    for _, s in steps:
        try:
            mine, _ = s(staged)
        except ConditionalCheckFailedException as exc:
            reasons.append(CancellationReason("ConditionalCheckFailed", exc.message, exc.item))
            continue
        except TransactionConflictException as exc:
            # Another replica's transaction holds the item (``coordinator.py``).
            reasons.append(CancellationReason("TransactionConflict", exc.message))
            continue
        except ValidationException as exc:
            # What only the stored item shows (an update past 400 KB, a path that is
            # not in it, ADD to a string): DynamoDB cancels with this action's reason.
            reasons.append(CancellationReason("ValidationError", exc.message))
            continue
        if staged.over_collection_limit(changes + mine):
            reasons.append(CancellationReason("ItemCollectionSizeLimitExceeded", ic.MESSAGE))
            continue
        reasons.append(CancellationReason("None"))
        changes.extend(mine)
    return changes, reasons


def cancelled(reasons: list[CancellationReason]) -> bool:
    return any(r.code != "None" for r in reasons)


def cancel(reasons: list[CancellationReason]) -> TransactionCanceledException:
    return TransactionCanceledException(
        "Transaction cancelled, please refer cancellation reasons for specific reasons ["
        + ", ".join(r.code for r in reasons)
        + "]",
        reasons,
    )


def transaction_step(steps: list[tuple[it.Located, it.Step]]) -> Any:
    """One writer step: every condition, then every change, or the cancellation reasons."""

    def step(staged: Staged) -> tuple[list[Change], None]:
        changes, reasons = evaluate(steps, staged)
        if cancelled(reasons):
            raise cancel(reasons)
        return changes, None

    return step
