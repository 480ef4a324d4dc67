"""The figures of `eventplane bench tables` beyond single-item latency.

- ``tables_batch_write_items_s``: BatchWriteItem of 25 1 KiB items from CONCURRENCY
  clients at once, beside ``kafka_raw_produce_items_s`` (the same count of 1 KiB
  records, acks=all + idempotence, produced asynchronously from one producer).
- ``tables_write_to_function_start_p50/p99``: a put_item (one every 20 ms) until the
  function its table stream triggers starts on that change (the handler stamps
  ``time.time()``; client and function run on this machine). Split in hops: the put
  until answered (``..._put_answer``) and from that answer until the function started
  (``..._answer_to_start``), as the client sees them; the server's own stages
  (``..._stage_<stage>``, from ``eventplane_stage_seconds``: write to commit, write to a
  stream read, read to invoke) and the function's cold starts during the run.
- ``tables_restore_seconds``: rebuilding one partition's store from its changelog as a
  new owner does (``owner.read_partition``, read_committed to the end, then the
  in-memory store), for ``1,000,000 x scale`` items of about 200 bytes (override with
  ``EVENTPLANE_BENCH_RESTORE_ITEMS``), with ``items_per_s``: cold, with no cache.
  ``tables_restore_cold_writing_cache_seconds`` is the same restore writing the on-disk
  cache (``restore_cache.py``) on the way; ``tables_restore_warm_seconds`` the next
  restore, from that file plus a changelog tail of 1 % of the items changed since
  (ratio: against the cold restore). ``tables_cache_tail_cpu_us_per_record``: the
  tail reader's thread CPU per record it brings into the file.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from eventplane.bench._stats import figure, percentile
from eventplane.client import Client
from eventplane.config import Settings
from eventplane.kafka.clients import (
    TopicSpec,
    client_config,
    consumer_config,
    delete_topics,
    ensure_topics,
)
from eventplane.tables.cache_tail import CacheTail, topic_marker
from eventplane.tables.expr import item_size
from eventplane.tables.keys import canonical_key
from eventplane.tables.owner import PartitionRead, encode_item, gc_paused, read_partition
from eventplane.tables.restore_cache import CacheDir, PartitionCache, TopicMarker
from eventplane.tables.store import PartitionStore
from eventplane.testing.harness import EventplaneProcess, eventually

Result = dict[str, Any]
CONCURRENCY = 4
BATCH = 25
WRITE_INTERVAL_S = 0.020
RESTORE_ITEMS_ENV = "EVENTPLANE_BENCH_RESTORE_ITEMS"

HANDLER = """
import json, os, time

def handler(event, context):
    now = time.time()
    with open(os.environ["BENCH_STAMPS"], "a") as out:
        for record in event.get("Records", []):
            image = record["dynamodb"].get("NewImage") or {}
            if "stamp" in image:
                row = [image["pk"]["S"], float(image["stamp"]["N"]), now]
                out.write(json.dumps(row) + "\\n")
    return None
"""


# --- batch_write throughput ------------------------------------------------------------------


def raw_produce_rate(settings: Settings, count: int) -> float:
    topic = f"eventplane.bench.tbl-rate.{uuid.uuid4().hex[:8]}"
    ensure_topics(settings, [TopicSpec(topic, 1)])
    producer = Producer(
        client_config(settings, **{"acks": "all", "enable.idempotence": True, "linger.ms": 5})
    )
    try:
        payload = b"x" * 1024
        producer.produce(topic, payload)
        producer.flush(10)
        start = time.perf_counter()
        for _ in range(count):
            while True:
                try:
                    producer.produce(topic, payload)
                    break
                except BufferError:
                    producer.poll(0.01)
        producer.flush(60)
        return count / (time.perf_counter() - start)
    finally:
        delete_topics(settings, [topic])


def batch_write_rate(server: EventplaneProcess, table: str, count: int) -> float:
    per_client = max(1, count // (BATCH * CONCURRENCY))
    pad = {"S": "x" * 1000}
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with server.client() as ep:
                for b in range(per_client):
                    ep.tables.batch_write_item(
                        {
                            table: [
                                {"PutRequest": {"Item": {"pk": {"S": f"b{n}-{b}-{i}"}, "pad": pad}}}
                                for i in range(BATCH)
                            ]
                        }
                    )
        except BaseException as exc:  # reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(CONCURRENCY)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return per_client * BATCH * CONCURRENCY / elapsed


# --- write -> stream-triggered function start ------------------------------------------------


@dataclass(frozen=True)
class FunctionStarts:
    """Seconds per measured put: its start until the function started on its change
    (``total``), the put's own call (``put``) and its answer until that start (``after``)."""

    total: list[float]
    put: list[float]
    after: list[float]


