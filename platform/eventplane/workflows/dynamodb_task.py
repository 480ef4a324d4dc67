"""The optimized DynamoDB integration: ``arn:aws:states:::dynamodb:getItem`` and
``putItem``, ``updateItem``, ``deleteItem``, run against the tables capability.

The request is the DynamoDB API's (TableName, Key, Item, UpdateExpression,
ConditionExpression, ExpressionAttributeNames/Values, ReturnValues...) with attribute
values in DynamoDB JSON, and the result is the DynamoDB response as Step Functions
returns it: ``{"Item": {...}}`` for getItem (``{}`` when there is no such item),
``{"Attributes": {...}}`` for a write that asked for them, each with the
``SdkHttpMetadata``/``SdkResponseMetadata`` the AWS integration adds.

Failures are named as Step Functions names them, so Retry/Catch written for AWS match:
``DynamoDB.<code>`` for the exceptions the DynamoDB SDK models
(``DynamoDB.ConditionalCheckFailedException``, ``DynamoDB.ResourceNotFoundException``,
...) and ``DynamoDB.AmazonDynamoDBException`` for the rest (a ValidationException
surfaces under the SDK's base class), with the SDK's cause text.
"""

from __future__ import annotations

import binascii
import uuid
from collections.abc import Mapping
from typing import Any

from eventplane.attribute_values import decode_json_item, encode_json_item
from eventplane.client.tables import AsyncTablesClient
from eventplane.errors import EventplaneError
from eventplane.workflows.asl.integrations import DYNAMODB_FIELDS, DYNAMODB_REQUIRED
from eventplane.workflows.lang import dumps
from eventplane.workflows.service_calls import sdk_metadata

__all__ = ["ACTIONS", "DynamoDBTaskError", "error_name", "perform_dynamodb"]

ACTIONS = tuple(DYNAMODB_FIELDS)

# The exceptions the DynamoDB SDK models (AWS SDK for Java, which Step Functions runs);
# any other code is raised as their base class, AmazonDynamoDBException.
MODELED = frozenset(
    {
        "ConditionalCheckFailedException",
        "InternalServerErrorException",
        "ItemCollectionSizeLimitExceededException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ResourceNotFoundException",
        "TransactionConflictException",
    }
)
_SERVER_FAULTS = frozenset({"InternalServerErrorException", "InternalFailure"})


class DynamoDBTaskError(Exception):
    """A failed call as the task reports it: Error and Cause."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


def error_name(code: str) -> str:
    """The Step Functions error name of a DynamoDB error code."""
    return f"DynamoDB.{code if code in MODELED else 'AmazonDynamoDBException'}"


def _cause(code: str, message: str) -> str:
    status = 500 if code in _SERVER_FAULTS else 400
    return (
        f"{message} (Service: AmazonDynamoDBv2; Status Code: {status}; Error Code: {code}; "
        f"Request ID: {_request_id()}; Proxy: null)"
    )


def _request_id() -> str:
    return uuid.uuid4().hex.upper()[:32]


def failure(code: str, message: str) -> DynamoDBTaskError:
    return DynamoDBTaskError(error_name(code), _cause(code, message))


def _invalid(message: str) -> DynamoDBTaskError:
    return failure("ValidationException", message)


def _item(params: Mapping[str, Any], field: str) -> dict[str, Any]:
    value = params.get(field)
    if not isinstance(value, dict) or not value:
        raise _invalid(f"1 validation error detected: Value at '{field}' must be a non-empty map")
    try:
        return decode_json_item(value)
    except (AttributeError, TypeError, ValueError, StopIteration, binascii.Error) as exc:
        raise _invalid(
            f"Supplied AttributeValue in '{field}' is not a valid DynamoDB JSON value: {exc}"
        ) from None


def _text(params: Mapping[str, Any], field: str) -> str | None:
    value = params.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid(f"1 validation error detected: Value at '{field}' must be a string")
    return value


def _names(params: Mapping[str, Any]) -> dict[str, str] | None:
    value = params.get("ExpressionAttributeNames")
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _invalid("ExpressionAttributeNames must be a map of strings")
    return {str(k): v for k, v in value.items()}


def _no_capacity(params: Mapping[str, Any]) -> None:
    """Capacity is not metered here: asking for it would get a result without it."""
    for field in ("ReturnConsumedCapacity", "ReturnItemCollectionMetrics"):
        if params.get(field, "NONE") != "NONE":
            raise _invalid(f"{field} is not supported: eventplane does not meter capacity")


def check_request(action: str, params: Any) -> dict[str, Any]:
    """The request's fields, refusing what the DynamoDB API would refuse before the call."""
    if action not in DYNAMODB_FIELDS:
        raise failure("UnknownOperationException", f"Unsupported action dynamodb:{action}")
    if not isinstance(params, dict):
        raise _invalid("The request parameters must be a JSON object")
    unknown = sorted(set(params) - DYNAMODB_FIELDS[action])
    if unknown:
        raise _invalid(f"The field '{unknown[0]}' is not supported for dynamodb:{action}")
    missing = [f for f in DYNAMODB_REQUIRED[action] if params.get(f) is None]
    if missing:
        raise _invalid(
            f"1 validation error detected: Value null at '{missing[0]}' failed to satisfy "
            "constraint: Member must not be null"
        )
    _no_capacity(params)
    return params


