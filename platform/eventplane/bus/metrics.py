"""Event bus metrics (eventplane_bus_*), per bus, rule and target."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Gauge, Histogram

from eventplane.observability.metrics import LATENCY_BUCKETS

if TYPE_CHECKING:
    from eventplane.registry import Resource

PUT = Counter("eventplane_bus_events_put_total", "Events accepted by PutEvents.", ("bus",))
PUT_FAILED = Counter(
    "eventplane_bus_events_put_failed_total",
    "PutEvents entries refused, by error code.",
    ("bus", "code"),
)
MATCHED = Counter(
    "eventplane_bus_rule_matches_total",
    "Events a rule matched (or a schedule fired).",
    ("bus", "rule"),
)
DELIVERED = Counter(
    "eventplane_bus_target_deliveries_total",
    "Events delivered to a rule target.",
    ("bus", "rule", "target"),
)
FAILED = Counter(
    "eventplane_bus_target_failures_total",
    "Delivery attempts to a rule target that failed.",
    ("bus", "rule", "target"),
)
RETRIED = Counter(
    "eventplane_bus_target_retries_total",
    "Delivery attempts after the first.",
    ("bus", "rule", "target"),
)
DEAD_LETTERED = Counter(
    "eventplane_bus_target_dead_lettered_total",
    "Events a target's retry policy gave up on (sent to its dead-letter queue, or dropped "
    "without one).",
    ("bus", "rule", "target", "outcome"),
)
DELIVERY_LATENCY = Histogram(
    "eventplane_bus_delivery_latency_seconds",
    "From ingestion on the bus to delivery to the target.",
    ("kind",),
    buckets=LATENCY_BUCKETS,
)
ARCHIVED = Counter(
    "eventplane_bus_archived_events_total", "Events written to an archive.", ("archive",)
)
REPLAYED = Counter(
    "eventplane_bus_replayed_events_total", "Events a replay re-sent to its bus.", ("replay",)
)
REPLAY_REMAINING = Gauge(
    "eventplane_bus_replay_remaining_records",
    "Archived records a running replay has still to read (0 when it finished).",
    ("replay",),
)
SCHEDULE_FIRES = Counter(
    "eventplane_bus_schedule_fires_total", "Ticks a scheduled rule fired.", ("bus", "rule")
)
DELIVERY_BACKLOG = Gauge(
    "eventplane_bus_delivery_backlog",
    "Deliveries (HTTP destinations and retries) this replica holds, waiting or in flight.",
)


def bus_series(resource: Resource) -> list[tuple[Any, tuple[str, ...]]]:
    """The series of one event bus, created at zero with it (see runtime.series)."""
    return [(PUT, (resource.name,))]


def rule_series(resource: Resource) -> list[tuple[Any, tuple[str, ...]]]:
    """The series of one rule: events it matched."""
    return [(MATCHED, (str(resource.spec["bus"]), str(resource.spec["name"])))]
