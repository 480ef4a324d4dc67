"""`eventplane bench functions`: invoke latency and throughput beside a raw gRPC echo.

- ``grpc_echo_latency_p50/p99`` and ``grpc_echo_calls_s``: a bare grpc.aio echo server in
  its own process, called one call at a time (latency) and from 4 channels (rate), with
  a request the size of the invoke's.
- ``functions_sync_invoke_p50/p99``: RequestResponse invokes of a no-op handler, one at a
  time, warm; ``ratio`` against the echo latency of the same run.
- ``functions_sync_invokes_s``: the same from 4 clients at once, against the echo rate.
- ``functions_async_accept_to_start_p50/p99``: from the client sending an Event invoke to
  the handler starting (the handler stamps ``time.time()``), with invokes every 10 ms.
- ``functions_async_invokes_s``: Event invokes accepted then run, end to end.
- ``functions_cold_start_p50``: an invoke that starts a new worker (the configuration is
  changed before each one), client-side.

The function runs in an ``eventplane server`` child process on the configured Kafka. The
two rate figures carry ``server_cpu_us_per_msg`` (the server process's CPU per invocation;
not the function workers') beside ``raw_kafka_cpu_us_per_msg`` (bench/_cpu.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eventplane.bench import grpc_echo
from eventplane.bench._cpu import cpu_extras, raw_client_cpu_us, server_cpu
from eventplane.bench._stats import figure, percentile
from eventplane.bench.queues import server_env
from eventplane.client import AsyncClient
from eventplane.config import Settings
from eventplane.errors import EventplaneError
from eventplane.testing.harness import EventplaneProcess, eventually, unique_cluster

Result = dict[str, Any]
CONCURRENCY = 4
ASYNC_INTERVAL_S = 0.010
PAYLOAD = b'{"bench": true}'

HANDLER = """
import json, os, time

def handler(event, context):
    if event and "stamp" in event:
        with open(os.environ["BENCH_STAMPS"], "a") as out:
            out.write(json.dumps([event["stamp"], time.time()]) + "\\n")
    return None
