"""Per-hop latency figures from the server's own ``eventplane_stage_seconds`` histogram.

The bench scrapes the server's /metrics before and after a latency run and turns the
difference of each stage's buckets into p50/p99 (linear interpolation inside a bucket,
as Prometheus' histogram_quantile does). Scraping rather than reading Kafka headers at
the receiver: the SDK's receiver never sees the records' headers, and the server is the
one place every hop is observed (fan-out, rule engine and queue owner all live there).
The figures are only as fine as the buckets (observability/metrics.py STAGE_BUCKETS).
"""

from __future__ import annotations

import math
import urllib.request
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client.parser import text_string_to_metric_families

from eventplane.bench._cpu import CpuSpan, broker_pid
from eventplane.bench._stats import figure

if TYPE_CHECKING:
    from eventplane.config import Settings
    from eventplane.testing.harness import EventplaneProcess

Buckets = dict[str, dict[float, float]]  # stage -> upper bound -> cumulative count
METRIC = "eventplane_stage_seconds"


def scrape(url: str, timeout: float = 10.0) -> Buckets:
    """The stage histogram's cumulative bucket counts as the server has them now."""
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        text = resp.read().decode()
    found: Buckets = {}
    for family in text_string_to_metric_families(text):
        if family.name != METRIC:
            continue
        for sample in family.samples:
            if sample.name == f"{METRIC}_bucket":
                le = float(sample.labels["le"])
                found.setdefault(sample.labels["stage"], {})[le] = sample.value
    return found


def counter(url: str, name: str, timeout: float = 10.0) -> float:
    """The sum over all label sets of counter ``name`` (without ``_total``) now."""
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        text = resp.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == name
        for sample in family.samples
        if sample.name == f"{name}_total"
    )


def quantile(buckets: dict[float, float], q: float) -> float:
    """The q-quantile (0-1) of a cumulative histogram, in the buckets' unit."""
    bounds = sorted(buckets)
    if not bounds:
        return math.nan
    total = buckets[bounds[-1]]
    if total <= 0:
        return math.nan
    rank = q * total
    lower, below = 0.0, 0.0
    for le in bounds:
        count = buckets[le]
        if count >= rank:
            if math.isinf(le):
                return lower  # beyond the last finite bound: that bound is all we know
            inside = count - below
            return lower + (le - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = le, count
    return lower


def delta(before: Buckets, after: Buckets) -> Buckets:
    return {
        stage: {le: v - before.get(stage, {}).get(le, 0.0) for le, v in bounds.items()}
        for stage, bounds in after.items()
    }


def stage_figures(prefix: str, before: Buckets, after: Buckets) -> Iterator[dict[str, Any]]:
    """``<prefix>_stage_<stage>_p50/p99`` in ms for every stage the run went through."""
    for stage, buckets in sorted(delta(before, after).items()):
        count = int(buckets.get(math.inf, 0.0))
        if count <= 0:
            continue
        for p in (50, 99):
            yield figure(
                f"{prefix}_stage_{stage}_p{p}",
                "ms",
                quantile(buckets, p / 100) * 1000,
                stage=stage,
                count=count,
            )


class Window:
    """The timed part of a latency run: the stage histogram and the CPU of the server (and
    of the local broker, when known) between ``open()`` and ``close()``."""

    def __init__(self, metrics_url: str, server_pid: int | None, broker_pid: int | None):
        self._url = metrics_url
        self._server = CpuSpan(server_pid)
        self._broker = CpuSpan(broker_pid) if broker_pid is not None else None
        self.before: Buckets = {}
        self.after: Buckets = {}

    @classmethod
    def of(cls, server: EventplaneProcess, settings: Settings) -> Window:
        pid = server.proc.pid if server.proc is not None else None
        return cls(server.metrics_url, pid, broker_pid(settings))

    def open(self) -> None:
        self.before = scrape(self._url)
        self._server.__enter__()
        if self._broker is not None:
            self._broker.__enter__()

    def close(self) -> None:
        self._server.__exit__()
        if self._broker is not None:
            self._broker.__exit__()
        self.after = scrape(self._url)

    def figures(self, prefix: str, deliveries: int) -> Iterator[dict[str, Any]]:
        """The stage figures, then CPU microseconds per delivery (server, broker)."""
        yield from stage_figures(prefix, self.before, self.after)
        spans = [("server", self._server)]
        if self._broker is not None:
            spans.append(("broker", self._broker))
        for who, span in spans:
            yield figure(
                f"{prefix}_{who}_cpu_us_per_delivery",
                "us",
                span.per_message_us(deliveries),
                count=deliveries,
            )
