"""client.tables' wire forms: each call's request built once, and its reply parsed.

Items travel as DynamoDB JSON text (binaries base64); the SDK's own values are the
in-memory wire form (``{"B": b"..."}``). A builder returns ``(rpc name, request,
parser)``; ``AsyncTablesClient`` sends it and parses the reply. The data a failed
condition or a cancelled transaction carries arrives in the reply, and the parser
raises the typed error from it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from eventplane._gen.v1 import tables_pb2 as pb
from eventplane.attribute_values import (
    decode_json_item,
    encode_json_item,
    encode_json_value,
)
from eventplane.client._event_types import strings
from eventplane.client._function_types import str_map
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
from eventplane.errors.tables import (
    CancellationReason,
    ConditionalCheckFailedException,
    TransactionCanceledException,
)

__all__ = [
    "Call",
    "Item",
    "batch_get",
    "batch_write",
    "create",
    "describe_stream",
    "description",
    "dump",
    "load",
    "page",
    "query",
    "records",
    "scan",
    "transact",
    "transact_get",
    "values_json",
    "write_kw",
    "written",
]

Item = dict[str, Any]


def dump(item: Mapping[str, Any] | None) -> str:
    return json.dumps(encode_json_item(item), separators=(",", ":")) if item else ""


def load(text: str) -> Item | None:
    return decode_json_item(json.loads(text)) if text else None


def values_json(values: Mapping[str, Any] | None) -> str:
    if not values:
        return ""
    return json.dumps({k: encode_json_value(v) for k, v in values.items()})


def description(t: pb.TableDescription) -> TableDescription:
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
        t.billing_mode,
        t.provisioned_throughput.read_capacity_units,
        t.provisioned_throughput.write_capacity_units,
        t.deletion_protection_enabled,
        [_index_description(i) for i in t.global_secondary_indexes],
        [_index_description(i) for i in t.local_secondary_indexes],
    )


def _index_description(i: pb.IndexDescription) -> IndexDescription:
    return IndexDescription(
        i.index_name,
        [(k.attribute_name, k.key_type) for k in i.key_schema],
        i.projection.projection_type,
        list(i.projection.non_key_attributes),
        i.index_arn,
        i.index_status,
        i.backfilling,
        i.item_count,
        i.index_size_bytes,
    )


IndexSpec = SecondaryIndex | Mapping[str, Any]


def index_pb(spec: IndexSpec) -> pb.SecondaryIndex:
    """A SecondaryIndex, or an index in boto3's shape ({"IndexName", "KeySchema",
    "Projection"}), as the request message."""
    if isinstance(spec, SecondaryIndex):
        keys, kind, attrs = spec.key_schema, spec.projection_type, spec.non_key_attributes
        name = spec.index_name
    else:
        name = str(spec.get("IndexName", ""))
        keys = [(str(k["AttributeName"]), str(k["KeyType"])) for k in spec.get("KeySchema", [])]
        projection = spec.get("Projection") or {}
        kind = str(projection.get("ProjectionType", ""))
        attrs = tuple(projection.get("NonKeyAttributes") or ())
    return pb.SecondaryIndex(
        index_name=name,
        key_schema=[pb.KeySchemaElement(attribute_name=n, key_type=k) for n, k in keys],
        projection=pb.Projection(projection_type=kind, non_key_attributes=list(attrs)),
    )


def index_update_pb(update: Mapping[str, Any]) -> pb.GlobalSecondaryIndexUpdate:
    """{"Create": index} or {"Delete": {"IndexName": name}} (boto3's shape)."""
    if "Create" in update:
        return pb.GlobalSecondaryIndexUpdate(create=index_pb(update["Create"]))
    delete = update.get("Delete") or {}
    return pb.GlobalSecondaryIndexUpdate(delete_index_name=str(delete.get("IndexName", "")))


def written(r: pb.WriteItemResponse) -> Item | None:
    if r.HasField("condition_failure"):
        raise ConditionalCheckFailedException(
            r.condition_failure.message, item=load(r.condition_failure.item)
        )
    return load(r.attributes)


def page(r: pb.ItemPage) -> ItemPage:
    return ItemPage(
        [i for i in (load(x) for x in r.items) if i is not None],
        r.count,
        r.scanned_count,
        load(r.last_evaluated_key),
    )


def _expr(names: Mapping[str, str] | None, values: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "expression_attribute_names": dict(names or {}),
        "expression_attribute_values": values_json(values),
    }


# Every action as (rpc name, request, response parser): built once, used by both clients.
Call = tuple[str, Any, Callable[[Any], Any]]


def create(
    table_name: str,
    key_schema: Sequence[tuple[str, str]],
    attribute_definitions: Sequence[tuple[str, str]],
    stream_view_type: str | None,
    partitions: int,
    billing_mode: str = "",
    provisioned_throughput: tuple[int, int] | None = None,
    deletion_protection_enabled: bool = False,
    global_secondary_indexes: Sequence[IndexSpec] = (),
    local_secondary_indexes: Sequence[IndexSpec] = (),
    tags: Mapping[str, str] | None = None,
) -> Call:
    req = pb.CreateTableRequest(
        tags=tags_pb(tags, "tags"),
        global_secondary_indexes=[index_pb(i) for i in global_secondary_indexes],
        local_secondary_indexes=[index_pb(i) for i in local_secondary_indexes],
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
        billing_mode=billing_mode,
        provisioned_throughput=_throughput(provisioned_throughput),
        deletion_protection_enabled=deletion_protection_enabled,
    )
    return "CreateTable", req, lambda r: description(r.table)


def tags_pb(tags: Mapping[str, str] | None, what: str) -> list[pb.TableTag]:
    """A ``{str: str}`` dict as the request's tags (None: none)."""
    return [pb.TableTag(key=k, value=v) for k, v in str_map(tags, what).items()]


def tag(resource_arn: str, tags: Mapping[str, str]) -> Call:
    req = pb.TagTableRequest(resource_arn=resource_arn, tags=tags_pb(tags, "tags"))
    return "TagResource", req, lambda r: None


def untag(resource_arn: str, tag_keys: Iterable[str]) -> Call:
    req = pb.UntagTableRequest(resource_arn=resource_arn, tag_keys=strings(tag_keys, "tag_keys"))
    return "UntagResource", req, lambda r: None


def tags_page(resource_arn: str, next_token: str | None) -> Call:
    """One page of ListTagsOfResource: ([(key, value)], the next page's token or None)."""
    req = pb.ListTableTagsRequest(resource_arn=resource_arn, next_token=next_token or "")
    return (
        "ListTagsOfResource",
        req,
        lambda r: ([(t.key, t.value) for t in r.tags], r.next_token or None),
    )


def _throughput(units: tuple[int, int] | None) -> pb.ProvisionedThroughput | None:
    if units is None:
        return None
    return pb.ProvisionedThroughput(read_capacity_units=units[0], write_capacity_units=units[1])


def update_table(
    table_name: str,
    stream_view_type: str | None,
    stream_enabled: bool | None,
    billing_mode: str,
    provisioned_throughput: tuple[int, int] | None,
    deletion_protection_enabled: bool | None,
    attribute_definitions: Sequence[tuple[str, str]] = (),
    global_secondary_index_updates: Sequence[Mapping[str, Any]] = (),
    partitions: int = 0,
) -> Call:
    req = pb.UpdateTableRequest(
        table_name=table_name,
        partitions=partitions,
        attribute_definitions=[
            pb.AttributeDefinition(attribute_name=n, attribute_type=t)
            for n, t in attribute_definitions
        ],
        global_secondary_index_updates=[index_update_pb(u) for u in global_secondary_index_updates],
        billing_mode=billing_mode,
        provisioned_throughput=_throughput(provisioned_throughput),
    )
    if stream_enabled is not None:
        req.stream_specification.CopyFrom(
            pb.StreamSpecification(
                stream_enabled=stream_enabled, stream_view_type=stream_view_type or ""
            )
        )
    if deletion_protection_enabled is not None:
        req.deletion_protection_enabled = deletion_protection_enabled
    return "UpdateTable", req, lambda r: description(r.table)


def update_ttl(table_name: str, attribute_name: str, enabled: bool) -> Call:
    req = pb.UpdateTimeToLiveRequest(
        table_name=table_name,
        time_to_live_specification=pb.TimeToLiveSpecification(
            attribute_name=attribute_name, enabled=enabled
        ),
    )
    return "UpdateTimeToLive", req, lambda r: r.time_to_live_specification.enabled


def describe_ttl(table_name: str) -> Call:
    def parse(r: pb.DescribeTimeToLiveResponse) -> TimeToLiveDescription:
        d = r.time_to_live_description
        return TimeToLiveDescription(d.time_to_live_status, d.attribute_name)

    return "DescribeTimeToLive", pb.TableNameRequest(table_name=table_name), parse


def query(table_name: str, key_condition_expression: str, kw: dict[str, Any]) -> Call:
    forward = kw.pop("scan_index_forward", True)
    start = kw.pop("exclusive_start_key", None)
    req = pb.QueryRequest(
        table_name=table_name,
        key_condition_expression=key_condition_expression,
        scan_index_forward=forward,
        exclusive_start_key=dump(start),
        **_expr(
            kw.pop("expression_attribute_names", None), kw.pop("expression_attribute_values", None)
        ),
        **kw,
    )
    return "Query", req, page


def scan(table_name: str, kw: dict[str, Any]) -> Call:
    start = kw.pop("exclusive_start_key", None)
    req = pb.ScanRequest(
        table_name=table_name,
        exclusive_start_key=dump(start),
        **_expr(
            kw.pop("expression_attribute_names", None), kw.pop("expression_attribute_values", None)
        ),
        **kw,
    )
    return "Scan", req, page


def write_kw(kw: dict[str, Any]) -> dict[str, Any]:
    return {
        **_expr(
            kw.pop("expression_attribute_names", None), kw.pop("expression_attribute_values", None)
        ),
        **kw,
    }


def batch_write(request_items: Mapping[str, Sequence[Mapping[str, Any]]]) -> Call:
    """request_items: table -> [{"PutRequest": {"Item": ...}} | {"DeleteRequest": {"Key": ...}}]"""
    lists = {}
    for name, entries in request_items.items():
        reqs = []
        for e in entries:
            put = e.get("PutRequest")
            delete = e.get("DeleteRequest")
            reqs.append(
                pb.WriteRequest(
                    put_item=dump(put["Item"]) if put else "",
                    delete_key=dump(delete["Key"]) if delete else "",
                )
            )
        lists[name] = pb.WriteRequestList(requests=reqs)
    return (
        "BatchWriteItem",
        pb.BatchWriteItemRequest(request_items=lists),
        lambda r: {n: list(v.requests) for n, v in r.unprocessed_items.items()},
    )


def batch_get(request_items: Mapping[str, Mapping[str, Any]]) -> Call:
    """request_items: table -> {"Keys": [...], "ProjectionExpression": ..., ...}"""
    wanted = {
        name: pb.KeysAndAttributes(
            keys=[dump(k) for k in spec["Keys"]],
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
            n: [i for i in (load(x) for x in v.items) if i is not None]
            for n, v in r.responses.items()
        },
    )


def transact(items: Sequence[Mapping[str, Any]], token: str) -> Call:
    actions = []
    for entry in items:
        ((kind, spec),) = entry.items()
        actions.append(
            pb.TransactWriteItem(
                kind=kind,
                table_name=spec["TableName"],
                item=dump(spec.get("Item")),
                key=dump(spec.get("Key")),
                condition_expression=spec.get("ConditionExpression", ""),
                update_expression=spec.get("UpdateExpression", ""),
                expression_attribute_names=dict(spec.get("ExpressionAttributeNames") or {}),
                expression_attribute_values=values_json(spec.get("ExpressionAttributeValues")),
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
                    CancellationReason(c.code, c.message, load(c.item))
                    for c in r.cancellation_reasons
                ],
            )

    req = pb.TransactWriteItemsRequest(transact_items=actions, client_request_token=token)
    return "TransactWriteItems", req, parse


def _canceled(message: str, reasons: Sequence[pb.CancellationReason]) -> Exception:
    return TransactionCanceledException(
        message, [CancellationReason(c.code, c.message, load(c.item)) for c in reasons]
    )


def transact_get(items: Sequence[Mapping[str, Any]]) -> Call:
    gets = []
    for entry in items:
        ((kind, spec),) = entry.items()
        if kind != "Get":
            raise ValueError(f"transact_get_items takes Get entries, not {kind!r}")
        gets.append(
            pb.TransactGetItem(
                table_name=spec["TableName"],
                key=dump(spec.get("Key")),
                projection_expression=spec.get("ProjectionExpression", ""),
                expression_attribute_names=dict(spec.get("ExpressionAttributeNames") or {}),
            )
        )

    def parse(r: pb.TransactGetItemsResponse) -> list[Item | None]:
        if r.cancellation_reasons:
            raise _canceled(r.cancelled_message, r.cancellation_reasons)
        return [load(x.item) for x in r.responses]

    return "TransactGetItems", pb.TransactGetItemsRequest(transact_items=gets), parse


def describe_stream(r: pb.DescribeStreamResponse) -> StreamDescription:
    d = r.stream_description
    return StreamDescription(
        d.stream_arn,
        d.stream_label,
        d.stream_status,
        d.stream_view_type,
        d.table_name,
        [
            Shard(
                s.shard_id,
                s.sequence_number_range.starting_sequence_number,
                s.sequence_number_range.ending_sequence_number,
                s.parent_shard_id,
            )
            for s in d.shards
        ],
    )


def records(r: pb.GetRecordsResponse) -> RecordsPage:
    return RecordsPage([json.loads(x) for x in r.records], r.next_shard_iterator)
