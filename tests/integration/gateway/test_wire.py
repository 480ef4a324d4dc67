"""Raw HTTP against the gateway: malformed requests, signatures, limits; it keeps serving."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from unittest import mock

import pytest

from eventplane.testing import EventplaneProcess

from .support import KEY, json_call, send, signed_request

pytestmark = pytest.mark.integration

JSON = "application/x-amz-json-1.0"


def body_of(reply: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(reply.body)
    return doc


def test_json_protocol_errors(gateway: EventplaneProcess, sqs: Any) -> None:
    cases = [
        ("ListQueues", b"{not json", "SerializationException"),
        ("ListQueues", b"[1, 2]", "SerializationException"),
        ("NoSuchAction", b"{}", "UnknownOperationException"),
        ("GetQueueUrl", b"{}", "MissingParameter"),
        (
            "ReceiveMessage",
            b'{"QueueUrl": "q", "MaxNumberOfMessages": "ten"}',
            "SerializationException",
        ),
        ("CreateQueue", b'{"QueueName": 5}', "SerializationException"),
        (
            "SendMessage",
            b'{"QueueUrl": "http://h/123456789012/nope", "MessageBody": "x"}',
            "QueueDoesNotExist",
        ),
    ]
    for action, payload, code in cases:
        reply = json_call(gateway, action, payload)
        assert reply.status == 400, (action, reply.body)
        doc = body_of(reply)
        assert doc["__type"].rsplit("#", 1)[-1] == code
        assert reply.headers["x-amzn-errortype"] == code
        assert doc["message"]
        assert reply.headers["x-amzn-requestid"]
    sqs.list_queues()  # still serving


def test_oversized_body_is_refused(gateway: EventplaneProcess, sqs: Any) -> None:
    reply = send(
        gateway.gateway_url + "/",
        data=b"{" + b" " * (9 * 1024 * 1024) + b"}",
        headers={"Content-Type": JSON, "X-Amz-Target": "AmazonSQS.ListQueues"},
    )
    assert reply.status == 413
    assert body_of(reply)["__type"].endswith("RequestEntityTooLarge")
    sqs.list_queues()


def test_signatures(gateway: EventplaneProcess, sqs: Any) -> None:
    target = {"Content-Type": JSON, "X-Amz-Target": "AmazonSQS.ListQueues"}
    unsigned = send(gateway.gateway_url + "/", data=b"{}", headers=target)
    assert (unsigned.status, body_of(unsigned)["__type"]) == (
        403,
        "com.amazonaws.sqs#MissingAuthenticationToken",
    )
    wrong = json_call(gateway, "ListQueues", b"{}", secret="not-the-secret")
    assert wrong.status == 403
    assert body_of(wrong)["__type"].endswith("#InvalidSignatureException")
    unknown = json_call(gateway, "ListQueues", b"{}", key="AKIDUNKNOWN")
    assert body_of(unknown)["__type"].endswith("#UnrecognizedClientException")

    ok = json_call(gateway, "ListQueues", b"{}")
    assert ok.status == 200

    presigned = signed_request(
        gateway.gateway_url + "/?Action=ListQueues&Version=2012-11-05", method="GET", presign=60
    )
    assert presigned.status == 200, presigned.body
    assert b"ListQueuesResponse" in presigned.body
    expired = signed_request(
        gateway.gateway_url + "/?Action=ListQueues&Version=2012-11-05", method="GET", presign=-1
    )
    assert expired.status == 403
    assert expired.error_code() == "SignatureDoesNotMatch"
    assert KEY  # the configured key signed the good requests above
    sqs.list_queues()


def test_expired_header_signature(gateway: EventplaneProcess) -> None:
    past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=20)
    with mock.patch("botocore.auth.get_current_datetime", return_value=past):
        reply = json_call(gateway, "ListQueues", b"{}")
    assert reply.status == 403
    doc = body_of(reply)
    assert doc["__type"].endswith("#InvalidSignatureException")
    assert "expired" in doc["message"]
