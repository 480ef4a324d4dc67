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

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import eventplane.tables.errors  # noqa: F401  (registers the DynamoDB error codes)
from eventplane._gen.v1 import tables_pb2 as pb
from eventplane._gen.v1 import tables_pb2_grpc
from eventplane.client._channel import ainvoke, invoke
from eventplane.client._table_types import (
    ItemPage,
    RecordsPage,
    Shard,
    StreamDescription,
    TableDescription,
)
from eventplane.tables.expr.errors import ConditionalCheckFailedException
from eventplane.tables.expr.values import (
    decode_json_item,
    deserialize_item,
    encode_json_item,
    encode_json_value,
    serialize,
    serialize_item,
)
from eventplane.tables.transactions import CancellationReason, TransactionCanceledException

R = TypeVar("R")
Item = dict[str, Any]


# --- wire helpers ----------------------------------------------------------------------


def _dump(item: Mapping[str, Any] | None) -> str:
    return json.dumps(encode_json_item(item), separators=(",", ":")) if item else ""


def _load(text: str) -> Item | None:
    return decode_json_item(json.loads(text)) if text else None


def _values(values: Mapping[str, Any] | None) -> str:
    if not values:
        return ""
    return json.dumps({k: encode_json_value(v) for k, v in values.items()})


def _description(t: pb.TableDescription) -> TableDescription:
    return TableDescription(
        t.table_name,
        t.table_arn,
        t.table_status,
        [(k.attribute_name, k.key_type) for k in t.key_schema],
        [(d.attribute_name, d.attribute_type) for d in t.attribute_definitions],
        t.item_count,
        t.table_size_bytes,
        t.creation_date_time,
        t.stream_specification.stream_enabled,
        t.stream_specification.stream_view_type,
        t.latest_stream_arn,
        t.latest_stream_label,
        t.partitions,
    )


def _written(r: pb.WriteItemResponse) -> Item | None:
    if r.HasField("condition_failure"):
        raise ConditionalCheckFailedException(
            r.condition_failure.message, item=_load(r.condition_failure.item)
        )
    return _load(r.attributes)


def _page(r: pb.ItemPage) -> ItemPage:
    return ItemPage(
        [i for i in (_load(x) for x in r.items) if i is not None],
        r.count,
        r.scanned_count,
        _load(r.last_evaluated_key),
    )


def _expr(names: Mapping[str, str] | None, values: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "expression_attribute_names": dict(names or {}),
        "expression_attribute_values": _values(values),
    }


# Every action as (rpc name, request, response parser): built once, used by both clients.
Call = tuple[str, Any, Callable[[Any], Any]]


def _create(
    table_name: str,
    key_schema: Sequence[tuple[str, str]],
    attribute_definitions: Sequence[tuple[str, str]],
    stream_view_type: str | None,
    partitions: int,
) -> Call:
    req = pb.CreateTableRequest(
        table_name=table_name,
        key_schema=[pb.KeySchemaElement(attribute_name=n, key_type=k) for n, k in key_schema],
        attribute_definitions=[
            pb.AttributeDefinition(attribute_name=n, attribute_type=t)
            for n, t in attribute_definitions
        ],
        stream_specification=pb.StreamSpecification(
            stream_enabled=stream_view_type is not None, stream_view_type=stream_view_type or ""
        ),
        partitions=partitions,
    )
    return "CreateTable", req, lambda r: _description(r.table)


def _query(table_name: str, key_condition_expression: str, kw: dict[str, Any]) -> Call:
    forward = kw.pop("scan_index_forward", True)
    start = kw.pop("exclusive_start_key", None)
    req = pb.QueryRequest(
        table_name=table_name,
        key_condition_expression=key_condition_expression,
        scan_index_forward=forward,
        exclusive_start_key=_dump(start),
        **_expr(
            kw.pop("expression_attribute_names", None), kw.pop("expression_attribute_values", None)
        ),
        **kw,
    )
    return "Query", req, _page


def _scan(table_name: str, kw: dict[str, Any]) -> Call:
    start = kw.pop("exclusive_start_key", None)
    req = pb.ScanRequest(
        table_name=table_name,
        exclusive_start_key=_dump(start),
        **_expr(
            kw.pop("expression_attribute_names", None), kw.pop("expression_attribute_values", None)
        ),
        **kw,
    )
    return "Scan", req, _page


