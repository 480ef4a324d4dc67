"""Prometheus metrics shared across components, named eventplane_<area>_<what>_<unit>.

Capability-specific metrics live next to their engine; this module holds the
RPC-level ones the server interceptor records, and the process-wide ones.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, Info

# Latency buckets from 0.5 ms to 30 s: fast unary calls and 20 s long polls.
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 20.0, 30.0,
)  # fmt: skip

RPC_DURATION = Histogram(
    "eventplane_rpc_duration_seconds",
    "Server-side duration of gRPC calls.",
    ("service", "method"),
    buckets=LATENCY_BUCKETS,
)
RPC_ERRORS = Counter(
    "eventplane_rpc_errors_total",
    "gRPC calls that ended in an error, by AWS-style error code.",
    ("service", "method", "code"),
)
RPC_IN_FLIGHT = Gauge(
    "eventplane_rpc_in_flight_requests",
    "gRPC calls being served right now.",
    ("service",),
)
BUILD_INFO = Info("eventplane_build", "Version and roles of this eventplane process.")
KAFKA_PRODUCE_ERRORS = Counter(
    "eventplane_kafka_produce_errors_total",
    "Records the producer could not deliver, by topic family.",
    ("family",),
)
RELAYED_CALLS = Counter(
    "eventplane_relayed_calls_total",
    "Calls for a role this process does not run, relayed to EVENTPLANE_ROLE_ENDPOINTS "
    "(split mode: gRPC and AWS-protocol), by role and the status the serving pod answered.",
    ("role", "code"),
)
KAFKA_PARTITIONS_HELD = Gauge(
    "eventplane_kafka_partitions_held",
    "Partitions this process's group consumers are assigned, by consumer.",
    ("consumer",),
)
KAFKA_CONSUMER_LAG = Gauge(
    "eventplane_kafka_consumer_lag",
    "Records of a partition a group consumer of this process holds and has not taken in "
    "yet (the partition's last stable offset minus the consumer's position).",
    ("group", "topic", "partition"),
)
KAFKA_GROUP_PROTOCOL = Gauge(
    "eventplane_kafka_group_protocol",
    "1 for the Kafka group protocol an owner group's member of this process uses: "
    "consumer (KIP-848, each topic balanced over the members) or classic.",
    ("group", "protocol"),
)
REGISTRY_RESOURCES = Gauge(
    "eventplane_registry_resources",
    "Resource definitions materialized from eventplane.resources, by kind.",
    ("kind",),
)

# Per-hop delivery latency: 0.25 ms to 5 s, finer where the goals (10-25 ms) are.
STAGE_BUCKETS = (
    0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025,
    0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0,
)  # fmt: skip
STAGE_SECONDS = Histogram(
    "eventplane_stage_seconds",
    "Time a record spent in one hop of its delivery (observability/stages.py names them).",
    ("stage",),
    buckets=STAGE_BUCKETS,
)
