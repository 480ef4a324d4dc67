"""The model-driven protocols: query parameters and JSON bodies in, XML/JSON out, shapes bridged."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import pytest

from eventplane.errors import InvalidParameterValue, MissingParameter, NotFoundError
from eventplane.errors.queues import QueueDoesNotExist
from eventplane.gateway import json_protocol, query_protocol
from eventplane.gateway.errors import (
    MissingAuthenticationToken,
    RequestEntityTooLarge,
    SerializationException,
    http_status,
)
from eventplane.gateway.shapes import from_result, operation, service_model, to_request
from eventplane.queues import shapes
from eventplane.queues.messages import MessageAttribute

SQS = service_model("sqs")
NS = "{http://queue.amazonaws.com/doc/2012-11-05/}"


def op(name: str):  # type: ignore[no-untyped-def]
    found = operation(SQS, name)
    assert found is not None
    return found


def test_query_parameters_as_older_sdks_send_them() -> None:
    parsed = query_protocol.parse(
        op("SendMessageBatch"),
        {
            "QueueUrl": "q",
            "SendMessageBatchRequestEntry.1.Id": "a",
            "SendMessageBatchRequestEntry.1.MessageBody": "one",
            "SendMessageBatchRequestEntry.1.DelaySeconds": "5",
            "SendMessageBatchRequestEntry.1.MessageAttribute.1.Name": "k",
            "SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType": "Binary",
            "SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.BinaryValue": "AAE=",
            "SendMessageBatchRequestEntry.2.Id": "b",
            "SendMessageBatchRequestEntry.2.MessageBody": "two",
        },
    )
    assert parsed == {
        "QueueUrl": "q",
        "Entries": [
            {
                "Id": "a",
                "MessageBody": "one",
                "DelaySeconds": 5,
                "MessageAttributes": {"k": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}},
            },
            {"Id": "b", "MessageBody": "two"},
        ],
    }
    request = to_request(shapes.SendMessageBatchRequest, parsed)
    assert request.entries[0].message_attributes == {
        "k": MessageAttribute("Binary", None, b"\x00\x01")
    }
    assert request.entries[1].delay_seconds is None


def test_query_maps_and_lists() -> None:
    parsed = query_protocol.parse(
        op("CreateQueue"),
        {
            "QueueName": "q",
            "Attribute.1.Name": "DelaySeconds",
            "Attribute.1.Value": "1",
            "Tag.1.Key": "team",
            "Tag.1.Value": "a",
        },
    )
    assert parsed == {"QueueName": "q", "Attributes": {"DelaySeconds": "1"}, "tags": {"team": "a"}}
    names = query_protocol.parse(
        op("GetQueueAttributes"),
        {"QueueUrl": "q", "AttributeName.1": "All", "AttributeName.2": "QueueArn"},
    )
    assert names["AttributeNames"] == ["All", "QueueArn"]
    with pytest.raises(InvalidParameterValue, match="MaxNumberOfMessages"):
        query_protocol.parse(op("ReceiveMessage"), {"QueueUrl": "q", "MaxNumberOfMessages": "x"})


def test_query_members_absent_or_empty() -> None:
    # Absent lists, maps and structures stay out (parsing skips what no parameter names);
    # a list named with no items is an empty list.
    assert query_protocol.parse(op("SendMessage"), {"QueueUrl": "q", "MessageBody": "b"}) == {
        "QueueUrl": "q",
        "MessageBody": "b",
    }
    parsed = query_protocol.parse(op("GetQueueAttributes"), {"QueueUrl": "q", "AttributeName": ""})
    assert parsed == {"QueueUrl": "q", "AttributeNames": []}
    one = {"QueueUrl": "q", "SendMessageBatchRequestEntry.1.Id": "a"}
    assert query_protocol.parse(op("SendMessageBatch"), one)["Entries"] == [{"Id": "a"}]


def test_xml_response_of_receive() -> None:
    result = shapes.ReceiveMessageResult(
        messages=[
            shapes.Message(
                message_id="m1",
                receipt_handle="h",
                md5_of_body="d",
                body="<b>&",
                attributes={"SentTimestamp": "1"},
                message_attributes={"k": MessageAttribute("String", "v")},
            )
        ]
    )
    output = from_result(op("ReceiveMessage").output_shape, result)
    status, _headers, body = query_protocol.serialize(SQS, op("ReceiveMessage"), output, "rid")
    root = ET.fromstring(body)
    assert (status, root.tag) == (200, f"{NS}ReceiveMessageResponse")
    m = root.find(f"{NS}ReceiveMessageResult/{NS}Message")
    assert m is not None
    assert m.findtext(f"{NS}Body") == "<b>&"
    assert m.findtext(f"{NS}Attribute/{NS}Name") == "SentTimestamp"
    assert m.findtext(f"{NS}MessageAttribute/{NS}Value/{NS}StringValue") == "v"
    assert root.findtext(f"{NS}ResponseMetadata/{NS}RequestId") == "rid"


def test_json_types_are_checked() -> None:
    receive = op("ReceiveMessage")
    assert json_protocol.parse(receive, b'{"QueueUrl": "q", "MaxNumberOfMessages": 3}') == {
        "QueueUrl": "q",
        "MaxNumberOfMessages": 3,
    }
    too_deep = b'{"a":' * 3000  # the decoder recurses per level: RecursionError, not 500
    for bad in (
        b'{"QueueUrl": 1}',
        b'{"QueueUrl": "q", "MaxNumberOfMessages": true}',
        b"[]",
        b"{",
        too_deep,
        b"[" * 100_000,
        b'{"QueueUrl": "q", "MessageAttributeNames": [null]}',
        b'{"QueueUrl": "q", "AttributeNames": ["All", 1]}',
    ):
        with pytest.raises(SerializationException):
            json_protocol.parse(receive, bad)
    send = json_protocol.parse(
        op("SendMessage"),
        b'{"QueueUrl":"q","MessageBody":"b","MessageAttributes":'
        b'{"k":{"DataType":"Binary","BinaryValue":"AAE="}}}',
    )
    assert send["MessageAttributes"]["k"]["BinaryValue"] == b"\x00\x01"


def test_json_error_carries_type_and_query_code() -> None:
    status, headers, body = json_protocol.serialize_error(
        SQS, QueueDoesNotExist("gone"), "AWS.SimpleQueueService.NonExistentQueue"
    )
    assert status == 400
    assert json.loads(body) == {"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "gone"}
    assert headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"


def test_one_status_table() -> None:
    class Missing(NotFoundError):
        code = "SomethingMissing"

    assert http_status(Missing("x")) == 400
    assert http_status(MissingAuthenticationToken("x")) == 403
    assert http_status(RequestEntityTooLarge("x")) == 413
    assert http_status(InvalidParameterValue("x")) == 400


def test_query_error_echoing_a_control_character_stays_well_formed_xml() -> None:
    err = QueueDoesNotExist("The specified queue \x1f\x00x does not exist.")
    status, _headers, body = query_protocol.serialize_error(
        SQS, err, "AWS.SimpleQueueService.NonExistentQueue", "rid"
    )
    assert status == 400
    root = ET.fromstring(body)  # would raise on a raw control character
    message = root.findtext(f"{NS}Error/{NS}Message")
    assert message == "The specified queue \ufffd\ufffdx does not exist."


def test_a_nested_member_the_model_requires_is_a_missing_parameter() -> None:
    members = {"QueueUrl": "q", "MessageBody": "b", "MessageAttributes": {"k": {}}}
    with pytest.raises(MissingParameter) as missing:
        to_request(shapes.SendMessageRequest, members)
    assert "DataType" in missing.value.message
