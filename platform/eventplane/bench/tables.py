"""`eventplane bench tables`: item latencies against raw baselines of the same run.

- ``kafka_raw_produce_latency``: one 1 KiB record at a time, acks=all + idempotence,
  waiting for each acknowledgement (what a write must at least cost).
- ``grpc_echo_latency``: a bare grpc.aio unary echo of 1 KiB, one call at a time.
- ``tables_put_item`` / ``tables_update_item_conditional``: one client, one call at a
  time (each a Kafka transaction: changelog image + stream record), beside the raw
  produce latency.
- ``tables_get_item``: beside the gRPC echo.
- ``tables_batch_write_items_s``, ``tables_write_to_function_start_p50/p99`` (with its
  hops) and
  ``tables_restore_seconds`` (cold and warm, from the on-disk cache): see ``_tables_more.py``.
- ``tables_transact_write_cross_replica_p50/p99``: a two-Put transaction over two
  replicas' items beside one over a single replica's (``_tables_tx.py``).

The table is served by an ``eventplane server --roles tables`` child process on the
configured Kafka; it is deleted afterwards.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

from confluent_kafka import Producer

from eventplane.bench import _stages, grpc_echo
from eventplane.bench import _tables_more as more
from eventplane.bench import _tables_tx as tx_bench
from eventplane.bench._stats import figure, percentile
from eventplane.bench.queues import server_env
from eventplane.config import Settings
from eventplane.kafka.clients import TopicSpec, client_config, delete_topics, ensure_topics
from eventplane.testing.harness import EventplaneProcess, unique_cluster

Result = dict[str, Any]
COLD_STARTS = "eventplane_function_cold_starts"


def _raw_produce_latency(settings: Settings, count: int) -> list[float]:
    topic = f"eventplane.bench.tbl.{uuid.uuid4().hex[:8]}"
    ensure_topics(settings, [TopicSpec(topic, 1)])
    producer = Producer(client_config(settings, **{"acks": "all", "enable.idempotence": True}))
    try:
        payload = b"x" * 1024
        producer.produce(topic, payload)
        producer.flush(10)  # connected before the clock starts
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            producer.produce(topic, payload)
            producer.flush(10)
            samples.append(time.perf_counter() - start)
        return samples
    finally:
        producer.flush(10)
        delete_topics(settings, [topic])


def _timed(call: Any, count: int) -> list[float]:
    samples = []
    for i in range(count):
        start = time.perf_counter()
        call(i)
        samples.append(time.perf_counter() - start)
    return samples


def _pair(name: str, samples: list[float], base_name: str, base: list[float]) -> Iterator[Result]:
    for p in (50, 99):
        yield figure(
            f"{name}_p{p}",
            "ms",
            percentile(samples, p) * 1000,
            (f"{base_name}_p{p}", percentile(base, p) * 1000),
            count=len(samples),
        )


def run(settings: Settings, scale: float) -> Iterator[Result]:
    n = max(100, int(1000 * scale))
    raw = _raw_produce_latency(settings, n)
    with grpc_echo.echo_server() as target:
        echo = asyncio.run(grpc_echo.latencies(target, request_size=1024, calls=n))
    server = EventplaneProcess(
        settings.bootstrap, roles="tables", cluster=unique_cluster("bench")
    ).start()
    name = f"bench-{uuid.uuid4().hex[:8]}"
    try:
        with server.client() as ep:
            ep.tables.create_table(
                name,
                key_schema=[("pk", "HASH")],
                attribute_definitions=[("pk", "S")],
                stream_view_type="NEW_AND_OLD_IMAGES",
            )
            pad = {"S": "x" * 1000}
            for i in range(20):  # warm-up: the first transaction starts the producer's epoch
                ep.tables.put_item(name, {"pk": {"S": f"w{i}"}, "pad": pad})
            puts = _timed(
                lambda i: ep.tables.put_item(
                    name, {"pk": {"S": f"k{i}"}, "n": {"N": "0"}, "pad": pad}
                ),
                n,
            )
            updates = _timed(
                lambda i: ep.tables.update_item(
                    name,
                    {"pk": {"S": f"k{i}"}},
                    update_expression="SET n = n + :one",
                    condition_expression="n = :zero",
                    expression_attribute_values={":one": {"N": "1"}, ":zero": {"N": "0"}},
                ),
                n,
            )
            gets = _timed(lambda i: ep.tables.get_item(name, {"pk": {"S": f"k{i}"}}), n)
            yield from _pair("tables_put_item", puts, "kafka_raw_produce_latency", raw)
            yield from _pair(
                "tables_update_item_conditional", updates, "kafka_raw_produce_latency", raw
            )
            yield from _pair("tables_get_item", gets, "grpc_echo_latency", echo)
            items = max(2500, int(25_000 * scale))
            raw_rate = more.raw_produce_rate(settings, items)
            yield figure(
                "tables_batch_write_items_s",
                "items/s",
                more.batch_write_rate(server, name, items),
                ("kafka_raw_produce_items_s", raw_rate),
                concurrency=more.CONCURRENCY,
                batch=more.BATCH,
            )
            ep.tables.delete_table(name)
    finally:
        server.stop()
    yield from tx_bench.run(settings, max(50, int(300 * scale)))
    yield from more.restore(settings, more.restore_items(scale))
    yield from _write_to_function(settings, max(50, int(500 * scale)))


def _write_to_function(settings: Settings, count: int) -> Iterator[Result]:
    server = EventplaneProcess(
        settings.bootstrap, env=server_env(settings), cluster=unique_cluster("bench")
    ).start(timeout=120)
    name = f"bench-{uuid.uuid4().hex[:8]}"
    try:
        with server.client(timeout=60) as ep:
            desc = ep.tables.create_table(
                name,
                key_schema=[("pk", "HASH")],
                attribute_definitions=[("pk", "S")],
                stream_view_type="NEW_IMAGE",
            )
            window = _stages.Window.of(server, settings)
            cold = _stages.counter(server.metrics_url, COLD_STARTS)
            window.open()
            starts = more.write_to_function(ep, name, desc.latest_stream_arn, count)
            window.close()
            cold = _stages.counter(server.metrics_url, COLD_STARTS) - cold
            prefix = "tables_write_to_function"
            yield from more.latency_figures(f"{prefix}_start", starts.total)
            yield from more.latency_figures(f"{prefix}_put_answer", starts.put)
            yield from more.latency_figures(f"{prefix}_answer_to_start", starts.after)
            yield from window.figures(prefix, len(starts.total))
            # Cold starts include the warm-up's; one during the measured puts shows as a tail.
            yield figure(f"{prefix}_cold_starts", "count", cold)
            ep.tables.delete_table(name)
    finally:
        server.stop()
