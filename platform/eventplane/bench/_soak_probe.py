"""What `bench soak` samples every interval, and the trend it judges the samples by.

- the server process's RSS, CPU and open file descriptors, from ``/proc/<pid>/``
  (``status`` VmRSS, ``stat`` utime + stime, the entries of ``fd``): no psutil, which
  the project does not otherwise need. The process only: function workers are children
  with their own lifetimes (they are recycled), not part of the server's footprint.
- the Kafka consumer lag of the server's cluster: for every consumer group whose name
  starts with the cluster's prefix, the committed offset of each partition against its
  last stable offset (read_committed, as every eventplane consumer reads). The server
  exposes no lag metric of its own; the broker is the one place that knows both ends.
  Queue owners commit the offset below which every message is deleted, so a queue's lag
  also counts the messages sent but not yet received and deleted.
- ``slope_per_minute``: the least-squares slope of a series, per minute.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from confluent_kafka import ConsumerGroupTopicPartitions, IsolationLevel, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from eventplane.bench._cpu import process_cpu_seconds
from eventplane.config import Settings
from eventplane.kafka.clients import client_config
from eventplane.kafka.naming import cluster_prefix

_REQUEST_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class ProcessSample:
    rss_mb: float
    cpu_s: float
    fds: int


def process_sample(pid: int) -> ProcessSample:
    """RSS (MiB), CPU seconds so far and open descriptors of a live process."""
    rss_kb = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
                break
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return ProcessSample(rss_kb / 1024, process_cpu_seconds(pid), fds)


class LagProbe:
    """Sum of committed-offset lag over the consumer groups of one cluster."""

    def __init__(self, settings: Settings, cluster: str) -> None:
        self._admin = AdminClient(client_config(settings, log_level=0))
        self._prefix = cluster_prefix(cluster) + "."

    def groups(self) -> list[str]:
        listed = self._admin.list_consumer_groups(request_timeout=_REQUEST_TIMEOUT_S)
        result = listed.result(timeout=_REQUEST_TIMEOUT_S)
        return sorted(g.group_id for g in result.valid if g.group_id.startswith(self._prefix))

    def committed(self, group: str) -> list[TopicPartition]:
        """The group's committed offsets (the partitions it never committed are left out)."""
        futures = self._admin.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group)], request_timeout=_REQUEST_TIMEOUT_S
        )
        answer = futures[group].result(timeout=_REQUEST_TIMEOUT_S)
        return [tp for tp in answer.topic_partitions or [] if tp.offset >= 0 and not tp.error]

    def total(self) -> int:
        committed: list[TopicPartition] = []
        for group in self.groups():
            committed.extend(self.committed(group))
        if not committed:
            return 0
        wanted = {TopicPartition(tp.topic, tp.partition): OffsetSpec.latest() for tp in committed}
        futures = self._admin.list_offsets(
            wanted,
            isolation_level=IsolationLevel.READ_COMMITTED,
            request_timeout=_REQUEST_TIMEOUT_S,
        )
        ends: dict[tuple[str, int], int] = {}
        for tp, future in futures.items():
            ends[(tp.topic, tp.partition)] = future.result(timeout=_REQUEST_TIMEOUT_S).offset
        return sum(
            max(0, ends.get((tp.topic, tp.partition), tp.offset) - tp.offset) for tp in committed
        )


def slope_per_minute(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (minute, value) points, in value per minute; 0 for < 2."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    if var == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / var
