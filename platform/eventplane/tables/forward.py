"""Single-partition requests sent on to the replica that owns the partition.

The gRPC servicer forwards its own request message when the engine answers
NotOwner; a request that came in through another door (the AWS-protocol gateway)
has no such message, so this module writes the engine's typed input as the
forwarded Tables gRPC request and reads the owner's answer back into the engine's
result or exception. The owner serves it from its partitions only (the
``x-eventplane-forwarded`` metadata), exactly as a forwarded gRPC call.
"""

from __future__ import annotations

from typing import Any

import grpc

from eventplane._gen.v1 import tables_pb2 as pb
from eventplane.errors import from_rpc
from eventplane.errors.tables import (
    ConditionalCheckFailedException,
    TransactionCanceledException,
)
from eventplane.security.peers import Peers
from eventplane.tables import items as it
from eventplane.tables import reads as rd
from eventplane.tables import transact_get as tg
from eventplane.tables import transact_wire as tw
from eventplane.tables import transactions as tx
from eventplane.tables.remote import transact_get_request
from eventplane.tables.wire import dump, dump_values, parse_item

Item = dict[str, Any]


def _written(r: pb.WriteItemResponse) -> it.WriteResult:
    if r.HasField("condition_failure"):
        failure = r.condition_failure
        raise ConditionalCheckFailedException(
            failure.message, parse_item(failure.item, "Item") or None
        )
    return it.WriteResult(parse_item(r.attributes, "Attributes") or None)


class Forwarding:
    """The engine's single-partition calls, made on another replica over gRPC."""

    def __init__(self, forwarder: Peers) -> None:
        self._f = forwarder

    async def _call(self, address: str, rpc: str, request: Any) -> Any:
        try:
            return await getattr(self._f.stub(address), rpc)(
                request, metadata=self._f.metadata(), timeout=30
            )
        except grpc.RpcError as err:
            raise from_rpc(err) from None

    async def put_item(self, address: str, req: it.PutItemInput) -> it.WriteResult:
        r = await self._call(
            address,
            "PutItem",
            pb.PutItemRequest(
                table_name=req.table_name,
                item=dump(req.item),
                condition_expression=req.condition_expression,
                expression_attribute_names=dict(req.expression_attribute_names or {}),
                expression_attribute_values=dump_values(req.expression_attribute_values or {}),
                return_values=req.return_values,
                return_values_on_condition_check_failure=(
                    req.return_values_on_condition_check_failure
                ),
            ),
        )
        return _written(r)

    async def update_item(self, address: str, req: it.UpdateItemInput) -> it.WriteResult:
        r = await self._call(
            address,
            "UpdateItem",
            pb.UpdateItemRequest(
                table_name=req.table_name,
                key=dump(req.key),
                update_expression=req.update_expression,
                condition_expression=req.condition_expression,
                expression_attribute_names=dict(req.expression_attribute_names or {}),
                expression_attribute_values=dump_values(req.expression_attribute_values or {}),
                return_values=req.return_values,
                return_values_on_condition_check_failure=(
                    req.return_values_on_condition_check_failure
                ),
            ),
        )
        return _written(r)

    async def delete_item(self, address: str, req: it.DeleteItemInput) -> it.WriteResult:
        r = await self._call(
            address,
            "DeleteItem",
            pb.DeleteItemRequest(
                table_name=req.table_name,
                key=dump(req.key),
                condition_expression=req.condition_expression,
                expression_attribute_names=dict(req.expression_attribute_names or {}),
                expression_attribute_values=dump_values(req.expression_attribute_values or {}),
                return_values=req.return_values,
                return_values_on_condition_check_failure=(
                    req.return_values_on_condition_check_failure
                ),
            ),
        )
        return _written(r)

    async def get_item(self, address: str, req: rd.GetItemInput) -> Item | None:
        r = await self._call(
            address,
            "GetItem",
            pb.GetItemRequest(
                table_name=req.table_name,
                key=dump(req.key),
                consistent_read=req.consistent_read,
                projection_expression=req.projection_expression,
                expression_attribute_names=dict(req.expression_attribute_names or {}),
            ),
        )
        return parse_item(r.item, "Item") if r.item else None

    async def query(self, address: str, req: rd.QueryInput) -> rd.Page:
        r = await self._call(
            address,
            "Query",
            pb.QueryRequest(
                table_name=req.table_name,
                index_name=req.index_name,
                key_condition_expression=req.key_condition_expression,
                filter_expression=req.filter_expression,
                projection_expression=req.projection_expression,
                expression_attribute_names=dict(req.expression_attribute_names or {}),
                expression_attribute_values=dump_values(req.expression_attribute_values or {}),
                scan_index_forward=req.scan_index_forward,
                limit=req.limit,
                exclusive_start_key=dump(req.exclusive_start_key),
                select=req.select,
                consistent_read=req.consistent_read,
            ),
        )
        return rd.Page(
            [parse_item(i, "Items") for i in r.items],
            r.count,
            r.scanned_count,
            parse_item(r.last_evaluated_key, "LastEvaluatedKey") or None,
            r.bytes_used,
        )

    async def transact_get_items(self, address: str, gets: list[tg.TransactGet]) -> tg.Snapshot:
        r = await self._call(address, "TransactGetItems", transact_get_request(gets))
        if r.cancellation_reasons:
            raise TransactionCanceledException(
                r.cancelled_message, tw.reasons(r.cancellation_reasons)
            )
        return tg.Snapshot(
            [parse_item(x.item, "Item") if x.item else None for x in r.responses], list(r.versions)
        )

    async def transact_write_items(
        self, address: str, actions: list[tx.TransactAction], token: str
    ) -> bool:
        r = await self._call(
            address,
            "TransactWriteItems",
            tw.request(actions, token),
        )
        tw.raise_cancelled(r)
        return False
