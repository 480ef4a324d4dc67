"""DynamoDB Streams at its two horizons, on a real server and broker: a shard iterator
expires 15 minutes after it was issued (ExpiredIteratorException), and records that left
the shard (retention; here Kafka's DeleteRecords moves the start) are
TrimmedDataAccessException for an iterator or a sequence number that points at them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient

from eventplane.client import Client
from eventplane.config import DEV_RECEIPT_SECRET
from eventplane.errors import EventplaneError
from eventplane.kafka import naming
from eventplane.tables.streams import ITERATOR_TTL_MS, Iterator, IteratorSigner
from eventplane.testing import EventplaneProcess

pytestmark = pytest.mark.integration


def _shard(client: Client, arn: str) -> str:
    (shard,) = client.tables.describe_stream(arn).shards
    return str(shard.shard_id)


def _reissued(token: str, age_ms: int) -> str:
    """The same iterator as the server would have issued it ``age_ms`` ago (the test
    server signs with the development secret)."""
    signer = IteratorSigner(DEV_RECEIPT_SECRET)
    it = signer.open(token, 0)  # now=0: never expired, only read
    return signer.sign(Iterator(it.table, it.label, it.partition, it.offset, it.issued_ms - age_ms))


def test_an_iterator_expires_after_15_minutes(
    client: Client, make_table: Callable[..., Any]
) -> None:
    t = make_table(partitions=1)
    client.tables.put_item(t.table_name, {"pk": {"S": "a"}})
    arn = t.latest_stream_arn
    token = client.tables.get_shard_iterator(arn, _shard(client, arn), "TRIM_HORIZON")

    young = client.tables.get_records(_reissued(token, ITERATOR_TTL_MS - 60_000))
    assert [r["eventName"] for r in young.records] == ["INSERT"]
    # The next iterator is a new one: 15 more minutes.
    assert client.tables.get_records(young.next_shard_iterator).records == []

    with pytest.raises(EventplaneError) as expired:
        client.tables.get_records(_reissued(token, ITERATOR_TTL_MS + 1_000))
    assert expired.value.code == "ExpiredIteratorException"
    assert "Iterator expired" in expired.value.message


def test_trimmed_records_are_trimmed_data_access(
    client: Client, tables_server: EventplaneProcess, make_table: Callable[..., Any]
) -> None:
    t = make_table(partitions=1)
    name, arn = t.table_name, t.latest_stream_arn
    for i in range(3):
        client.tables.put_item(name, {"pk": {"S": f"k{i}"}})
    shard = _shard(client, arn)
    horizon = client.tables.get_shard_iterator(arn, shard, "TRIM_HORIZON")
    sequences = [
        r["dynamodb"]["SequenceNumber"] for r in client.tables.get_records(horizon).records
    ]
    assert len(sequences) == 3

    # Retention drops everything before the second record.
    topic = naming.in_cluster(naming.table_stream_topic(name), tables_server.cluster)
    admin = AdminClient({"bootstrap.servers": tables_server.bootstrap})
    cut = TopicPartition(topic, 0, int(sequences[1]))
    for future in admin.delete_records([cut]).values():
        future.result(30)

    with pytest.raises(EventplaneError) as stale:
        client.tables.get_records(horizon)
    assert stale.value.code == "TrimmedDataAccessException"
    with pytest.raises(EventplaneError) as below:
        client.tables.get_shard_iterator(arn, shard, "AT_SEQUENCE_NUMBER", sequences[0])
    assert below.value.code == "TrimmedDataAccessException"

    # What is kept is still read from the new horizon and from its sequence numbers.
    fresh = client.tables.get_shard_iterator(arn, shard, "TRIM_HORIZON")
    kept = client.tables.get_records(fresh).records
    assert [r["dynamodb"]["SequenceNumber"] for r in kept] == sequences[1:]
    at = client.tables.get_shard_iterator(arn, shard, "AT_SEQUENCE_NUMBER", sequences[1])
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in client.tables.get_records(at).records] == [
        "k1",
        "k2",
    ]
