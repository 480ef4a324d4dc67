"""client.tables: DynamoDB-style tables and DynamoDB Streams; names follow boto3's clients.

    with Client() as ep:
        ep.tables.create_table(
            "users",
            key_schema=[("id", "HASH")],
            attribute_definitions=[("id", "S")],
            stream_view_type="NEW_AND_OLD_IMAGES",
        )
        users = ep.tables.table("users")          # plain Python values, like boto3's Table
        users.put_item({"id": "u1", "visits": 1})
        users.update_item({"id": "u1"}, "SET visits = visits + :one", values={":one": 1})
        print(users.get_item({"id": "u1"}))       # {'id': 'u1', 'visits': Decimal('2')}

The low-level methods take and return DynamoDB attribute values
(``{"id": {"S": "u1"}}``, binaries as ``bytes``); ``table(name)`` converts plain
Python values (str, int/Decimal, bytes, bool, None, dict, list, set) both ways.
A failed ConditionExpression raises ``ConditionalCheckFailedException`` with
``.item`` set when ``return_values_on_condition_check_failure="ALL_OLD"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from eventplane._gen.v1 import tables_pb2 as pb
from eventplane._gen.v1 import tables_pb2_grpc
from eventplane.client import _table_wire as w
from eventplane.client._channel import every_page
from eventplane.client._facade import BlockingFacade, ServiceCore, blocking
from eventplane.client._table_handle import AsyncTable, Table
from eventplane.client._table_types import (
    IndexDescription,
    ItemPage,
    RecordsPage,
    SecondaryIndex,
    Shard,
    StreamDescription,
    TableDescription,
    TimeToLiveDescription,
)

Item = dict[str, Any]


class AsyncTablesClient(ServiceCore):
    """asyncio Tables API; reach it as ``AsyncClient().tables``.

    The one implementation of every call: ``TablesClient`` runs these same
    methods over a blocking channel (see ``eventplane.client._facade``).
    """

    _stub_class = tables_pb2_grpc.TablesStub

    async def _run(self, call: w.Call) -> Any:
        rpc, req, parse = call
        return parse(await self._call(getattr(self._stub, rpc), req, self._timeout))

    def table(self, table_name: str) -> AsyncTable:
        """A handle that speaks plain Python values (like boto3's ``Table`` resource)."""
        return AsyncTable(self, table_name)

    async def create_table(
        self,
        table_name: str,
        *,
        key_schema: Sequence[tuple[str, str]],
        attribute_definitions: Sequence[tuple[str, str]],
        stream_view_type: str | None = None,
        partitions: int = 0,
        billing_mode: str = "",
        provisioned_throughput: tuple[int, int] | None = None,
        deletion_protection_enabled: bool = False,
        global_secondary_indexes: Sequence[w.IndexSpec] = (),
        local_secondary_indexes: Sequence[w.IndexSpec] = (),
        tags: Mapping[str, str] | None = None,
    ) -> TableDescription:
        """Create a table. ``key_schema``: [(name, "HASH"), (name, "RANGE")];
        indexes are ``SecondaryIndex`` values (or dicts in boto3's shape), their key
        attributes defined in ``attribute_definitions`` like the table's;
        ``stream_view_type`` (KEYS_ONLY, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES) turns the
        stream on; ``partitions`` is the Kafka partition count (default 4);
        ``provisioned_throughput`` is (read units, write units), echoed, not metered;
        ``tags`` within ``tag_resource``'s limits."""
        call = w.create(
            table_name,
            key_schema,
            attribute_definitions,
            stream_view_type,
            partitions,
            billing_mode,
            provisioned_throughput,
            deletion_protection_enabled,
            global_secondary_indexes,
            local_secondary_indexes,
            tags,
        )
        result: TableDescription = await self._run(call)
        return result

    async def update_table(
        self,
        table_name: str,
        *,
        stream_enabled: bool | None = None,
        stream_view_type: str | None = None,
        billing_mode: str = "",
        provisioned_throughput: tuple[int, int] | None = None,
        deletion_protection_enabled: bool | None = None,
        attribute_definitions: Sequence[tuple[str, str]] = (),
        global_secondary_index_updates: Sequence[Mapping[str, Any]] = (),
        partitions: int = 0,
    ) -> TableDescription:
        """UpdateTable; what is left None is not changed. One GSI change per call:
        ``[{"Create": SecondaryIndex(...)}]`` (its key attributes in
        ``attribute_definitions``; the index is CREATING while it backfills, then
        ACTIVE) or ``[{"Delete": {"IndexName": name}}]``. ``stream_enabled=True`` with a
        ``stream_view_type`` starts a new stream (a new LatestStreamArn), ``False`` stops
        it; a table with ``deletion_protection_enabled`` cannot be deleted.

        ``partitions`` (an eventplane extension) raises the table's partition count to a
        multiple of the current one: the table is UPDATING while its items move to the
        new partitions, then ACTIVE; its stream's open shards close and each new shard
        names its parent. Reads and writes of a partition being moved are refused with
        the retriable ServiceUnavailable for a moment."""
        call = w.update_table(
            table_name,
            stream_view_type,
            stream_enabled,
            billing_mode,
            provisioned_throughput,
            deletion_protection_enabled,
            attribute_definitions,
            global_secondary_index_updates,
            partitions,
        )
        result: TableDescription = await self._run(call)
        return result

    async def update_time_to_live(
        self, table_name: str, attribute_name: str, enabled: bool = True
    ) -> bool:
        """Enable (or disable) TTL on ``attribute_name``: items whose value there is a
        Number of epoch seconds in the past are deleted in the background. Returns
        ``enabled``."""
        result: bool = await self._run(w.update_ttl(table_name, attribute_name, enabled))
        return result

    async def describe_time_to_live(self, table_name: str) -> TimeToLiveDescription:
        result: TimeToLiveDescription = await self._run(w.describe_ttl(table_name))
        return result

    # --- tags ---------------------------------------------------------------------------

    async def tag_resource(self, resource_arn: str, tags: Mapping[str, str]) -> None:
        """Add tags to a table, setting the value of a key it already has.

        Args:
            resource_arn: the table's ARN (``TableDescription.table_arn``).
            tags: keys of 1-128 characters (not starting with ``aws:``) to values of up
                to 256, of letters, digits, spaces and ``_ . : / = + - @``; a table holds
                at most 50 tags.

        Raises:
            ValueError: ``tags`` is not a ``{str: str}`` dict; before anything is sent.
            EventplaneError: ``ResourceNotFoundException`` when the table does not exist;
                ``ValidationException`` for a tag or a number of tags over the limits, or
                an ARN that is not a table's.
        """
        await self._run(w.tag(resource_arn, tags))

    async def untag_resource(self, resource_arn: str, tag_keys: Iterable[str]) -> None:
        """Remove tags from a table; a key it does not have is ignored.

        Raises:
            ValueError: ``tag_keys`` is one string, not a list of them; before anything
                is sent.
            EventplaneError: ``ResourceNotFoundException`` when the table does not exist.
        """
        await self._run(w.untag(resource_arn, tag_keys))

    async def list_tags_of_resource(self, resource_arn: str) -> dict[str, str]:
        """The tags of a table, named by its ARN; follows every page.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the table does not exist.
        """

        async def fetch(token: str | None) -> tuple[list[tuple[str, str]], str | None]:
            page: tuple[list[tuple[str, str]], str | None] = await self._run(
                w.tags_page(resource_arn, token)
            )
            return page

        return dict(await every_page(fetch))

    async def describe_table(self, table_name: str) -> TableDescription:
        req = pb.TableNameRequest(table_name=table_name)
        result: TableDescription = await self._run(
            ("DescribeTable", req, lambda r: w.description(r.table))
        )
        return result

    async def list_tables(
        self, exclusive_start_table_name: str = "", limit: int = 0
    ) -> tuple[list[str], str | None]:
        """One page: (names, last evaluated name or None)."""
        req = pb.ListTablesRequest(
            exclusive_start_table_name=exclusive_start_table_name, limit=limit
        )
        reply = await self._call(self._stub.ListTables, req, self._timeout)
        return list(reply.table_names), reply.last_evaluated_table_name or None

    async def delete_table(self, table_name: str) -> TableDescription:
        req = pb.TableNameRequest(table_name=table_name)
        result: TableDescription = await self._run(
            ("DeleteTable", req, lambda r: w.description(r.table))
        )
        return result

    async def put_item(self, table_name: str, item: Mapping[str, Any], **kw: Any) -> Item | None:
        """PutItem; keyword arguments as boto3 in snake_case (condition_expression,
        expression_attribute_names/values, return_values,
        return_values_on_condition_check_failure). Returns the attributes asked for."""
        req = pb.PutItemRequest(table_name=table_name, item=w.dump(item), **w.write_kw(kw))
        return w.written(await self._call(self._stub.PutItem, req, self._timeout))

    async def update_item(self, table_name: str, key: Mapping[str, Any], **kw: Any) -> Item | None:
        """UpdateItem (update_expression, condition_expression, ...)."""
        req = pb.UpdateItemRequest(table_name=table_name, key=w.dump(key), **w.write_kw(kw))
        return w.written(await self._call(self._stub.UpdateItem, req, self._timeout))

    async def delete_item(self, table_name: str, key: Mapping[str, Any], **kw: Any) -> Item | None:
        req = pb.DeleteItemRequest(table_name=table_name, key=w.dump(key), **w.write_kw(kw))
        return w.written(await self._call(self._stub.DeleteItem, req, self._timeout))

    async def get_item(self, table_name: str, key: Mapping[str, Any], **kw: Any) -> Item | None:
        """The item, or None (projection_expression, expression_attribute_names,
        consistent_read)."""
        req = pb.GetItemRequest(table_name=table_name, key=w.dump(key), **kw)
        return w.load((await self._call(self._stub.GetItem, req, self._timeout)).item)

    async def query(self, table_name: str, key_condition_expression: str, **kw: Any) -> ItemPage:
        """One page of Query (filter_expression, projection_expression, limit,
        scan_index_forward, exclusive_start_key, select, names/values)."""
        result: ItemPage = await self._run(w.query(table_name, key_condition_expression, dict(kw)))
        return result

    async def scan(self, table_name: str, **kw: Any) -> ItemPage:
        """One page of Scan (filter_expression, limit, segment/total_segments, ...)."""
        result: ItemPage = await self._run(w.scan(table_name, dict(kw)))
        return result

    async def batch_get_item(
        self, request_items: Mapping[str, Mapping[str, Any]]
    ) -> dict[str, list[Item]]:
        result: dict[str, list[Item]] = await self._run(w.batch_get(request_items))
        return result

    async def batch_write_item(
        self, request_items: Mapping[str, Sequence[Mapping[str, Any]]]
    ) -> dict[str, list[Any]]:
        result: dict[str, list[Any]] = await self._run(w.batch_write(request_items))
        return result

    async def transact_write_items(
        self, transact_items: Sequence[Mapping[str, Any]], client_request_token: str = ""
    ) -> None:
        """All or nothing. ``transact_items`` as boto3: ``[{"Put": {"TableName": ..., "Item":
        ...}}, {"Update": {..., "Key", "UpdateExpression"}}, {"Delete": {...}},
        {"ConditionCheck": {..., "ConditionExpression"}}]``. A failed condition raises
        ``TransactionCanceledException`` with ``.cancellation_reasons`` in order.
        ``client_request_token`` (1-36 characters) makes it idempotent for 10 minutes: the
        same request again succeeds without applying twice; a different request under the
        token raises ``IdempotentParameterMismatchException``."""
        await self._run(w.transact(transact_items, client_request_token))

    async def transact_get_items(
        self, transact_items: Sequence[Mapping[str, Any]]
    ) -> list[Item | None]:
        """Up to 100 items read as one snapshot, in request order (None: no such item).
        ``transact_items`` as boto3: ``[{"Get": {"TableName": ..., "Key": ...,
        "ProjectionExpression": ..., "ExpressionAttributeNames": ...}}]``. A read that
        overlaps a write of one of the items raises ``TransactionCanceledException``
        (``TransactionConflict`` among ``.cancellation_reasons``): retry it."""
        result: list[Item | None] = await self._run(w.transact_get(transact_items))
        return result

    # --- streams ---------------------------------------------------------------------
    async def list_streams(self, table_name: str = "") -> list[str]:
        req = pb.ListStreamsRequest(table_name=table_name)
        reply = await self._call(self._stub.ListStreams, req, self._timeout)
        return [s.stream_arn for s in reply.streams]

    async def describe_stream(self, stream_arn: str) -> StreamDescription:
        req = pb.DescribeStreamRequest(stream_arn=stream_arn)
        return w.describe_stream(await self._call(self._stub.DescribeStream, req, self._timeout))

    async def get_shard_iterator(
        self, stream_arn: str, shard_id: str, shard_iterator_type: str, sequence_number: str = ""
    ) -> str:
        req = pb.GetShardIteratorRequest(
            stream_arn=stream_arn,
            shard_id=shard_id,
            shard_iterator_type=shard_iterator_type,
            sequence_number=sequence_number,
        )
        reply = await self._call(self._stub.GetShardIterator, req, self._timeout)
        return str(reply.shard_iterator)

    async def get_records(self, shard_iterator: str, limit: int = 0) -> RecordsPage:
        req = pb.GetRecordsRequest(shard_iterator=shard_iterator, limit=limit)
        return w.records(await self._call(self._stub.GetRecords, req, self._timeout))


class TablesClient(BlockingFacade[AsyncTablesClient]):
    """Blocking Tables API; reach it as ``Client().tables``."""

    _core_class = AsyncTablesClient

    def table(self, table_name: str) -> Table:
        """A handle that speaks plain Python values (like boto3's ``Table`` resource)."""
        return Table(self, table_name)

    create_table = blocking(AsyncTablesClient.create_table)
    describe_table = blocking(AsyncTablesClient.describe_table)
    list_tables = blocking(AsyncTablesClient.list_tables)
    delete_table = blocking(AsyncTablesClient.delete_table)
    update_table = blocking(AsyncTablesClient.update_table)
    update_time_to_live = blocking(AsyncTablesClient.update_time_to_live)
    describe_time_to_live = blocking(AsyncTablesClient.describe_time_to_live)
    tag_resource = blocking(AsyncTablesClient.tag_resource)
    untag_resource = blocking(AsyncTablesClient.untag_resource)
    list_tags_of_resource = blocking(AsyncTablesClient.list_tags_of_resource)
    put_item = blocking(AsyncTablesClient.put_item)
    update_item = blocking(AsyncTablesClient.update_item)
    delete_item = blocking(AsyncTablesClient.delete_item)
    get_item = blocking(AsyncTablesClient.get_item)
    query = blocking(AsyncTablesClient.query)
    scan = blocking(AsyncTablesClient.scan)
    batch_get_item = blocking(AsyncTablesClient.batch_get_item)
    batch_write_item = blocking(AsyncTablesClient.batch_write_item)
    transact_write_items = blocking(AsyncTablesClient.transact_write_items)
    transact_get_items = blocking(AsyncTablesClient.transact_get_items)
    list_streams = blocking(AsyncTablesClient.list_streams)
    describe_stream = blocking(AsyncTablesClient.describe_stream)
    get_shard_iterator = blocking(AsyncTablesClient.get_shard_iterator)
    get_records = blocking(AsyncTablesClient.get_records)


__all__ = [
    "AsyncTable",
    "AsyncTablesClient",
    "IndexDescription",
    "ItemPage",
    "RecordsPage",
    "SecondaryIndex",
    "Shard",
    "StreamDescription",
    "Table",
    "TableDescription",
    "TablesClient",
    "TimeToLiveDescription",
]