def write_to_function(ep: Client, table: str, stream_arn: str, count: int) -> FunctionStarts:
    """Each put_item's start (and answer) to the function starting on its change."""
    name = f"bench-tbl-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        code = Path(tmp) / "code"
        code.mkdir()
        (code / "app.py").write_text(HANDLER)
        stamps = Path(tmp) / "stamps.jsonl"
        stamps.write_text("")
        ep.functions.create_function(
            name,
            "app.handler",
            zip_directory=code,
            timeout=10,
            environment={"BENCH_STAMPS": str(stamps)},
        )
        try:
            mapping = ep.functions.create_event_source_mapping(
                stream_arn, name, starting_position="LATEST", batch_size=100
            )

            def rows() -> list[list[Any]]:
                return [json.loads(line) for line in stamps.read_text().splitlines()]

            # Warm up: the mapping has saved its LATEST position and a worker runs.
            deadline = time.monotonic() + 120
            n = 0
            while not rows():
                if time.monotonic() > deadline:
                    raise TimeoutError("the stream mapping never invoked the function")
                ep.tables.put_item(
                    table, {"pk": {"S": f"warm{n}"}, "stamp": {"N": repr(time.time())}}
                )
                n += 1
                with contextlib.suppress(AssertionError):
                    eventually(rows, timeout=5)
            answered: dict[str, float] = {}
            for i in range(count):
                key = f"f{i}"
                ep.tables.put_item(table, {"pk": {"S": key}, "stamp": {"N": repr(time.time())}})
                answered[key] = time.time()
                time.sleep(WRITE_INTERVAL_S)

            def measured() -> list[list[Any]]:
                got = [r for r in rows() if str(r[0]).startswith("f")]
                assert len(got) >= count, len(got)
                return got

            found = eventually(measured, timeout=120)
            ep.functions.delete_event_source_mapping(mapping.uuid)
            return FunctionStarts(
                [started - stamp for _, stamp, started in found],
                [answered[key] - stamp for key, stamp, _ in found],
                [started - answered[key] for key, _, started in found],
            )
        finally:
            ep.functions.delete_function(name)


# --- restore ----------------------------------------------------------------------------------


def restore_items(scale: float) -> int:
    raw = os.environ.get(RESTORE_ITEMS_ENV, "")
    return int(raw) if raw else max(10_000, int(1_000_000 * scale))


def _produce_items(producer: Producer, topic: str, ids: range, now: int, tag: str = "") -> None:
    for i in ids:
        item = {
            "pk": {"S": f"user-{i:08d}"},
            "name": {"S": f"name {i}{tag}"},
            "visits": {"N": str(i % 1000)},
            "pad": {"S": "x" * 120},
        }
        value, encoded = encode_item(item, now)
        headers: list[tuple[str, str | bytes | None]] = list(encoded)
        key = canonical_key(item, ("pk",)).encode()
        while True:
            try:
                producer.produce(topic, value, key=key, partition=0, headers=headers)
                break
            except BufferError:
                producer.poll(0.05)


def _timed_restore(
    reader: Consumer, topic: str, cache: PartitionCache | None, marker: TopicMarker | None
) -> tuple[PartitionRead, PartitionStore, float, float]:
    """One restore as a new owner runs it (owner._adopt): read, then build the store."""
    with gc_paused():
        start = time.perf_counter()
        read = read_partition(reader, topic, 0, cache=cache, marker=marker, timeout=1800)
        read_s = time.perf_counter() - start
        store = PartitionStore("bench", 0, "pk")
        store.load(read.items, item_size)
        total_s = time.perf_counter() - start
    return read, store, read_s, total_s


