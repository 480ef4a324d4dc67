"""CPU per message: the server's, beside the raw confluent-kafka client's in the same run.

The server's CPU comes from ``/proc/<pid>/stat`` (utime + stime of the server process:
every thread, librdkafka's included; not its function worker processes), read before and
after a throughput run. The raw client's is this process's own ``time.process_time()``
around a produce-then-consume cycle of 1 KiB records (acks=all, idempotent), so
``raw_kafka_cpu_us_per_msg`` is what one record costs a bare Kafka client going in and
out once; an eventplane message costs at least that twice over (the API produces it,
the owner consumes it) plus the journal writes of its receive and delete.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from typing import Any

from eventplane.bench import kafka_baseline
from eventplane.config import Settings
from eventplane.kafka.clients import TopicSpec, delete_topics, ensure_topics
from eventplane.kafka.local import LocalKafka

_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        # The command name may hold spaces: the fields after its closing bracket.
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


class CpuSpan:
    """The CPU the process ``pid`` used inside a ``with`` block (NaN when unknown)."""

    def __init__(self, pid: int | None) -> None:
        self._pid = pid
        self._before: float | None = None
        self.seconds = float("nan")

    def _read(self) -> float | None:
        if self._pid is None:
            return None
        try:
            return process_cpu_seconds(self._pid)
        except OSError:  # the process is gone
            return None

    def __enter__(self) -> CpuSpan:
        self._before = self._read()
        return self

    def __exit__(self, *exc: object) -> None:
        after = self._read()
        if self._before is not None and after is not None:
            self.seconds = after - self._before

    def per_message_us(self, messages: float) -> float:
        return self.seconds / messages * 1e6 if messages > 0 else float("nan")


def server_cpu(pid: int | None) -> CpuSpan:
    return CpuSpan(pid)


def broker_pid(settings: Settings) -> int | None:
    """The pid of the broker at the bootstrap address if `eventplane kafka start` runs it
    on this host (its CPU can then be read too); None for any other cluster."""
    host, _, port = settings.bootstrap.split(",")[0].rpartition(":")
    if host not in ("127.0.0.1", "localhost") or not (port.isascii() and port.isdigit()):
        return None
    return LocalKafka.from_settings(settings, int(port)).pid()


def raw_client_cpu_us(settings: Settings, count: int) -> float:
    """CPU microseconds per record of a raw produce-then-consume cycle, measured now."""
    topic = f"eventplane.bench.cpu.{uuid.uuid4().hex[:8]}"
    ensure_topics(settings, [TopicSpec(topic, 4)])
    try:
        started = time.process_time()
        kafka_baseline.produce_throughput(settings, topic, count)
        kafka_baseline.consume_throughput(settings, topic, count + 1)
        used = time.process_time() - started
    finally:
        with contextlib.suppress(Exception):
            delete_topics(settings, [topic])
    return used / count * 1e6


def cpu_extras(span: CpuSpan, messages: float, raw_us: float) -> dict[str, Any]:
    """The figure fields: server CPU per message, the raw client's, and their ratio."""
    ours = span.per_message_us(messages)
    return {
        "server_cpu_us_per_msg": round(ours, 1),
        "raw_kafka_cpu_us_per_msg": round(raw_us, 1),
        "cpu_ratio": round(ours / raw_us, 2) if raw_us > 0 and ours == ours else None,
    }