def _write_kw(kw: dict[str, Any]) -> dict[str, Any]:
    return {
        **_expr(
            kw.pop("expression_attribute_names", None), kw.pop("expression_attribute_values", None)
        ),
        **kw,
    }


def _batch_write(request_items: Mapping[str, Sequence[Mapping[str, Any]]]) -> Call:
    """request_items: table -> [{"PutRequest": {"Item": ...}} | {"DeleteRequest": {"Key": ...}}]"""
    lists = {}
    for name, entries in request_items.items():
        reqs = []
        for e in entries:
            put = e.get("PutRequest")
            delete = e.get("DeleteRequest")
            reqs.append(
                pb.WriteRequest(
                    put_item=_dump(put["Item"]) if put else "",
                    delete_key=_dump(delete["Key"]) if delete else "",
                )
            )
        lists[name] = pb.WriteRequestList(requests=reqs)
    return (
        "BatchWriteItem",
        pb.BatchWriteItemRequest(request_items=lists),
        lambda r: {n: list(v.requests) for n, v in r.unprocessed_items.items()},
    )


def _batch_get(request_items: Mapping[str, Mapping[str, Any]]) -> Call:
    """request_items: table -> {"Keys": [...], "ProjectionExpression": ..., ...}"""
    wanted = {
        name: pb.KeysAndAttributes(
            keys=[_dump(k) for k in spec["Keys"]],
            projection_expression=spec.get("ProjectionExpression", ""),
            expression_attribute_names=dict(spec.get("ExpressionAttributeNames") or {}),
            consistent_read=bool(spec.get("ConsistentRead", False)),
        )
        for name, spec in request_items.items()
    }
    return (
        "BatchGetItem",
        pb.BatchGetItemRequest(request_items=wanted),
        lambda r: {
            n: [i for i in (_load(x) for x in v.items) if i is not None]
            for n, v in r.responses.items()
        },
    )


def _transact(items: Sequence[Mapping[str, Any]], token: str) -> Call:
    actions = []
    for entry in items:
        ((kind, spec),) = entry.items()
        actions.append(
            pb.TransactWriteItem(
                kind=kind,
                table_name=spec["TableName"],
                item=_dump(spec.get("Item")),
                key=_dump(spec.get("Key")),
                condition_expression=spec.get("ConditionExpression", ""),
                update_expression=spec.get("UpdateExpression", ""),
                expression_attribute_names=dict(spec.get("ExpressionAttributeNames") or {}),
                expression_attribute_values=_values(spec.get("ExpressionAttributeValues")),
                return_values_on_condition_check_failure=spec.get(
                    "ReturnValuesOnConditionCheckFailure", ""
                ),
            )
        )

    def parse(r: pb.TransactWriteItemsResponse) -> None:
        if r.cancellation_reasons:
            raise TransactionCanceledException(
                r.cancelled_message,
                [
                    CancellationReason(c.code, c.message, _load(c.item))
                    for c in r.cancellation_reasons
                ],
            )

    req = pb.TransactWriteItemsRequest(transact_items=actions, client_request_token=token)
    return "TransactWriteItems", req, parse


def _describe_stream(r: pb.DescribeStreamResponse) -> StreamDescription:
    d = r.stream_description
    return StreamDescription(
        d.stream_arn,
        d.stream_label,
        d.stream_status,
        d.stream_view_type,
        d.table_name,
        [Shard(s.shard_id, s.sequence_number_range.starting_sequence_number) for s in d.shards],
    )


