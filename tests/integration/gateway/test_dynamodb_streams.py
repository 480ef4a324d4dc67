"""DynamoDB Streams through the gateway with boto3 and aiobotocore, unchanged: write to a
table, list and describe its stream, iterate every shard and read the INSERT, MODIFY and
REMOVE records exactly as DynamoDB Streams shapes them; a Lambda event source mapping of
the stream keeps its stream settings (TumblingWindowInSeconds) through the round trip."""

from __future__ import annotations

import datetime as dt
import io
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from eventplane.testing import EventplaneProcess, eventually

from .aio import Loop
from .conftest import _settings
from .support import ACCOUNT, gateway_process

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    process = gateway_process(eventplane_kafka, "api,tables,runner")
    try:
        yield process
    finally:
        process.stop()


def _client(server: EventplaneProcess, stack: str, loop: Loop, service: str) -> Any:
    if stack == "aiobotocore":
        return loop.client(service, **_settings(server))
    return boto3.client(service, **_settings(server))


@pytest.fixture(scope="module")
def ddb(server: EventplaneProcess, stack: str, aio_loop: Loop) -> Any:
    return _client(server, stack, aio_loop, "dynamodb")


@pytest.fixture(scope="module")
def streams(server: EventplaneProcess, stack: str, aio_loop: Loop) -> Any:
    return _client(server, stack, aio_loop, "dynamodbstreams")


@pytest.fixture
def table(ddb: Any) -> Iterator[tuple[str, str]]:
    """A new table with a NEW_AND_OLD_IMAGES stream over 3 partitions: (name, stream ARN)."""
    name = f"gw-{uuid.uuid4().hex[:12]}"
    created = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    yield name, created["TableDescription"]["LatestStreamArn"]
    ddb.delete_table(TableName=name)


def _all_records(streams: Any, arn: str) -> list[dict[str, Any]]:
    """Every record of every shard so far, read from TRIM_HORIZON."""
    records: list[dict[str, Any]] = []
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        # An empty page is not the end of a shard (a transaction marker takes an offset):
        # read on until a few pages in a row come back empty.
        empty = 0
        while iterator and empty < 3:
            page = streams.get_records(ShardIterator=iterator, Limit=100)
            records += page["Records"]
            empty = 0 if page["Records"] else empty + 1
            iterator = page.get("NextShardIterator")
    return records


def test_stream_records_as_dynamodb_streams_shapes_them(
    ddb: Any, streams: Any, table: tuple[str, str]
) -> None:
    name, arn = table
    listed = streams.list_streams(TableName=name)["Streams"]
    assert listed == [{"StreamArn": arn, "TableName": name, "StreamLabel": arn.rsplit("/", 1)[1]}]
    described = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert described["StreamStatus"] == "ENABLED"
    assert described["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert described["TableName"] == name
    assert described["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert len(described["Shards"]) >= 1
    assert all(s["SequenceNumberRange"]["StartingSequenceNumber"] for s in described["Shards"])

    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "1"}, "b": {"B": b"\x01"}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "b"}, "v": {"N": "1"}})
    ddb.update_item(
        TableName=name,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    ddb.delete_item(TableName=name, Key={"pk": {"S": "a"}})

    records = eventually(lambda: _complete(_all_records(streams, arn)), timeout=30, interval=0.5)
    of_a = [r for r in records if r["dynamodb"]["Keys"] == {"pk": {"S": "a"}}]
    assert [r["eventName"] for r in of_a] == ["INSERT", "MODIFY", "REMOVE"]
    insert, modify, remove = of_a
    assert insert["eventSource"] == "aws:dynamodb"
    assert insert["eventVersion"] == "1.1"
    assert insert["awsRegion"]
    assert insert["eventID"]
    assert insert["dynamodb"]["NewImage"] == {
        "pk": {"S": "a"},
        "v": {"N": "1"},
        "b": {"B": b"\x01"},
    }
    assert "OldImage" not in insert["dynamodb"]
    assert modify["dynamodb"]["OldImage"]["v"] == {"N": "1"}
    assert modify["dynamodb"]["NewImage"]["v"] == {"N": "2"}
    assert remove["dynamodb"]["OldImage"]["v"] == {"N": "2"}
    assert "NewImage" not in remove["dynamodb"]
    for r in of_a:
        assert r["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert r["dynamodb"]["SizeBytes"] > 0
        created = r["dynamodb"]["ApproximateCreationDateTime"]
        assert isinstance(created, dt.datetime)
        assert abs((created - dt.datetime.now(dt.UTC)).total_seconds()) < 3600
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in of_a]
    assert sequence == sorted(sequence) and len(set(sequence)) == 3

    # AFTER_SEQUENCE_NUMBER resumes right after a record; LATEST sees only later writes.
    shard = next(
        s["ShardId"]
        for s in described["Shards"]
        if _records_of(streams, arn, s["ShardId"], insert["dynamodb"]["SequenceNumber"])
    )
    after = streams.get_shard_iterator(
        StreamArn=arn,
        ShardId=shard,
        ShardIteratorType="AFTER_SEQUENCE_NUMBER",
        SequenceNumber=insert["dynamodb"]["SequenceNumber"],
    )["ShardIterator"]
    assert [r["eventName"] for r in streams.get_records(ShardIterator=after)["Records"]][:2] == [
        "MODIFY",
        "REMOVE",
    ]
    latest = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    page = streams.get_records(ShardIterator=latest)
    assert page["Records"] == []
    assert page["NextShardIterator"]


def _records_of(streams: Any, arn: str, shard: str, sequence: str) -> bool:
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    found = streams.get_records(ShardIterator=it)["Records"]
    return any(r["dynamodb"]["SequenceNumber"] == sequence for r in found)


def _complete(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert len(records) >= 4, records  # a: INSERT, MODIFY, REMOVE; b: INSERT
    return records


def test_a_stream_switched_off_closes_its_shards(
    ddb: Any, streams: Any, table: tuple[str, str]
) -> None:
    """As DynamoDB closes the shards of a disabled stream: each has an
    EndingSequenceNumber, and reading one to its end gives no NextShardIterator, so a
    consumer knows it is done; the stream's records stay readable."""
    name, arn = table
    for i in range(4):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}})
    open_shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    assert all("EndingSequenceNumber" not in s["SequenceNumberRange"] for s in open_shards)
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    described = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert described["StreamStatus"] == "DISABLED"
    keys = []
    for shard in described["Shards"]:
        span = shard["SequenceNumberRange"]
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        pages = 0
        while iterator:
            pages += 1
            assert pages < 50, "a closed shard never ended"
            page = streams.get_records(ShardIterator=iterator)
            for r in page["Records"]:
                assert int(r["dynamodb"]["SequenceNumber"]) <= int(span["EndingSequenceNumber"])
                keys.append(r["dynamodb"]["Keys"]["pk"]["S"])
            iterator = page.get("NextShardIterator")
    assert sorted(keys) == [f"k{i}" for i in range(4)]


