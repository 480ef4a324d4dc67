"""Function metrics (eventplane_function_*)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Gauge, Histogram

from eventplane.observability.metrics import LATENCY_BUCKETS

if TYPE_CHECKING:
    from eventplane.registry import Resource

DURATION_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
    60,
    300,
    900,
)

INVOCATIONS = Counter(
    "eventplane_function_invocations_total",
    "Invocations that ran (sync and async), by outcome: success, handled, unhandled.",
    ("function", "outcome"),
)
ERRORS = Counter(
    "eventplane_function_errors_total",
    "Invocations that ended in a function error (Handled or Unhandled).",
    ("function", "type"),
)
THROTTLES = Counter(
    "eventplane_function_throttles_total",
    "Invocations refused (sync) or postponed (async) by the concurrency limit.",
    ("function", "invocation_type"),
)
DURATION = Histogram(
    "eventplane_function_duration_seconds",
    "Handler run time of an invocation.",
    ("function",),
    buckets=DURATION_BUCKETS,
)
CONCURRENT = Gauge(
    "eventplane_function_concurrent_executions",
    "Invocations running now on this replica.",
    ("function",),
)
COLD_STARTS = Counter(
    "eventplane_function_cold_starts_total",
    "Invocations that started a new worker process.",
    ("function",),
)
INIT_DURATION = Histogram(
    "eventplane_function_init_duration_seconds",
    "Worker start-up and handler import time of a cold start.",
    ("function",),
    buckets=LATENCY_BUCKETS,
)
WORKERS = Gauge(
    "eventplane_function_workers", "Worker processes on this replica, by state.", ("state",)
)
ASYNC_BACKLOG = Gauge(
    "eventplane_function_async_backlog",
    "Asynchronous invocations this replica holds: waiting to be due, or running.",
)
ASYNC_AGE = Histogram(
    "eventplane_function_async_event_age_seconds",
    "Age of an asynchronous invocation when it is taken up (accept-to-start).",
    ("function",),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 60, 180, 600, 3600, 21600),
)
ASYNC_RETRIES = Counter(
    "eventplane_function_async_retries_total",
    "Asynchronous invocations written back for a later attempt, by reason: error, throttled.",
    ("function", "reason"),
)
ASYNC_DROPPED = Counter(
    "eventplane_function_async_dropped_total",
    "Asynchronous invocations given up, by condition: RetriesExhausted, EventAgeExceeded.",
    ("function", "condition"),
)
DESTINATIONS = Counter(
    "eventplane_function_destination_deliveries_total",
    "Records sent to OnSuccess/OnFailure destinations and dead-letter targets.",
    ("function", "kind", "outcome"),
)
MAPPING_BATCHES = Counter(
    "eventplane_function_mapping_batches_total",
    "Event source mapping batches (queues and streams), by outcome: success, partial, failed.",
    ("function", "outcome"),
)
MAPPING_ITERATOR_AGE = Gauge(
    "eventplane_function_mapping_iterator_age_seconds",
    "Stream mappings: age of the last record of the last batch processed (0 when caught up).",
    ("function", "mapping"),
)
MAPPING_DISCARDED = Counter(
    "eventplane_function_mapping_records_discarded_total",
    "Stream records a mapping gave up, by condition: RetryAttemptsExhausted, RecordAgeExceeded.",
    ("function", "condition"),
)


def function_series(resource: Resource) -> list[tuple[Any, tuple[str, ...]]]:
    """The series of one function, created at zero with it (see runtime.series)."""
    name = resource.name
    series: list[tuple[Any, tuple[str, ...]]] = [
        (INVOCATIONS, (name, outcome)) for outcome in ("success", "handled", "unhandled")
    ]
    series += [(THROTTLES, (name, kind)) for kind in ("RequestResponse", "Event")]
    return series
