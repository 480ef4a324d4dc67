"""DynamoDB and DynamoDB Streams behaviours AWS documents that a differential run against
another emulator showed we got wrong, through boto3 against one server (api, tables)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from eventplane.testing import EventplaneProcess, eventually

from .conftest import _settings
from .support import gateway_process

pytestmark = pytest.mark.integration

HASH = [{"AttributeName": "pk", "KeyType": "HASH"}]
PK = [{"AttributeName": "pk", "AttributeType": "S"}]


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    process = gateway_process(eventplane_kafka, "api,tables")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def ddb(server: EventplaneProcess) -> Any:
    return boto3.client("dynamodb", **_settings(server))


@pytest.fixture(scope="module")
def streams(server: EventplaneProcess) -> Any:
    return boto3.client("dynamodbstreams", **_settings(server))


@pytest.fixture(scope="module")
def make_table(ddb: Any) -> Iterator[Callable[..., str]]:
    """make_table(**extra) -> a new table's name (pk S; on demand unless ``extra`` gives
    ProvisionedThroughput), deleted with the module."""
    made: list[str] = []

    def make(**extra: Any) -> str:
        name = f"cf-{uuid.uuid4().hex[:12]}"
        if "ProvisionedThroughput" not in extra:
            extra.setdefault("BillingMode", "PAY_PER_REQUEST")
        extra.setdefault("AttributeDefinitions", PK)
        ddb.create_table(TableName=name, KeySchema=HASH, **extra)
        made.append(name)
        return name

    yield make
    for name in made:
        with contextlib.suppress(ClientError):
            ddb.delete_table(TableName=name)


@pytest.fixture(scope="module")
def indexed(make_table: Callable[..., str]) -> str:
    """One table with a global index ``byg`` (g S, all projected)."""
    return make_table(
        AttributeDefinitions=[*PK, {"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byg",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    r = exc.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def test_create_table_with_only_provisioned_throughput_is_provisioned(
    ddb: Any, make_table: Callable[..., str]
) -> None:
    # CreateTable: the API reference's own example ("To create a table") gives
    # ProvisionedThroughput and no BillingMode, whose default is PROVISIONED.
    name = make_table(ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7})
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 7
    # Neither given: eventplane keeps its on-demand default.
    plain = f"cf-{uuid.uuid4().hex[:12]}"
    ddb.create_table(TableName=plain, KeySchema=HASH, AttributeDefinitions=PK)
    try:
        summary = ddb.describe_table(TableName=plain)["Table"]["BillingModeSummary"]
        assert summary == {"BillingMode": "PAY_PER_REQUEST"}
    finally:
        ddb.delete_table(TableName=plain)


def test_create_table_provisioned_needs_throughput(ddb: Any) -> None:
    # ProvisionedThroughput: "If you set BillingMode as PROVISIONED, you must specify this
    # property."
    name = f"cf-{uuid.uuid4().hex[:12]}"
    with pytest.raises(ClientError) as refused:
        ddb.create_table(
            TableName=name, KeySchema=HASH, AttributeDefinitions=PK, BillingMode="PROVISIONED"
        )
    assert error(refused) == ("ValidationException", 400)
    assert "PROVISIONED" in refused.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as missing:
        ddb.describe_table(TableName=name)
    assert error(missing) == ("ResourceNotFoundException", 400)


def test_return_consumed_capacity_is_checked_before_the_write(
    ddb: Any, make_table: Callable[..., str]
) -> None:
    # ReturnConsumedCapacity: "Valid Values: INDEXES | TOTAL | NONE".
    name = make_table()
    key = {"pk": {"S": "rcc"}}
    calls: list[Callable[[], Any]] = [
        lambda: ddb.put_item(TableName=name, Item=key, ReturnConsumedCapacity="BOGUS"),
        lambda: ddb.update_item(
            TableName=name,
            Key=key,
            UpdateExpression="SET a = :a",
            ExpressionAttributeValues={":a": {"N": "1"}},
            ReturnConsumedCapacity="BOGUS",
        ),
        lambda: ddb.get_item(TableName=name, Key=key, ReturnConsumedCapacity="BOGUS"),
        lambda: ddb.scan(TableName=name, ReturnConsumedCapacity="BOGUS"),
        lambda: ddb.batch_write_item(
            RequestItems={name: [{"PutRequest": {"Item": key}}]}, ReturnConsumedCapacity="BOGUS"
        ),
        lambda: ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": name, "Item": key}}],
            ReturnConsumedCapacity="BOGUS",
        ),
    ]
    for call in calls:
        with pytest.raises(ClientError) as refused:
            call()
        assert error(refused) == ("ValidationException", 400)
        assert "returnConsumedCapacity" in refused.value.response["Error"]["Message"]
    # Refused up front: nothing was written.
    assert "Item" not in ddb.get_item(TableName=name, Key=key, ConsistentRead=True)


def test_return_consumed_capacity_indexes_has_the_shares(ddb: Any, indexed: str) -> None:
    # ReturnConsumedCapacity INDEXES: "the aggregate ConsumedCapacity for the operation,
    # together with ConsumedCapacity for each table and secondary index that was accessed."
    item = {"pk": {"S": "i1"}, "g": {"S": "x"}}
    put = ddb.put_item(TableName=indexed, Item=item, ReturnConsumedCapacity="INDEXES")
    used = put["ConsumedCapacity"]
    assert used["TableName"] == indexed
    assert used["Table"]["CapacityUnits"] == used["CapacityUnits"]
    got = ddb.get_item(TableName=indexed, Key={"pk": {"S": "i1"}}, ReturnConsumedCapacity="INDEXES")
    assert got["ConsumedCapacity"]["Table"]["CapacityUnits"] > 0
    query = ddb.query(
        TableName=indexed,
        IndexName="byg",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "x"}},
        ReturnConsumedCapacity="INDEXES",
    )
    used = query["ConsumedCapacity"]
    assert used["GlobalSecondaryIndexes"]["byg"]["CapacityUnits"] == used["CapacityUnits"]
    assert "LocalSecondaryIndexes" not in used
    # TOTAL stays the aggregate alone.
    total = ddb.put_item(TableName=indexed, Item=item, ReturnConsumedCapacity="TOTAL")
    assert set(total["ConsumedCapacity"]) == {"TableName", "CapacityUnits"}


def test_empty_shard_starting_sequence_number_is_a_valid_position(
    ddb: Any, streams: Any, make_table: Callable[..., str]
) -> None:
    # DescribeStream's SequenceNumberRange.StartingSequenceNumber is "the first sequence
    # number for the stream records contained within a shard"; GetShardIterator
    # AT_SEQUENCE_NUMBER takes it, and the iterator reads the shard's first record once
    # it comes.
    name = make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterators = [
        streams.get_shard_iterator(
            StreamArn=arn,
            ShardId=shard["ShardId"],
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=shard["SequenceNumberRange"]["StartingSequenceNumber"],
        )["ShardIterator"]
        for shard in shards
    ]
    ddb.put_item(TableName=name, Item={"pk": {"S": "first"}})

    def first_record() -> list[dict[str, Any]]:
        found = [r for it in iterators for r in streams.get_records(ShardIterator=it)["Records"]]
        assert found
        return found

    records = eventually(first_record, timeout=30, interval=0.2)
    assert [(r["eventName"], r["dynamodb"]["Keys"]) for r in records] == [
        ("INSERT", {"pk": {"S": "first"}})
    ]


def message(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Message"])


def refused(call: Callable[[], Any]) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return (*error(caught), message(caught))


def test_empty_expression_maps_are_refused(ddb: Any, make_table: Callable[..., str]) -> None:
    # "ExpressionAttributeValues must not be empty" / "ExpressionAttributeNames must not be
    # empty": DynamoDB refuses a map given empty rather than reading it as absent.
    name = make_table()
    key = {"pk": {"S": "e"}}
    values = "ExpressionAttributeValues must not be empty"
    names = "ExpressionAttributeNames must not be empty"
    calls: list[tuple[Callable[[], Any], str]] = [
        (
            lambda: ddb.put_item(
                TableName=name,
                Item=key,
                ConditionExpression="attribute_not_exists(pk)",
                ExpressionAttributeValues={},
            ),
            values,
        ),
        (
            lambda: ddb.put_item(
                TableName=name,
                Item=key,
                ConditionExpression="attribute_not_exists(#p)",
                ExpressionAttributeNames={"#p": "pk"},
                ExpressionAttributeValues={},
            ),
            values,
        ),
        (
            lambda: ddb.put_item(
                TableName=name,
                Item=key,
                ConditionExpression="attribute_not_exists(pk)",
                ExpressionAttributeNames={},
            ),
            names,
        ),
        (
            lambda: ddb.update_item(
                TableName=name, Key=key, UpdateExpression="REMOVE a", ExpressionAttributeValues={}
            ),
            values,
        ),
        (
            lambda: ddb.update_item(
                TableName=name,
                Key=key,
                UpdateExpression="SET a = :a",
                ExpressionAttributeNames={},
                ExpressionAttributeValues={":a": {"N": "1"}},
            ),
            names,
        ),
        (
            lambda: ddb.delete_item(
                TableName=name,
                Key=key,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={},
            ),
            values,
        ),
        (
            lambda: ddb.query(
                TableName=name, KeyConditionExpression="pk = :p", ExpressionAttributeValues={}
            ),
            values,
        ),
        (
            lambda: ddb.query(
                TableName=name,
                KeyConditionExpression="pk = :p",
                ExpressionAttributeNames={},
                ExpressionAttributeValues={":p": {"S": "e"}},
            ),
            names,
        ),
        (
            lambda: ddb.scan(
                TableName=name,
                FilterExpression="attribute_exists(pk)",
                ExpressionAttributeValues={},
            ),
            values,
        ),
        (
            lambda: ddb.scan(
                TableName=name, ProjectionExpression="pk", ExpressionAttributeNames={}
            ),
            names,
        ),
        (
            lambda: ddb.get_item(
                TableName=name, Key=key, ProjectionExpression="pk", ExpressionAttributeNames={}
            ),
            names,
        ),
        (
            lambda: ddb.batch_get_item(
                RequestItems={
                    name: {
                        "Keys": [key],
                        "ProjectionExpression": "pk",
                        "ExpressionAttributeNames": {},
                    }
                }
            ),
            names,
        ),
        (
            lambda: ddb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": name,
                            "Item": key,
                            "ConditionExpression": "attribute_not_exists(pk)",
                            "ExpressionAttributeValues": {},
                        }
                    }
                ]
            ),
            values,
        ),
        (
            lambda: ddb.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": name,
                            "Key": key,
                            "UpdateExpression": "SET a = :a",
                            "ExpressionAttributeNames": {},
                            "ExpressionAttributeValues": {":a": {"N": "1"}},
                        }
                    }
                ]
            ),
            names,
        ),
        (
            lambda: ddb.transact_get_items(
                TransactItems=[
                    {
                        "Get": {
                            "TableName": name,
                            "Key": key,
                            "ProjectionExpression": "pk",
                            "ExpressionAttributeNames": {},
                        }
                    }
                ]
            ),
            names,
        ),
        # Given with no expression to use them.
        (
            lambda: ddb.get_item(TableName=name, Key=key, ExpressionAttributeNames={}),
            "ExpressionAttributeNames can only be specified when using expressions",
        ),
        (
            lambda: ddb.put_item(
                TableName=name, Item=key, ExpressionAttributeValues={":a": {"N": "1"}}
            ),
            "ExpressionAttributeValues can only be specified when using expressions",
        ),
    ]
    for call, text in calls:
        assert refused(call) == ("ValidationException", 400, text)
    # Refused up front: nothing was written.
    assert "Item" not in ddb.get_item(TableName=name, Key=key, ConsistentRead=True)
