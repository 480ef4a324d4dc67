"""DynamoDB Streams' request and result shapes, as the AWS-protocol gateway hands them over.

Fields in snake_case of the member names (botocore's ``xform_name``). Records stay the
dicts ``streams.to_record`` builds, already exactly as DynamoDB Streams shapes them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from eventplane.tables.shapes import KeySchemaElement


@dataclass
class ListStreamsRequest:
    table_name: str = ""
    limit: int = 0
    exclusive_start_stream_arn: str = ""


@dataclass
class Stream:
    stream_arn: str
    table_name: str
    stream_label: str


@dataclass
class ListStreamsResult:
    streams: list[Stream]
    last_evaluated_stream_arn: str = ""


@dataclass
class DescribeStreamRequest:
    stream_arn: str = ""
    limit: int = 0
    exclusive_start_shard_id: str = ""


@dataclass
class SequenceNumberRange:
    starting_sequence_number: str = ""
    ending_sequence_number: str = ""


@dataclass
class Shard:
    shard_id: str
    sequence_number_range: SequenceNumberRange
    parent_shard_id: str = ""


@dataclass
class StreamDescription:
    stream_arn: str
    stream_label: str
    stream_status: str
    stream_view_type: str
    creation_request_date_time: dt.datetime
    table_name: str
    key_schema: list[KeySchemaElement]
    shards: list[Shard]
    last_evaluated_shard_id: str = ""


@dataclass
class DescribeStreamResult:
    stream_description: StreamDescription


@dataclass
class GetShardIteratorRequest:
    stream_arn: str = ""
    shard_id: str = ""
    shard_iterator_type: str = ""
    sequence_number: str = ""


@dataclass
class GetShardIteratorResult:
    shard_iterator: str


@dataclass
class GetRecordsRequest:
    shard_iterator: str = ""
    limit: int = 0


@dataclass
class GetRecordsResult:
    records: list[dict[str, Any]] = field(default_factory=list)
    next_shard_iterator: str = ""