"""


async def _sync_latencies(target: str, name: str, count: int) -> list[float]:
    async with AsyncClient(target) as c:
        for _ in range(50):
            await c.functions.invoke(name, PAYLOAD)
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            result = await c.functions.invoke(name, PAYLOAD)
            samples.append(time.perf_counter() - start)
            if result.function_error:
                raise RuntimeError(f"the bench handler failed: {result.payload!r}")
        return samples


async def _sync_rate(target: str, name: str, count: int) -> float:
    clients = [AsyncClient(target) for _ in range(CONCURRENCY)]
    try:
        for c in clients:
            await c.functions.invoke(name, PAYLOAD)
        remaining = count

        async def worker(c: AsyncClient) -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                await c.functions.invoke(name, PAYLOAD)

        start = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in clients))
        return count / (time.perf_counter() - start)
    finally:
        for c in clients:
            await c.close()


async def _async_run(target: str, name: str, stamps: Path, count: int) -> tuple[list[float], float]:
    stamps.write_text("")
    async with AsyncClient(target) as c:
        start = time.perf_counter()
        for i in range(count):
            delay = start + i * ASYNC_INTERVAL_S - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await c.functions.invoke(
                name, json.dumps({"stamp": time.time()}).encode(), invocation_type="Event"
            )

    def all_ran() -> bool:
        return len(stamps.read_text().splitlines()) >= count

    await asyncio.to_thread(eventually, all_ran, timeout=120)
    rows = [json.loads(line) for line in stamps.read_text().splitlines()]
    samples = [started - accepted for accepted, started in rows]
    span = max(s for _, s in rows) - min(a for a, _ in rows)
    return samples, len(rows) / span if span > 0 else float("nan")


async def _cold_starts(target: str, name: str, count: int) -> list[float]:
    samples = []
    async with AsyncClient(target) as c:
        for i in range(count):
            await c.functions.update_function_configuration(
                name, environment={"BENCH_STAMPS": "/dev/null", "COLD": str(i)}
            )
            start = time.perf_counter()
            await c.functions.invoke(name, PAYLOAD)
            samples.append(time.perf_counter() - start)
    return samples


async def _deploy(target: str, name: str, code: Path, stamps: Path) -> None:
    async with AsyncClient(target, timeout=60) as c:
        await c.functions.create_function(
            name,
            "app.handler",
            zip_directory=code,
            timeout=10,
            environment={"BENCH_STAMPS": str(stamps)},
        )


async def _remove(target: str, name: str) -> None:
    async with AsyncClient(target, timeout=60) as c:
        with contextlib.suppress(EventplaneError):
            await c.functions.delete_function(name)


def run(settings: Settings, scale: float) -> Iterator[Result]:
    calls = max(200, int(2000 * scale))
    with grpc_echo.echo_server() as echo:
        echo_samples = asyncio.run(
            grpc_echo.latencies(echo, request_size=len(PAYLOAD), calls=calls)
        )
        echo_rate = asyncio.run(
            grpc_echo.calls_per_second(
                echo, concurrency=CONCURRENCY, request_size=len(PAYLOAD), calls=calls
            )
        )
    echo_p = {p: percentile(echo_samples, p) * 1000 for p in (50, 99)}
    for p in (50, 99):
        yield figure(f"grpc_echo_latency_p{p}", "ms", echo_p[p], count=len(echo_samples))
    yield figure("grpc_echo_calls_s", "calls/s", echo_rate, concurrency=CONCURRENCY)

    raw_cpu_us = raw_client_cpu_us(settings, max(1000, int(5000 * scale)))
    server = EventplaneProcess(
        settings.bootstrap, env=server_env(settings), cluster=unique_cluster("bench")
    )
    name = f"bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        code = Path(tmp) / "code"
        code.mkdir()
        (code / "app.py").write_text(HANDLER)
        stamps = Path(tmp) / "stamps.jsonl"
        try:
            server.start(timeout=120)
            target = server.endpoint
            asyncio.run(_deploy(target, name, code, stamps))
            sync = asyncio.run(_sync_latencies(target, name, calls))
            for p in (50, 99):
                yield figure(
                    f"functions_sync_invoke_p{p}",
                    "ms",
                    percentile(sync, p) * 1000,
                    (f"grpc_echo_latency_p{p}", echo_p[p]),
                    count=len(sync),
                )
            pid = server.proc.pid if server.proc is not None else None
            with server_cpu(pid) as cpu:
                rate = asyncio.run(_sync_rate(target, name, calls))
            yield figure(
                "functions_sync_invokes_s",
                "invocations/s",
                rate,
                ("grpc_echo_calls_s", echo_rate),
                concurrency=CONCURRENCY,
                **cpu_extras(cpu, calls, raw_cpu_us),
            )
            count = max(50, int(500 * scale))
            with server_cpu(pid) as cpu:
                accept, async_rate = asyncio.run(_async_run(target, name, stamps, count))
            for p in (50, 99):
                yield figure(
                    f"functions_async_accept_to_start_p{p}",
                    "ms",
                    percentile(accept, p) * 1000,
                    count=len(accept),
                    interval_ms=ASYNC_INTERVAL_S * 1000,
                )
            yield figure(
                "functions_async_invokes_s",
                "invocations/s",
                async_rate,
                count=count,
                **cpu_extras(cpu, count, raw_cpu_us),
            )
            cold = asyncio.run(_cold_starts(target, name, max(5, int(20 * scale))))
            yield figure(
                "functions_cold_start_p50", "ms", percentile(cold, 50) * 1000, count=len(cold)
            )
        finally:
            try:
                if server.proc is not None and server.proc.poll() is None:
                    asyncio.run(_remove(server.endpoint, name))
            finally:
                server.stop()
    with contextlib.suppress(OSError):
        server.log_path.unlink()
