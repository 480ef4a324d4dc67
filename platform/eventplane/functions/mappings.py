"""Queue event source mappings: poll a queue in batches and invoke the function.

Every replica with the runner role polls every enabled mapping, with up to the mapping's
MaximumConcurrency pollers (default 2) each, so the batches in flight for a mapping grow
with the replicas. A poller long-polls the queue through the queue source the queues
component offers in this process (``eventplane.messaging.sources``: the queues core, which
finds owners and forwards as for any client), fills a batch up to
BatchSize or until MaximumBatchingWindowInSeconds has passed, and invokes the function
synchronously with the SQS event shape (``{"Records": [...]}``):

- success: the batch is deleted;
- a function error: nothing is deleted; the messages return after their visibility timeout;
- with ReportBatchItemFailures: only the reported items stay (an empty list or null means
  every item succeeded; a malformed response or an unknown id fails the whole batch); on a
  FIFO queue everything from the first failed item on stays, so group order holds;
- with FilterCriteria: a message no pattern matches is deleted without invoking (as
  Lambda does); patterns see the SQS record, its ``body`` as an object when it is JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from eventplane import arn as arns
from eventplane.errors import EventplaneError, ServiceUnavailable
from eventplane.functions import metrics
from eventplane.functions.models import MAPPING, MappingDef
from eventplane.functions.models.stream_settings import compile_filter
from eventplane.functions.pool import InvocationResult
from eventplane.messaging.sources import MAX_DELETE_BATCH, QueueSource, ReceivedMessage
from eventplane.observability.logging import get_logger
from eventplane.registry import Registry

_log = get_logger("eventplane.functions.mappings")

DEFAULT_POLLERS = 2
RECEIVE_WAIT_S = 20
ERROR_PAUSE_S = 1.0

Run = Callable[[MappingDef, bytes], Awaitable[InvocationResult]]


class MappingRunner:
    def __init__(
        self, registry: Registry, *, run: Run, queues: Callable[[], QueueSource | None]
    ) -> None:
        """``queues`` finds the queue source when a poll needs it (None: no queues role
        here); components start in any order, so it is looked up, not passed."""
        self._registry = registry
        self._run = run
        self._queues = queues
        self._pollers: dict[str, tuple[int, list[asyncio.Task[None]]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def _source(self) -> QueueSource:
        source = self._queues()
        if source is None:
            # Polled again after a pause, as when the queue is unreachable.
            raise ServiceUnavailable("event source mappings need the queues role in this process")
        return source

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._registry.subscribe(self._on_change)
        self._reconcile()

    async def stop(self) -> None:
        tasks = [t for _, ts in self._pollers.values() for t in ts]
        self._pollers.clear()
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t

    def _on_change(self, kind: str, name: str, resource: Any) -> None:
        if kind == MAPPING and self._loop is not None:
            self._loop.call_soon_threadsafe(self._reconcile)

    def _reconcile(self) -> None:
        # Stream mappings are read by the stream runner (stream_mappings.py).
        wanted = {r.name: r for r in self._registry.find(MAPPING) if not r.spec.get("stream")}
        for key in [k for k in self._pollers if k not in wanted]:
            for t in self._pollers.pop(key)[1]:
                t.cancel()
        for key, r in wanted.items():
            current = self._pollers.get(key)
            if current is not None and current[0] == r.generation:
                continue
            if current is not None:
                for t in current[1]:
                    t.cancel()
            mapping = MappingDef.from_resource(r)
            tasks: list[asyncio.Task[None]] = []
            if mapping.enabled:
                count = mapping.maximum_concurrency or DEFAULT_POLLERS
                tasks = [asyncio.create_task(self._poll(mapping)) for _ in range(count)]
            self._pollers[key] = (r.generation, tasks)

    async def _poll(self, mapping: MappingDef) -> None:
        while True:
            try:
                batch = await self._batch(mapping)
                if batch:
                    await self._process(mapping, batch)
            except asyncio.CancelledError:
                raise
            except EventplaneError as exc:
                _log.warning("mapping poll failed", mapping=mapping.uuid, error=exc.message)
                await asyncio.sleep(ERROR_PAUSE_S)
            except Exception:
                _log.exception("mapping poll failed", mapping=mapping.uuid)
                await asyncio.sleep(ERROR_PAUSE_S)

    async def _batch(self, mapping: MappingDef) -> list[ReceivedMessage]:
        queues = self._source()
        batch: list[ReceivedMessage] = []
        deadline = time.monotonic() + mapping.maximum_batching_window_seconds
        while len(batch) < mapping.batch_size:
            left = deadline - time.monotonic()
            wait = RECEIVE_WAIT_S if not batch else max(0, min(RECEIVE_WAIT_S, int(left)))
            got = await queues.receive(
                mapping.queue,
                max_messages=min(10, mapping.batch_size - len(batch)),
                wait_seconds=wait,
            )
            batch.extend(got)
            if not got and batch:
                break
            if batch and time.monotonic() >= deadline:
                break
        return batch

    async def _process(self, mapping: MappingDef, batch: list[ReceivedMessage]) -> None:
        if mapping.filters:
            batch = await self._filter(mapping, batch)
            if not batch:
                return
        event = {"Records": [_record(mapping, m) for m in batch]}
        result = await self._run(mapping, json.dumps(event).encode())
        if result.function_error:
            metrics.MAPPING_BATCHES.labels(mapping.function, "failed").inc()
            return  # the messages come back after their visibility timeout
        keep = _failed_items(mapping, batch, result.payload)
        if keep is None:
            metrics.MAPPING_BATCHES.labels(mapping.function, "failed").inc()
            _log.warning(
                "malformed batch item failures; the whole batch is retried", mapping=mapping.uuid
            )
            return
        done = [m for m in batch if m.message_id not in keep]
        metrics.MAPPING_BATCHES.labels(mapping.function, "partial" if keep else "success").inc()
        queues = self._source()
        for start in range(0, len(done), MAX_DELETE_BATCH):
            chunk = done[start : start + MAX_DELETE_BATCH]
            await queues.delete(mapping.queue, [m.receipt_handle for m in chunk])

    async def _filter(
        self, mapping: MappingDef, batch: list[ReceivedMessage]
    ) -> list[ReceivedMessage]:
        """The messages a FilterCriteria pattern matches; the others are deleted."""
        patterns = [compile_filter(p) for p in mapping.filters]
        keep: list[ReceivedMessage] = []
        drop: list[ReceivedMessage] = []
        for m in batch:
            (keep if any(p.matches(_filterable(mapping, m)) for p in patterns) else drop).append(m)
        queues = self._source()
        for start in range(0, len(drop), MAX_DELETE_BATCH):
            chunk = drop[start : start + MAX_DELETE_BATCH]
            await queues.delete(mapping.queue, [m.receipt_handle for m in chunk])
        return keep


def _filterable(mapping: MappingDef, m: ReceivedMessage) -> dict[str, Any]:
    record = _record(mapping, m)
    try:
        body = json.loads(m.body)
    except ValueError:
        return record
    if isinstance(body, dict):
        record["body"] = body
    return record


def _failed_items(
    mapping: MappingDef, batch: list[ReceivedMessage], payload: bytes
) -> set[str] | None:
    """The message ids to keep; None when the whole batch fails (malformed or unknown id)."""
    if not mapping.report_batch_item_failures:
        return set()
    try:
        response = json.loads(payload) if payload.strip() else None
    except ValueError:
        return None
    if response is None:
        return set()
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    ids = {m.message_id for m in batch}
    keep: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in ids:
            return None
        keep.add(identifier)
    if mapping.fifo and keep:
        # FIFO: everything from the first failed message on stays, in order.
        first = next(i for i, m in enumerate(batch) if m.message_id in keep)
        keep |= {m.message_id for m in batch[first:]}
    return keep


def _record(mapping: MappingDef, m: ReceivedMessage) -> dict[str, Any]:
    return {
        "messageId": m.message_id,
        "receiptHandle": m.receipt_handle,
        "body": m.body,
        "attributes": dict(m.attributes),
        "messageAttributes": {
            name: {
                "stringValue": a.string_value,
                "binaryValue": a.binary_value.decode("latin-1") if a.binary_value else None,
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": a.data_type,
            }
            for name, a in m.message_attributes.items()
        },
        "md5OfBody": m.md5_of_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": mapping.event_source_arn,
        "awsRegion": arns.identity().region,
    }
