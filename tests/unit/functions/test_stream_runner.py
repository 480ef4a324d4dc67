"""The stream mapping reader with fakes for the stream, the checkpoints and the function:
where it starts, that it checkpoints after each chunk (and only then), that a restart
resumes at the checkpoint, filters, lanes and the OnFailure path."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventplane.functions.models import MappingDef
from eventplane.functions.stream_checkpoints import CHECKPOINT_PARTITIONS, slot_of
from eventplane.functions.stream_mappings import StreamMappingRunner
from eventplane.messaging.stream_sources import StreamBatch, StreamRecord
from eventplane.tables.stream_signals import ShardSignals

STREAM = "arn:aws:dynamodb:local:000000000000:table/t/stream/2026-01-01T00:00:00.000"
SHARD = "shardId-00000000000000000001-00000000"
NOW = 1_000_000_000


class FakeStream:
    def __init__(self, records: list[StreamRecord]) -> None:
        self.records = records
        self.reads: list[tuple[int, int]] = []
        self.signals = ShardSignals()
        self.waiting = 0
        self.waits: list[bool] = []  # each idle wait: woken by a commit (True) or timed out

    def shards(self, stream_arn: str) -> list[str]:
        return [SHARD]

    def lineage(self, stream_arn: str, shard: str) -> tuple[str, int | None]:
        return "", None

    async def bounds(self, stream_arn: str, shard: str) -> tuple[int, int]:
        return (self.records[0].position if self.records else 0), self._end()

    def _end(self) -> int:
        return self.records[-1].position + 1 if self.records else 0

    async def position_at(self, stream_arn: str, shard: str, timestamp_ms: int) -> int:
        later = [r.position for r in self.records if r.created_ms >= timestamp_ms]
        return later[0] if later else self._end()

    async def read(self, stream_arn: str, shard: str, position: int, limit: int) -> StreamBatch:
        self.reads.append((position, limit))
        found = [r for r in self.records if r.position >= position][:limit]
        following = found[-1].position + 1 if found else max(position, self._end())
        return StreamBatch(found, following)

    def generation(self, stream_arn: str, shard: str) -> int:
        return self.signals.generation(("t", 0))

    async def wait(
        self, stream_arn: str, shard: str, since: int, timeout: float, position: int | None = None
    ) -> bool:
        self.waiting += 1
        woken = await self.signals.wait(("t", 0), since, timeout)
        self.waits.append(woken)
        return woken

    def commit(self, record: StreamRecord) -> None:
        """A change this process committed: the record is there, and readers are told."""
        self.records.append(record)
        self.signals.notify(("t", 0))


class FakeCheckpoints:
    def __init__(self, saved: dict[str, int] | None = None) -> None:
        self.saved = dict(saved or {})
        self.history: list[int] = []

    async def start(self) -> None:
        return None

    def close(self) -> None:
        return None

    def owned(self) -> set[int]:
        return set(range(CHECKPOINT_PARTITIONS))

    def position(self, mapping_uuid: str, shard: str) -> int | None:
        return self.saved.get(f"{mapping_uuid}/{shard}")

    async def save(self, mapping_uuid: str, shard: str, position: int, *, root: str = "") -> None:
        self.saved[f"{mapping_uuid}/{shard}"] = position
        self.history.append(position)

    async def forget(self, mapping_uuid: str, shard: str, *, root: str = "") -> None:
        self.saved.pop(f"{mapping_uuid}/{shard}", None)


@dataclass
class Result:
    request_id: str = "r"
    payload: bytes = b"null"
    function_error: str | None = None


class FakeRegistry:
    def __init__(self) -> None:
        self.resources: list[Any] = []

    def subscribe(self, listener: Any) -> None:
        return None

    def find(self, kind: str, prefix: str = "") -> list[Any]:
        return list(self.resources)


class Sent:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    async def send(self, target: str, payload: Any, producer: Any) -> None:
        self.records.append(json.loads(payload.body))


def rec(position: int, key: str = "k", name: str = "INSERT", created_ms: int = NOW) -> StreamRecord:
    body = {"eventName": name, "dynamodb": {"SequenceNumber": f"{position:021d}"}}
    return StreamRecord(position, body, key, created_ms)


def runner(
    stream: FakeStream,
    checkpoints: FakeCheckpoints,
    handle: Callable[[list[int]], Result],
    sent: Sent | None = None,
) -> StreamMappingRunner:
    async def run(mapping: MappingDef, payload: bytes) -> Any:
        positions = [int(r["dynamodb"]["SequenceNumber"]) for r in json.loads(payload)["Records"]]
        return handle(positions)

    return StreamMappingRunner(
        FakeRegistry(),  # type: ignore[arg-type]
        lambda on_change: checkpoints,  # type: ignore[arg-type,return-value]
        run=run,
        streams=lambda: stream,
        router=sent or Sent(),  # type: ignore[arg-type]
        producer=None,  # type: ignore[arg-type]
        clock=lambda: NOW,
    )


def recording(calls: list[list[int]]) -> Callable[[list[int]], Result]:
    def handle(positions: list[int]) -> Result:
        calls.append(positions)
        return Result()

    return handle


def mapping(**kw: Any) -> MappingDef:
    kw.setdefault("starting_position", "TRIM_HORIZON")
    return MappingDef.build("m-1", STREAM, "fn", created_ms=NOW, **kw)


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.01)


def drive(r: StreamMappingRunner, m: MappingDef, done: Callable[[], bool]) -> None:
    async def main() -> None:
        task = asyncio.create_task(r._read_shard(m, SHARD))
        try:
            await until(done)
        finally:
            task.cancel()

    asyncio.run(main())


def test_batches_in_order_and_a_checkpoint_after_each_chunk() -> None:
    stream = FakeStream([rec(p) for p in range(0, 14, 2)])  # 7 records, gaps like markers
    cps = FakeCheckpoints()
    calls: list[list[int]] = []
    r = runner(stream, cps, recording(calls))
    drive(r, mapping(batch_size=3), lambda: cps.saved.get(f"m-1/{SHARD}") == 13)
    assert calls == [[0, 2, 4], [6, 8, 10], [12]]
    # The start position first, then after each chunk: never ahead of the work done.
    assert cps.history[:4] == [0, 5, 11, 13]


def test_a_restart_resumes_at_the_checkpoint() -> None:
    stream = FakeStream([rec(p) for p in range(6)])
    cps = FakeCheckpoints({f"m-1/{SHARD}": 4})
    calls: list[list[int]] = []
    r = runner(stream, cps, recording(calls))
    drive(r, mapping(batch_size=10), lambda: cps.saved[f"m-1/{SHARD}"] == 6)
    assert calls == [[4, 5]]


def test_latest_starts_at_the_mappings_creation() -> None:
    records = [rec(0, created_ms=NOW - 5000), rec(1, created_ms=NOW - 1), rec(2, created_ms=NOW)]
    stream = FakeStream(records)
    cps = FakeCheckpoints()
    calls: list[list[int]] = []
    r = runner(stream, cps, recording(calls))
    drive(r, mapping(starting_position="LATEST"), lambda: cps.saved.get(f"m-1/{SHARD}") == 3)
    assert calls == [[2]] and cps.history[0] == 2


def test_filtered_records_are_checkpointed_past_without_invoking() -> None:
    stream = FakeStream([rec(0, name="MODIFY"), rec(1), rec(2, name="REMOVE")])
    cps = FakeCheckpoints()
    calls: list[list[int]] = []
    r = runner(stream, cps, recording(calls))
    m = mapping(filters=['{"eventName": ["INSERT"]}'])
    drive(r, m, lambda: cps.saved.get(f"m-1/{SHARD}") == 3)
    assert calls == [[1]]


def test_parallel_lanes_keep_each_key_in_order() -> None:
    keys = ["a", "b", "c", "d"]
    stream = FakeStream([rec(p, key=keys[p % 4]) for p in range(16)])
    cps = FakeCheckpoints()
    calls: list[list[int]] = []
    r = runner(stream, cps, recording(calls))
    m = mapping(batch_size=2, parallelization_factor=4)
    drive(r, m, lambda: cps.saved.get(f"m-1/{SHARD}") == 16)
    seen = [p for c in calls for p in c]
    assert sorted(seen) == list(range(16))
    for k in range(4):
        mine = [p for p in seen if p % 4 == k]
        assert mine == sorted(mine)
    # One chunk is BatchSize x ParallelizationFactor records; a checkpoint after each.
    assert stream.reads[0][1] == 8 and cps.history[:3] == [0, 8, 16]


def test_given_up_records_go_to_on_failure_and_the_shard_goes_on() -> None:
    stream = FakeStream([rec(p) for p in range(4)])
    cps = FakeCheckpoints()
    sent = Sent()

    def handle(ps: list[int]) -> Result:
        return Result(function_error="Unhandled") if 2 in ps else Result()

    r = runner(stream, cps, handle, sent)
    m = mapping(
        batch_size=4,
        bisect_batch_on_function_error=True,
        maximum_retry_attempts=0,
        on_failure="arn:aws:sqs:local:000000000000:dlq",
    )
    drive(r, m, lambda: cps.saved.get(f"m-1/{SHARD}") == 4)
    assert len(sent.records) == 1
    info = sent.records[0]["DDBStreamBatchInfo"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == f"{2:021d}"
    assert info["shardId"] == SHARD and info["streamArn"] == STREAM


def test_slots_spread_mapping_shards_over_the_checkpoint_partitions() -> None:
    slots = {slot_of(f"m-{i}", SHARD) for i in range(60)}
    assert slots == set(range(CHECKPOINT_PARTITIONS))
    assert slot_of("m-1", SHARD) == slot_of("m-1", SHARD)


def test_reconcile_reads_each_enabled_mapping_shard_and_forgets_deleted_ones() -> None:
    from eventplane.registry import Resource

    stream = FakeStream([rec(0)])
    cps = FakeCheckpoints()
    r = runner(stream, cps, lambda ps: Result())
    registry: FakeRegistry = r._registry  # type: ignore[assignment]
    spec = json.loads(json.dumps(mapping().to_spec()))
    registry.resources = [Resource("event-source-mapping", "m-1", spec, 1, 0, 0)]

    async def main() -> None:
        r._reconcile()
        assert set(r._readers) == {("m-1", SHARD)}
        await until(lambda: cps.saved.get(f"m-1/{SHARD}") == 1)
        registry.resources = []
        r._reconcile()
        assert r._readers == {}
        await until(lambda: f"m-1/{SHARD}" not in cps.saved)

    asyncio.run(main())


def test_an_idle_reader_is_woken_by_a_commit_in_this_process() -> None:
    # An empty shard is not polled on a timer alone: a change committed here wakes the
    # waiting reader, which reads and invokes with it (the wait reports why it ended).
    stream = FakeStream([])
    cps = FakeCheckpoints()
    calls: list[list[int]] = []
    r = runner(stream, cps, recording(calls))

    async def main() -> None:
        task = asyncio.create_task(r._read_shard(mapping(), SHARD))
        try:
            await until(lambda: stream.waiting > 0)
            stream.commit(rec(0))
            await until(lambda: calls == [[0]])
        finally:
            task.cancel()

    asyncio.run(main())
    assert True in stream.waits


def test_shard_signals_wake_waiters_and_never_miss_an_earlier_commit() -> None:
    async def main() -> None:
        signals = ShardSignals()
        shard = ("t", 3)
        since = signals.generation(shard)
        assert await signals.wait(shard, since, 0.01) is False  # nothing committed
        signals.notify(shard)  # a commit between a reader's read and its wait
        assert await signals.wait(shard, since, 60) is True  # returns at once
        since = signals.generation(shard)
        waiter = asyncio.create_task(signals.wait(shard, since, 60))
        await asyncio.sleep(0)
        signals.notify(("t", 4))  # another shard's commit does not wake it
        await asyncio.sleep(0)
        assert not waiter.done()
        signals.notify(shard)
        assert await waiter is True
        assert signals._waiters == {}  # nothing left behind

    asyncio.run(main())


CHILD = "shardId-00000000000000000009-00000000"


class SplitStream(FakeStream):
    """SHARD closed at position 3 by a repartition; CHILD (same stream partition) carries
    its keys on from there."""

    def shards(self, stream_arn: str) -> list[str]:
        return [CHILD, SHARD]  # in any order: the reader waits for the parent

    def lineage(self, stream_arn: str, shard: str) -> tuple[str, int | None]:
        return ("", 3) if shard == SHARD else (SHARD, None)

    async def bounds(self, stream_arn: str, shard: str) -> tuple[int, int]:
        return (0, 3) if shard == SHARD else (3, self._end())

    async def read(self, stream_arn: str, shard: str, position: int, limit: int) -> StreamBatch:
        end = 3 if shard == SHARD else None
        found = [r for r in self.records if r.position >= position]
        found = [r for r in found if end is None or r.position < end][:limit]
        following = found[-1].position + 1 if found else position
        return StreamBatch(found, following)


def test_a_child_shard_is_read_once_its_parent_is_read_to_its_end() -> None:
    stream = SplitStream([rec(p) for p in range(6)])
    cps = FakeCheckpoints()
    calls: list[list[int]] = []
    r = runner(stream, cps, recording(calls))
    m = mapping(batch_size=10)

    async def main() -> None:
        child = asyncio.create_task(r._read_shard(m, CHILD))
        await asyncio.sleep(0.3)
        assert calls == []  # the parent is not read yet: the child waits
        parent = asyncio.create_task(r._read_shard(m, SHARD))
        try:
            await until(lambda: cps.saved.get(f"m-1/{CHILD}") == 6)
        finally:
            child.cancel()
            parent.cancel()

    asyncio.run(main())
    assert calls == [[0, 1, 2], [3, 4, 5]]
