"""Table metrics (eventplane_table_*). Item counts and bytes are read at scrape time from
the partitions this replica owns; Prometheus sums them across replicas."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from eventplane.registry import Resource

READS = Counter(
    "eventplane_table_reads_total",
    "Items read by GetItem, Query, Scan and BatchGetItem (evaluated items).",
    ("table",),
)
WRITES = Counter(
    "eventplane_table_writes_total",
    "Item changes committed to the changelog (writes that changed nothing are not counted).",
    ("table",),
)
CONDITIONAL_FAILURES = Counter(
    "eventplane_table_conditional_check_failures_total",
    "Writes refused because their ConditionExpression did not hold.",
    ("table",),
)
TRANSACTIONS_CANCELED = Counter(
    "eventplane_table_transactions_canceled_total",
    "TransactWriteItems calls canceled because a condition failed (per table involved).",
    ("table",),
)
TRANSACTION_CONFLICTS = Counter(
    "eventplane_table_transaction_conflicts_total",
    "Calls refused with TransactionConflict, per table of a conflicting item: a "
    "TransactGetItems over several replicas that a write overlapped, and a write or "
    "TransactWriteItems over an item a cross-replica transaction held.",
    ("table",),
)
CROSS_REPLICA = Counter(
    "eventplane_table_cross_replica_transactions_total",
    "TransactWriteItems over the items of several replicas, counted by the coordinating "
    "replica per outcome (committed, cancelled, replayed, failed), and by a participant "
    "that found no decision and restored from the changelog (resolved_from_changelog).",
    ("outcome",),
)
# Every outcome shows at 0 before its first (so increase() sees the first one).
for _outcome in ("committed", "cancelled", "replayed", "failed", "resolved_from_changelog"):
    CROSS_REPLICA.labels(_outcome)
UNCERTAIN_COMMITS = Counter(
    "eventplane_table_uncertain_commits_total",
    "Table writes whose Kafka commit failed without saying whether it happened; the "
    "partitions they touched were restored from the changelog, which knows.",
)
TTL_DELETIONS = Counter(
    "eventplane_table_ttl_deletions_total",
    "Items deleted by the time-to-live sweep because their expiry had passed.",
    ("table",),
)
IDEMPOTENT_REPLAYS = Counter(
    "eventplane_table_idempotent_replays_total",
    "TransactWriteItems answered from a ClientRequestToken record instead of applied again.",
    ("table",),
)
STREAM_RECORDS_READ = Counter(
    "eventplane_table_stream_records_read_total",
    "Stream records handed out by GetRecords.",
    ("table",),
)
# Repartitions (UpdateTable ``partitions``, repartition.py).
REPARTITIONS = Counter(
    "eventplane_table_repartitions_total",
    "Repartitions of a table by event: started (UpdateTable accepted it), done (the table "
    "routes keys by the new count).",
    ("table", "event"),
)
REPARTITION_ITEMS_MOVED = Counter(
    "eventplane_table_repartition_items_moved_total",
    "Items a repartition moved from their partition to a new one.",
    ("table",),
)

# Restores of owned partitions (owner.py) and their on-disk cache (restore_cache.py).
RESTORE_SECONDS = Histogram(
    "eventplane_table_restore_seconds",
    "Time to restore one table partition as its new owner (reading it, until its items "
    "are handed to the store). cache: hit (the cache file, then the changelog's tail), "
    "miss (the whole changelog; the file is written on the way), off (no cache folder).",
    ("table", "cache"),
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
RESTORE_RECORDS = Counter(
    "eventplane_table_restore_records_total",
    "Records a restore took from the cache file (source=cache) or read from the "
    "changelog in Kafka (source=changelog).",
    ("table", "source"),
)
CACHE_RECORDS_WRITTEN = Counter(
    "eventplane_table_cache_records_written_total",
    "Changelog records the tail reader wrote to the restore cache while owning partitions.",
    ("table",),
)
CACHE_CPU = Counter(
    "eventplane_table_cache_cpu_seconds_total",
    "CPU seconds (thread time) the tail reader spent keeping the restore cache current.",
)


def table_series(resource: Resource) -> list[tuple[Any, tuple[str, ...]]]:
    """The counters of one table, created at zero when the table is (runtime.series)."""
    counters = (
        READS,
        WRITES,
        CONDITIONAL_FAILURES,
        TRANSACTIONS_CANCELED,
        TRANSACTION_CONFLICTS,
        TTL_DELETIONS,
        IDEMPOTENT_REPLAYS,
        STREAM_RECORDS_READ,
    )
    return [(metric, (resource.name,)) for metric in counters]


Row = tuple[str, int, int]  # table, items, bytes
LagRow = tuple[str, str, int]  # table, shard, offsets behind


class TableCollector(Collector):
    def __init__(
        self, rows: Callable[[], list[Row]], lags: Callable[[], list[LagRow]] = list
    ) -> None:
        self._rows = rows
        self._lags = lags

    def collect(self) -> Iterator[GaugeMetricFamily]:
        items = GaugeMetricFamily(
            "eventplane_table_items",
            "Items in the table partitions this replica owns.",
            labels=("table",),
        )
        size = GaugeMetricFamily(
            "eventplane_table_size_bytes",
            "Bytes (DynamoDB item size) of the items in the partitions this replica owns.",
            labels=("table",),
        )
        for table, count, nbytes in self._rows():
            items.add_metric((table,), count)
            size.add_metric((table,), nbytes)
        yield items
        yield size
        lag = GaugeMetricFamily(
            "eventplane_table_stream_lag_offsets",
            "Kafka offsets (stream records and transaction markers) from where the slowest "
            "stream mapping reading a shard in this process has got to, to the shard's end "
            "(0: caught up).",
            labels=("table", "shard"),
        )
        for table, shard, behind in self._lags():
            lag.add_metric((table, shard), behind)
        yield lag


def register(
    rows: Callable[[], list[Row]], lags: Callable[[], list[LagRow]] = list
) -> TableCollector:
    collector = TableCollector(rows, lags)
    REGISTRY.register(collector)
    return collector


def unregister(collector: TableCollector) -> None:
    REGISTRY.unregister(collector)
