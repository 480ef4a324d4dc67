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


def tags_of(ddb: Any, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]}


def test_tags_on_a_table(ddb: Any, make_table: Callable[..., str]) -> None:
    # CreateTable Tags, TagResource, UntagResource, ListTagsOfResource: a table is named by
    # its ARN; "a tag key is unique per resource", tagging a key again sets its value.
    name = make_table(Tags=[{"Key": "team", "Value": "a"}, {"Key": "empty", "Value": ""}])
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    listed = ddb.list_tags_of_resource(ResourceArn=arn)
    assert listed["Tags"] == [{"Key": "empty", "Value": ""}, {"Key": "team", "Value": "a"}]
    assert "NextToken" not in listed
    ddb.tag_resource(
        ResourceArn=arn, Tags=[{"Key": "team", "Value": "b"}, {"Key": "cost", "Value": "c"}]
    )
    assert tags_of(ddb, arn) == {"team": "b", "empty": "", "cost": "c"}
    ddb.untag_resource(ResourceArn=arn, TagKeys=["empty", "not-there"])
    assert tags_of(ddb, arn) == {"team": "b", "cost": "c"}
    # 50 tags a table at most, on one page; a refused request keeps nothing.
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i:02d}", "Value": "v"} for i in range(48)])
    page = ddb.list_tags_of_resource(ResourceArn=arn)
    assert len(page["Tags"]) == 50 and "NextToken" not in page
    assert refused(
        lambda: ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "one-more", "Value": "v"}])
    ) == (
        "ValidationException",
        400,
        "Number of Tags exceed the current limit for the provided ResourceArn",
    )
    assert len(tags_of(ddb, arn)) == 50


def test_tag_limits_and_messages(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    bad_tags = {
        "aws:owner": ("v", "Tag Key cannot be prefixed with aws:, Key: aws:owner"),
        "k" * 129: ("v", "The Tag Key provided is invalid, Key: " + "k" * 129),
        "long": ("v" * 257, "The Tag Value provided is invalid, Value: " + "v" * 257),
    }
    for key, (value, text) in bad_tags.items():
        tags = [{"Key": key, "Value": value}]
        assert refused(lambda tags=tags: ddb.tag_resource(ResourceArn=arn, Tags=tags)) == (
            "ValidationException",
            400,
            text,
        )
        # CreateTable checks its Tags alike, and makes no table of a refusal.
        other = f"cf-{uuid.uuid4().hex[:12]}"
        assert (
            refused(
                lambda tags=tags, other=other: ddb.create_table(
                    TableName=other, KeySchema=HASH, AttributeDefinitions=PK, Tags=tags
                )
            )[2]
            == text
        )
        assert other not in ddb.list_tables()["TableNames"]
    twice = [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]
    assert refused(lambda: ddb.tag_resource(ResourceArn=arn, Tags=twice))[2] == (
        "Duplicate Tag Keys provided as input: Duplicate Tag Key found k"
    )
    assert refused(lambda: ddb.tag_resource(ResourceArn=arn, Tags=[]))[2] == (
        "Atleast one Tag needs to be provided as Input."
    )
    assert refused(lambda: ddb.untag_resource(ResourceArn=arn, TagKeys=[]))[2] == (
        "Atleast one Tag Key needs to be provided as Input."
    )
    assert tags_of(ddb, arn) == {}
    index_arn = f"{arn}/index/byg"
    assert refused(lambda: ddb.list_tags_of_resource(ResourceArn=index_arn)) == (
        "ValidationException",
        400,
        f"Invalid TableArn: Invalid ResourceArn provided as input {index_arn}",
    )
    unknown = arn.replace(name, f"cf-missing-{uuid.uuid4().hex[:8]}")
    not_found = (
        "ResourceNotFoundException",
        400,
        f"Requested resource not found: ResourcArn: {unknown} not found",
    )
    assert refused(lambda: ddb.list_tags_of_resource(ResourceArn=unknown)) == not_found
    assert (
        refused(lambda: ddb.tag_resource(ResourceArn=unknown, Tags=[{"Key": "k", "Value": "v"}]))
        == not_found
    )
    assert refused(lambda: ddb.untag_resource(ResourceArn=unknown, TagKeys=["k"])) == not_found


def test_delete_table_removes_its_tags(ddb: Any) -> None:
    name = f"cf-{uuid.uuid4().hex[:12]}"
    arn = ddb.create_table(
        TableName=name, KeySchema=HASH, AttributeDefinitions=PK, Tags=[{"Key": "k", "Value": "v"}]
    )["TableDescription"]["TableArn"]
    ddb.delete_table(TableName=name)
    assert (
        refused(lambda: ddb.list_tags_of_resource(ResourceArn=arn))[0]
        == "ResourceNotFoundException"
    )
    # A table of the same name made again starts with none.
    ddb.create_table(TableName=name, KeySchema=HASH, AttributeDefinitions=PK)
    try:
        assert tags_of(ddb, arn) == {}
    finally:
        ddb.delete_table(TableName=name)


def test_describe_limits_and_endpoints(ddb: Any, server: EventplaneProcess) -> None:
    limits = ddb.describe_limits()
    assert {k: v for k, v in limits.items() if k != "ResponseMetadata"} == {
        "AccountMaxReadCapacityUnits": 80000,
        "AccountMaxWriteCapacityUnits": 80000,
        "TableMaxReadCapacityUnits": 40000,
        "TableMaxWriteCapacityUnits": 40000,
    }
    # The address is the host the client called (SDKs doing endpoint discovery use it).
    endpoints = ddb.describe_endpoints()["Endpoints"]
    assert endpoints == [
        {"Address": f"127.0.0.1:{server.gateway_port}", "CachePeriodInMinutes": 1440}
    ]


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