class _Calls:
    """Builds each action once; ``_run`` (sync or async) sends it."""

    def __init__(self, channel: Any, timeout: float | None) -> None:
        self._stub = tables_pb2_grpc.TablesStub(channel)
        self._timeout = timeout

    def _run(self, call: Call) -> Any:
        raise NotImplementedError

    def create_table(
        self,
        table_name: str,
        *,
        key_schema: Sequence[tuple[str, str]],
        attribute_definitions: Sequence[tuple[str, str]],
        stream_view_type: str | None = None,
        partitions: int = 0,
    ) -> Any:
        """Create a table. ``key_schema``: [(name, "HASH"), (name, "RANGE")];
        ``stream_view_type`` (KEYS_ONLY, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES) turns the
        stream on; ``partitions`` is the Kafka partition count (default 4)."""
        return self._run(
            _create(table_name, key_schema, attribute_definitions, stream_view_type, partitions)
        )

    def describe_table(self, table_name: str) -> Any:
        req = pb.TableNameRequest(table_name=table_name)
        return self._run(("DescribeTable", req, lambda r: _description(r.table)))

    def list_tables(self, exclusive_start_table_name: str = "", limit: int = 0) -> Any:
        """One page: (names, last evaluated name or None)."""
        req = pb.ListTablesRequest(
            exclusive_start_table_name=exclusive_start_table_name, limit=limit
        )
        return self._run(
            (
                "ListTables",
                req,
                lambda r: (list(r.table_names), r.last_evaluated_table_name or None),
            )
        )

    def delete_table(self, table_name: str) -> Any:
        req = pb.TableNameRequest(table_name=table_name)
        return self._run(("DeleteTable", req, lambda r: _description(r.table)))

    def put_item(self, table_name: str, item: Mapping[str, Any], **kw: Any) -> Any:
        """PutItem; keyword arguments as boto3 in snake_case (condition_expression,
        expression_attribute_names/values, return_values,
        return_values_on_condition_check_failure). Returns the attributes asked for."""
        req = pb.PutItemRequest(table_name=table_name, item=_dump(item), **_write_kw(kw))
        return self._run(("PutItem", req, _written))

    def update_item(self, table_name: str, key: Mapping[str, Any], **kw: Any) -> Any:
        """UpdateItem (update_expression, condition_expression, ...)."""
        req = pb.UpdateItemRequest(table_name=table_name, key=_dump(key), **_write_kw(kw))
        return self._run(("UpdateItem", req, _written))

    def delete_item(self, table_name: str, key: Mapping[str, Any], **kw: Any) -> Any:
        req = pb.DeleteItemRequest(table_name=table_name, key=_dump(key), **_write_kw(kw))
        return self._run(("DeleteItem", req, _written))

    def get_item(self, table_name: str, key: Mapping[str, Any], **kw: Any) -> Any:
        """The item, or None (projection_expression, expression_attribute_names,
        consistent_read)."""
        req = pb.GetItemRequest(table_name=table_name, key=_dump(key), **kw)
        return self._run(("GetItem", req, lambda r: _load(r.item)))

    def query(self, table_name: str, key_condition_expression: str, **kw: Any) -> Any:
        """One page of Query (filter_expression, projection_expression, limit,
        scan_index_forward, exclusive_start_key, select, names/values)."""
        return self._run(_query(table_name, key_condition_expression, dict(kw)))

    def scan(self, table_name: str, **kw: Any) -> Any:
        """One page of Scan (filter_expression, limit, segment/total_segments, ...)."""
        return self._run(_scan(table_name, dict(kw)))

    def batch_get_item(self, request_items: Mapping[str, Mapping[str, Any]]) -> Any:
        return self._run(_batch_get(request_items))

    def batch_write_item(self, request_items: Mapping[str, Sequence[Mapping[str, Any]]]) -> Any:
        return self._run(_batch_write(request_items))

    def transact_write_items(
        self, transact_items: Sequence[Mapping[str, Any]], client_request_token: str = ""
    ) -> Any:
        """All or nothing. ``transact_items`` as boto3: ``[{"Put": {"TableName": ..., "Item":
        ...}}, {"Update": {..., "Key", "UpdateExpression"}}, {"Delete": {...}},
        {"ConditionCheck": {..., "ConditionExpression"}}]``. A failed condition raises
        ``TransactionCanceledException`` with ``.cancellation_reasons`` in order."""
        return self._run(_transact(transact_items, client_request_token))

    # --- streams ---------------------------------------------------------------------
    def list_streams(self, table_name: str = "") -> Any:
        req = pb.ListStreamsRequest(table_name=table_name)
        return self._run(("ListStreams", req, lambda r: [s.stream_arn for s in r.streams]))

    def describe_stream(self, stream_arn: str) -> Any:
        req = pb.DescribeStreamRequest(stream_arn=stream_arn)
        return self._run(("DescribeStream", req, _describe_stream))

    def get_shard_iterator(
        self, stream_arn: str, shard_id: str, shard_iterator_type: str, sequence_number: str = ""
    ) -> Any:
        req = pb.GetShardIteratorRequest(
            stream_arn=stream_arn,
            shard_id=shard_id,
            shard_iterator_type=shard_iterator_type,
            sequence_number=sequence_number,
        )
        return self._run(("GetShardIterator", req, lambda r: r.shard_iterator))

    def get_records(self, shard_iterator: str, limit: int = 0) -> Any:
        req = pb.GetRecordsRequest(shard_iterator=shard_iterator, limit=limit)
        return self._run(
            (
                "GetRecords",
                req,
                lambda r: RecordsPage([json.loads(x) for x in r.records], r.next_shard_iterator),
            )
        )


