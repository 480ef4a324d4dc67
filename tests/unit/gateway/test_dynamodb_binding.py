"""DynamoDB's and DynamoDB Streams' bindings against botocore's models, without a server:
every field of a request or result shape is a member the model has (nothing a client sends
is dropped by a misspelt name), attribute values pass through as DynamoDB writes them, and
errors carry the members of DynamoDB's error shapes."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import typing
from typing import Any

import pytest
from botocore import xform_name

from eventplane.errors import ValidationException
from eventplane.errors.tables import (
    CancellationReason,
    ConditionalCheckFailedException,
    TransactionCanceledException,
)
from eventplane.gateway import json_protocol
from eventplane.gateway.shapes import from_result, operation, service_model, to_request
from eventplane.tables import shapes as s
from eventplane.tables import stream_shapes as ss
from eventplane.tables.aws import DynamoDBBinding, DynamoDBStreamsBinding
from eventplane.tables.model import list_tables_page
from eventplane.tables.operations import TableOperations
from eventplane.tables.stream_operations import StreamOperations

DYNAMODB = service_model("dynamodb")
STREAMS = service_model("dynamodbstreams")
BINDING = DynamoDBBinding(TableOperations(None, None))  # type: ignore[arg-type]
STREAMS_BINDING = DynamoDBStreamsBinding(StreamOperations(None))  # type: ignore[arg-type]
ACTIONS = [a for a in DYNAMODB.operation_names if BINDING.handler(a)]
STREAM_ACTIONS = [a for a in STREAMS.operation_names if STREAMS_BINDING.handler(a)]
# Result classes shared by several actions.
RESULTS = {
    "CreateTable": s.TableResult,
    "UpdateTable": s.TableResult,
    "DeleteTable": s.TableResult,
    "PutItem": s.WriteItemResult,
    "UpdateItem": s.WriteItemResult,
    "DeleteItem": s.WriteItemResult,
    "Query": s.PageResult,
    "Scan": s.PageResult,
    "TagResource": s.Empty,
    "UntagResource": s.Empty,
}


def test_the_bindings_serve_the_actions_the_grpc_api_has() -> None:
    assert set(ACTIONS) == {
        "CreateTable",
        "DescribeTable",
        "ListTables",
        "UpdateTable",
        "DeleteTable",
        "UpdateTimeToLive",
        "DescribeTimeToLive",
        "PutItem",
        "GetItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "TransactGetItems",
        "TagResource",
        "UntagResource",
        "ListTagsOfResource",
        "DescribeLimits",
        "DescribeEndpoints",
        # the gateway's only (no backups are kept: both say DISABLED)
        "DescribeContinuousBackups",
        "UpdateContinuousBackups",
    }
    assert set(STREAM_ACTIONS) == {
        "ListStreams",
        "DescribeStream",
        "GetShardIterator",
        "GetRecords",
    }


def _dataclass_of(tp: Any) -> Any:
    """The dataclass inside ``X | None``, ``list[X]`` or ``dict[str, X]``, if any."""
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return tp
    for arg in typing.get_args(tp):
        inner = _dataclass_of(arg)
        if inner is not None:
            return inner
    return None


def _member_shape(shape: Any) -> Any:
    while shape.type_name in ("list", "map"):
        shape = shape.member if shape.type_name == "list" else shape.value
    return shape


def _fields_match(cls: type[Any], shape: Any, where: str) -> None:
    if cls is s.TransactPart:  # the members Put, Update, Delete and ConditionCheck share
        item = DYNAMODB.shape_for("TransactWriteItem")
        shapes = [item.members[k] for k in ("Put", "Update", "Delete", "ConditionCheck")]
        members = {xform_name(m): m for sh in shapes for m in sh.members}
        assert {f.name for f in dataclasses.fields(cls)} <= set(members), where
        return
    members = {xform_name(m): m for m in shape.members}
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        assert f.name in members, f"{where}: {cls.__name__}.{f.name} is not in {shape.name}"
        nested = _dataclass_of(hints[f.name])
        if nested is not None:
            member = _member_shape(shape.members[members[f.name]])
            _fields_match(nested, member, f"{where}.{members[f.name]}")


@pytest.mark.parametrize("action", ACTIONS)
def test_dynamodb_shapes_are_members_of_the_model(action: str) -> None:
    op = DYNAMODB.operation_model(action)
    _fields_match(getattr(s, f"{action}Request"), op.input_shape, action)
    result = RESULTS.get(action) or getattr(s, f"{action}Result")
    if op.output_shape is None:  # TagResource and UntagResource answer nothing
        assert not dataclasses.fields(result), action
        return
    _fields_match(result, op.output_shape, action)


@pytest.mark.parametrize("action", STREAM_ACTIONS)
def test_stream_shapes_are_members_of_the_model(action: str) -> None:
    op = STREAMS.operation_model(action)
    _fields_match(getattr(ss, f"{action}Request"), op.input_shape, action)
    _fields_match(getattr(ss, f"{action}Result"), op.output_shape, action)


def _parsed(action: str, body: dict[str, Any]) -> Any:
    op = operation(DYNAMODB, action)
    assert op is not None
    handler = BINDING.handler(action)
    assert handler is not None
    return to_request(handler[0], json_protocol.parse(op, json.dumps(body).encode()))


def test_attribute_values_pass_through_with_binaries_as_bytes() -> None:
    blob = base64.b64encode(b"\x00\xff").decode()
    req = _parsed(
        "PutItem",
        {
            "TableName": "t",
            "Item": {
                "pk": {"S": ""},
                "b": {"B": blob},
                "m": {"M": {"l": {"L": [{"BS": [blob]}, {"NULL": True}]}}},
            },
        },
    )
    assert req.item == {
        "pk": {"S": ""},
        "b": {"B": b"\x00\xff"},
        "m": {"M": {"l": {"L": [{"BS": [b"\x00\xff"]}, {"NULL": True}]}}},
    }
    shape = DYNAMODB.operation_model("GetItem").output_shape
    out = from_result(shape, s.GetItemResult(req.item), keep_empty=True)
    # An empty string is a value of an item (DynamoDB allows it outside keys); the JSON is
    # what the client sent.
    assert json_protocol.plain(out)["Item"] == {
        "pk": {"S": ""},
        "b": {"B": blob},
        "m": {"M": {"l": {"L": [{"BS": [blob]}, {"NULL": True}]}}},
    }


def test_nested_requests_parse_into_the_core_shapes() -> None:
    req = _parsed(
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}}}},
                {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "b"}}}},
            ]
        },
    )
    assert req.transact_items[0].put.item == {"pk": {"S": "a"}}
    assert req.transact_items[1].condition_check.key == {"pk": {"S": "b"}}
    batch = _parsed(
        "BatchWriteItem",
        {"RequestItems": {"t": [{"DeleteRequest": {"Key": {"pk": {"S": "a"}}}}]}},
    )
    assert batch.request_items["t"][0].delete_request.key == {"pk": {"S": "a"}}


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_legacy_members_are_refused_by_name() -> None:
    ops = TableOperations(None, None)  # type: ignore[arg-type]
    cases = [
        ops.put_item(s.PutItemRequest(table_name="t", expected={"a": {}})),
        ops.update_item(s.UpdateItemRequest(table_name="t", attribute_updates={"a": {}})),
        ops.query(s.QueryRequest(table_name="t", key_conditions={"a": {}})),
        ops.scan(s.ScanRequest(table_name="t", scan_filter={"a": {}})),
        ops.get_item(s.GetItemRequest(table_name="t", attributes_to_get=["a"])),
    ]
    for coro, member in zip(
        cases,
        ["Expected", "AttributeUpdates", "KeyConditions", "ScanFilter", "AttributesToGet"],
        strict=True,
    ):
        with pytest.raises(ValidationException, match=member):
            _run(coro)


def test_malformed_transactions_are_validation_errors() -> None:
    ops = TableOperations(None, None)  # type: ignore[arg-type]
    with pytest.raises(ValidationException, match="tableName"):
        _run(ops.describe_table(s.DescribeTableRequest()))
    both = s.TransactWriteItem(put=s.TransactPart(table_name="t"), delete=s.TransactPart())
    with pytest.raises(ValidationException, match=r"TransactItems\[0\] must contain exactly one"):
        _run(ops.transact_write_items(s.TransactWriteItemsRequest([both])))


def test_list_tables_pages_in_order_and_checks_the_limit() -> None:
    assert list_tables_page(["c", "a", "b"], "", 2) == (["a", "b"], "b")
    assert list_tables_page(["c", "a", "b"], "b", 0) == (["c"], None)
    with pytest.raises(ValidationException, match="greater than or equal to 1"):
        list_tables_page([], "", -1)
    with pytest.raises(ValidationException, match="less than or equal to 100"):
        list_tables_page([], "", 101)


def test_errors_carry_the_members_of_dynamodbs_error_shapes() -> None:
    failed = ConditionalCheckFailedException(item={"pk": {"S": "a"}, "b": {"B": b"\x01"}})
    status, headers, body = json_protocol.serialize_error(DYNAMODB, failed, None)
    doc = json.loads(body)
    assert status == 400
    assert headers["x-amzn-errortype"] == "ConditionalCheckFailedException"
    assert doc["__type"] == "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"
    assert doc["message"] == "The conditional request failed"
    assert doc["Item"] == {"pk": {"S": "a"}, "b": {"B": "AQ=="}}
    assert "Item" not in json.loads(
        json_protocol.serialize_error(DYNAMODB, ConditionalCheckFailedException(), None)[2]
    )

    cancelled = TransactionCanceledException(
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ConditionalCheckFailed]",
        [
            CancellationReason("None"),
            CancellationReason(
                "ConditionalCheckFailed", "The conditional request failed", {"n": {"N": "1"}}
            ),
        ],
    )
    doc = json.loads(json_protocol.serialize_error(DYNAMODB, cancelled, None)[2])
    assert doc["CancellationReasons"] == [
        {"Code": "None"},
        {
            "Code": "ConditionalCheckFailed",
            "Message": "The conditional request failed",
            "Item": {"n": {"N": "1"}},
        },
    ]