def test_stream_errors(streams: Any, table: tuple[str, str]) -> None:
    name, arn = table
    with pytest.raises(streams.exceptions.ResourceNotFoundException):
        streams.describe_stream(StreamArn=arn.replace(name, name + "x"))
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    with pytest.raises(streams.exceptions.ClientError) as bad_type:
        streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="SOMETIMES")
    assert bad_type.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(streams.exceptions.ClientError) as forged:
        streams.get_records(ShardIterator="not-an-iterator")
    assert bad_type.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert forged.value.response["Error"]["Code"] in (
        "ValidationException",
        "ExpiredIteratorException",
    )
    # Limit's upper bounds (botocore checks only the lower one): 100 shards or streams.
    for call in (
        lambda: streams.describe_stream(StreamArn=arn, Limit=101),
        lambda: streams.list_streams(Limit=101),
    ):
        with pytest.raises(streams.exceptions.ClientError) as over:
            call()
        error = over.value.response["Error"]
        assert error["Code"] == "ValidationException"
        assert "Member must have value less than or equal to 100" in error["Message"]


def _package() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("app.py", "def handle(event, context):\n    return {'state': {}}\n")
    return buffer.getvalue()


def test_a_stream_mappings_tumbling_window_round_trips(
    server: EventplaneProcess, stack: str, aio_loop: Loop, table: tuple[str, str]
) -> None:
    _, arn = table
    lam = _client(server, stack, aio_loop, "lambda")
    name = f"gw-fn-{uuid.uuid4().hex[:10]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=f"arn:aws:iam::{ACCOUNT}:role/test",
        Handler="app.handle",
        Code={"ZipFile": _package()},
    )
    try:
        created = lam.create_event_source_mapping(
            EventSourceArn=arn,
            FunctionName=name,
            StartingPosition="LATEST",
            TumblingWindowInSeconds=120,
            Enabled=False,
        )
        uid = created["UUID"]
        assert created["TumblingWindowInSeconds"] == 120
        with pytest.raises(ClientError) as twice:  # one mapping per stream and function
            lam.create_event_source_mapping(
                EventSourceArn=arn, FunctionName=name, StartingPosition="LATEST"
            )
        assert twice.value.response["Error"]["Code"] == "ResourceConflictException"
        assert twice.value.response["Error"]["Message"] == (
            f'The event source arn (" {arn} ") and function (" {name} ") provided mapping '
            f"already exists. Please update or delete the existing mapping with UUID {uid}"
        )
        assert lam.get_event_source_mapping(UUID=uid)["TumblingWindowInSeconds"] == 120
        listed = lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
        assert [m["TumblingWindowInSeconds"] for m in listed] == [120]
        updated = lam.update_event_source_mapping(UUID=uid, TumblingWindowInSeconds=30)
        assert updated["TumblingWindowInSeconds"] == 30
        with pytest.raises(ClientError) as caught:
            lam.update_event_source_mapping(UUID=uid, TumblingWindowInSeconds=901)
        error = caught.value.response["Error"]
        assert error["Code"] == "InvalidParameterValueException"
        assert "TumblingWindowInSeconds" in error["Message"]
        lam.delete_event_source_mapping(UUID=uid)
    finally:
        lam.delete_function(FunctionName=name)