class TablesClient(_Calls):
    """Blocking Tables API; reach it as ``Client().tables``."""

    def _run(self, call: Call) -> Any:
        rpc, req, parse = call
        return parse(invoke(getattr(self._stub, rpc), req, self._timeout))

    def table(self, table_name: str) -> Table:
        """A handle that speaks plain Python values (like boto3's ``Table`` resource)."""
        return Table(self, table_name)


class AsyncTablesClient(_Calls):
    """asyncio Tables API; every method returns an awaitable of the blocking result."""

    def _run(self, call: Call) -> Awaitable[Any]:
        rpc, req, parse = call

        async def run() -> Any:
            return parse(await ainvoke(getattr(self._stub, rpc), req, self._timeout))

        return run()


class Table:
    """Plain-Python convenience over one table: values in and out without type tags."""

    def __init__(self, client: TablesClient, name: str) -> None:
        self._c = client
        self.name = name

    @staticmethod
    def _kw(
        names: Mapping[str, str] | None, values: Mapping[str, Any] | None, kw: dict[str, Any]
    ) -> dict[str, Any]:
        if names:
            kw["expression_attribute_names"] = dict(names)
        if values:
            kw["expression_attribute_values"] = {k: serialize(v) for k, v in values.items()}
        return kw

    @staticmethod
    def _plain(item: Item | None) -> dict[str, Any] | None:
        return deserialize_item(item) if item is not None else None

    def put_item(
        self,
        item: Mapping[str, Any],
        condition: str = "",
        *,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> dict[str, Any] | None:
        kw = self._kw(names, values, kw)
        return self._plain(
            self._c.put_item(self.name, serialize_item(item), condition_expression=condition, **kw)
        )

    def get_item(self, key: Mapping[str, Any], **kw: Any) -> dict[str, Any] | None:
        return self._plain(self._c.get_item(self.name, serialize_item(key), **kw))

    def update_item(
        self,
        key: Mapping[str, Any],
        update: str,
        condition: str = "",
        *,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        return_values: str = "ALL_NEW",
        **kw: Any,
    ) -> dict[str, Any] | None:
        kw = self._kw(names, values, kw)
        return self._plain(
            self._c.update_item(
                self.name,
                serialize_item(key),
                update_expression=update,
                condition_expression=condition,
                return_values=return_values,
                **kw,
            )
        )

    def delete_item(
        self,
        key: Mapping[str, Any],
        condition: str = "",
        *,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> dict[str, Any] | None:
        kw = self._kw(names, values, kw)
        return self._plain(
            self._c.delete_item(
                self.name, serialize_item(key), condition_expression=condition, **kw
            )
        )

    def query(
        self,
        key_condition: str,
        *,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> list[dict[str, Any]]:
        """Every item the key condition selects (follows all pages)."""
        kw = self._kw(names, values, kw)
        return self._all(
            lambda start: self._c.query(self.name, key_condition, exclusive_start_key=start, **kw)
        )

    def scan(
        self,
        *,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> list[dict[str, Any]]:
        """Every item of the table (follows all pages)."""
        kw = self._kw(names, values, kw)
        return self._all(lambda start: self._c.scan(self.name, exclusive_start_key=start, **kw))

    @staticmethod
    def _all(fetch: Callable[[Item | None], ItemPage]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        start: Item | None = None
        while True:
            page = fetch(start)
            out.extend(deserialize_item(i) for i in page.items)
            if page.last_evaluated_key is None:
                return out
            start = page.last_evaluated_key


__all__ = [
    "AsyncTablesClient",
    "ItemPage",
    "RecordsPage",
    "Shard",
    "StreamDescription",
    "Table",
    "TableDescription",
    "TablesClient",
]
