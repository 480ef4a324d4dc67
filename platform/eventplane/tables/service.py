"""The Tables gRPC service: DynamoDB JSON text in, the engine's typed calls, JSON text out.

No behaviour lives here: parsing the JSON fields (with a ValidationException
naming the field) and shaping responses is all it does.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

import grpc

from eventplane._gen.v1 import table_transactions_pb2 as txpb
from eventplane._gen.v1 import tables_pb2 as pb
from eventplane._gen.v1 import tables_pb2_grpc
from eventplane.errors import from_rpc
from eventplane.tables import items as it
from eventplane.tables import reads as rd
from eventplane.tables import references
from eventplane.tables import transact_get as tg
from eventplane.tables import transact_wire as tw
from eventplane.tables import transactions as tx
from eventplane.tables.engine import TableEngine, TableStatus
from eventplane.tables.expr import ConditionalCheckFailedException
from eventplane.tables.indexes import IndexDef, Projection, SecondaryIndex
from eventplane.tables.model import (
    AttributeDefinition,
    CreateTableInput,
    KeySchemaElement,
    ProvisionedThroughput,
    StreamSpecification,
    TimeToLive,
)
from eventplane.tables.remote import GrpcRemote
from eventplane.tables.routing import FORWARDED, NotOwner, forwarder
from eventplane.tables.stream_api import StreamsApi
from eventplane.tables.table_updates import GlobalSecondaryIndexUpdate, UpdateTableInput
from eventplane.tables.wire import dump, parse_item, parse_values

Ctx: TypeAlias = grpc.aio.ServicerContext
Item = dict[str, Any]


def describe(s: TableStatus) -> pb.TableDescription:
    t = s.table
    return pb.TableDescription(
        table_name=t.plain_name,
        table_arn=t.arn,
        table_id=t.table_id,
        table_status=s.status,
        key_schema=[
            pb.KeySchemaElement(attribute_name=k.attribute_name, key_type=k.key_type)
            for k in t.key_schema()
        ],
        attribute_definitions=[
            pb.AttributeDefinition(attribute_name=d.attribute_name, attribute_type=d.attribute_type)
            for d in t.attribute_definitions()
        ],
        creation_date_time=t.created_ms / 1000,
        item_count=s.item_count,
        table_size_bytes=s.size_bytes,
        stream_specification=pb.StreamSpecification(
            stream_enabled=t.stream.stream_enabled, stream_view_type=t.stream.stream_view_type
        ),
        latest_stream_arn=t.stream_arn,
        latest_stream_label=t.stream_label,
        partitions=t.partitions,
        billing_mode=t.billing_mode,
        provisioned_throughput=_throughput_pb(t.throughput),
        deletion_protection_enabled=t.deletion_protection,
        global_secondary_indexes=[_index_pb(s, d) for d in t.gsis],
        local_secondary_indexes=[_index_pb(s, d) for d in t.lsis],
    )


def _index_pb(s: TableStatus, d: IndexDef) -> pb.IndexDescription:
    count, size = s.indexes.get(d.name, (0, 0))
    return pb.IndexDescription(
        index_name=d.name,
        key_schema=[pb.KeySchemaElement(attribute_name=n, key_type=k) for n, k in d.key_schema()],
        projection=pb.Projection(
            projection_type=d.projection.projection_type,
            non_key_attributes=list(d.projection.non_key_attributes),
        ),
        index_arn=s.table.index_arn(d.name),
        index_status=d.status if d.is_global else "",
        backfilling=d.backfilling,
        item_count=count,
        index_size_bytes=size,
    )


def _indexes(given: Any) -> list[SecondaryIndex]:
    return [_index(i) for i in given]


def _index(i: Any) -> SecondaryIndex:
    return SecondaryIndex(
        i.index_name,
        [KeySchemaElement(k.attribute_name, k.key_type) for k in i.key_schema],
        Projection(i.projection.projection_type, tuple(i.projection.non_key_attributes)),
    )


def _throughput_pb(t: ProvisionedThroughput | None) -> pb.ProvisionedThroughput:
    if t is None:
        return pb.ProvisionedThroughput()
    return pb.ProvisionedThroughput(
        read_capacity_units=t.read_capacity_units, write_capacity_units=t.write_capacity_units
    )


def _throughput(request: Any) -> ProvisionedThroughput | None:
    if not request.HasField("provisioned_throughput"):
        return None
    t = request.provisioned_throughput
    return ProvisionedThroughput(t.read_capacity_units, t.write_capacity_units)


async def _written(call: Any) -> pb.WriteItemResponse:
    try:
        result: it.WriteResult = await call
    except ConditionalCheckFailedException as exc:
        return pb.WriteItemResponse(
            condition_failure=pb.ConditionFailure(message=exc.message, item=dump(exc.item))
        )
    return pb.WriteItemResponse(attributes=dump(result.attributes))


def _page(page: rd.Page) -> pb.ItemPage:
    return pb.ItemPage(
        items=[dump(i) for i in page.items],
        count=page.count,
        scanned_count=page.scanned_count,
        last_evaluated_key=dump(page.last_evaluated_key),
        bytes_used=page.size_bytes,
    )


Handler = Callable[[Any, Any, Ctx], Awaitable[Any]]


def routed(rpc: str) -> Callable[[Handler], Handler]:
    """Serve a call here, or send it to the replica that owns its partition (its table
    names rewritten to the internal ones first: ``references.internal_names``)."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def serve(self: TablesService, request: Any, context: Ctx) -> Any:
            references.GIVEN.set(references.internal_names(request, self.engine.internal))
            try:
                return await handler(self, request, context)
            except NotOwner as exc:
                stub = self.forwarder.stub(exc.address)
                try:
                    return await getattr(stub, rpc)(
                        request, metadata=self.forwarder.metadata(), timeout=30
                    )
                except grpc.RpcError as err:
                    raise from_rpc(err) from None

        return serve

    return wrap


