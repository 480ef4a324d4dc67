"""The figures of `eventplane bench tables` beyond single-item latency.

- ``tables_batch_write_items_s``: BatchWriteItem of 25 1 KiB items from CONCURRENCY
  clients at once, beside ``kafka_raw_produce_items_s`` (the same count of 1 KiB
  records, acks=all + idempotence, produced asynchronously from one producer).
- ``tables_write_to_function_start_p50/p99``: a put_item (one every 20 ms) until the
  function its table stream triggers starts on that change (the handler stamps
  ``time.time()``; client and function run on this machine).
- ``tables_restore_seconds``: rebuilding one partition's store from its changelog as a
  new owner does (``owner.restore_partition``, read_committed to the end, then the
  in-memory store), for ``1,000,000 x scale`` items of about 200 bytes (override with
  ``EVENTPLANE_BENCH_RESTORE_ITEMS``), with ``items_per_s``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer

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
from eventplane.tables.expr import item_size
from eventplane.tables.keys import canonical_key
from eventplane.tables.owner import encode_item, restore_partition
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


def write_to_function(ep: Client, table: str, stream_arn: str, count: int) -> list[float]:
    """Seconds from each put_item's start to the function starting on its change."""
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
            for i in range(count):
                ep.tables.put_item(table, {"pk": {"S": f"f{i}"}, "stamp": {"N": repr(time.time())}})
                time.sleep(WRITE_INTERVAL_S)

            def measured() -> list[list[Any]]:
                got = [r for r in rows() if str(r[0]).startswith("f")]
                assert len(got) >= count, len(got)
                return got

            found = eventually(measured, timeout=120)
            ep.functions.delete_event_source_mapping(mapping.uuid)
            return [started - stamp for _, stamp, started in found]
        finally:
            ep.functions.delete_function(name)


# --- restore ----------------------------------------------------------------------------------


def restore_items(scale: float) -> int:
    raw = os.environ.get(RESTORE_ITEMS_ENV, "")
    return int(raw) if raw else max(10_000, int(1_000_000 * scale))


def restore(settings: Settings, count: int) -> Result:
    topic = f"eventplane.bench.tbl-restore.{uuid.uuid4().hex[:8]}"
    ensure_topics(settings, [TopicSpec(topic, 1)])
    producer = Producer(client_config(settings, **{"linger.ms": 20, "enable.idempotence": True}))
    try:
        now = int(time.time() * 1000)
        for i in range(count):
            item = {
                "pk": {"S": f"user-{i:08d}"},
                "name": {"S": f"name {i}"},
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
        producer.flush(300)
        reader = Consumer(consumer_config(settings, f"eventplane.bench.restore.{uuid.uuid4().hex}"))
        try:
            start = time.perf_counter()
            items = restore_partition(reader, topic, 0, timeout=1800)
            read_s = time.perf_counter() - start
            store = PartitionStore("bench", 0, "pk")
            store.load(items, item_size)
            total_s = time.perf_counter() - start
        finally:
            reader.close()
        assert len(store) == count, (len(store), count)
        return figure(
            "tables_restore_seconds",
            "s",
            total_s,
            items=count,
            items_per_s=round(count / total_s),
            changelog_read_s=round(read_s, 3),
            store_bytes=store.size_bytes,
        )
    finally:
        delete_topics(settings, [topic])


def latency_figures(name: str, samples: list[float]) -> list[Result]:
    return [
        figure(f"{name}_p{p}", "ms", percentile(samples, p) * 1000, count=len(samples))
        for p in (50, 99)
    ]
