"""The engine's calls to other replicas' partitions, as forwarded Tables gRPC requests."""

from __future__ import annotations

from typing import Any

import grpc

from eventplane._gen.v1 import table_transactions_pb2 as txpb
from eventplane._gen.v1 import tables_pb2 as pb
from eventplane.errors import from_rpc
from eventplane.errors.tables import TransactionCanceledException
from eventplane.security.peers import Peers
from eventplane.tables import items as it
from eventplane.tables import reads as rd
from eventplane.tables import transact_get as tg
from eventplane.tables import transact_wire as tw
from eventplane.tables import transactions as tx
from eventplane.tables.coordinator import Prepared
from eventplane.tables.routing import PartitionStat
from eventplane.tables.wire import dump, dump_values, parse_item

Item = dict[str, Any]


class GrpcRemote:
    """The engine's calls to other replicas' partitions, as forwarded gRPC requests."""

    def __init__(self, forwarder: Peers) -> None:
        self._f = forwarder

    async def _call(self, address: str, rpc: str, request: Any, timeout: float = 30) -> Any:
        try:
            return await getattr(self._f.stub(address), rpc)(
                request, metadata=self._f.metadata(), timeout=timeout
            )
        except grpc.RpcError as err:
            raise from_rpc(err) from None

    async def scan(
        self, address: str, req: rd.ScanInput, from_partition: int, bytes_used: int
    ) -> rd.Page:
        r = await self._call(
            address,
            "Scan",
            pb.ScanRequest(
                table_name=req.table_name,
                index_name=req.index_name,
                filter_expression=req.filter_expression,
                projection_expression=req.projection_expression,
                expression_attribute_names=dict(req.expression_attribute_names or {}),
                expression_attribute_values=dump_values(req.expression_attribute_values or {}),
                limit=req.limit,
                exclusive_start_key=dump(req.exclusive_start_key),
                select=req.select,
                segment=req.segment,
                total_segments=req.total_segments,
                from_partition=from_partition,
                bytes_used=bytes_used,
            ),
        )
        return rd.Page(
            [parse_item(i, "Items") for i in r.items],
            r.count,
            r.scanned_count,
            parse_item(r.last_evaluated_key, "LastEvaluatedKey") or None,
            r.bytes_used,
        )

    async def index_query(
        self, address: str, req: rd.QueryInput, partitions: list[int]
    ) -> list[Item]:
        """That replica's candidates of a GSI query from ``partitions``, in index order."""
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
                index_partitions=partitions,
            ),
        )
        return [parse_item(i, "Items") for i in r.items]

    async def batch_write(self, address: str, writes: dict[str, list[it.BatchWrite]]) -> None:
        await self._call(
            address,
            "BatchWriteItem",
            pb.BatchWriteItemRequest(
                request_items={
                    name: pb.WriteRequestList(
                        requests=[
                            pb.WriteRequest(put_item=dump(w.item), delete_key=dump(w.key))
                            for w in entries
                        ]
                    )
                    for name, entries in writes.items()
                }
            ),
        )

    async def partition_stats(self, address: str, table_name: str) -> list[PartitionStat]:
        # Short: a replica that died without leaving the group must not hold up
        # DescribeTable (its partitions count as unowned until the group moves them).
        r = await self._call(
            address, "PartitionStats", pb.TableNameRequest(table_name=table_name), timeout=2
        )
        return [
            PartitionStat(
                s.partition,
                s.item_count,
                s.size_bytes,
                {n: (c, s.index_size_bytes.get(n, 0)) for n, c in s.index_item_counts.items()},
                s.layout,
            )
            for s in r.partitions
        ]

    async def transact_get(self, address: str, gets: list[tg.TransactGet]) -> tg.Snapshot:
        r = await self._call(address, "TransactGetItems", transact_get_request(gets))
        if r.cancellation_reasons:
            raise TransactionCanceledException(
                r.cancelled_message, tw.reasons(r.cancellation_reasons)
            )
        return tg.Snapshot(
            [parse_item(x.item, "Item") if x.item else None for x in r.responses],
            list(r.versions),
        )

    async def tx_prepare(
        self,
        address: str,
        transaction_id: str,
        actions: list[tx.TransactAction],
        token: str,
        fingerprint: str,
    ) -> Prepared:
        r = await self._call(
            address,
            "TxPrepare",
            txpb.TxPrepareRequest(
                transaction_id=transaction_id,
                request=tw.request(actions, token),
                fingerprint=fingerprint,
            ),
        )
        if r.cancellation_reasons:
            return Prepared(reasons=tw.reasons(r.cancellation_reasons))
        return Prepared(
            replay=r.replay,
            records=[
                (
                    x.topic,
                    x.partition,
                    x.key,
                    None if x.tombstone else x.value,
                    [(h.key, h.value) for h in x.headers],
                )
                for x in r.records
            ],
        )

    async def tx_decide(self, address: str, decision: str, transaction_id: str) -> bool:
        """TxConfirm (the answer: still held), TxCommit or TxAbort."""
        r = await self._call(
            address, decision, txpb.TxDecideRequest(transaction_id=transaction_id), timeout=5
        )
        return bool(r.held)

    async def batch_get(
        self, address: str, request_items: dict[str, rd.KeysAndAttributes]
    ) -> dict[str, list[Item]]:
        r = await self._call(
            address,
            "BatchGetItem",
            pb.BatchGetItemRequest(
                request_items={
                    name: pb.KeysAndAttributes(
                        keys=[dump(k) for k in ka.keys],
                        projection_expression=ka.projection_expression,
                        expression_attribute_names=dict(ka.expression_attribute_names or {}),
                        consistent_read=ka.consistent_read,
                    )
                    for name, ka in request_items.items()
                }
            ),
        )
        return {n: [parse_item(i, "Item") for i in v.items] for n, v in r.responses.items()}

    async def close(self) -> None:
        await self._f.close()


def transact_get_request(gets: list[tg.TransactGet]) -> pb.TransactGetItemsRequest:
    return pb.TransactGetItemsRequest(
        transact_items=[
            pb.TransactGetItem(
                table_name=g.table_name,
                key=dump(g.key),
                projection_expression=g.projection_expression,
                expression_attribute_names=dict(g.expression_attribute_names or {}),
            )
            for g in gets
        ]
    )
