"""Result types of client.tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Item = dict[str, Any]


@dataclass(frozen=True)
class SecondaryIndex:
    """A GSI or LSI for create_table / update_table: ``key_schema`` [(name, "HASH"),
    (name, "RANGE")], ``projection_type`` ALL, KEYS_ONLY or INCLUDE (with
    ``non_key_attributes``)."""

    index_name: str
    key_schema: list[tuple[str, str]]
    projection_type: str = "ALL"
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndexDescription:
    """An index as DescribeTable shows it; ``index_status`` is "" for an LSI."""

    index_name: str
    key_schema: list[tuple[str, str]]
    projection_type: str
    non_key_attributes: list[str]
    index_arn: str
    index_status: str
    backfilling: bool
    item_count: int
    index_size_bytes: int


@dataclass(frozen=True)
class TableDescription:
    table_name: str
    table_arn: str
    table_status: str
    key_schema: list[tuple[str, str]]  # (attribute name, HASH | RANGE)
    attribute_definitions: list[tuple[str, str]]  # (attribute name, S | N | B)
    item_count: int
    table_size_bytes: int
    creation_date_time: float
    stream_enabled: bool
    stream_view_type: str
    latest_stream_arn: str
    latest_stream_label: str
    partitions: int
    billing_mode: str = "PAY_PER_REQUEST"
    read_capacity_units: int = 0  # ProvisionedThroughput (0 for PAY_PER_REQUEST)
    write_capacity_units: int = 0
    deletion_protection_enabled: bool = False
    global_secondary_indexes: list[IndexDescription] = field(default_factory=list)
    local_secondary_indexes: list[IndexDescription] = field(default_factory=list)


@dataclass(frozen=True)
class TimeToLiveDescription:
    """DescribeTimeToLive: ``time_to_live_status`` ENABLED or DISABLED; ``attribute_name``
    is "" when DISABLED."""

    time_to_live_status: str
    attribute_name: str


@dataclass(frozen=True)
class ItemPage:
    """One page of Query or Scan: ``last_evaluated_key`` is None on the last page."""

    items: list[Item]
    count: int
    scanned_count: int
    last_evaluated_key: Item | None


@dataclass(frozen=True)
class Shard:
    shard_id: str
    starting_sequence_number: str
    ending_sequence_number: str = ""  # set once the shard is closed (a repartition split it)
    parent_shard_id: str = ""  # the shard its keys came from, after a repartition


@dataclass(frozen=True)
class StreamDescription:
    stream_arn: str
    stream_label: str
    stream_status: str
    stream_view_type: str
    table_name: str
    shards: list[Shard]


@dataclass(frozen=True)
class RecordsPage:
    """GetRecords: records shaped as DynamoDB Streams returns them (dicts, DynamoDB JSON)."""

    records: list[dict[str, Any]]
    next_shard_iterator: str
