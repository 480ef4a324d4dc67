"""The DynamoDB integration's request and response mapping, error names, and the
create-time checks of dynamodb Task states."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from eventplane.errors import ValidationException
from eventplane.errors.base import ResourceNotFound
from eventplane.errors.tables import ConditionalCheckFailedException
from eventplane.workflows.asl.definition import validate_definition
from eventplane.workflows.dynamodb_task import (
    DynamoDBTaskError,
    error_name,
    perform_dynamodb,
)

DDB = "arn:aws:states:::dynamodb:"


class Tables:
    """Records the SDK calls and answers with what the test set (or raises it)."""

    def __init__(self, answer: Any = None) -> None:
        self.answer = answer
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def _reply(self, name: str, *args: Any, **kw: Any) -> Any:
        self.calls.append((name, args, kw))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    async def get_item(self, *args: Any, **kw: Any) -> Any:
        return self._reply("get_item", *args, **kw)

    async def put_item(self, *args: Any, **kw: Any) -> Any:
        return self._reply("put_item", *args, **kw)

    async def update_item(self, *args: Any, **kw: Any) -> Any:
        return self._reply("update_item", *args, **kw)

    async def delete_item(self, *args: Any, **kw: Any) -> Any:
        return self._reply("delete_item", *args, **kw)


def run(tables: Tables, action: str, params: Any) -> dict[str, Any]:
    return asyncio.run(perform_dynamodb(tables, action, params))  # type: ignore[arg-type]


def failed(tables: Tables, action: str, params: Any) -> DynamoDBTaskError:
    with pytest.raises(DynamoDBTaskError) as info:
        run(tables, action, params)
    return info.value


# --- requests and results -----------------------------------------------------------------
def test_get_item_sends_the_key_as_attribute_values_and_returns_item() -> None:
    tables = Tables({"id": {"S": "a"}, "blob": {"B": b"\x00\x01"}, "n": {"N": "5"}})
    out = run(
        tables,
        "getItem",
        {
            "TableName": "t",
            "Key": {"id": {"S": "a"}},
            "ProjectionExpression": "#n, blob",
            "ExpressionAttributeNames": {"#n": "n"},
            "ConsistentRead": True,
        },
    )
    assert tables.calls == [
        (
            "get_item",
            ("t", {"id": {"S": "a"}}),
            {
                "projection_expression": "#n, blob",
                "expression_attribute_names": {"#n": "n"},
                "consistent_read": True,
            },
        )
    ]
    assert out["Item"] == {"id": {"S": "a"}, "blob": {"B": "AAE="}, "n": {"N": "5"}}
    assert out["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert set(out["SdkHttpMetadata"]) == {"AllHttpHeaders", "HttpHeaders", "HttpStatusCode"}
    assert (
        out["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-RequestId"]
        == (out["SdkResponseMetadata"]["RequestId"])
    )
    assert out["SdkResponseMetadata"]["RequestId"]
    json.dumps(out)  # the task's output is JSON


def test_get_item_of_a_missing_item_has_no_item_field() -> None:
    out = run(Tables(None), "getItem", {"TableName": "t", "Key": {"id": {"S": "x"}}})
    assert "Item" not in out


def test_writes_pass_expressions_and_return_the_attributes_asked_for() -> None:
    tables = Tables({"id": {"S": "a"}, "n": {"N": "1"}})
    out = run(
        tables,
        "updateItem",
        {
            "TableName": "t",
            "Key": {"id": {"S": "a"}},
            "UpdateExpression": "SET n = n + :one",
            "ConditionExpression": "attribute_exists(id) AND #s = :open",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":one": {"N": "1"}, ":open": {"S": "open"}},
            "ReturnValues": "ALL_OLD",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        },
    )
    name, args, kw = tables.calls[0]
    assert (name, args) == ("update_item", ("t", {"id": {"S": "a"}}))
    assert kw == {
        "update_expression": "SET n = n + :one",
        "condition_expression": "attribute_exists(id) AND #s = :open",
        "expression_attribute_names": {"#s": "status"},
        "expression_attribute_values": {":one": {"N": "1"}, ":open": {"S": "open"}},
        "return_values": "ALL_OLD",
        "return_values_on_condition_check_failure": "ALL_OLD",
    }
    assert out["Attributes"] == {"id": {"S": "a"}, "n": {"N": "1"}}


def test_put_and_delete_without_return_values_have_no_attributes() -> None:
    tables = Tables(None)
    item = {"id": {"S": "a"}, "tags": {"SS": ["x", "y"]}, "raw": {"B": "AAE="}}
    out = run(tables, "putItem", {"TableName": "t", "Item": item})
    assert tables.calls[0][1] == (
        "t",
        {"id": {"S": "a"}, "tags": {"SS": ["x", "y"]}, "raw": {"B": b"\x00\x01"}},
    )
    assert "Attributes" not in out
    out = run(tables, "deleteItem", {"TableName": "t", "Key": {"id": {"S": "a"}}})
    assert tables.calls[1][0] == "delete_item" and "Attributes" not in out


# --- errors -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("ConditionalCheckFailedException", "DynamoDB.ConditionalCheckFailedException"),
        ("ResourceNotFoundException", "DynamoDB.ResourceNotFoundException"),
        ("RequestLimitExceeded", "DynamoDB.RequestLimitExceeded"),
        ("TransactionConflictException", "DynamoDB.TransactionConflictException"),
        ("ValidationException", "DynamoDB.AmazonDynamoDBException"),
        ("SerializationException", "DynamoDB.AmazonDynamoDBException"),
    ],
)
def test_error_names_follow_step_functions(code: str, name: str) -> None:
    assert error_name(code) == name


@pytest.mark.parametrize(
    ("raised", "name", "code"),
    [
        (
            ConditionalCheckFailedException("The conditional request failed"),
            "DynamoDB.ConditionalCheckFailedException",
            "ConditionalCheckFailedException",
        ),
        (
            ResourceNotFound("Requested resource not found"),
            "DynamoDB.ResourceNotFoundException",
            "ResourceNotFoundException",
        ),
        (
            ValidationException("Invalid UpdateExpression: Syntax error"),
            "DynamoDB.AmazonDynamoDBException",
            "ValidationException",
        ),
    ],
)
def test_service_errors_surface_with_the_sdk_cause(raised: Exception, name: str, code: str) -> None:
    err = failed(Tables(raised), "putItem", {"TableName": "t", "Item": {"id": {"S": "a"}}})
    assert err.error == name
    sdk = " (Service: AmazonDynamoDBv2; Status Code: 400"
    assert err.cause.startswith(str(raised.args[0]) + sdk)
    assert f"Error Code: {code};" in err.cause


@pytest.mark.parametrize(
    ("action", "params", "says"),
    [
        ("getItem", {"TableName": "t"}, "Value null at 'Key'"),
        ("putItem", {"Item": {"id": {"S": "a"}}}, "Value null at 'TableName'"),
        ("putItem", {"TableName": "t", "Item": {"id": {"S": "a"}}, "Bogus": 1}, "'Bogus'"),
        ("getItem", {"TableName": "t", "Key": "id"}, "'Key' must be a non-empty map"),
        ("getItem", {"TableName": "t", "Key": {"id": {"B": "A"}}}, "'Key'"),
        ("getItem", {"TableName": "t", "Key": {"id": "a"}}, "'Key'"),
        ("getItem", {"TableName": 5, "Key": {"id": {"S": "a"}}}, "'TableName' must be a string"),
        (
            "putItem",
            {"TableName": "t", "Item": {"id": {"S": "a"}}, "ReturnConsumedCapacity": "TOTAL"},
            "ReturnConsumedCapacity",
        ),
        ("getItem", [1], "JSON object"),
    ],
)
def test_bad_requests_fail_before_the_call(action: str, params: Any, says: str) -> None:
    tables = Tables(None)
    err = failed(tables, action, params)
    assert err.error == "DynamoDB.AmazonDynamoDBException"
    assert says in err.cause and "Error Code: ValidationException" in err.cause
    assert tables.calls == []


# --- create-time checks -------------------------------------------------------------------
def _task(resource: str, parameters: dict[str, Any] | None = None) -> str:
    state: dict[str, Any] = {"Type": "Task", "Resource": resource, "End": True}
    if parameters is not None:
        state["Parameters"] = parameters
    return json.dumps({"StartAt": "T", "States": {"T": state}})


def _errors(text: str, machine_type: str = "STANDARD") -> list[tuple[str, str, str]]:
    return [
        (d.code, d.location, d.message)
        for d in validate_definition(text, machine_type=machine_type)  # type: ignore[arg-type]
        if d.severity == "ERROR"
    ]


@pytest.mark.parametrize("action", ["getItem", "putItem", "updateItem", "deleteItem"])
def test_each_action_with_its_fields_is_valid(action: str) -> None:
    key = "Item" if action == "putItem" else "Key"
    params = {"TableName": "t", f"{key}.$": "$.key", "ReturnValues": "ALL_OLD"}
    if action == "getItem":
        params = {"TableName.$": "$.table", "Key": {"id": {"S.$": "$.id"}}}
    assert _errors(_task(DDB + action, params)) == []
    assert _errors(_task(DDB + action, params), "EXPRESS") == []


@pytest.mark.parametrize("suffix", [".sync", ".sync:2", ".waitForTaskToken"])
def test_dynamodb_has_no_sync_or_callback_pattern(suffix: str) -> None:
    errors = _errors(_task(DDB + "putItem" + suffix, {"TableName": "t", "Item": {}}))
    assert [(c, loc) for c, loc, _ in errors] == [
        ("SCHEMA_VALIDATION_FAILED", "/States/T/Resource")
    ]
    assert "request-response task only" in errors[0][2]


def test_unknown_dynamodb_actions_and_fields_are_refused() -> None:
    errors = _errors(_task(DDB + "scan", {"TableName": "t"}))
    assert errors and "offers getItem, putItem, updateItem, deleteItem" in errors[0][2]
    errors = _errors(_task(DDB + "getItem", {"TableName": "t", "Key.$": "$", "Limit": 1}))
    assert [m for _, _, m in errors] == [
        "The field 'Limit' is not supported by Step Functions for dynamodb:getItem"
    ]
    errors = _errors(_task(DDB + "updateItem", {"Key": {"id": {"S": "a"}}}))
    assert [m for _, _, m in errors] == ["These fields are required: [TableName]"]


def test_jsonata_arguments_are_checked_when_they_are_an_object() -> None:
    doc = {
        "QueryLanguage": "JSONata",
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": DDB + "deleteItem",
                "Arguments": {"TableName": "t", "Key": "{% $states.input.key %}", "Nope": 1},
                "End": True,
            }
        },
    }
    assert [m for _, _, m in _errors(json.dumps(doc))] == [
        "The field 'Nope' is not supported by Step Functions for dynamodb:deleteItem"
    ]
    doc["States"]["T"]["Arguments"] = "{% $states.input %}"  # type: ignore[index]
    assert _errors(json.dumps(doc)) == []
