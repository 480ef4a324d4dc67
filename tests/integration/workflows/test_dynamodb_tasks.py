"""The DynamoDB integration (dynamodb:getItem/putItem/updateItem/deleteItem) against a
real tables capability: one server with the workflows and tables roles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

from .conftest import unique

pytestmark = pytest.mark.integration

DDB = "arn:aws:states:::dynamodb:"


@pytest.fixture(scope="module")
def client(eventplane_kafka: str) -> Iterator[Client]:
    server = EventplaneProcess(
        eventplane_kafka, roles="api,workflows,tables", cluster=unique_cluster()
    ).start()
    try:
        with server.client(timeout=60) as c:
            yield c
    finally:
        server.stop()


@pytest.fixture
def table(client: Client) -> Iterator[str]:
    name = unique("wfddb")
    client.tables.create_table(
        name, key_schema=[("id", "HASH")], attribute_definitions=[("id", "S")]
    )
    yield name
    client.tables.delete_table(name)


def finished(client: Client, arn: str) -> Any:
    def done() -> Any:
        e = client.workflows.describe_execution(arn)
        assert e.status != "RUNNING", e
        return e

    return eventually(done, timeout=60)


def run(client: Client, definition: dict[str, Any], input: Any) -> tuple[Any, list[Any]]:
    sm = client.workflows.create_state_machine(unique("ddb"), definition).state_machine_arn
    arn = client.workflows.start_execution(sm, input).execution_arn
    e = finished(client, arn)
    return e, client.workflows.get_execution_history(arn)


def _task(action: str, parameters: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": DDB + action, "Parameters": parameters, **more}


def test_put_get_conditional_update_and_delete_an_item(client: Client, table: str) -> None:
    key = {"id": {"S.$": "$.id"}}
    definition = {
        "StartAt": "Put",
        "States": {
            "Put": _task(
                "putItem",
                {
                    "TableName": table,
                    "Item": {"id": {"S.$": "$.id"}, "visits": {"N": "1"}, "raw": {"B": "AAE="}},
                },
                ResultPath=None,
                Next="Get",
            ),
            "Get": _task(
                "getItem",
                {"TableName": table, "Key": key, "ConsistentRead": True},
                ResultSelector={"item.$": "$.Item"},
                ResultPath="$.got",
                Next="Bump",
            ),
            "Bump": _task(
                "updateItem",
                {
                    "TableName": table,
                    "Key": key,
                    "UpdateExpression": "SET visits = visits + :one",
                    "ConditionExpression": "visits = :seen",
                    "ExpressionAttributeValues": {
                        ":one": {"N": "1"},
                        ":seen.$": "$.got.item.visits",
                    },
                    "ReturnValues": "UPDATED_NEW",
                },
                ResultPath="$.bumped",
                Next="BumpAgain",
            ),
            # The same condition again: visits is 2 now, so it fails and Catch takes it.
            "BumpAgain": _task(
                "updateItem",
                {
                    "TableName": table,
                    "Key": key,
                    "UpdateExpression": "SET visits = visits + :one",
                    "ConditionExpression": "visits = :seen",
                    "ExpressionAttributeValues": {
                        ":one": {"N": "1"},
                        ":seen.$": "$.got.item.visits",
                    },
                },
                Catch=[
                    {
                        "ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
                        "ResultPath": "$.conflict",
                        "Next": "Delete",
                    }
                ],
                Next="Delete",
            ),
            "Delete": _task(
                "deleteItem",
                {"TableName": table, "Key": key, "ReturnValues": "ALL_OLD"},
                ResultSelector={"old.$": "$.Attributes"},
                ResultPath="$.deleted",
                Next="GetGone",
            ),
            "GetGone": _task(
                "getItem", {"TableName": table, "Key": key}, ResultPath="$.gone", End=True
            ),
        },
    }
    e, history = run(client, definition, {"id": "u1"})
    assert e.status == "SUCCEEDED", (e.error, e.cause)
    out = e.json()
    assert out["got"]["item"] == {"id": {"S": "u1"}, "visits": {"N": "1"}, "raw": {"B": "AAE="}}
    assert out["bumped"]["Attributes"] == {"visits": {"N": "2"}}
    assert out["bumped"]["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert out["conflict"]["Error"] == "DynamoDB.ConditionalCheckFailedException"
    assert "Error Code: ConditionalCheckFailedException" in out["conflict"]["Cause"]
    assert out["deleted"]["old"] == {
        "id": {"S": "u1"},
        "visits": {"N": "2"},
        "raw": {"B": "AAE="},
    }
    assert "Item" not in out["gone"]
    assert client.tables.get_item(table, {"id": {"S": "u1"}}) is None

    scheduled = [x for x in history if x["type"] == "TaskScheduled"]
    assert [
        (x["taskScheduledEventDetails"]["resourceType"], x["taskScheduledEventDetails"]["resource"])
        for x in scheduled
    ] == [
        ("dynamodb", "putItem"),
        ("dynamodb", "getItem"),
        ("dynamodb", "updateItem"),
        ("dynamodb", "updateItem"),
        ("dynamodb", "deleteItem"),
        ("dynamodb", "getItem"),
    ]
    put = json.loads(scheduled[0]["taskScheduledEventDetails"]["parameters"])
    assert put["Item"]["id"] == {"S": "u1"}
    failed = [x for x in history if x["type"] == "TaskFailed"]
    assert [x["taskFailedEventDetails"]["error"] for x in failed] == [
        "DynamoDB.ConditionalCheckFailedException"
    ]
    assert [x["type"] for x in history].count("TaskSucceeded") == 5


def test_a_missing_table_fails_the_execution_with_its_dynamodb_error(client: Client) -> None:
    missing = unique("nosuch")
    definition = {
        "StartAt": "Get",
        "States": {
            "Get": _task(
                "getItem",
                {"TableName": missing, "Key": {"id": {"S": "x"}}},
                Retry=[{"ErrorEquals": ["DynamoDB.AmazonDynamoDBException"], "MaxAttempts": 3}],
                End=True,
            )
        },
    }
    e, history = run(client, definition, {})
    assert e.status == "FAILED"
    assert e.error == "DynamoDB.ResourceNotFoundException"
    assert "Error Code: ResourceNotFoundException" in (e.cause or "")
    # the Retry named another error: one attempt only
    assert [x["type"] for x in history].count("TaskScheduled") == 1


def test_a_bad_expression_is_an_amazon_dynamodb_exception(client: Client, table: str) -> None:
    definition = {
        "StartAt": "Bad",
        "States": {
            "Bad": _task(
                "updateItem",
                {"TableName": table, "Key": {"id": {"S": "a"}}, "UpdateExpression": "SET"},
                Catch=[{"ErrorEquals": ["DynamoDB.AmazonDynamoDBException"], "Next": "Caught"}],
                End=True,
            ),
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    e, _ = run(client, definition, {})
    assert e.status == "SUCCEEDED", (e.error, e.cause)
    caught = e.json()
    assert caught["Error"] == "DynamoDB.AmazonDynamoDBException"
    assert "Error Code: ValidationException" in caught["Cause"]


@pytest.mark.parametrize("suffix", [".sync", ".waitForTaskToken"])
def test_dynamodb_sync_and_callback_tasks_are_refused_at_create(
    client: Client, suffix: str
) -> None:
    definition = {
        "StartAt": "Put",
        "States": {
            "Put": _task(
                "putItem" + suffix, {"TableName": "t", "Item": {"id": {"S": "a"}}}, End=True
            )
        },
    }
    with pytest.raises(EventplaneError) as info:
        client.workflows.create_state_machine(unique("ddb"), definition)
    assert info.value.code == "InvalidDefinition"
    assert "request-response task only" in info.value.message
