"""SQS behaviours AWS documents that a differential run against another emulator showed
we got wrong, through boto3 (JSON protocol), the query protocol and the gRPC door."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from eventplane.errors import InvalidParameterValue
from eventplane.testing import EventplaneProcess

from .support import query

pytestmark = pytest.mark.integration


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    r = exc.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def test_get_queue_attributes_without_names_returns_none(
    sqs: Any, make_queue: Callable[..., str], gateway: EventplaneProcess
) -> None:
    # GetQueueAttributes: "The AttributeNames parameter is optional, but if you don't
    # specify values for this parameter, the request returns empty results."
    url = make_queue(VisibilityTimeout=40)
    assert sqs.get_queue_attributes(QueueUrl=url).get("Attributes", {}) == {}
    reply = query(gateway, {"Action": "GetQueueAttributes", "QueueUrl": url})
    assert reply.status == 200, reply.body
    assert reply.findall("GetQueueAttributesResult/Attribute") == []
    # Naming them still answers them.
    named = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert named["Attributes"] == {"VisibilityTimeout": "40"}
    # eventplane's own API (queues.proto) keeps "no names = every attribute".
    with gateway.client() as c:
        assert c.queues.get_queue_attributes(url)["VisibilityTimeout"] == "40"


def test_receive_rejects_max_number_of_messages_zero(
    sqs: Any, make_queue: Callable[..., str], gateway: EventplaneProcess
) -> None:
    # ReceiveMessage MaxNumberOfMessages: "Valid values: 1 to 10. Default: 1." An explicit 0
    # is not the default.
    url = make_queue()
    with pytest.raises(ClientError) as zero:
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=0)
    assert error(zero) == ("InvalidParameterValue", 400)
    assert "MaxNumberOfMessages" in zero.value.response["Error"]["Message"]
    params = {"Action": "ReceiveMessage", "QueueUrl": url, "MaxNumberOfMessages": "0"}
    reply = query(gateway, params)
    assert (reply.status, reply.error_code()) == (400, "InvalidParameterValue")
    # Left out, it is 1.
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "1"}, {"Id": "b", "MessageBody": "2"}]
    )
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)
    assert len(got["Messages"]) == 1


@pytest.mark.parametrize("max_results", [0, 1001])
def test_list_calls_check_max_results(
    sqs: Any, make_queue: Callable[..., str], gateway: EventplaneProcess, max_results: int
) -> None:
    # ListQueues and ListDeadLetterSourceQueues MaxResults: "Value range is 1 to 1000."
    dlq = make_queue()
    with pytest.raises(ClientError) as listed:
        sqs.list_queues(QueueNamePrefix="gw-", MaxResults=max_results)
    assert error(listed) == ("InvalidParameterValue", 400)
    with pytest.raises(ClientError) as sources:
        sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=max_results)
    assert error(sources) == ("InvalidParameterValue", 400)
    if max_results:  # the gRPC door's 0 means "not given" (queues.proto)
        with gateway.client() as c, pytest.raises(InvalidParameterValue):
            c.queues.list_dead_letter_source_queues_page(dlq, max_results=max_results)
