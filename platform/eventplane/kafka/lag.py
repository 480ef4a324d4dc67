"""Consumer lag per group and partition, from librdkafka's statistics.

A group consumer given ``LagReporter(group).settings`` reports, every LAG_INTERVAL_MS,
how many records of each partition it is assigned it has not yet taken in: the
partition's last stable offset (its end for read_committed readers) minus the consumer's
position. The gauge ``eventplane_kafka_consumer_lag{group, topic, partition}`` carries
it; a partition the consumer no longer holds loses its series. librdkafka runs the
callback inside the consumer's poll, on the consumer's own thread.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from eventplane.observability.metrics import KAFKA_CONSUMER_LAG

LAG_INTERVAL_MS = 15_000


class LagReporter:
    """The ``stats_cb`` of one consumer of ``group``."""

    def __init__(self, group: str) -> None:
        self.group = group
        self.held: set[tuple[str, str]] = set()

    @property
    def settings(self) -> dict[str, Any]:
        """The consumer settings that make librdkafka call this reporter."""
        return {"statistics.interval.ms": LAG_INTERVAL_MS, "stats_cb": self}

    def __call__(self, text: str) -> None:
        try:
            stats = json.loads(text)
        except ValueError:
            return
        now: set[tuple[str, str]] = set()
        for topic, entry in (stats.get("topics") or {}).items():
            for partition, p in (entry.get("partitions") or {}).items():
                lag = partition_lag(p)
                if partition == "-1" or lag is None:
                    continue
                KAFKA_CONSUMER_LAG.labels(self.group, topic, partition).set(lag)
                now.add((topic, partition))
        for topic, partition in self.held - now:
            with contextlib.suppress(KeyError):
                KAFKA_CONSUMER_LAG.remove(self.group, topic, partition)
        self.held = now

    def close(self) -> None:
        """The consumer is gone: so are its series (a group that comes back reports anew)."""
        self("{}")


def partition_lag(p: dict[str, Any]) -> int | None:
    """Records of a partition this consumer holds and has not taken in; None if not held."""
    if not p.get("desired"):
        return None
    end = p.get("ls_offset", -1)
    if end < 0:
        end = p.get("hi_offset", -1)
    position = p.get("app_offset", -1)
    if position < 0:
        position = p.get("next_offset", -1)
    if end < 0 or position < 0:
        return None
    return max(0, int(end) - int(position))
