"""DynamoDB Streams' actions over the table streams core (``stream_api.StreamsApi``).

The AWS-protocol gateway (DynamoDB Streams JSON 1.0) calls these; they check the
members only this door can leave out and shape the answers. Any replica serves
them: stream reads need no partition owner, only Kafka.
"""

from __future__ import annotations

import datetime as dt

from eventplane.errors import ValidationException
from eventplane.tables import stream_shapes as s
from eventplane.tables.shapes import KeySchemaElement
from eventplane.tables.stream_api import StreamsApi


def _require(value: str, member: str) -> str:
    if not value:
        raise ValidationException(
            f"1 validation error detected: Value null at '{member[0].lower() + member[1:]}' "
            "failed to satisfy constraint: Member must not be null"
        )
    return value


class StreamOperations:
    def __init__(self, streams: StreamsApi) -> None:
        self.streams = streams

    async def list_streams(self, req: s.ListStreamsRequest) -> s.ListStreamsResult:
        found, last = self.streams.list_streams(
            req.table_name, req.limit, req.exclusive_start_stream_arn
        )
        return s.ListStreamsResult(
            [s.Stream(f.stream_arn, f.table_name, f.stream_label) for f in found], last or ""
        )

    async def describe_stream(self, req: s.DescribeStreamRequest) -> s.DescribeStreamResult:
        d = await self.streams.describe_stream(
            _require(req.stream_arn, "StreamArn"), req.limit, req.exclusive_start_shard_id
        )
        return s.DescribeStreamResult(
            s.StreamDescription(
                stream_arn=d.stream_arn,
                stream_label=d.stream_label,
                stream_status=d.status,
                stream_view_type=d.view_type,
                creation_request_date_time=dt.datetime.fromtimestamp(
                    d.table.created_ms / 1000, dt.UTC
                ),
                table_name=d.table.plain_name,
                key_schema=[
                    KeySchemaElement(k.attribute_name, k.key_type) for k in d.table.key_schema()
                ],
                shards=[
                    s.Shard(
                        sh.shard_id,
                        s.SequenceNumberRange(
                            sh.starting_sequence_number, sh.ending_sequence_number
                        ),
                        sh.parent_shard_id,
                    )
                    for sh in d.shards
                ],
                last_evaluated_shard_id=d.last_evaluated_shard_id or "",
            )
        )

    async def get_shard_iterator(self, req: s.GetShardIteratorRequest) -> s.GetShardIteratorResult:
        token = await self.streams.get_shard_iterator(
            _require(req.stream_arn, "StreamArn"),
            _require(req.shard_id, "ShardId"),
            _require(req.shard_iterator_type, "ShardIteratorType"),
            req.sequence_number,
        )
        return s.GetShardIteratorResult(token)

    async def get_records(self, req: s.GetRecordsRequest) -> s.GetRecordsResult:
        page = await self.streams.get_records(
            _require(req.shard_iterator, "ShardIterator"), req.limit
        )
        return s.GetRecordsResult(page.records, page.next_shard_iterator)
