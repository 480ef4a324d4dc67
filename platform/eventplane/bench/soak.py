"""`eventplane bench soak`: the mixed workload at a steady rate, watched for drift.

One ``eventplane server`` child process (every role, a cluster of its own) serves the
five paths of bench/_soak_workload.py, driven round-robin at ``--rate`` messages per
second in all, for ``--minutes``. Every ``--interval-seconds`` one JSON line
``soak_interval``: the server's ``rss_mb``, ``cpu_s`` (so far), ``cpu_pct`` (of one
core, over the interval), ``fds``, the Kafka consumer ``lag`` of its cluster
(bench/_soak_probe.py), the ``sent`` / ``received`` counts so far and the end-to-end
``p50_ms`` / ``p99_ms`` of the messages received in the interval.

Then sending stops, the consumers drain for up to ``DRAIN_S``, and one ``soak_summary``
line: totals, ``lost`` (acknowledged and never received), ``duplicates``, the
least-squares slope per minute of RSS and lag over the second half of the intervals
(the first half is warm-up: caches, pools and Kafka buffers fill), their bounds, and
``ok``. ``eventplane bench soak`` exits non-zero when ``ok`` is false.

The bounds, and why:

- ``lost == 0``: every path is durable once acknowledged (README, Guarantees).
- RSS slope <= ``RSS_BOUND_MB_PER_MIN`` (1 MiB/min): a leak that keeps as little as
  ~2 KB per message at the default 10 messages/s grows RSS by ~1.2 MiB/min and is
  caught; allocator and librdkafka buffer steps of a few MiB that happen once, early in
  the second half, move a 5-minute slope by well under that.
- lag slope <= ``LAG_BOUND_FRACTION`` (5%) of the messages sent per minute, at least
  ``LAG_BOUND_MIN``: a consumer that keeps up holds its lag near rate x latency, a flat
  line; one that falls behind adds its shortfall every minute. Lag is sampled at an
  instant, so one busy moment moves a sample by a few seconds' worth of messages; 5% of
  a minute's volume is three seconds' worth, above that noise over five samples.

The trend bounds are judged only when the second half spans ``TREND_MIN_SPAN_MIN``
minutes with 3 samples or more (``trend_checked``); shorter runs (CI's) report slopes
without judging them, and still require zero lost messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import tempfile
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventplane.bench import _soak_workload as workload
from eventplane.bench._soak_probe import LagProbe, process_sample, slope_per_minute
from eventplane.bench._stats import percentile
from eventplane.bench.queues import server_env
from eventplane.client import AsyncClient
from eventplane.config import Settings
from eventplane.errors import EventplaneError
from eventplane.testing.harness import EventplaneProcess, unique_cluster

Result = dict[str, Any]
RSS_BOUND_MB_PER_MIN = 1.0
LAG_BOUND_FRACTION = 0.05
LAG_BOUND_MIN = 10.0
TREND_MIN_SPAN_MIN = 2.0
DRAIN_S = 60.0
WARMUP_TIMEOUT_S = 180.0
MAX_IN_FLIGHT = 200


@dataclass(frozen=True)
class Options:
    minutes: float = 10.0
    rate: float = 10.0  # messages per second, over all paths
    interval_s: float = 60.0


@dataclass
class Sample:
    minute: float
    rss_mb: float
    lag: int


def verdict(samples: list[Sample], rate: float, lost: int, server_alive: bool) -> dict[str, Any]:
    """The summary's trend fields and ``ok``, from the interval samples."""
    second = samples[len(samples) // 2 :]
    span = second[-1].minute - second[0].minute if second else 0.0
    checked = span >= TREND_MIN_SPAN_MIN and len(second) >= 3
    rss_slope = slope_per_minute([(s.minute, s.rss_mb) for s in second])
    lag_slope = slope_per_minute([(s.minute, float(s.lag)) for s in second])
    lag_bound = max(LAG_BOUND_MIN, LAG_BOUND_FRACTION * rate * 60)
    failures = []
    if lost:
        failures.append(f"{lost} acknowledged messages never arrived")
    if not server_alive:
        failures.append("the server exited")
    if checked and rss_slope > RSS_BOUND_MB_PER_MIN:
        failures.append(f"RSS grew {rss_slope:.2f} MB/min > {RSS_BOUND_MB_PER_MIN}")
    if checked and lag_slope > lag_bound:
        failures.append(f"lag grew {lag_slope:.1f}/min > {lag_bound:.1f}")
    return {
        "rss_slope_mb_per_min": round(rss_slope, 3),
        "rss_bound_mb_per_min": RSS_BOUND_MB_PER_MIN,
        "lag_slope_per_min": round(lag_slope, 2),
        "lag_bound_per_min": round(lag_bound, 1),
        "trend_span_min": round(span, 2),
        "trend_checked": checked,
        "failures": failures,
        "ok": not failures,
    }


class _Run:
    """One soak against a started server."""

    def __init__(self, server: EventplaneProcess, probe: LagProbe, options: Options):
        self.server = server
        self.pid = server.proc.pid if server.proc is not None else 0
        self.probe = probe
        self.options = options
        self.tracker = workload.Tracker()
        self.samples: list[Sample] = []
        self.sending = True

    def alive(self) -> bool:
        return self.server.proc is not None and self.server.proc.poll() is None

    async def drive(self, c: AsyncClient, r: workload.Resources) -> None:
        """Round-robin over the paths at the rate, each call its own task."""
        slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        tasks: set[asyncio.Task[None]] = set()

        async def one(path: str, n: int) -> None:
            mark = self.tracker.mark(path)
            try:
                await workload.send(c, r, path, mark, n)
                self.tracker.acked.add(mark.split(":")[2])
            except Exception:  # any failure (typed error, deadline, link): not acknowledged
                self.tracker.send_errors += 1
            finally:
                slots.release()

        start = time.perf_counter()
        for n in itertools.count():
            if not self.sending:
                break
            delay = start + n / self.options.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await slots.acquire()
            task = asyncio.create_task(one(workload.PATHS[n % len(workload.PATHS)], n))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def warm_up(self, c: AsyncClient, r: workload.Resources) -> None:
        """Until one message went all the way on every path: partitions adopted, the
        function's worker started, before anything is counted."""
        deadline = time.monotonic() + WARMUP_TIMEOUT_S
        while set(workload.PATHS) - self.tracker.warm_paths:
            if time.monotonic() > deadline:
                missing = set(workload.PATHS) - self.tracker.warm_paths
                raise RuntimeError(f"bench soak: no warm-up message arrived on {missing}")
            for path in set(workload.PATHS) - self.tracker.warm_paths:
                with contextlib.suppress(EventplaneError, workload.Rejected):
                    await workload.send(c, r, path, self.tracker.mark(path, warm=True), 0)
            await asyncio.sleep(1.0)

    async def sample(self, started: float, cpu_before: float, since: float) -> Result:
        proc = await asyncio.to_thread(process_sample, self.pid)
        lag = await asyncio.to_thread(self.probe.total)
        now = time.perf_counter()
        minute = (now - started) / 60
        self.samples.append(Sample(minute, proc.rss_mb, lag))
        latencies = self.tracker.take_interval()
        return {
            "name": "soak_interval",
            "minute": round(minute, 3),
            "rss_mb": round(proc.rss_mb, 1),
            "cpu_s": round(proc.cpu_s, 2),
            "cpu_pct": round((proc.cpu_s - cpu_before) / (now - since) * 100, 1),
            "fds": proc.fds,
            "lag": lag,
            "sent": len(self.tracker.acked),
            "received": len(self.tracker.received),
            "p50_ms": _ms(latencies, 50),
            "p99_ms": _ms(latencies, 99),
        }

    async def lines(self, c: AsyncClient, r: workload.Resources) -> AsyncIterator[Result]:
        consumers = [
            asyncio.create_task(workload.consume(c, url, self.tracker)) for url in r.queues.values()
        ]
        try:
            await self.warm_up(c, r)
            await asyncio.sleep(2.0)  # the warm-up's stragglers arrive and are dropped
            started = since = time.perf_counter()
            cpu = (await asyncio.to_thread(process_sample, self.pid)).cpu_s
            sender = asyncio.create_task(self.drive(c, r))
            end = started + self.options.minutes * 60
            while (now := time.perf_counter()) < end and self.alive():
                await asyncio.sleep(min(self.options.interval_s, end - now))
                if not self.alive():
                    break
                line = await self.sample(started, cpu, since)
                cpu, since = line["cpu_s"], time.perf_counter()
                yield line
            self.sending = False
            await sender
            drain_end = time.monotonic() + DRAIN_S
            while self.tracker.lost() and time.monotonic() < drain_end and self.alive():
                await asyncio.sleep(0.5)
            yield await self.summary()
        finally:
            for task in consumers:
                task.cancel()
            await asyncio.gather(*consumers, return_exceptions=True)

    async def summary(self) -> Result:
        t = self.tracker
        alive = self.alive()
        lag_after = await asyncio.to_thread(self.probe.total) if alive else None
        everything = [x for samples in t.by_path.values() for x in samples]
        lost = len(t.lost())
        return {
            "name": "soak_summary",
            "minutes": self.options.minutes,
            "rate": self.options.rate,
            "sent": len(t.acked),
            "received": len(t.received),
            "lost": lost,
            "duplicates": t.duplicates,
            "send_errors": t.send_errors,
            "receive_errors": t.receive_errors,
            "p50_ms": _ms(everything, 50),
            "p99_ms": _ms(everything, 99),
            "lag_after_drain": lag_after,
            "paths": t.path_counts(),
            **verdict(self.samples, self.options.rate, lost, alive),
        }


def _ms(samples: list[float], p: float) -> float | None:
    return round(percentile(samples, p) * 1000, 1) if samples else None


async def _soak(
    server: EventplaneProcess, probe: LagProbe, options: Options, code: Path
) -> AsyncGenerator[Result, None]:
    async with AsyncClient(server.endpoint, timeout=60) as c:
        resources = await workload.create(c, code)
        try:
            async for line in _Run(server, probe, options).lines(c, resources):
                yield line
        finally:
            if server.proc is not None and server.proc.poll() is None:
                await workload.remove(c, resources)


def run(settings: Settings, options: Options) -> Iterator[Result]:
    if options.minutes <= 0 or options.rate <= 0 or options.interval_s <= 0:
        raise SystemExit("eventplane bench soak: --minutes, --rate and --interval-seconds > 0")
    cluster = unique_cluster("soak")
    server = EventplaneProcess(settings.bootstrap, env=server_env(settings), cluster=cluster)
    loop = asyncio.new_event_loop()
    try:
        server.start(timeout=120)
        with tempfile.TemporaryDirectory() as tmp:
            lines = _soak(server, LagProbe(settings, cluster), options, Path(tmp))
            try:
                while True:
                    try:
                        # The loop runs only while the next line is awaited; printing
                        # it between two awaits takes microseconds.
                        yield loop.run_until_complete(anext(lines))
                    except StopAsyncIteration:
                        break
            finally:
                loop.run_until_complete(lines.aclose())
    finally:
        loop.close()
        server.stop()
    with contextlib.suppress(OSError):
        server.log_path.unlink()
