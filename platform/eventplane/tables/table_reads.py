"""The engine's reads (GetItem, Query, Scan, BatchGetItem), on tables and their indexes.

A mixin of ``TableEngine``: it reads the owned stores and forwards what other
replicas own; the page rules live in ``reads.py``, index order and merging in
``index_reads.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from eventplane.errors import ServiceUnavailable, ValidationException
from eventplane.tables import expressions as ex
from eventplane.tables import index_reads as ir
from eventplane.tables import items as it
from eventplane.tables import metrics
from eventplane.tables import reads as rd
from eventplane.tables.expr import item_size
from eventplane.tables.expr.validate import check_query_filter
from eventplane.tables.indexes import IndexDef
from eventplane.tables.keys import partition_of
from eventplane.tables.model import TableDef
from eventplane.tables.routing import FORWARDED, Remote
from eventplane.tables.store import PartitionStore

Item = dict[str, Any]


def index_stats(table: TableDef, store: PartitionStore) -> dict[str, tuple[int, int]]:
    """ItemCount and IndexSizeBytes of each index among one partition's items."""
    out: dict[str, tuple[int, int]] = {}
    for d in table.indexes:
        entries = store.index_items(d.key_names, d.name if d.is_global else "")
        out[d.name] = (
            len(entries),
            sum(item_size(d.project(i, table.key_names)) for i in entries),
        )
    return out