def write_kw(params: Mapping[str, Any]) -> dict[str, Any]:
    """The SDK keywords of a write's optional fields."""
    kw: dict[str, Any] = {}
    for field, name in (
        ("ConditionExpression", "condition_expression"),
        ("UpdateExpression", "update_expression"),
        ("ReturnValues", "return_values"),
        ("ReturnValuesOnConditionCheckFailure", "return_values_on_condition_check_failure"),
    ):
        value = _text(params, field)
        if value is not None:
            kw[name] = value
    names = _names(params)
    if names is not None:
        kw["expression_attribute_names"] = names
    if params.get("ExpressionAttributeValues") is not None:
        kw["expression_attribute_values"] = _item(params, "ExpressionAttributeValues")
    return kw


def get_kw(params: Mapping[str, Any]) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    projection = _text(params, "ProjectionExpression")
    if projection is not None:
        kw["projection_expression"] = projection
    names = _names(params)
    if names is not None:
        kw["expression_attribute_names"] = names
    consistent = params.get("ConsistentRead")
    if consistent is not None:
        if not isinstance(consistent, bool):
            raise _invalid("Value at 'ConsistentRead' must be a boolean")
        kw["consistent_read"] = consistent
    return kw


def response(field: str, item: Mapping[str, Any] | None) -> dict[str, Any]:
    """The DynamoDB response as the task returns it (attribute values in DynamoDB JSON)."""
    doc: dict[str, Any] = {field: encode_json_item(item)} if item else {}
    doc.update(sdk_metadata("dynamodb", body=len(dumps(doc).encode())))
    return doc


async def perform_dynamodb(tables: AsyncTablesClient, action: str, params: Any) -> dict[str, Any]:
    """Run one action; raises ``DynamoDBTaskError`` with the Step Functions error."""
    p = check_request(action, params)
    table = _text(p, "TableName") or ""
    try:
        if action == "getItem":
            found = await tables.get_item(table, _item(p, "Key"), **get_kw(p))
            return response("Item", found)
        if action == "putItem":
            old = await tables.put_item(table, _item(p, "Item"), **write_kw(p))
        elif action == "updateItem":
            old = await tables.update_item(table, _item(p, "Key"), **write_kw(p))
        else:
            old = await tables.delete_item(table, _item(p, "Key"), **write_kw(p))
    except EventplaneError as exc:
        raise failure(exc.code, exc.message) from None
    return response("Attributes", old)
