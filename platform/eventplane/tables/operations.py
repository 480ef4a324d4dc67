"""The table core as DynamoDB's actions: one method per action, DynamoDB's shapes in and out.

The AWS-protocol gateway (DynamoDB JSON 1.0) calls these. Each method checks what
only the AWS surface can send (the legacy members, a missing
TableName), builds the engine's typed input and shapes its answer; conditions,
expressions, keys and limits are the engine's, with the engine's messages. A
request for a partition another replica owns is sent to that replica
(``forward.Forwarding``), as the gRPC servicer does.

Errors with data travel as the exceptions themselves: ConditionalCheckFailedException
carries ``item`` (ReturnValuesOnConditionCheckFailure=ALL_OLD) and
TransactionCanceledException ``cancellation_reasons``, which the gateway writes as
the members of DynamoDB's error shapes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

from eventplane.errors import ValidationException
from eventplane.tables import items as it
from eventplane.tables import reads as rd
from eventplane.tables import shapes as s
from eventplane.tables import transact_get as tg
from eventplane.tables import transactions as tx
from eventplane.tables.account_operations import AccountOperations
from eventplane.tables.engine import TableEngine, TableStatus
from eventplane.tables.index_updates import GlobalSecondaryIndexUpdate
from eventplane.tables.indexes import IndexDef, Projection, SecondaryIndex
from eventplane.tables.model import (
    AttributeDefinition,
    CreateTableInput,
    KeySchemaElement,
    ProvisionedThroughput,
    StreamSpecification,
    TimeToLive,
)
from eventplane.tables.routing import NotOwner
from eventplane.tables.table_updates import UpdateTableInput

T = TypeVar("T")
Forward = Callable[[str], Awaitable[T]]

# Members of the pre-expression API, refused by name rather than silently ignored.
_LEGACY = (
    "Expected",
    "AttributeUpdates",
    "KeyConditions",
    "QueryFilter",
    "ScanFilter",
    "AttributesToGet",
    "ConditionalOperator",
)


def _missing(member: str) -> str:
    return (
        f"1 validation error detected: Value null at '{member[0].lower() + member[1:]}' "
        "failed to satisfy constraint: Member must not be null"
    )


def _require(value: str, member: str) -> str:
    if not value:
        raise ValidationException(_missing(member))
    return value


def _no_legacy(request: Any) -> None:
    for member in _LEGACY:
        name = "".join("_" + c.lower() if c.isupper() else c for c in member).lstrip("_")
        if getattr(request, name, None):
            raise ValidationException(
                f"The legacy parameter {member} is not supported by eventplane; use the "
                "expression parameters (ConditionExpression, UpdateExpression, "
                "KeyConditionExpression, FilterExpression, ProjectionExpression) instead"
            )


_RETURN_CONSUMED_CAPACITY = ("INDEXES", "TOTAL", "NONE")


def _asked_capacity(request: Any) -> bool:
    asked = request.return_consumed_capacity
    if asked and asked not in _RETURN_CONSUMED_CAPACITY:
        raise ValidationException(
            f"1 validation error detected: Value '{asked}' at 'returnConsumedCapacity' failed "
            "to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"
        )
    return asked not in ("", "NONE")


def _capacity(
    request: Any, table: str, units: float = 1.0, index: IndexDef | None = None
) -> s.ConsumedCapacity | None:
    """A plausible ConsumedCapacity when asked for (eventplane does not meter capacity);
    INDEXES adds the shares: all the table's, or all the index's a Query or Scan read."""
    if not _asked_capacity(request):
        return None
    used = s.ConsumedCapacity(table, units)
    if request.return_consumed_capacity == "INDEXES":
        used.table = s.Capacity(0.0 if index is not None else units)
        if index is not None:
            share = {index.name: s.Capacity(units)}
            if index.is_global:
                used.global_secondary_indexes = share
            else:
                used.local_secondary_indexes = share
    return used


def _capacities(request: Any, tables: list[str]) -> list[s.ConsumedCapacity] | None:
    if not _asked_capacity(request):
        return None
    return [_capacity(request, t) or s.ConsumedCapacity(t, 1.0) for t in dict.fromkeys(tables)]


def describe(status: TableStatus) -> s.TableDescription:
    t = status.table
    throughput = t.throughput or ProvisionedThroughput(0, 0)
    return s.TableDescription(
        table_name=t.plain_name,
        table_arn=t.arn,
        table_id=t.table_id,
        table_status=status.status,
        key_schema=[s.KeySchemaElement(k.attribute_name, k.key_type) for k in t.key_schema()],
        attribute_definitions=[
            s.AttributeDefinition(d.attribute_name, d.attribute_type)
            for d in t.attribute_definitions()
        ],
        creation_date_time=dt.datetime.fromtimestamp(t.created_ms / 1000, dt.UTC),
        item_count=status.item_count,
        table_size_bytes=status.size_bytes,
        provisioned_throughput=s.ProvisionedThroughputDescription(
            throughput.read_capacity_units, throughput.write_capacity_units, 0
        ),
        billing_mode_summary=s.BillingModeSummary(t.billing_mode),
        stream_specification=(
            s.StreamSpecification(True, t.stream.stream_view_type)
            if t.stream.stream_enabled
            else None
        ),
        latest_stream_arn=t.stream_arn,
        latest_stream_label=t.stream_label,
        deletion_protection_enabled=t.deletion_protection,
        global_secondary_indexes=[_global_description(status, d) for d in t.gsis] or None,
        local_secondary_indexes=[_index_description(status, d) for d in t.lsis] or None,
    )


def _index_description(status: TableStatus, d: IndexDef) -> s.LocalIndexDescription:
    count, size = status.indexes.get(d.name, (0, 0))
    common = s.LocalIndexDescription(
        index_name=d.name,
        key_schema=[s.KeySchemaElement(n, k) for n, k in d.key_schema()],
        projection=s.Projection(
            d.projection.projection_type, list(d.projection.non_key_attributes) or None
        ),
        index_arn=status.table.index_arn(d.name),
        item_count=count,
        index_size_bytes=size,
    )
    if not d.is_global:
        return common
    return s.GlobalIndexDescription(
        **vars(common), index_status=d.status, backfilling=d.backfilling or None
    )


def _global_description(status: TableStatus, d: IndexDef) -> s.GlobalIndexDescription:
    found = _index_description(status, d)
    assert isinstance(found, s.GlobalIndexDescription)
    return found


def _index(i: s.SecondaryIndex) -> SecondaryIndex:
    p = i.projection or s.Projection()
    return SecondaryIndex(
        i.index_name,
        [KeySchemaElement(k.attribute_name, k.key_type) for k in i.key_schema],
        Projection(p.projection_type or "", tuple(p.non_key_attributes or ())),
    )


def _indexes(given: list[s.SecondaryIndex] | None) -> list[SecondaryIndex]:
    return [_index(i) for i in given or ()]


def _index_update(u: s.GlobalSecondaryIndexUpdate) -> GlobalSecondaryIndexUpdate:
    if u.update is not None:
        raise ValidationException(
            "GlobalSecondaryIndexUpdates Update (provisioned throughput of an index) is not "
            "supported by eventplane"
        )
    return GlobalSecondaryIndexUpdate(
        create=_index(u.create) if u.create is not None else None,
        delete_index_name=u.delete.index_name if u.delete is not None else "",
    )


def _stream(spec: s.StreamSpecification | None) -> StreamSpecification | None:
    if spec is None:
        return None
    return StreamSpecification(spec.stream_enabled, spec.stream_view_type)


def _throughput(t: s.ProvisionedThroughput | None) -> ProvisionedThroughput | None:
    if t is None:
        return None
    return ProvisionedThroughput(t.read_capacity_units, t.write_capacity_units)


class TableOperations(AccountOperations):
    """DynamoDB's actions over one replica's table engine (tags, limits and endpoints in
    ``account_operations.py``)."""

    def __init__(self, engine: TableEngine, forwarding: Any) -> None:
        self.engine = engine
        # forward.Forwarding: the same request sent to the owning replica over gRPC.
        self.forwarding = forwarding

    async def _routed(self, here: Callable[[], Awaitable[T]], there: Forward[T]) -> T:
        try:
            return await here()
        except NotOwner as exc:
            return await there(exc.address)

    # --- tables ---------------------------------------------------------------------------------
    async def create_table(self, req: s.CreateTableRequest) -> s.TableResult:
        _require(req.table_name, "TableName")
        status = await self.engine.create_table(
            CreateTableInput(
                table_name=req.table_name,
                key_schema=[KeySchemaElement(k.attribute_name, k.key_type) for k in req.key_schema],
                attribute_definitions=[
                    AttributeDefinition(d.attribute_name, d.attribute_type)
                    for d in req.attribute_definitions
                ],
                stream_specification=_stream(req.stream_specification) or StreamSpecification(),
                billing_mode=req.billing_mode,
                provisioned_throughput=_throughput(req.provisioned_throughput),
                deletion_protection_enabled=req.deletion_protection_enabled,
                global_secondary_indexes=_indexes(req.global_secondary_indexes),
                local_secondary_indexes=_indexes(req.local_secondary_indexes),
                tags=[(t.key, t.value) for t in req.tags or ()],
            )
        )
        return s.TableResult(describe(status))

    async def describe_table(self, req: s.DescribeTableRequest) -> s.DescribeTableResult:
        name = _require(req.table_name, "TableName")
        status = await self.engine.describe_table(self.engine.internal(name))
        return s.DescribeTableResult(describe(status))

    async def list_tables(self, req: s.ListTablesRequest) -> s.ListTablesResult:
        names, last = self.engine.list_tables(req.exclusive_start_table_name, req.limit)
        return s.ListTablesResult(names, last or "")

    async def update_table(self, req: s.UpdateTableRequest) -> s.TableResult:
        _require(req.table_name, "TableName")
        status = await self.engine.update_table(
            UpdateTableInput(
                table_name=self.engine.internal(req.table_name),
                stream_specification=_stream(req.stream_specification),
                billing_mode=req.billing_mode,
                provisioned_throughput=_throughput(req.provisioned_throughput),
                deletion_protection_enabled=req.deletion_protection_enabled,
                attribute_definitions=[
                    AttributeDefinition(d.attribute_name, d.attribute_type)
                    for d in req.attribute_definitions or ()
                ],
                global_secondary_index_updates=[
                    _index_update(u) for u in req.global_secondary_index_updates or ()
                ],
            )
        )
        return s.TableResult(describe(status))

    async def delete_table(self, req: s.DeleteTableRequest) -> s.TableResult:
        name = _require(req.table_name, "TableName")
        status = await self.engine.delete_table(self.engine.internal(name))
        return s.TableResult(describe(status))

    async def update_time_to_live(self, req: s.UpdateTimeToLiveRequest) -> s.UpdateTimeToLiveResult:
        _require(req.table_name, "TableName")
        spec = req.time_to_live_specification
        if spec is None:
            raise ValidationException(_missing("TimeToLiveSpecification"))
        done = await self.engine.update_time_to_live(
            self.engine.internal(req.table_name), TimeToLive(spec.attribute_name, spec.enabled)
        )
        return s.UpdateTimeToLiveResult(
            s.TimeToLiveSpecification(done.attribute_name, done.enabled)
        )

    async def describe_time_to_live(
        self, req: s.DescribeTimeToLiveRequest
    ) -> s.DescribeTimeToLiveResult:
        name = _require(req.table_name, "TableName")
        ttl = self.engine.describe_time_to_live(self.engine.internal(name))
        return s.DescribeTimeToLiveResult(
            s.TimeToLiveDescription(
                "ENABLED" if ttl.enabled else "DISABLED",
                ttl.attribute_name if ttl.enabled else "",
            )
        )

    # --- single items ---------------------------------------------------------------------------
    async def put_item(self, req: s.PutItemRequest) -> s.WriteItemResult:
        _require(req.table_name, "TableName")
        _no_legacy(req)
        _asked_capacity(req)
        core = it.PutItemInput(
            table_name=self.engine.internal(req.table_name),
            item=req.item,
            condition_expression=req.condition_expression,
            expression_attribute_names=req.expression_attribute_names,
            expression_attribute_values=req.expression_attribute_values,
            return_values=req.return_values,
            return_values_on_condition_check_failure=req.return_values_on_condition_check_failure,
        )
        done = await self._routed(
            lambda: self.engine.put_item(core),
            lambda address: self.forwarding.put_item(address, core),
        )
        return s.WriteItemResult(done.attributes, _capacity(req, req.table_name))

    async def update_item(self, req: s.UpdateItemRequest) -> s.WriteItemResult:
        _require(req.table_name, "TableName")
        _no_legacy(req)
        _asked_capacity(req)
        core = it.UpdateItemInput(
            table_name=self.engine.internal(req.table_name),
            key=req.key,
            update_expression=req.update_expression,
            condition_expression=req.condition_expression,
            expression_attribute_names=req.expression_attribute_names,
            expression_attribute_values=req.expression_attribute_values,
            return_values=req.return_values,
            return_values_on_condition_check_failure=req.return_values_on_condition_check_failure,
        )
        done = await self._routed(
            lambda: self.engine.update_item(core),
            lambda address: self.forwarding.update_item(address, core),
        )
        return s.WriteItemResult(done.attributes, _capacity(req, req.table_name))

    async def delete_item(self, req: s.DeleteItemRequest) -> s.WriteItemResult:
        _require(req.table_name, "TableName")
        _no_legacy(req)
        _asked_capacity(req)
        core = it.DeleteItemInput(
            table_name=self.engine.internal(req.table_name),
            key=req.key,
            condition_expression=req.condition_expression,
            expression_attribute_names=req.expression_attribute_names,
            expression_attribute_values=req.expression_attribute_values,
            return_values=req.return_values,
            return_values_on_condition_check_failure=req.return_values_on_condition_check_failure,
        )
        done = await self._routed(
            lambda: self.engine.delete_item(core),
            lambda address: self.forwarding.delete_item(address, core),
        )
        return s.WriteItemResult(done.attributes, _capacity(req, req.table_name))

    async def get_item(self, req: s.GetItemRequest) -> s.GetItemResult:
        _require(req.table_name, "TableName")
        _no_legacy(req)
        _asked_capacity(req)
        core = rd.GetItemInput(
            table_name=self.engine.internal(req.table_name),
            key=req.key,
            consistent_read=req.consistent_read,
            projection_expression=req.projection_expression,
            expression_attribute_names=req.expression_attribute_names,
        )
        item = await self._routed(
            lambda: self.engine.get_item(core),
            lambda address: self.forwarding.get_item(address, core),
        )
        return s.GetItemResult(item, _capacity(req, req.table_name, 0.5))

    async def query(self, req: s.QueryRequest) -> s.PageResult:
        _require(req.table_name, "TableName")
        _no_legacy(req)
        _asked_capacity(req)
        core = rd.QueryInput(
            table_name=self.engine.internal(req.table_name),
            index_name=req.index_name,
            key_condition_expression=req.key_condition_expression,
            filter_expression=req.filter_expression,
            projection_expression=req.projection_expression,
            expression_attribute_names=req.expression_attribute_names,
            expression_attribute_values=req.expression_attribute_values,
            scan_index_forward=req.scan_index_forward,
            limit=req.limit,
            exclusive_start_key=req.exclusive_start_key or None,
            select=req.select,
            consistent_read=req.consistent_read,
        )
        page = await self._routed(
            lambda: self.engine.query(core),
            lambda address: self.forwarding.query(address, core),
        )
        return self._page(req, page)

    async def scan(self, req: s.ScanRequest) -> s.PageResult:
        _require(req.table_name, "TableName")
        _no_legacy(req)
        _asked_capacity(req)
        page = await self.engine.scan(
            rd.ScanInput(
                table_name=self.engine.internal(req.table_name),
                index_name=req.index_name,
                filter_expression=req.filter_expression,
                projection_expression=req.projection_expression,
                expression_attribute_names=req.expression_attribute_names,
                expression_attribute_values=req.expression_attribute_values,
                limit=req.limit,
                exclusive_start_key=req.exclusive_start_key or None,
                select=req.select,
                segment=req.segment,
                total_segments=req.total_segments,
                consistent_read=req.consistent_read,
            )
        )
        return self._page(req, page)

    def _index(self, req: s.QueryRequest | s.ScanRequest) -> IndexDef | None:
        table = self.engine.lookup(self.engine.internal(req.table_name)) if req.index_name else None
        return table.index(req.index_name) if table is not None else None

    def _page(self, req: s.QueryRequest | s.ScanRequest, page: rd.Page) -> s.PageResult:
        return s.PageResult(
            count=page.count,
            scanned_count=page.scanned_count,
            items=None if req.select == "COUNT" else page.items,
            last_evaluated_key=page.last_evaluated_key,
            consumed_capacity=_capacity(
                req, req.table_name, max(1.0, page.size_bytes / 4096), self._index(req)
            ),
        )

    # --- batches and transactions ---------------------------------------------------------------
    async def batch_get_item(self, req: s.BatchGetItemRequest) -> s.BatchGetItemResult:
        if not req.request_items:
            _require("", "RequestItems")
        _asked_capacity(req)
        for ka in req.request_items.values():
            _no_legacy(ka)
        given: dict[str, str] = {}  # internal name -> the name the response keys by
        wanted: dict[str, rd.KeysAndAttributes] = {}
        for name, ka in req.request_items.items():
            internal = self.engine.internal(name)
            given[internal] = name
            wanted[internal] = rd.KeysAndAttributes(
                keys=ka.keys,
                projection_expression=ka.projection_expression,
                expression_attribute_names=ka.expression_attribute_names,
                consistent_read=ka.consistent_read,
            )
        found = await self.engine.batch_get_item(wanted)
        return s.BatchGetItemResult(
            {given[n]: items for n, items in found.items()},
            {},
            _capacities(req, list(req.request_items)),
        )

    async def batch_write_item(self, req: s.BatchWriteItemRequest) -> s.BatchWriteItemResult:
        if not req.request_items:
            _require("", "RequestItems")
        _asked_capacity(req)
        writes: dict[str, list[it.BatchWrite]] = {}
        for name, entries in req.request_items.items():
            for w in entries:
                if (w.put_request is None) == (w.delete_request is None):
                    raise ValidationException(
                        f"RequestItems.{name}: each WriteRequest must contain exactly one of "
                        "PutRequest or DeleteRequest"
                    )
                writes.setdefault(self.engine.internal(name), []).append(
                    it.BatchWrite(item=w.put_request.item)
                    if w.put_request is not None
                    else it.BatchWrite(key=w.delete_request.key if w.delete_request else None)
                )
        await self.engine.batch_write_item(writes)
        return s.BatchWriteItemResult({}, _capacities(req, list(req.request_items)))

    async def transact_write_items(
        self, req: s.TransactWriteItemsRequest
    ) -> s.TransactWriteItemsResult:
        if not req.transact_items:
            _require("", "TransactItems")
        _asked_capacity(req)
        given = [_transact_action(i, entry) for i, entry in enumerate(req.transact_items)]
        actions = [replace(a, table_name=self.engine.internal(a.table_name)) for a in given]
        await self._routed(
            lambda: self.engine.transact_write_items(actions, req.client_request_token),
            lambda address: self.forwarding.transact_write_items(
                address, actions, req.client_request_token
            ),
        )
        return s.TransactWriteItemsResult(_capacities(req, [a.table_name for a in given]))

    async def transact_get_items(self, req: s.TransactGetItemsRequest) -> s.TransactGetItemsResult:
        if not req.transact_items:
            _require("", "TransactItems")
        _asked_capacity(req)
        gets = []
        for i, entry in enumerate(req.transact_items):
            g = entry.get
            if g is None:
                raise ValidationException(f"TransactItems[{i}] must contain Get")
            gets.append(
                tg.TransactGet(
                    table_name=self.engine.internal(
                        _require(g.table_name, f"TransactItems.{i + 1}.member.Get.TableName")
                    ),
                    key=g.key,
                    projection_expression=g.projection_expression,
                    expression_attribute_names=g.expression_attribute_names,
                )
            )
        # Every item on one other replica: the whole request goes there (NotOwner).
        snap = await self._routed(
            lambda: self.engine.transact_get_items(gets),
            lambda address: self.forwarding.transact_get_items(address, gets),
        )
        return s.TransactGetItemsResult(
            [s.ItemResponse(item) for item in snap.items],
            _capacities(req, [e.get.table_name for e in req.transact_items if e.get]),
        )


_KINDS = ("ConditionCheck", "Put", "Delete", "Update")


def _transact_action(index: int, entry: s.TransactWriteItem) -> tx.TransactAction:
    parts = [
        (kind, part)
        for kind, part in zip(
            _KINDS, (entry.condition_check, entry.put, entry.delete, entry.update), strict=True
        )
        if part is not None
    ]
    if len(parts) != 1:
        raise ValidationException(
            f"TransactItems[{index}] must contain exactly one of ConditionCheck, Put, Delete "
            "or Update"
        )
    kind, part = parts[0]
    return tx.TransactAction(
        kind=kind,
        table_name=_require(part.table_name, f"TransactItems.{index + 1}.member.{kind}.TableName"),
        item=part.item,
        key=part.key,
        condition_expression=part.condition_expression,
        update_expression=part.update_expression,
        expression_attribute_names=part.expression_attribute_names,
        expression_attribute_values=part.expression_attribute_values,
        return_values_on_condition_check_failure=part.return_values_on_condition_check_failure,
    )
