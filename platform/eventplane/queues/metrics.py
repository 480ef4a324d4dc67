"""Queue metrics (eventplane_queue_*). Depth gauges are collected at scrape time from
the partitions this replica owns; Prometheus sums them across replicas."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from eventplane.observability.metrics import LATENCY_BUCKETS

SENT = Counter(
    "eventplane_queue_messages_sent_total", "Messages accepted by SendMessage(Batch).", ("queue",)
)
RECEIVED = Counter(
    "eventplane_queue_messages_received_total", "Messages handed out by ReceiveMessage.", ("queue",)
)
DELETED = Counter(
    "eventplane_queue_messages_deleted_total", "Messages deleted by their receivers.", ("queue",)
)
MOVED_TO_DLQ = Counter(
    "eventplane_queue_messages_moved_to_dlq_total",
    "Messages moved to the dead-letter queue after maxReceiveCount receives.",
    ("queue",),
)
RECEIVE_LATENCY = Histogram(
    "eventplane_queue_receive_duration_seconds",
    "ReceiveMessage duration, long-poll wait included.",
    ("queue",),
    buckets=LATENCY_BUCKETS,
)

# (queue, visible, not_visible, delayed, oldest_age_seconds)
DepthRow = tuple[str, int, int, int, float]


class DepthCollector(Collector):
    """Depth of the queues whose partitions this replica owns, read at scrape time."""

    def __init__(self, rows: Callable[[], list[DepthRow]]) -> None:
        self._rows = rows

    def collect(self) -> Iterator[GaugeMetricFamily]:
        families = [
            GaugeMetricFamily(
                "eventplane_queue_messages_visible",
                "Messages available for retrieval (ApproximateNumberOfMessages).",
                labels=["queue"],
            ),
            GaugeMetricFamily(
                "eventplane_queue_messages_not_visible",
                "Messages in flight (ApproximateNumberOfMessagesNotVisible).",
                labels=["queue"],
            ),
            GaugeMetricFamily(
                "eventplane_queue_messages_delayed",
                "Messages not yet visible because of a delay (ApproximateNumberOfMessagesDelayed).",
                labels=["queue"],
            ),
            GaugeMetricFamily(
                "eventplane_queue_oldest_message_age_seconds",
                "Age of the oldest undeleted message.",
                labels=["queue"],
            ),
        ]
        for queue, visible, not_visible, delayed, age in self._rows():
            for family, value in zip(families, (visible, not_visible, delayed, age), strict=True):
                family.add_metric([queue], value)
        yield from families


def register_depth(rows: Callable[[], list[DepthRow]]) -> DepthCollector:
    collector = DepthCollector(rows)
    REGISTRY.register(collector)
    return collector


def unregister_depth(collector: DepthCollector) -> None:
    REGISTRY.unregister(collector)
