"""DynamoDB through the gateways of two replicas of one installation: each owns some of a
table's partitions, and a single-partition call (PutItem, GetItem, UpdateItem, DeleteItem,
Query, TransactWriteItems) that reaches the other one is sent on to the owner, answers,
conditional failures with their Item and cancelled transactions with their reasons
included. A table's tags, set through one, are the other's too, and a restarted replica
still has them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from eventplane.tables.keys import partition_of
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

from .conftest import _settings
from .support import ACCOUNT, KEY, SECRET

pytestmark = pytest.mark.integration

PARTITIONS = 4  # a table's default partition count
HASHES = [f"h{i}" for i in range(8)]


@pytest.fixture(scope="module")
def replicas(eventplane_kafka: str) -> Iterator[tuple[EventplaneProcess, EventplaneProcess]]:
    cluster = unique_cluster()
    env = {"EVENTPLANE_GATEWAY_CREDENTIALS": f"{KEY}:{SECRET}:{ACCOUNT}"}
    with (
        EventplaneProcess(eventplane_kafka, roles="api,tables", cluster=cluster, env=env) as a,
        EventplaneProcess(eventplane_kafka, roles="api,tables", cluster=cluster, env=env) as b,
    ):
        yield a, b


@pytest.fixture(scope="module")
def clients(replicas: tuple[EventplaneProcess, EventplaneProcess]) -> tuple[Any, Any]:
    a, b = replicas
    return boto3.client("dynamodb", **_settings(a)), boto3.client("dynamodb", **_settings(b))


def _active(client: Any, name: str) -> bool:
    try:
        return bool(client.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE")
    except client.exceptions.ResourceNotFoundException:
        return False


def test_single_partition_calls_reach_the_owner_through_either_replica(
    clients: tuple[Any, Any],
) -> None:
    ca, cb = clients
    name = f"rep-{uuid.uuid4().hex[:10]}"
    ca.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    # As on DynamoDB, a table is usable once ACTIVE; here B must first learn of it too.
    eventually(lambda: _active(cb, name), timeout=60)
    # The items land on every partition; the group gives each replica some of them.
    assert {partition_of({"S": h}, PARTITIONS) for h in HASHES} == set(range(PARTITIONS))
    try:
        for h in HASHES:
            cb.put_item(TableName=name, Item={"pk": {"S": h}, "n": {"N": "1"}})
        for h in HASHES:
            key = {"pk": {"S": h}}
            assert ca.get_item(TableName=name, Key=key)["Item"]["n"] == {"N": "1"}
            with pytest.raises(ca.exceptions.ConditionalCheckFailedException) as failed:
                ca.put_item(
                    TableName=name,
                    Item=key,
                    ConditionExpression="attribute_not_exists(pk)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            assert failed.value.response["Item"] == {"pk": {"S": h}, "n": {"N": "1"}}
            new = ca.update_item(
                TableName=name,
                Key=key,
                UpdateExpression="SET n = n + :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )["Attributes"]
            assert new == {"n": {"N": "2"}}
            page = ca.query(
                TableName=name,
                KeyConditionExpression="pk = :h",
                ExpressionAttributeValues={":h": {"S": h}},
            )
            assert page["Items"] == [{"pk": {"S": h}, "n": {"N": "2"}}]
            with pytest.raises(ca.exceptions.TransactionCanceledException) as cancelled:
                ca.transact_write_items(
                    TransactItems=[
                        {
                            "ConditionCheck": {
                                "TableName": name,
                                "Key": key,
                                "ConditionExpression": "n = :three",
                                "ExpressionAttributeValues": {":three": {"N": "3"}},
                            }
                        }
                    ]
                )
            reasons = cancelled.value.response["CancellationReasons"]
            assert [r["Code"] for r in reasons] == ["ConditionalCheckFailed"]
            old = ca.delete_item(TableName=name, Key=key, ReturnValues="ALL_OLD")["Attributes"]
            assert old["n"] == {"N": "2"}
        assert cb.scan(TableName=name)["Count"] == 0
    finally:
        cb.delete_table(TableName=name)


def _tags(client: Any, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in client.list_tags_of_resource(ResourceArn=arn)["Tags"]}


def test_tags_are_every_replicas_and_survive_a_restart(
    replicas: tuple[EventplaneProcess, EventplaneProcess], clients: tuple[Any, Any]
) -> None:
    ca, cb = clients
    name = f"tag-{uuid.uuid4().hex[:10]}"
    arn = ca.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": "team", "Value": "a"}],
    )["TableDescription"]["TableArn"]
    try:
        eventually(lambda: _active(cb, name), timeout=60)
        assert _tags(cb, arn) == {"team": "a"}
        cb.tag_resource(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "test"}])
        ca.untag_resource(ResourceArn=arn, TagKeys=["team"])
        eventually(lambda: _tags(ca, arn) == {"stage": "test"}, timeout=30)
        eventually(lambda: _tags(cb, arn) == {"stage": "test"}, timeout=30)
        # Tags live with the table's definition on Kafka: a replica started again reads
        # them back.
        b = replicas[1]
        b.stop()
        b.restart()
        eventually(lambda: _tags(cb, arn) == {"stage": "test"}, timeout=30)
    finally:
        ca.delete_table(TableName=name)
