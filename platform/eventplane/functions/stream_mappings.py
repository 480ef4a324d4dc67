"""Stream event source mappings: read each shard of a table stream in order, invoke the
function with batches, checkpoint after each fully processed chunk.

Shards are read through the stream source the tables component offers in this process
(``eventplane.messaging.stream_sources``); which replica reads which (mapping, shard), and
where it resumes, comes from :mod:`.stream_checkpoints`. Per shard, a reader:

1. reads up to BatchSize x ParallelizationFactor records from its checkpoint (waiting up
   to MaximumBatchingWindowInSeconds to fill them), drops those no FilterCriteria
   pattern matches;
2. splits them into ParallelizationFactor lanes by item key (one item's changes stay in
   order in one lane) and each lane into batches; the lanes run at once, each lane's
   batches in order, through :class:`.stream_batches.BatchProcessor` (retries, bisection,
   record age, partial failures, OnFailure records);
3. writes the checkpoint after the chunk. A failing batch blocks its shard, and nothing
   after it runs, until it succeeds or is given up; a crash repeats at most the chunk.

With TumblingWindowInSeconds the chunk's records go through one lane, window by window,
through a :class:`.stream_windows.Tumbler` that carries the function's state; the open
window is saved with the checkpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from eventplane.delivery import Payload, Router
from eventplane.errors import EventplaneError
from eventplane.functions import metrics
from eventplane.functions.models import MAPPING, MappingDef
from eventplane.functions.models.stream_settings import compile_filter
from eventplane.functions.pool import InvocationResult
from eventplane.functions.stream_batches import (
    BatchProcessor,
    Failure,
    Outcome,
    StreamPolicy,
    batches,
    event,
    failure_record,
    lanes,
)
from eventplane.functions.stream_checkpoints import Checkpoints, slot_of
from eventplane.functions.stream_windows import Tumbler, Window, by_window
from eventplane.kafka.clients import Producer
from eventplane.messaging.stream_sources import StreamRecord, StreamSource
from eventplane.observability import stages
from eventplane.observability.logging import get_logger
from eventplane.registry import Registry
from eventplane.runtime import Clock

_log = get_logger("eventplane.functions.stream_mappings")

IDLE_POLL_S = 0.25
ERROR_PAUSE_S = 1.0
RECONCILE_EVERY_S = 5.0
JOIN_POLL_S = 0.5
# Under Lambda's 6 MB synchronous payload, with room for the envelope.
MAX_BATCH_BYTES = 5 * 1024 * 1024

Run = Callable[[MappingDef, bytes], Awaitable[InvocationResult]]
Key = tuple[str, str]  # (mapping uuid, shard id)


class StreamMappingRunner:
    def __init__(
        self,
        registry: Registry,
        checkpoints_factory: Callable[[Callable[[], None]], Checkpoints],
        *,
        run: Run,
        streams: Callable[[], StreamSource | None],
        router: Router,
        producer: Producer,
        clock: Clock,
    ) -> None:
        """``streams`` finds the stream source when needed (None: no tables role here)."""
        self._registry = registry
        self._run = run
        self._streams = streams
        self._router = router
        self._producer = producer
        self._clock = clock
        self._checkpoints = checkpoints_factory(self._changed_from_thread)
        self._readers: dict[Key, tuple[int, asyncio.Task[None]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._joined = False
        self._forgetting: set[asyncio.Task[None]] = set()
        # (mapping, shard) -> the first ancestor of the shard (itself unless split off)
        self._roots: dict[Key, str] = {}

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._registry.subscribe(self._on_change)
        self._ticker = asyncio.create_task(self._tick(), name="stream-mappings-reconcile")

    async def stop(self) -> None:
        tasks = [t for _, t in self._readers.values()]
        if self._ticker is not None:
            tasks.append(self._ticker)
        self._readers.clear()
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if self._joined:
            await asyncio.to_thread(self._checkpoints.close)

    def _changed_from_thread(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._reconcile)

    def _on_change(self, kind: str, name: str, resource: Any) -> None:
        if kind == MAPPING and self._loop is not None:
            self._loop.call_soon_threadsafe(self._reconcile)

    async def _tick(self) -> None:
        """Joins the readers' group once this process can read streams (a replica without
        the tables role must not take shards it cannot read; components start in any
        order), then looks for new shards now and then."""
        while True:
            try:
                if not self._joined and self._streams() is not None:
                    await self._checkpoints.start()
                    self._joined = True
                self._reconcile()
            except Exception:
                _log.exception("stream mappings: reconcile failed; trying again")
            await asyncio.sleep(RECONCILE_EVERY_S if self._joined else JOIN_POLL_S)

    def _reconcile(self) -> None:
        source = self._streams()
        owned = self._checkpoints.owned()
        wanted: dict[Key, tuple[int, MappingDef]] = {}
        if source is not None and owned:
            for r in self._registry.find(MAPPING):
                mapping = MappingDef.from_resource(r)
                if mapping.stream is None or not mapping.enabled:
                    continue
                try:
                    shards = source.shards(mapping.event_source_arn)
                except EventplaneError:
                    continue  # the stream is gone: its mapping waits, as on Lambda
                for shard in shards:
                    try:
                        root = _root(source, mapping.event_source_arn, shard)
                    except EventplaneError:
                        continue
                    self._roots[(mapping.uuid, shard)] = root
                    if slot_of(mapping.uuid, root) in owned:
                        wanted[(mapping.uuid, shard)] = (r.generation, mapping)
        existing = {r.name for r in self._registry.find(MAPPING)}
        for key in [k for k in self._readers if k not in wanted]:
            self._readers.pop(key)[1].cancel()
            if key[0] not in existing and slot_of(key[0], self._root_of(key)) in owned:
                task = asyncio.create_task(self._forget(*key))
                self._forgetting.add(task)
                task.add_done_callback(self._forgetting.discard)
        for key, (generation, mapping) in wanted.items():
            current = self._readers.get(key)
            if current is not None and current[0] == generation and not current[1].done():
                continue
            if current is not None:
                current[1].cancel()
            task = asyncio.create_task(self._read_shard(mapping, key[1]))
            self._readers[key] = (generation, task)

    def _root_of(self, key: Key) -> str:
        return self._roots.get(key, key[1])

    async def _after_parent(self, source: StreamSource, mapping: MappingDef, shard: str) -> None:
        """Wait until the shard's parent (if any) is read to its end and checkpointed
        there: a repartition's child carries on its parent's keys, so per item the
        changes reach the function in order, as the KCL reads parents first. The parent
        shares the child's slot, so its checkpoint is this replica's to see."""
        parent, _ = source.lineage(mapping.event_source_arn, shard)
        while parent:
            _, end = source.lineage(mapping.event_source_arn, parent)
            done = self._checkpoints.position(mapping.uuid, parent)
            if end is not None and done is not None and done >= end:
                return
            await asyncio.sleep(IDLE_POLL_S)

    async def _forget(self, mapping_uuid: str, shard: str) -> None:
        try:
            await self._checkpoints.forget(
                mapping_uuid, shard, root=self._root_of((mapping_uuid, shard))
            )
        except Exception as exc:  # a leftover checkpoint only costs a few bytes
            _log.warning("stream checkpoint not removed", mapping=mapping_uuid, error=str(exc))

    # --- one shard --------------------------------------------------------------------
    async def _read_shard(self, mapping: MappingDef, shard: str) -> None:
        settings = mapping.stream
        assert settings is not None
        filters = [compile_filter(p) for p in settings.filters]
        tumbler: Tumbler | None = None
        if settings.tumbling_window_seconds:
            tumbler = Tumbler(
                settings.tumbling_window_seconds,
                stream_arn=mapping.event_source_arn,
                shard=shard,
                run=lambda payload: self._outcome(mapping, payload),
                now_ms=self._clock,
            )
        processor = BatchProcessor(
            StreamPolicy(
                maximum_retry_attempts=settings.maximum_retry_attempts,
                maximum_record_age_seconds=settings.maximum_record_age_seconds,
                bisect=settings.bisect_batch_on_function_error,
                report_batch_item_failures=mapping.report_batch_item_failures,
            ),
            invoke=(tumbler.invoke if tumbler else lambda batch: self._invoke(mapping, batch)),
            discard=lambda failure: self._discard(mapping, shard, failure),
            now_ms=self._clock,
        )
        position: int | None = None
        while True:
            try:
                source = self._streams()
                if source is None:
                    raise EventplaneError("stream mappings need the tables role in this process")
                if position is None:
                    await self._after_parent(source, mapping, shard)
                    position = await self._start(source, mapping, shard)
                    if tumbler is not None:
                        tumbler.window = self._saved_window(mapping, shard)
                # Before the read: a change committed after it wakes the wait below.
                since = source.generation(mapping.event_source_arn, shard)
                records, following = await self._gather(source, mapping, shard, position)
                kept = [
                    r for r in records if not filters or any(f.matches(r.record) for f in filters)
                ]
                if kept:
                    if tumbler is not None:
                        await self._windows(processor, tumbler, kept, mapping.batch_size)
                    else:
                        factor = settings.parallelization_factor
                        await asyncio.gather(
                            *(
                                self._lane(processor, lane, mapping.batch_size)
                                for lane in lanes(kept, factor)
                            )
                        )
                    age = max(0, self._clock() - kept[-1].created_ms) / 1000
                    metrics.MAPPING_ITERATOR_AGE.labels(mapping.function, mapping.uuid).set(age)
                elif not records:
                    metrics.MAPPING_ITERATOR_AGE.labels(mapping.function, mapping.uuid).set(0)
                if tumbler is None:
                    if following != position:
                        await self._checkpoints.save(
                            mapping.uuid,
                            shard,
                            following,
                            root=self._root_of((mapping.uuid, shard)),
                        )
                        position = following
                else:
                    opened = tumbler.window
                    if not records:
                        await tumbler.close_if_over()
                    if following != position or tumbler.window is not opened:
                        window = tumbler.window.to_json() if tumbler.window else None
                        await self._checkpoints.save(
                            mapping.uuid,
                            shard,
                            following,
                            window,
                            root=self._root_of((mapping.uuid, shard)),
                        )
                        position = following
                if not records:
                    # Woken at once by a commit to the shard, in this process or (as soon
                    # as Kafka shows it) another; the poll is the fallback.
                    await source.wait(mapping.event_source_arn, shard, since, IDLE_POLL_S, position)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The chunk is read again from the checkpoint after a pause.
                message = exc.message if isinstance(exc, EventplaneError) else repr(exc)
                _log.warning(
                    "stream mapping read failed", mapping=mapping.uuid, shard=shard, error=message
                )
                position = self._checkpoints.position(mapping.uuid, shard)
                if tumbler is not None:
                    tumbler.window = self._saved_window(mapping, shard)
                await asyncio.sleep(ERROR_PAUSE_S)

    def _saved_window(self, mapping: MappingDef, shard: str) -> Window | None:
        return Window.from_json(self._checkpoints.window(mapping.uuid, shard))

    async def _windows(
        self, processor: BatchProcessor, tumbler: Tumbler, kept: list[StreamRecord], size: int
    ) -> None:
        """One lane, window by window: the state passes from batch to batch in order."""
        for run in by_window(kept, tumbler.seconds):
            await tumbler.enter(run[0])
            await self._lane(processor, run, size)

    async def _start(self, source: StreamSource, mapping: MappingDef, shard: str) -> int:
        """The checkpoint, or (first time) where StartingPosition says, saved at once."""
        found = self._checkpoints.position(mapping.uuid, shard)
        if found is not None:
            return found
        settings = mapping.stream
        assert settings is not None
        if settings.starting_position == "TRIM_HORIZON":
            position = (await source.bounds(mapping.event_source_arn, shard))[0]
        else:
            at = (
                settings.starting_position_timestamp_ms
                if settings.starting_position == "AT_TIMESTAMP"
                else settings.created_ms
            )
            position = await source.position_at(mapping.event_source_arn, shard, at or 0)
        await self._checkpoints.save(
            mapping.uuid, shard, position, root=self._root_of((mapping.uuid, shard))
        )
        return position

    async def _gather(
        self, source: StreamSource, mapping: MappingDef, shard: str, position: int
    ) -> tuple[list[StreamRecord], int]:
        settings = mapping.stream
        assert settings is not None
        want = mapping.batch_size * settings.parallelization_factor
        got = await source.read(mapping.event_source_arn, shard, position, want)
        records, following = list(got.records), got.next_position
        window = mapping.maximum_batching_window_seconds
        if records and len(records) < want and window > 0:
            deadline = time.monotonic() + window
            while len(records) < want and time.monotonic() < deadline:
                await asyncio.sleep(min(IDLE_POLL_S, max(0.0, deadline - time.monotonic())))
                more = await source.read(
                    mapping.event_source_arn, shard, following, want - len(records)
                )
                records += more.records
                following = more.next_position
        return records, following

    async def _lane(self, processor: BatchProcessor, lane: list[StreamRecord], size: int) -> None:
        for batch in batches(lane, size):
            for part in _by_bytes(batch):
                await processor.process(part)

    async def _invoke(self, mapping: MappingDef, batch: list[StreamRecord]) -> Outcome:
        payload = json.dumps(event(batch, mapping.event_source_arn)).encode()
        invoked_at = time.time()
        for r in batch:
            stages.observe("stream_read_to_invoke", r.read_at, invoked_at)
        return await self._outcome(mapping, payload)

    async def _outcome(self, mapping: MappingDef, payload: bytes) -> Outcome:
        result = await self._run(mapping, payload)
        outcome = Outcome(
            result.function_error,
            result.payload,
            result.request_id,
            mapping.qualifier or "$LATEST",
        )
        label = "failed" if outcome.function_error else "success"
        metrics.MAPPING_BATCHES.labels(mapping.function, label).inc()
        return outcome

    async def _discard(self, mapping: MappingDef, shard: str, failure: Failure) -> None:
        settings = mapping.stream
        assert settings is not None
        metrics.MAPPING_DISCARDED.labels(mapping.function, failure.condition).inc(
            len(failure.records)
        )
        _log.warning(
            "stream records given up",
            mapping=mapping.uuid,
            shard=shard,
            condition=failure.condition,
            records=len(failure.records),
        )
        if not settings.on_failure:
            return
        record = failure_record(
            failure,
            function_arn=mapping.function_arn,
            stream_arn=mapping.event_source_arn,
            shard=shard,
            now_ms=self._clock(),
        )
        payload = Payload(json.dumps(record), origin="destination", source_arn=mapping.function_arn)
        # Retried until written: the shard moves on only once its failure is recorded.
        while True:
            try:
                await self._router.send(settings.on_failure, payload, self._producer)
                metrics.DESTINATIONS.labels(mapping.function, "Failure", "delivered").inc()
                return
            except Exception as exc:
                metrics.DESTINATIONS.labels(mapping.function, "Failure", "failed").inc()
                _log.error("stream OnFailure destination unavailable", error=str(exc))
                await asyncio.sleep(ERROR_PAUSE_S)


def _by_bytes(batch: list[StreamRecord]) -> list[list[StreamRecord]]:
    """A batch split where its event would pass Lambda's synchronous payload limit."""
    out: list[list[StreamRecord]] = [[]]
    size = 0
    for r in batch:
        n = len(json.dumps(r.record))
        if out[-1] and size + n > MAX_BATCH_BYTES:
            out.append([])
            size = 0
        out[-1].append(r)
        size += n
    return out


def _root(source: StreamSource, stream_arn: str, shard: str) -> str:
    """The first ancestor of a shard (the shard itself unless a repartition split it off)."""
    seen = {shard}
    while True:
        parent, _ = source.lineage(stream_arn, shard)
        if not parent or parent in seen:
            return shard
        seen.add(parent)
        shard = parent