def restore(settings: Settings, count: int) -> list[Result]:
    """Cold (the whole changelog; with no cache, then writing the cache) and warm (the cache
    file, then a tail of 1 % of the items changed since) restores of one partition."""
    topic = f"eventplane.bench.tbl-restore.{uuid.uuid4().hex[:8]}"
    ensure_topics(settings, [TopicSpec(topic, 1)])
    producer = Producer(client_config(settings, **{"linger.ms": 20, "enable.idempotence": True}))
    folder = tempfile.mkdtemp(prefix="eventplane-bench-cache-")
    reader = Consumer(consumer_config(settings, f"eventplane.bench.restore.{uuid.uuid4().hex}"))
    try:
        now = int(time.time() * 1000)
        _produce_items(producer, topic, range(count), now)
        producer.flush(300)
        read, store, read_s, cold_s = _timed_restore(reader, topic, None, None)
        assert len(store) == count, (len(store), count)
        cold = figure(
            "tables_restore_seconds",
            "s",
            cold_s,
            items=count,
            items_per_s=round(count / cold_s),
            changelog_read_s=round(read_s, 3),
            store_bytes=store.size_bytes,
            cache="off",
        )
        del read, store
        marker = topic_marker(AdminClient(client_config(settings)), topic)
        cache = CacheDir(folder).open(topic, 0)
        read, store, read_s, miss_s = _timed_restore(reader, topic, cache, marker)
        cache.close()
        assert read.cache == "miss" and len(store) == count
        miss = figure(
            "tables_restore_cold_writing_cache_seconds",
            "s",
            miss_s,
            baseline=("tables_restore_seconds", cold_s),
            items=count,
            changelog_read_s=round(read_s, 3),
            cache_bytes=_file_bytes(cache.path),
        )
        del read, store
        tail = max(1000, count // 100)
        _produce_items(producer, topic, range(0, count, max(1, count // tail)), now, "'")
        producer.flush(300)
        cache = CacheDir(folder).open(topic, 0)
        read, store, read_s, warm_s = _timed_restore(reader, topic, cache, marker)
        cache.close()
        assert read.cache == "hit" and len(store) == count, (read.cache, len(store))
        warm = figure(
            "tables_restore_warm_seconds",
            "s",
            warm_s,
            baseline=("tables_restore_seconds", cold_s),
            items=count,
            from_cache=read.from_cache,
            from_changelog=read.from_log,
            read_s=round(read_s, 3),
            items_per_s=round(count / warm_s),
        )
        del read, store
        return [cold, miss, warm, _tail_cost(settings, producer, topic, folder, marker, count)]
    finally:
        reader.close()
        shutil.rmtree(folder, ignore_errors=True)
        delete_topics(settings, [topic])


def _file_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def _tail_cost(
    settings: Settings,
    producer: Producer,
    topic: str,
    folder: str,
    marker: TopicMarker,
    count: int,
) -> Result:
    """The tail reader's CPU (thread time) per changelog record it brings into the file."""
    reader = Consumer(consumer_config(settings, f"eventplane.bench.restore.{uuid.uuid4().hex}"))
    tailing = CacheTail(settings)
    try:
        cache = CacheDir(folder).open(topic, 0)
        read = read_partition(reader, topic, 0, cache=cache, marker=marker, timeout=1800)
        tailing.follow(topic, 0, cache, read.next_offset)
        del read
        records = max(1000, count // 20)
        _produce_items(producer, topic, range(records), int(time.time() * 1000), "''")
        producer.flush(300)
        end = _end(reader, topic)
        cpu = 0.0
        deadline = time.monotonic() + 600
        while _cached_offset(cache) < end:
            if time.monotonic() > deadline:
                raise TimeoutError("the cache tail reader never caught up")
            before = time.thread_time()
            tailing.pump()
            cpu += time.thread_time() - before
            time.sleep(0.01)
        return figure(
            "tables_cache_tail_cpu_us_per_record",
            "us",
            cpu / records * 1e6,
            records=records,
            cpu_s=round(cpu, 3),
        )
    finally:
        tailing.close()
        reader.close()


def _end(reader: Consumer, topic: str) -> int:
    return int(reader.get_watermark_offsets(TopicPartition(topic, 0), 10, cached=False)[1])


def _cached_offset(cache: PartitionCache) -> int:
    with contextlib.closing(sqlite3.connect(cache.path)) as db:
        return int(db.execute("SELECT next_offset FROM meta").fetchone()[0])


def latency_figures(name: str, samples: list[float]) -> list[Result]:
    return [
        figure(f"{name}_p{p}", "ms", percentile(samples, p) * 1000, count=len(samples))
        for p in (50, 99)
    ]
