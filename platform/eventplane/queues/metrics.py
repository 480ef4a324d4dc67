"""Queue metrics (eventplane_queue_*). Depth gauges are collected at scrape time from
the partitions this replica owns; Prometheus sums them across replicas."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from eventplane.observability.metrics import LATENCY_BUCKETS

if TYPE_CHECKING:
    from eventplane.registry import Resource

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
ATTEMPT_REPLAYS = Counter(
    "eventplane_queue_receive_attempt_replays_total",
    "FIFO receives answered again for a retried ReceiveRequestAttemptId.",
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


DEAD_LETTER_QUEUE = Gauge(
    "eventplane_queue_dead_letter",
    "1 for a queue that some queue's RedrivePolicy names as its dead-letter queue, else 0.",
    ("queue",),
)


def queue_series(resource: Resource) -> list[tuple[Any, tuple[str, ...]]]:
    """The series of one queue, created at zero when the queue is (see runtime.series)."""
    name = resource.name
    series: list[tuple[Any, tuple[str, ...]]] = [
        (metric, (name,)) for metric in (SENT, RECEIVED, DELETED, MOVED_TO_DLQ, DEAD_LETTER_QUEUE)
    ]
    redrive = resource.spec.get("config", {}).get("redrive_policy")
    target = redrive.get("dead_letter_target_arn", "") if isinstance(redrive, dict) else ""
    if target:
        # The target is a dead-letter queue: mark it (arn:aws:sqs:region:account:name).
        DEAD_LETTER_QUEUE.labels(target.rsplit(":", 1)[-1]).set(1)
    return series