class TablesService(tables_pb2_grpc.TablesServicer):
    def __init__(self, engine: TableEngine) -> None:
        self.engine = engine
        self.streams = StreamsApi(
            engine.tables, engine.lookup, engine.readers, engine.signer, engine.clock
        )
        self.forwarder = forwarder(engine.forward_token, engine.settings)
        engine.remote = GrpcRemote(forwarder(engine.forward_token, engine.settings))

    def is_forwarded(self, context: Ctx) -> bool:
        """Whether another replica sent this call to its internal ``TableOwners`` service
        (the only way one is served as forwarded: see ``security.peers.PeerService``)."""
        return FORWARDED.get()

    # --- tables ---------------------------------------------------------------------------
    async def CreateTable(self, request: pb.CreateTableRequest, context: Ctx) -> Any:
        spec = request.stream_specification
        status = await self.engine.create_table(
            CreateTableInput(
                table_name=request.table_name,
                key_schema=[
                    KeySchemaElement(k.attribute_name, k.key_type) for k in request.key_schema
                ],
                attribute_definitions=[
                    AttributeDefinition(d.attribute_name, d.attribute_type)
                    for d in request.attribute_definitions
                ],
                stream_specification=StreamSpecification(
                    spec.stream_enabled, spec.stream_view_type
                ),
                partitions=request.partitions,
                billing_mode=request.billing_mode,
                provisioned_throughput=_throughput(request),
                deletion_protection_enabled=request.deletion_protection_enabled,
                global_secondary_indexes=_indexes(request.global_secondary_indexes),
                local_secondary_indexes=_indexes(request.local_secondary_indexes),
                tags=[(t.key, t.value) for t in request.tags],
            )
        )
        return pb.TableDescriptionResponse(table=describe(status))

    async def DescribeTable(self, request: pb.TableNameRequest, context: Ctx) -> Any:
        return pb.TableDescriptionResponse(
            table=describe(
                await self.engine.describe_table(self.engine.internal(request.table_name))
            )
        )

    async def ListTables(self, request: pb.ListTablesRequest, context: Ctx) -> Any:
        names, last = self.engine.list_tables(request.exclusive_start_table_name, request.limit)
        return pb.ListTablesResponse(table_names=names, last_evaluated_table_name=last or "")

    async def DeleteTable(self, request: pb.TableNameRequest, context: Ctx) -> Any:
        status = await self.engine.delete_table(self.engine.internal(request.table_name))
        return pb.TableDescriptionResponse(table=describe(status))

    async def UpdateTable(self, request: pb.UpdateTableRequest, context: Ctx) -> Any:
        spec = request.stream_specification
        status = await self.engine.update_table(
            UpdateTableInput(
                table_name=self.engine.internal(request.table_name),
                stream_specification=(
                    StreamSpecification(spec.stream_enabled, spec.stream_view_type)
                    if request.HasField("stream_specification")
                    else None
                ),
                billing_mode=request.billing_mode,
                provisioned_throughput=_throughput(request),
                deletion_protection_enabled=(
                    request.deletion_protection_enabled
                    if request.HasField("deletion_protection_enabled")
                    else None
                ),
                attribute_definitions=[
                    AttributeDefinition(d.attribute_name, d.attribute_type)
                    for d in request.attribute_definitions
                ],
                global_secondary_index_updates=[
                    GlobalSecondaryIndexUpdate(
                        create=_index(u.create) if u.HasField("create") else None,
                        delete_index_name=u.delete_index_name,
                    )
                    for u in request.global_secondary_index_updates
                ],
                partitions=request.partitions,
            )
        )
        return pb.TableDescriptionResponse(table=describe(status))

    async def UpdateTimeToLive(self, request: pb.UpdateTimeToLiveRequest, context: Ctx) -> Any:
        spec = request.time_to_live_specification
        done = await self.engine.update_time_to_live(
            self.engine.internal(request.table_name), TimeToLive(spec.attribute_name, spec.enabled)
        )
        return pb.UpdateTimeToLiveResponse(
            time_to_live_specification=pb.TimeToLiveSpecification(
                attribute_name=done.attribute_name, enabled=done.enabled
            )
        )

    async def DescribeTimeToLive(self, request: pb.TableNameRequest, context: Ctx) -> Any:
        ttl = self.engine.describe_time_to_live(self.engine.internal(request.table_name))
        return pb.DescribeTimeToLiveResponse(
            time_to_live_description=pb.TimeToLiveDescription(
                time_to_live_status="ENABLED" if ttl.enabled else "DISABLED",
                attribute_name=ttl.attribute_name if ttl.enabled else "",
            )
        )

    async def PartitionStats(self, request: pb.TableNameRequest, context: Ctx) -> Any:
        return pb.PartitionStatsResponse(
            partitions=[
                pb.PartitionStat(
                    partition=s.partition,
                    item_count=s.item_count,
                    size_bytes=s.size_bytes,
                    index_item_counts={n: c for n, (c, _) in s.indexes.items()},
                    index_size_bytes={n: b for n, (_, b) in s.indexes.items()},
                    layout=s.layout,
                )
                for s in self.engine.partition_stats(self.engine.internal(request.table_name))
            ]
        )

    # --- items ------------------------------------------------------------------------------
    @routed("PutItem")
    async def PutItem(self, request: pb.PutItemRequest, context: Ctx) -> Any:
        req = it.PutItemInput(
            table_name=request.table_name,
            item=parse_item(request.item, "Item"),
            condition_expression=request.condition_expression,
            expression_attribute_names=dict(request.expression_attribute_names) or None,
            expression_attribute_values=parse_values(request.expression_attribute_values) or None,
            return_values=request.return_values,
            return_values_on_condition_check_failure=(
                request.return_values_on_condition_check_failure
            ),
        )
        return await _written(self.engine.put_item(req))

    @routed("UpdateItem")
    async def UpdateItem(self, request: pb.UpdateItemRequest, context: Ctx) -> Any:
        req = it.UpdateItemInput(
            table_name=request.table_name,
            key=parse_item(request.key, "Key"),
            update_expression=request.update_expression,
            condition_expression=request.condition_expression,
            expression_attribute_names=dict(request.expression_attribute_names) or None,
            expression_attribute_values=parse_values(request.expression_attribute_values) or None,
            return_values=request.return_values,
            return_values_on_condition_check_failure=(
                request.return_values_on_condition_check_failure
            ),
        )
        return await _written(self.engine.update_item(req))

    @routed("DeleteItem")
    async def DeleteItem(self, request: pb.DeleteItemRequest, context: Ctx) -> Any:
        req = it.DeleteItemInput(
            table_name=request.table_name,
            key=parse_item(request.key, "Key"),
            condition_expression=request.condition_expression,
            expression_attribute_names=dict(request.expression_attribute_names) or None,
            expression_attribute_values=parse_values(request.expression_attribute_values) or None,
            return_values=request.return_values,
            return_values_on_condition_check_failure=(
                request.return_values_on_condition_check_failure
            ),
        )
        return await _written(self.engine.delete_item(req))

    @routed("GetItem")
    async def GetItem(self, request: pb.GetItemRequest, context: Ctx) -> Any:
        item = await self.engine.get_item(
            rd.GetItemInput(
                table_name=request.table_name,
                key=parse_item(request.key, "Key"),
                consistent_read=request.consistent_read,
                projection_expression=request.projection_expression,
                expression_attribute_names=dict(request.expression_attribute_names) or None,
            )
        )
        return pb.GetItemResponse(item=dump(item))

    @routed("Query")
    async def Query(self, request: pb.QueryRequest, context: Ctx) -> Any:
        page = await self.engine.query(
            rd.QueryInput(
                table_name=request.table_name,
                index_name=request.index_name,
                key_condition_expression=request.key_condition_expression,
                filter_expression=request.filter_expression,
                projection_expression=request.projection_expression,
                expression_attribute_names=dict(request.expression_attribute_names) or None,
                expression_attribute_values=parse_values(request.expression_attribute_values)
                or None,
                scan_index_forward=(
                    request.scan_index_forward if request.HasField("scan_index_forward") else True
                ),
                limit=request.limit,
                exclusive_start_key=parse_item(request.exclusive_start_key, "ExclusiveStartKey")
                or None,
                select=request.select,
                consistent_read=request.consistent_read,
            ),
            list(request.index_partitions)
            if request.index_partitions and self.is_forwarded(context)
            else None,
        )
        return _page(page)

    @routed("Scan")
    async def Scan(self, request: pb.ScanRequest, context: Ctx) -> Any:
        page = await self.engine.scan(
            rd.ScanInput(
                table_name=request.table_name,
                index_name=request.index_name,
                filter_expression=request.filter_expression,
                projection_expression=request.projection_expression,
                expression_attribute_names=dict(request.expression_attribute_names) or None,
                expression_attribute_values=parse_values(request.expression_attribute_values)
                or None,
                limit=request.limit,
                exclusive_start_key=parse_item(request.exclusive_start_key, "ExclusiveStartKey")
                or None,
                select=request.select,
                segment=request.segment if request.HasField("segment") else None,
                total_segments=(
                    request.total_segments if request.HasField("total_segments") else None
                ),
                consistent_read=request.consistent_read,
            ),
            *((request.from_partition, request.bytes_used) if self.is_forwarded(context) else ()),
        )
        return _page(page)

    @routed("BatchGetItem")
    async def BatchGetItem(self, request: pb.BatchGetItemRequest, context: Ctx) -> Any:
        wanted = {
            name: rd.KeysAndAttributes(
                keys=[parse_item(k, "Keys") for k in ka.keys],
                projection_expression=ka.projection_expression,
                expression_attribute_names=dict(ka.expression_attribute_names) or None,
                consistent_read=ka.consistent_read,
            )
            for name, ka in request.request_items.items()
        }
        found = await self.engine.batch_get_item(wanted)
        # Keyed as asked (a forwarded call asks by the internal names).
        given = references.GIVEN.get({})
        return pb.BatchGetItemResponse(
            responses={
                given.get(n, n): pb.ItemList(items=[dump(i) for i in items])
                for n, items in found.items()
            }
        )

    @routed("BatchWriteItem")
    async def BatchWriteItem(self, request: pb.BatchWriteItemRequest, context: Ctx) -> Any:
        writes = {
            name: [
                it.BatchWrite(
                    item=parse_item(w.put_item, "PutRequest.Item") if w.put_item else None,
                    key=parse_item(w.delete_key, "DeleteRequest.Key") if w.delete_key else None,
                )
                for w in lst.requests
            ]
            for name, lst in request.request_items.items()
        }
        await self.engine.batch_write_item(writes)
        return pb.BatchWriteItemResponse()

    @routed("TransactWriteItems")
    async def TransactWriteItems(self, request: pb.TransactWriteItemsRequest, context: Ctx) -> Any:
        actions = tw.actions(request)
        try:
            await self.engine.transact_write_items(actions, request.client_request_token)
        except tx.TransactionCanceledException as exc:
            return pb.TransactWriteItemsResponse(
                cancelled_message=exc.message,
                cancellation_reasons=tw.reasons_pb(exc.cancellation_reasons),
            )
        return pb.TransactWriteItemsResponse()

    # --- a cross-replica transaction's calls on this replica (internal service only) -------
    async def TxPrepare(self, request: txpb.TxPrepareRequest, context: Ctx) -> Any:
        prepared = await self.engine.participant.prepare(
            request.transaction_id,
            tw.actions(request.request),
            request.request.client_request_token,
            request.fingerprint,
        )
        return txpb.TxPrepareResponse(
            cancellation_reasons=tw.reasons_pb(prepared.reasons or ()),
            replay=prepared.replay,
            records=[
                txpb.TxRecord(
                    topic=topic,
                    partition=partition,
                    key=key,
                    value=value or b"",
                    tombstone=value is None,
                    headers=[txpb.TxHeader(key=k, value=v or b"") for k, v in headers],
                )
                for topic, partition, key, value, headers in prepared.records
            ],
        )

    async def TxConfirm(self, request: txpb.TxDecideRequest, context: Ctx) -> Any:
        return txpb.TxDecideResponse(held=self.engine.participant.confirm(request.transaction_id))

    async def TxCommit(self, request: txpb.TxDecideRequest, context: Ctx) -> Any:
        self.engine.participant.commit(request.transaction_id)
        return txpb.TxDecideResponse()

    async def TxAbort(self, request: txpb.TxDecideRequest, context: Ctx) -> Any:
        self.engine.participant.abort(request.transaction_id)
        return txpb.TxDecideResponse()

    @routed("TransactGetItems")
    async def TransactGetItems(self, request: pb.TransactGetItemsRequest, context: Ctx) -> Any:
        gets = [
            tg.TransactGet(
                table_name=g.table_name,
                key=parse_item(g.key, "Get.Key"),
                projection_expression=g.projection_expression,
                expression_attribute_names=dict(g.expression_attribute_names) or None,
            )
            for g in request.transact_items
        ]
        try:
            snap = await self.engine.transact_get_items(gets)
        except tx.TransactionCanceledException as exc:
            return pb.TransactGetItemsResponse(
                cancelled_message=exc.message,
                cancellation_reasons=tw.reasons_pb(exc.cancellation_reasons),
            )
        return pb.TransactGetItemsResponse(
            responses=[pb.ItemResponse(item=dump(i)) for i in snap.items],
            versions=snap.versions if self.is_forwarded(context) else [],
        )

    # --- tags (the engine's rules: tables/tags.py) ---------------------------------------
    async def TagResource(self, request: pb.TagTableRequest, context: Ctx) -> Any:
        pairs = [(t.key, t.value) for t in request.tags]
        await self.engine.tag_resource(request.resource_arn, pairs)
        return pb.TagTableResponse()

    async def UntagResource(self, request: pb.UntagTableRequest, context: Ctx) -> Any:
        await self.engine.untag_resource(request.resource_arn, list(request.tag_keys))
        return pb.UntagTableResponse()

    async def ListTagsOfResource(self, request: pb.ListTableTagsRequest, context: Ctx) -> Any:
        page, token = self.engine.list_tags_of_resource(request.resource_arn, request.next_token)
        return pb.ListTableTagsResponse(
            tags=[pb.TableTag(key=k, value=v) for k, v in page], next_token=token
        )

    # --- streams -------------------------------------------------------------------------
    async def ListStreams(self, request: pb.ListStreamsRequest, context: Ctx) -> Any:
        found, last = self.streams.list_streams(
            request.table_name, request.limit, request.exclusive_start_stream_arn
        )
        return pb.ListStreamsResponse(
            streams=[
                pb.StreamSummary(
                    stream_arn=s.stream_arn, table_name=s.table_name, stream_label=s.stream_label
                )
                for s in found
            ],
            last_evaluated_stream_arn=last or "",
        )

    async def DescribeStream(self, request: pb.DescribeStreamRequest, context: Ctx) -> Any:
        d = await self.streams.describe_stream(
            request.stream_arn, request.limit, request.exclusive_start_shard_id
        )
        return pb.DescribeStreamResponse(
            stream_description=pb.StreamDescription(
                stream_arn=d.stream_arn,
                stream_label=d.stream_label,
                stream_status=d.status,
                stream_view_type=d.view_type,
                creation_request_date_time=d.table.created_ms / 1000,
                table_name=d.table.plain_name,
                key_schema=[
                    pb.KeySchemaElement(attribute_name=k.attribute_name, key_type=k.key_type)
                    for k in d.table.key_schema()
                ],
                shards=[
                    pb.Shard(
                        shard_id=s.shard_id,
                        parent_shard_id=s.parent_shard_id,
                        sequence_number_range=pb.SequenceNumberRange(
                            starting_sequence_number=s.starting_sequence_number,
                            ending_sequence_number=s.ending_sequence_number,
                        ),
                    )
                    for s in d.shards
                ],
                last_evaluated_shard_id=d.last_evaluated_shard_id or "",
            )
        )

    async def GetShardIterator(self, request: pb.GetShardIteratorRequest, context: Ctx) -> Any:
        token = await self.streams.get_shard_iterator(
            request.stream_arn,
            request.shard_id,
            request.shard_iterator_type,
            request.sequence_number,
        )
        return pb.GetShardIteratorResponse(shard_iterator=token)

    async def GetRecords(self, request: pb.GetRecordsRequest, context: Ctx) -> Any:
        page = await self.streams.get_records(request.shard_iterator, request.limit)
        return pb.GetRecordsResponse(
            records=[
                json.dumps(r, separators=(",", ":"), ensure_ascii=False) for r in page.records
            ],
            next_shard_iterator=page.next_shard_iterator,
        )
