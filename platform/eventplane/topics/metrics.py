"""Topic metrics (eventplane_topic_*)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Histogram

from eventplane.observability.metrics import LATENCY_BUCKETS

if TYPE_CHECKING:
    from eventplane.registry import Resource

PUBLISHED = Counter(
    "eventplane_topic_messages_published_total", "Messages accepted by Publish(Batch).", ("topic",)
)
DELIVERED = Counter(
    "eventplane_topic_deliveries_total",
    "Messages delivered to a subscription.",
    ("topic", "protocol"),
)
FILTERED = Counter(
    "eventplane_topic_messages_filtered_out_total",
    "Subscription deliveries skipped because the filter policy did not match.",
    ("topic",),
)
DEDUPLICATED = Counter(
    "eventplane_topic_messages_deduplicated_total",
    "FIFO messages not delivered: their deduplication id was seen within 5 minutes.",
    ("topic",),
)
FAILED = Counter(
    "eventplane_topic_delivery_failures_total",
    "Deliveries that failed (endpoint missing or retries exhausted).",
    ("topic", "protocol"),
)
RETRIED = Counter(
    "eventplane_topic_delivery_retries_total",
    "HTTP/S delivery attempts after the first.",
    ("topic", "protocol"),
)
DEAD_LETTERED = Counter(
    "eventplane_topic_messages_dead_lettered_total",
    "Messages moved to a subscription's dead-letter queue after its retries.",
    ("topic",),
)
DELIVERY_LATENCY = Histogram(
    "eventplane_topic_delivery_latency_seconds",
    "From publish to delivery into the subscriber.",
    ("protocol",),
    buckets=LATENCY_BUCKETS,
)


def topic_series(resource: Resource) -> list[tuple[Any, tuple[str, ...]]]:
    """The series of one topic, created at zero with it (see runtime.series)."""
    return [(m, (resource.name,)) for m in (PUBLISHED, FILTERED, DEDUPLICATED, DEAD_LETTERED)]


def subscription_series(resource: Resource) -> list[tuple[Any, tuple[str, ...]]]:
    """The series of one subscription: its topic's deliveries by its protocol."""
    labels = (str(resource.spec["topic"]), str(resource.spec["config"]["protocol"]))
    return [(m, labels) for m in (DELIVERED, FAILED)]