class TableReads:
    if TYPE_CHECKING:

        def get(self, name: str) -> TableDef: ...

        async def owner(
            self, table: TableDef, partition: int, *, may_forward: bool | None = None
        ) -> PartitionStore | str: ...

        async def store(self, table: TableDef, partition: int) -> PartitionStore: ...

        def _remote(self) -> Remote: ...

    async def get_item(self, req: rd.GetItemInput) -> Item | None:
        table = self.get(req.table_name)
        where = it.locate(table, it.exact_key(table, req.key))
        exprs = ex.compile(
            projection=req.projection_expression, names=req.expression_attribute_names, values=None
        )
        store = await self.store(table, where.partition)
        item = store.get(where.key)
        metrics.READS.labels(table.name).inc()
        return ex.projector(exprs)(item) if item is not None else None

    async def scan(
        self, req: rd.ScanInput, from_partition: int = 0, bytes_used: int = 0
    ) -> rd.Page:
        table = self.get(req.table_name)
        index = (
            ir.resolve(table, req.index_name, req.consistent_read, req.select)
            if req.index_name
            else None
        )
        rd.check_limit(req.limit)
        rd.check_segments(req.segment, req.total_segments)
        count_only = rd.check_select(req.select, req.projection_expression, req.index_name)
        exprs = ex.compile(
            filter=req.filter_expression,
            projection=req.projection_expression,
            names=req.expression_attribute_names,
            values=req.expression_attribute_values,
        )
        start_keys = req.exclusive_start_key
        if index is not None and start_keys:
            ir.start_position(table, index, start_keys)  # checks the index key is there
            start_keys = {n: start_keys[n] for n in table.key_names}
        start = rd.start_key(table, start_keys)
        page = await self._scan_from(
            table, req, exprs, count_only, start, from_partition, bytes_used, index
        )
        metrics.READS.labels(table.name).inc(page.scanned_count)
        return page

    async def _scan_from(
        self,
        table: TableDef,
        req: rd.ScanInput,
        exprs: ex.Expressions,
        count_only: bool,
        start: it.Located | None,
        from_partition: int,
        bytes_used: int = 0,
        index: IndexDef | None = None,
    ) -> rd.Page:
        """Partitions in order; at the first one another replica owns, that replica
        serves the rest of the page (partitions only go up, so this ends)."""
        acc = rd.Page([], 0, 0, None, bytes_used)
        first = start.partition if start is not None else from_partition
        for p in range(first, table.partitions):
            remaining = req.limit - acc.scanned_count if req.limit else 0
            # A forwarded scan starts on a partition of this replica; later ones may be
            # elsewhere again (the partition only goes up, so the scan never loops).
            found = await self.owner(table, p, may_forward=p > first or not FORWARDED.get())
            if isinstance(found, str):
                rest = dataclasses.replace(
                    req,
                    limit=remaining,
                    exclusive_start_key=req.exclusive_start_key if p == first else None,
                )
                return rd.merge(acc, await self._remote().scan(found, rest, p, acc.size_bytes))
            order = rd.scan_order(table, [found], start, req.segment, req.total_segments)
            if index is not None:
                idx = index
                order = ((k, idx.project(i, table.key_names)) for k, i in order if idx.holds(i))
            page = rd.paginate(
                table,
                order,
                limit=remaining,
                keep=ex.filter_of(exprs),
                project=ex.projector(exprs),
                count_only=count_only,
                bytes_used=acc.size_bytes,
                last_key=ir.last_key(table, index) if index is not None else None,
            )
            acc = rd.merge(acc, page)
            if page.last_evaluated_key is not None:
                return acc
        return acc

    async def query(self, req: rd.QueryInput, index_partitions: list[int] | None = None) -> rd.Page:
        """A Query; ``index_partitions`` (replica to replica): only this replica's
        candidates of a GSI query from those partitions, unfiltered and in index order."""
        table = self.get(req.table_name)
        index = (
            ir.resolve(table, req.index_name, req.consistent_read, req.select)
            if req.index_name
            else None
        )
        rd.check_limit(req.limit)
        count_only = rd.check_select(
            req.select, req.projection_expression, req.index_name, query=True
        )
        if not req.key_condition_expression:
            raise ValidationException(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified "
                "in the request."
            )
        exprs = ex.compile(
            key_condition=req.key_condition_expression,
            filter=req.filter_expression,
            projection=req.projection_expression,
            names=req.expression_attribute_names,
            values=req.expression_attribute_values,
        )
        if index is not None:
            return await self._query_index(table, index, req, exprs, count_only, index_partitions)
        keys = ex.key_range(exprs, table)
        if exprs.filter is not None:
            check_query_filter(exprs.filter, exprs.names, table.key_names)
        start = rd.start_key(table, req.exclusive_start_key)
        if start is not None and start.keys[table.hash_key] != keys.hash_value:
            raise ValidationException(
                "The provided starting key is invalid: The provided key "
                "element does not match the schema"
            )
        hash_value = keys.hash_value
        partition = partition_of(hash_value, table.partitions)
        store = await self.store(table, partition)
        page = rd.paginate(
            table,
            rd.query_order(table, store, keys, req.scan_index_forward, start),
            limit=req.limit,
            keep=ex.filter_of(exprs),
            project=ex.projector(exprs),
            count_only=count_only,
        )
        metrics.READS.labels(table.name).inc(page.scanned_count)
        return page

    async def _query_index(
        self,
        table: TableDef,
        index: IndexDef,
        req: rd.QueryInput,
        exprs: ex.Expressions,
        count_only: bool,
        index_partitions: list[int] | None,
    ) -> rd.Page:
        keys = ex.key_range(exprs, table, ir.key_schema(table, index))
        if exprs.filter is not None:
            check_query_filter(exprs.filter, exprs.names, index.key_names)
        start = ir.start_position(table, index, req.exclusive_start_key)
        given = req.exclusive_start_key
        if start is not None and given is not None and given[index.hash_key] != keys.hash_value:
            raise ValidationException(
                "The provided starting key is invalid: The provided key "
                "element does not match the schema"
            )
        forward = req.scan_index_forward
        if index_partitions is not None:  # a part of another replica's GSI query
            stores = [await self._local_store(table, p) for p in index_partitions]
            part = ir.query_candidates(table, index, stores, keys, forward, start, req.limit)
            return rd.Page(part, len(part), len(part), None)
        if index.is_global:
            candidates = await self._gsi_candidates(table, index, req, keys, start)
        else:
            store = await self.store(table, partition_of(keys.hash_value, table.partitions))
            candidates = ir.query_candidates(table, index, [store], keys, forward, start, req.limit)
        whole = req.select == "ALL_ATTRIBUTES" or (
            not index.is_global and bool(req.projection_expression)
        )
        view: Callable[[Item], Item] = (
            (lambda i: i) if whole else (lambda i: index.project(i, table.key_names))
        )
        page = rd.paginate(
            table,
            ((" ", view(i)) for i in candidates),
            limit=req.limit,
            keep=ex.filter_of(exprs),
            project=ex.projector(exprs),
            count_only=count_only,
            last_key=ir.last_key(table, index),
        )
        metrics.READS.labels(table.name).inc(page.scanned_count)
        return page

    async def _local_store(self, table: TableDef, partition: int) -> PartitionStore:
        found = await self.owner(table, partition, may_forward=False)
        if isinstance(found, str):
            raise ServiceUnavailable(f"partition {partition} of table {table.name} moved; retry")
        return found

    async def _gsi_candidates(
        self,
        table: TableDef,
        index: IndexDef,
        req: rd.QueryInput,
        keys: ex.KeyRange,
        start: ir.Position | None,
    ) -> list[Item]:
        """Every partition's candidates: this replica's from its stores, the others' from
        their owners (one call per replica), merged in index order."""
        local: list[PartitionStore] = []
        elsewhere: dict[str, list[int]] = {}
        for p in range(table.partitions):
            found = await self.owner(table, p)
            if isinstance(found, str):
                elsewhere.setdefault(found, []).append(p)
            else:
                local.append(found)
        forward = req.scan_index_forward
        parts = [ir.query_candidates(table, index, local, keys, forward, start, req.limit)]
        calls = [self._remote().index_query(a, req, ps) for a, ps in sorted(elsewhere.items())]
        parts.extend(await asyncio.gather(*calls))
        return ir.merge(table, index, parts, forward)

    async def batch_get_item(
        self, request_items: dict[str, rd.KeysAndAttributes]
    ) -> dict[str, list[Item]]:
        planned = rd.plan_batch_get(self.get, request_items)
        out: dict[str, list[Item]] = {}
        # The keys of other replicas' partitions go to their owners, one call each.
        elsewhere: dict[str, dict[str, rd.KeysAndAttributes]] = {}
        for table, ka, project, located in planned:
            found = out.setdefault(table.name, [])
            for w in located:
                owner = await self.owner(table, w.partition)
                if isinstance(owner, str):
                    part = elsewhere.setdefault(owner, {}).setdefault(
                        table.name, dataclasses.replace(ka, keys=[])
                    )
                    part.keys.append(w.keys)
                    continue
                item = owner.get(w.key)
                if item is not None:
                    found.append(project(item))
            metrics.READS.labels(table.name).inc(len(located))
        remote = [self._remote().batch_get(a, part) for a, part in elsewhere.items()]
        for answer in await asyncio.gather(*remote):
            for name, items in answer.items():
                out.setdefault(name, []).extend(items)
        return out
