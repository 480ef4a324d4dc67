"""SNS's query protocol both ways, checked against botocore's own serializer and parser
(what boto3 sends and reads), plus routing a request that names no service."""

from __future__ import annotations

from typing import Any

from botocore.parsers import QueryParser
from botocore.serialize import QuerySerializer

from eventplane.gateway import query_protocol
from eventplane.gateway.app import GatewayApp, _Request
from eventplane.gateway.shapes import from_result, operation, service_model, to_request
from eventplane.gateway.sigv4 import Verifier
from eventplane.topics import shapes
from eventplane.topics.aws import SnsBinding
from eventplane.topics.errors import InvalidParameter, NotFound

SNS = service_model("sns")


def op(name: str):  # type: ignore[no-untyped-def]
    found = operation(SNS, name)
    assert found is not None
    return found


def as_boto3_sends(action: str, params: dict[str, Any]) -> dict[str, str]:
    request = QuerySerializer().serialize_to_request(params, op(action))
    body: dict[str, str] = request["body"]
    return {k: str(v) for k, v in body.items()}


def as_boto3_reads(action: str, body: bytes, status: int = 200) -> dict[str, Any]:
    parsed: dict[str, Any] = QueryParser().parse(
        {"body": body, "headers": {}, "status_code": status}, op(action).output_shape
    )
    assert parsed.pop("ResponseMetadata")["RequestId"] == "rid"
    return parsed


def test_publish_batch_as_boto3_sends_it_reaches_the_core_shapes() -> None:
    params = {
        "TopicArn": "arn:aws:sns:us-east-1:000000000000:t",
        "PublishBatchRequestEntries": [
            {
                "Id": "a",
                "Message": "one",
                "Subject": "s",
                "MessageAttributes": {
                    "kind": {"DataType": "String", "StringValue": "new"},
                    "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
                },
            },
            {"Id": "b", "Message": "two", "MessageGroupId": "g"},
        ],
    }
    members = query_protocol.parse(op("PublishBatch"), as_boto3_sends("PublishBatch", params))
    request = to_request(shapes.PublishBatchRequest, members)
    first, second = request.publish_batch_request_entries
    assert (first.id, first.message, first.subject) == ("a", "one", "s")
    assert first.message_attributes["kind"] == shapes.MessageAttributeValue("String", "new")
    assert first.message_attributes["raw"].binary_value == b"\x00\x01"
    assert (second.id, second.message_group_id, second.message_attributes) == ("b", "g", {})


def test_subscribe_attributes_and_create_topic_tags_as_boto3_sends_them() -> None:
    sub = to_request(
        shapes.SubscribeRequest,
        query_protocol.parse(
            op("Subscribe"),
            as_boto3_sends(
                "Subscribe",
                {
                    "TopicArn": "t",
                    "Protocol": "sqs",
                    "Endpoint": "arn:aws:sqs:us-east-1:000000000000:q",
                    "Attributes": {"RawMessageDelivery": "true", "FilterPolicy": '{"a":["b"]}'},
                    "ReturnSubscriptionArn": True,
                },
            ),
        ),
    )
    assert sub.attributes == {"RawMessageDelivery": "true", "FilterPolicy": '{"a":["b"]}'}
    assert sub.return_subscription_arn is True
    topic = to_request(
        shapes.CreateTopicRequest,
        query_protocol.parse(
            op("CreateTopic"),
            as_boto3_sends("CreateTopic", {"Name": "n", "Tags": [{"Key": "k", "Value": "v"}]}),
        ),
    )
    assert topic.tags == [shapes.Tag("k", "v")]


def test_results_serialize_to_what_boto3_parses() -> None:
    listed = shapes.ListSubscriptionsResult(
        [shapes.Subscription("arn:s", "000000000000", "sqs", "arn:q", "arn:t")], "100"
    )
    out = from_result(op("ListSubscriptions").output_shape, listed)
    _, _, body = query_protocol.serialize(SNS, op("ListSubscriptions"), out, "rid")
    assert as_boto3_reads("ListSubscriptions", body) == {
        "Subscriptions": [
            {
                "SubscriptionArn": "arn:s",
                "Owner": "000000000000",
                "Protocol": "sqs",
                "Endpoint": "arn:q",
                "TopicArn": "arn:t",
            }
        ],
        "NextToken": "100",
    }
    batch = shapes.PublishBatchResult(
        [shapes.PublishBatchResultEntry("a", "m1")],
        [shapes.BatchResultErrorEntry("b", "InvalidParameter", "Invalid parameter: Message", True)],
    )
    out = from_result(op("PublishBatch").output_shape, batch)
    _, _, body = query_protocol.serialize(SNS, op("PublishBatch"), out, "rid")
    assert as_boto3_reads("PublishBatch", body) == {
        "Successful": [{"Id": "a", "MessageId": "m1"}],
        "Failed": [
            {
                "Id": "b",
                "Code": "InvalidParameter",
                "Message": "Invalid parameter: Message",
                "SenderFault": True,
            }
        ],
    }
    attrs = from_result(
        op("GetTopicAttributes").output_shape, shapes.GetTopicAttributesResult({"A": "1"})
    )
    _, _, body = query_protocol.serialize(SNS, op("GetTopicAttributes"), attrs, "rid")
    assert as_boto3_reads("GetTopicAttributes", body) == {"Attributes": {"A": "1"}}


def test_errors_take_the_status_and_code_the_sns_model_gives() -> None:
    status, _, body = query_protocol.serialize_error(
        SNS, NotFound("Topic does not exist"), "NotFound", "rid"
    )
    assert status == 404
    error = QueryParser().parse({"body": body, "headers": {}, "status_code": status}, None)["Error"]
    assert {k: error[k] for k in ("Type", "Code", "Message")} == {
        "Type": "Sender",
        "Code": "NotFound",
        "Message": "Topic does not exist",
    }
    status, _, _ = query_protocol.serialize_error(
        SNS, InvalidParameter("Invalid parameter: Name"), "InvalidParameter", "rid"
    )
    assert status == 400
    binding = SnsBinding(ops=None)  # type: ignore[arg-type]
    assert binding.query_error_code("UnsupportedOperation") == "InvalidAction"
    assert binding.handler("CreatePlatformApplication") is None


def test_an_unsigned_query_request_goes_to_the_service_whose_model_has_the_action() -> None:
    app = GatewayApp({}, Verifier({}, open_access=True))

    def model_for(action: str, path: str = "/") -> str | None:
        req = _Request("POST", path, path, "", {}, b"", "rid")
        model = app._query_model(req, action)
        return model.service_name if model else None

    assert model_for("Publish") == "sns"
    assert model_for("ListTopics") == "sns"
    assert model_for("SendMessage") == "sqs"
    # Both models have AddPermission; a queue URL's path says SQS, otherwise SQS wins too.
    assert model_for("AddPermission", "/123456789012/q") == "sqs"
    assert model_for("NoSuchAction") is None
    # EventBridge speaks JSON only: its actions are not reachable as query requests.
    assert model_for("PutEvents") is None
