"""The item-collection limit of tables with LSIs, through boto3 on the gateway.

DynamoDB's limit is 10 GB; this module's server lowers it to 4,000 bytes with
EVENTPLANE_TABLES_ITEM_COLLECTION_LIMIT_BYTES so a few 1 KB items reach it.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from eventplane.testing import EventplaneProcess, eventually, unique_cluster

pytestmark = pytest.mark.integration

KEY, SECRET, ACCOUNT = "AKIDCOLLECTIONS0001", "collections-test-secret", "000000000000"
LIMIT = 4000
BLOB = "x" * 1000  # about a quarter of the limit per item


@pytest.fixture(scope="module")
def ddb(eventplane_kafka: str) -> Iterator[Any]:
    server = EventplaneProcess(
        eventplane_kafka,
        roles="api,tables",
        cluster=unique_cluster(),
        env={
            "EVENTPLANE_GATEWAY_CREDENTIALS": f"{KEY}:{SECRET}:{ACCOUNT}",
            "EVENTPLANE_TABLES_ITEM_COLLECTION_LIMIT_BYTES": str(LIMIT),
        },
    ).start()
    try:
        yield boto3.client(
            "dynamodb",
            endpoint_url=server.gateway_url,
            region_name="us-east-1",
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
            config=Config(retries={"max_attempts": 1}),
        )
    finally:
        server.stop()


@pytest.fixture
def make_table(ddb: Any) -> Iterator[Callable[..., str]]:
    made: list[str] = []

    def make(*, lsi: bool) -> str:
        name = f"ic-{uuid.uuid4().hex[:12]}"
        extra: dict[str, Any] = {}
        attrs = [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ]
        if lsi:
            attrs.append({"AttributeName": "rank", "AttributeType": "N"})
            extra["LocalSecondaryIndexes"] = [
                {
                    "IndexName": "byRank",
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "rank", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ]
        ddb.create_table(
            TableName=name,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=attrs,
            BillingMode="PAY_PER_REQUEST",
            **extra,
        )
        made.append(name)
        # Every partition owned (the first table of a fresh server waits for the group).
        eventually(
            lambda: ddb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE",
            timeout=60,
        )
        return name

    yield make
    for name in made:
        with contextlib.suppress(ClientError):
            ddb.delete_table(TableName=name)


def _item(pk: str, sk: int, blob: str = BLOB) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}, "rank": {"N": str(sk)}, "payload": {"S": blob}}


def _count(ddb: Any, name: str, pk: str) -> int:
    got = ddb.query(
        TableName=name,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": pk}},
        Select="COUNT",
    )
    return int(got["Count"])


def test_a_write_that_grows_a_collection_past_the_limit_is_refused(
    ddb: Any, make_table: Callable[..., str]
) -> None:
    name = make_table(lsi=True)
    for sk in range(3):
        ddb.put_item(TableName=name, Item=_item("h", sk))
    with pytest.raises(ddb.exceptions.ItemCollectionSizeLimitExceededException) as put:
        ddb.put_item(TableName=name, Item=_item("h", 3))
    assert put.value.response["Error"]["Message"] == "Collection size exceeded"
    assert put.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert _count(ddb, name, "h") == 3

    # Another partition-key value is another collection.
    ddb.put_item(TableName=name, Item=_item("g", 0))

    # Growing an item in place is refused too; shrinking one is not.
    with pytest.raises(ddb.exceptions.ItemCollectionSizeLimitExceededException):
        ddb.update_item(
            TableName=name,
            Key={"pk": {"S": "h"}, "sk": {"N": "0"}},
            UpdateExpression="SET more = :m",
            ExpressionAttributeValues={":m": {"S": BLOB}},
        )
    ddb.update_item(
        TableName=name,
        Key={"pk": {"S": "h"}, "sk": {"N": "0"}},
        UpdateExpression="SET payload = :b",
        ExpressionAttributeValues={":b": {"S": "small"}},
    )
    ddb.put_item(TableName=name, Item=_item("h", 3))  # fits now
    assert _count(ddb, name, "h") == 4

    # A batch that would pass the limit writes none of its items.
    with pytest.raises(ddb.exceptions.ItemCollectionSizeLimitExceededException):
        ddb.batch_write_item(
            RequestItems={
                name: [
                    {"PutRequest": {"Item": _item("g", 1)}},
                    {"PutRequest": {"Item": _item("h", 4)}},
                ]
            }
        )
    assert (_count(ddb, name, "g"), _count(ddb, name, "h")) == (1, 4)

    # Deletes always pass, and free room.
    ddb.delete_item(TableName=name, Key={"pk": {"S": "h"}, "sk": {"N": "1"}})
    ddb.put_item(TableName=name, Item=_item("h", 5))


def test_a_transaction_is_canceled_with_the_reason_in_place(
    ddb: Any, make_table: Callable[..., str]
) -> None:
    name = make_table(lsi=True)
    for sk in range(3):
        ddb.put_item(TableName=name, Item=_item("h", sk))
    with pytest.raises(ddb.exceptions.TransactionCanceledException) as caught:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": _item("g", 0)}},
                {"Put": {"TableName": name, "Item": _item("h", 3)}},
            ]
        )
    reasons = caught.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ItemCollectionSizeLimitExceeded"]
    assert reasons[1]["Message"] == "Collection size exceeded"
    assert (_count(ddb, name, "g"), _count(ddb, name, "h")) == (0, 3)


def test_tables_without_lsis_have_no_collection_limit(
    ddb: Any, make_table: Callable[..., str]
) -> None:
    name = make_table(lsi=False)
    for sk in range(6):
        ddb.put_item(TableName=name, Item=_item("h", sk))
    assert _count(ddb, name, "h") == 6
