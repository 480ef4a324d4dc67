"""`eventplane bench queues`: SQS-style queue throughput and latency against raw baselines.

One run, one broker, printed as it goes:

- ``kafka_raw_cycle``: raw confluent-kafka produce-then-consume of the same
  number of 1 KiB records (acks=all + idempotence), in messages per second:
  count / (produce time + consume time), with the producer connected before the
  clock starts (as the server's is). The queue cycle figures are compared with
  it (``ratio`` = queue figure / raw cycle). ``client_cpu_us_per_msg``: this process's
  CPU per record over both halves (bench/_cpu.py).
- ``grpc_echo_10kib`` / ``grpc_echo_1kib``: a bare grpc.aio unary echo server in
  its own process, called with the queue cycles' concurrency and request sizes
  (a 10-entry batch / one message). ``cycle_bound_msg_s`` is the queue cycle
  throughput gRPC alone would allow (a cycle is three calls).
- ``queues_standard_batched_cycle``: N clients each looping SendMessageBatch
  (10 x 1 KiB) -> ReceiveMessage (max 10, wait 1) -> DeleteMessageBatch.
- ``queues_fifo_batched_cycle``: the same on a FIFO queue with 4 partitions,
  DeduplicationScope=messageGroup, FifoThroughputLimit=perMessageGroupId, many
  message groups and a unique deduplication id per message.
- ``queues_standard_cycle``: SendMessage -> ReceiveMessage (1) -> DeleteMessage.
- every cycle figure also carries ``server_cpu_us_per_msg`` (the server process's CPU
  over the cycle / messages), ``raw_kafka_cpu_us_per_msg`` (kafka_raw_cycle's) and
  their ``cpu_ratio``.
- ``queues_send_receive_latency_p50`` / ``_p99``: one long-polling consumer
  (wait 20) and one producer sending a message every 10 ms; latency is the
  receive time minus the send time carried in the body, both taken in this
  process with ``perf_counter``; ``queues_send_receive_stage_<stage>_p50/p99``: the same
  messages hop by hop, from the server's ``eventplane_stage_seconds`` (bench/_stages.py).

- ``queues_first_serve_p50`` / ``_p99`` / ``_max``: how soon a new queue is served while
  other queues come and go, on two replicas, against the classic group protocol
  (bench/_first_serve.py).

The queues are served by an ``eventplane server`` child process (its CPU is not
the load generator's) on the configured Kafka; the queues are fresh and are
deleted afterwards.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from eventplane.bench import _adoption as adoption
from eventplane.bench import _stages, grpc_echo, kafka_baseline
from eventplane.bench._cpu import CpuSpan, cpu_extras, server_cpu
from eventplane.bench._first_serve import first_serve
from eventplane.bench._stats import figure, percentile
from eventplane.client import AsyncClient, DeleteMessageBatchEntry, SendMessageBatchEntry
from eventplane.config import Settings
from eventplane.errors import EventplaneError
from eventplane.kafka.clients import TopicSpec, delete_topics, ensure_topics
from eventplane.testing.harness import EventplaneProcess, unique_cluster

CONCURRENCY = 4
BATCH = 10
BODY_BYTES = 1024
FIFO_GROUPS = 256
FIFO_PARTITIONS = 4
LATENCY_INTERVAL_S = 0.010
LATENCY_WARMUP = 10
# A warm-up that makes no progress for this long nudges the server (see warm_up).
# Give up on a cycle that has not finished in this long (the figure says so).
PHASE_TIMEOUT_S = 150.0
# Settings the server child inherits from this process (the harness clears EVENTPLANE_*).
_INHERITED_ENV = ("EVENTPLANE_CONFIG", "EVENTPLANE_RECEIPT_SECRET")

Result = dict[str, Any]


@dataclass(frozen=True)
class Counts:
    """Message counts of one run; ``scale`` multiplies the defaults."""

    batched: int
    fifo: int
    unbatched: int
    latency: int
    echo_calls: int

    @classmethod
    def scaled(cls, scale: float) -> Counts:
        def n(default: int, floor: int, multiple: int = 1) -> int:
            raw = max(floor, int(default * scale))
            return -(-raw // multiple) * multiple

        return cls(
            batched=n(20_000, 1_000, BATCH),
            fifo=n(5_000, 500, BATCH),
            unbatched=n(2_000, 200),
            latency=n(500, 100),
            echo_calls=n(15_000, 2_000),
        )


def body(size: int = BODY_BYTES) -> str:
    """A ``size``-character body of random base64 text (no unfair compression)."""
    return base64.b64encode(os.urandom(size))[:size].decode()


# --- baselines ------------------------------------------------------------------------------


def kafka_raw_cycle(settings: Settings, count: int) -> Result:
    """Produce ``count`` 1 KiB records (acks=all), then consume them: msg/s over both."""
    topic = f"eventplane.bench.cycle.{uuid.uuid4().hex[:8]}"
    ensure_topics(settings, [TopicSpec(topic, 4)])
    try:
        cpu_started = time.process_time()
        produced, startup_ms = kafka_baseline.produce_throughput(settings, topic, count)
        # The topic also holds the start-up record; read everything.
        consumed = kafka_baseline.consume_throughput(settings, topic, count + 1)
        cpu_us = (time.process_time() - cpu_started) / count * 1e6
    finally:
        delete_topics(settings, [topic])
    cycle = 1 / (1 / produced + 1 / consumed) if produced and consumed else 0.0
    return figure(
        "kafka_raw_cycle",
        "msg/s",
        cycle,
        count=count,
        client_cpu_us_per_msg=round(cpu_us, 1),
        produce_msg_s=round(produced, 1),
        consume_msg_s=round(consumed, 1),
        producer_startup_ms=round(startup_ms, 1),
    )


def grpc_echo_figures(counts: Counts) -> Iterator[Result]:
    for name, size, per_call in (
        ("grpc_echo_10kib", BATCH * BODY_BYTES, BATCH),
        ("grpc_echo_1kib", BODY_BYTES, 1),
    ):
        calls = grpc_echo.measure(
            concurrency=CONCURRENCY, request_size=size, calls=counts.echo_calls
        )
        yield figure(
            name,
            "calls/s",
            calls,
            concurrency=CONCURRENCY,
            request_bytes=size,
            count=counts.echo_calls,
            cycle_bound_msg_s=round(calls * per_call / 3, 1),
        )


# --- queue load -------------------------------------------------------------------------------


@dataclass
class _Progress:
    total: int  # messages to cycle (less the sends that failed)
    unsent: int
    done: int = 0
    errors: int = 0
    finished_at: float | None = None

    def deleted(self, n: int) -> None:
        self.done += n
        if self.done >= self.total and self.finished_at is None:
            self.finished_at = time.perf_counter()


@dataclass(frozen=True)
class CycleResult:
    count: int
    seconds: float
    errors: int
    complete: bool

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0


async def cycle(
    target: str,
    queue_url: str,
    total: int,
    *,
    batched: bool,
    fifo: bool = False,
    concurrency: int = CONCURRENCY,
    timeout: float = PHASE_TIMEOUT_S,
) -> CycleResult:
    """``concurrency`` clients send, receive and delete until ``total`` messages went round."""
    clients = [AsyncClient(target, timeout=30) for _ in range(concurrency)]
    progress = _Progress(total=total, unsent=total)
    numbers = itertools.count()
    text = body()
    size = BATCH if batched else 1

    def entry(i: int) -> SendMessageBatchEntry:
        n = next(numbers)
        return SendMessageBatchEntry(
            id=str(i),
            message_body=text,
            message_group_id=f"g{n % FIFO_GROUPS}" if fifo else None,
            message_deduplication_id=uuid.uuid4().hex if fifo else None,
        )

    async def send(c: AsyncClient, k: int) -> None:
        entries = [entry(i) for i in range(k)]
        if batched:
            try:
                result = await c.queues.send_message_batch(queue_url, entries)
                failed = len(result.failed)
            except EventplaneError:
                failed = k
        else:
            e = entries[0]
            try:
                await c.queues.send_message(
                    queue_url,
                    e.message_body,
                    message_group_id=e.message_group_id,
                    message_deduplication_id=e.message_deduplication_id,
                )
                failed = 0
            except EventplaneError:
                failed = 1
        progress.errors += failed
        progress.total -= failed

    async def receive_and_delete(c: AsyncClient) -> None:
        got = await c.queues.receive_message(
            queue_url, max_number_of_messages=size, wait_time_seconds=1
        )
        if not got:
            return
        if batched:
            entries = [DeleteMessageBatchEntry(str(i), m.receipt_handle) for i, m in enumerate(got)]
            result = await c.queues.delete_message_batch(queue_url, entries)
            progress.errors += len(result.failed)
            progress.total -= len(result.failed)  # those come back only after the timeout
            progress.deleted(len(result.successful))
        else:
            for m in got:
                try:
                    await c.queues.delete_message(queue_url, m.receipt_handle)
                except EventplaneError:
                    progress.errors += 1
                    progress.total -= 1
                    continue
                progress.deleted(1)

    async def worker(c: AsyncClient, stop_at: float) -> None:
        while progress.done < progress.total and time.monotonic() < stop_at:
            k = min(size, progress.unsent)
            if k:
                progress.unsent -= k
                await send(c, k)
            await receive_and_delete(c)

    start = time.perf_counter()
    stop_at = time.monotonic() + timeout
    try:
        await asyncio.gather(*(worker(c, stop_at) for c in clients))
    finally:
        for c in clients:
            await c.close()
    end = progress.finished_at or time.perf_counter()
    return CycleResult(
        count=min(progress.done, total),
        seconds=end - start,
        errors=progress.errors,
        complete=progress.finished_at is not None,
    )


async def send_receive_latency(target: str, queue_url: str, count: int) -> list[float]:
    """Seconds from send to receive: one producer every 10 ms, one long-polling consumer."""
    padding = body(BODY_BYTES - 24)
    samples: list[float] = []
    deletes: set[asyncio.Task[Any]] = set()
    total = count + LATENCY_WARMUP
    received = 0
    all_in = asyncio.Event()
    async with AsyncClient(target) as producer, AsyncClient(target) as consumer:

        async def consume() -> None:
            nonlocal received
            while True:
                got = await consumer.queues.receive_message(
                    queue_url, max_number_of_messages=BATCH, wait_time_seconds=20
                )
                now = time.perf_counter()
                for m in got:
                    received += 1
                    if received > LATENCY_WARMUP:
                        samples.append(now - float(m.body[:24]))
                if got:
                    entries = [
                        DeleteMessageBatchEntry(str(i), m.receipt_handle) for i, m in enumerate(got)
                    ]
                    task = asyncio.create_task(
                        consumer.queues.delete_message_batch(queue_url, entries)
                    )
                    deletes.add(task)
                    task.add_done_callback(deletes.discard)
                if received >= total:
                    all_in.set()
                    return

        consuming = asyncio.create_task(consume())
        try:
            start = time.perf_counter()
            for i in range(total):
                delay = start + i * LATENCY_INTERVAL_S - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                await producer.queues.send_message(
                    queue_url, f"{time.perf_counter():<24.9f}" + padding
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(all_in.wait(), 30)
        finally:
            consuming.cancel()
            with contextlib.suppress(asyncio.CancelledError, EventplaneError):
                await consuming
            if deletes:
                await asyncio.gather(*deletes, return_exceptions=True)
    return samples


# --- set-up ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchQueues:
    batched: str
    fifo: str
    unbatched: str
    latency: str


FIFO_ATTRIBUTES: dict[str, str | int | bool] = {
    "FifoQueue": True,
    "DeduplicationScope": "messageGroup",
    "FifoThroughputLimit": "perMessageGroupId",
    "Partitions": FIFO_PARTITIONS,
}


async def prepare_queues(target: str, created: list[str]) -> BenchQueues:
    """Create the bench queues one at a time, each warmed up before the next.

    Appends each URL to ``created`` as soon as it exists, so that the caller
    can delete what was made even when a later step fails.
    """
    tag = uuid.uuid4().hex[:8]
    async with AsyncClient(target, timeout=60) as c:
        for kind in ("batched", "fifo", "unbatched", "latency"):
            fifo = kind == "fifo"
            name = f"bench-{tag}-{kind}" + (".fifo" if fifo else "")
            url = await c.queues.create_queue(name, FIFO_ATTRIBUTES if fifo else None)
            created.append(url)
            await warm_up(target, url, fifo=fifo)
    return BenchQueues(*created)


async def warm_up(target: str, queue_url: str, *, fifo: bool, timeout: float = 90.0) -> None:
    """Cycle one message per partition, so that every partition has an owner before timing."""
    deadline = time.monotonic() + timeout
    entries = [
        SendMessageBatchEntry(
            id=str(i),
            message_body="warm-up",
            # Groups g0..g9 hash to all four partitions.
            message_group_id=f"g{i}" if fifo else None,
            message_deduplication_id=f"warm-up-{i}" if fifo else None,
        )
        for i in range(BATCH)
    ]
    async with AsyncClient(target, timeout=30) as c:
        pending = entries
        while pending:  # FIFO sends wait for the partition's owner; retry until it is there
            result = await c.queues.send_message_batch(queue_url, pending)
            failed = {f.id for f in result.failed}
            pending = [e for e in pending if e.id in failed]
            if pending:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"warm-up: cannot send to {queue_url}: {result.failed[0]}")
                await asyncio.sleep(0.2)
        seen = 0
        while seen < len(entries):
            if time.monotonic() > deadline:
                raise RuntimeError(f"warm-up: {queue_url} delivered {seen}/{len(entries)}")
            got = await c.queues.receive_message(
                queue_url, max_number_of_messages=BATCH, wait_time_seconds=2
            )
            if got:
                await c.queues.delete_message_batch(
                    queue_url,
                    [DeleteMessageBatchEntry(str(i), m.receipt_handle) for i, m in enumerate(got)],
                )
                seen += len(got)


async def delete_queues(target: str, urls: list[str]) -> None:
    async with AsyncClient(target, timeout=60) as c:
        for url in urls:
            with contextlib.suppress(EventplaneError):
                await c.queues.delete_queue(url)


def server_env(settings: Settings) -> dict[str, str]:
    env = {k: os.environ[k] for k in _INHERITED_ENV if k in os.environ}
    env["EVENTPLANE_TOPIC_REPLICATION_FACTOR"] = str(settings.topic_replication_factor)
    env["EVENTPLANE_TOPIC_MIN_INSYNC_REPLICAS"] = str(settings.topic_min_insync_replicas)
    return env


# --- the area -------------------------------------------------------------------------------


def run(settings: Settings, scale: float) -> Iterator[Result]:
    counts = Counts.scaled(scale)
    yield adoption.journal_reads(settings)
    yield from first_serve(settings, server_env(settings), scale)
    raw = kafka_raw_cycle(settings, counts.batched)
    yield raw
    echo = list(grpc_echo_figures(counts))
    yield from echo
    baseline = (raw["name"], float(raw["value"]))
    bound = {f["request_bytes"]: f["cycle_bound_msg_s"] for f in echo}

    # A cluster of its own: servers left on the broker neither own its partitions nor
    # add their leftovers to its work.
    server = EventplaneProcess(
        settings.bootstrap, env=server_env(settings), cluster=unique_cluster("bench")
    )
    target = server.endpoint
    created: list[str] = []
    try:
        server.start(timeout=120)
        queues = asyncio.run(prepare_queues(target, created))

        pid = server.proc.pid if server.proc is not None else None
        raw_cpu_us = float(raw["client_cpu_us_per_msg"])

        def cycle_figure(name: str, r: CycleResult, grpc_bound: float, cpu: CpuSpan) -> Result:
            return figure(
                name,
                "msg/s",
                r.rate,
                baseline,
                count=r.count,
                concurrency=CONCURRENCY,
                errors=r.errors,
                complete=r.complete,
                grpc_echo_bound_msg_s=grpc_bound,
                **cpu_extras(cpu, r.count, raw_cpu_us),
            )

        with server_cpu(pid) as cpu:
            r = asyncio.run(cycle(target, queues.batched, counts.batched, batched=True))
        yield cycle_figure("queues_standard_batched_cycle", r, bound[BATCH * BODY_BYTES], cpu)
        with server_cpu(pid) as cpu:
            r = asyncio.run(cycle(target, queues.fifo, counts.fifo, batched=True, fifo=True))
        yield cycle_figure("queues_fifo_batched_cycle", r, bound[BATCH * BODY_BYTES], cpu)
        with server_cpu(pid) as cpu:
            r = asyncio.run(cycle(target, queues.unbatched, counts.unbatched, batched=False))
        yield cycle_figure("queues_standard_cycle", r, bound[BODY_BYTES], cpu)

        window = _stages.Window.of(server, settings)
        window.open()
        samples = asyncio.run(send_receive_latency(target, queues.latency, counts.latency))
        window.close()
        for p in (50, 99):
            yield figure(
                f"queues_send_receive_latency_p{p}",
                "ms",
                percentile(samples, p) * 1000,
                count=len(samples),
                interval_ms=LATENCY_INTERVAL_S * 1000,
            )
        yield from window.figures("queues_send_receive", len(samples))
    finally:
        try:
            if created:
                asyncio.run(delete_queues(target, created))
        finally:
            server.stop()
    with contextlib.suppress(OSError):
        server.log_path.unlink()
