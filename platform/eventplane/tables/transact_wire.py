"""TransactWriteItems actions and cancellation reasons in their gRPC messages.

One translation for the three places that carry them between replicas: the
servicer (a client's or a forwarded request), the gateway's forwarding, and the
cross-replica transaction calls of ``coordinator.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

from eventplane._gen.v1 import tables_pb2 as pb
from eventplane.errors.tables import CancellationReason, TransactionCanceledException
from eventplane.tables import transactions as tx
from eventplane.tables.wire import dump, dump_values, parse_item, parse_values


def request(actions: Iterable[tx.TransactAction], token: str = "") -> pb.TransactWriteItemsRequest:
    return pb.TransactWriteItemsRequest(
        transact_items=[
            pb.TransactWriteItem(
                kind=a.kind,
                table_name=a.table_name,
                item=dump(a.item),
                key=dump(a.key),
                condition_expression=a.condition_expression,
                update_expression=a.update_expression,
                expression_attribute_names=dict(a.expression_attribute_names or {}),
                expression_attribute_values=dump_values(a.expression_attribute_values or {}),
                return_values_on_condition_check_failure=(
                    a.return_values_on_condition_check_failure
                ),
            )
            for a in actions
        ],
        client_request_token=token,
    )


def actions(request: pb.TransactWriteItemsRequest) -> list[tx.TransactAction]:
    return [
        tx.TransactAction(
            kind=a.kind,
            table_name=a.table_name,
            item=parse_item(a.item, "Put.Item") if a.item else None,
            key=parse_item(a.key, f"{a.kind}.Key") if a.key else None,
            condition_expression=a.condition_expression,
            update_expression=a.update_expression,
            expression_attribute_names=dict(a.expression_attribute_names) or None,
            expression_attribute_values=parse_values(a.expression_attribute_values) or None,
            return_values_on_condition_check_failure=a.return_values_on_condition_check_failure,
        )
        for a in request.transact_items
    ]


def reasons_pb(reasons: Iterable[CancellationReason]) -> list[pb.CancellationReason]:
    return [
        pb.CancellationReason(code=r.code, message=r.message, item=dump(r.item)) for r in reasons
    ]


def reasons(messages: Iterable[pb.CancellationReason]) -> list[CancellationReason]:
    return [
        CancellationReason(c.code, c.message, parse_item(c.item, "Item") or None) for c in messages
    ]


def raise_cancelled(r: pb.TransactWriteItemsResponse) -> None:
    """The TransactionCanceledException a response carries, if it does."""
    if r.cancellation_reasons:
        raise TransactionCanceledException(r.cancelled_message, reasons(r.cancellation_reasons))
