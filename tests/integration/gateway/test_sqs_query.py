"""SQS over the query/XML protocol, as older SDKs send it: signed form posts, XML replies."""

from __future__ import annotations

import hashlib
import uuid
from urllib.parse import urlsplit

import pytest

from eventplane.testing import EventplaneProcess, eventually

from .support import ACCOUNT, NS, Reply, query

pytestmark = pytest.mark.integration


def ok(reply: Reply) -> Reply:
    assert reply.status == 200, reply.body
    assert reply.find("ResponseMetadata/RequestId") == reply.headers["x-amzn-requestid"]
    return reply


def test_queue_actions(gateway: EventplaneProcess) -> None:
    name = f"gw-q-{uuid.uuid4().hex[:8]}"
    created = ok(
        query(
            gateway,
            {
                "Action": "CreateQueue",
                "QueueName": name,
                "Attribute.1.Name": "VisibilityTimeout",
                "Attribute.1.Value": "40",
                "Tag.1.Key": "team",
                "Tag.1.Value": "a",
            },
        )
    )
    url = created.find("CreateQueueResult/QueueUrl")
    assert url == f"{gateway.gateway_url}/{ACCOUNT}/{name}"
    got = ok(query(gateway, {"Action": "GetQueueUrl", "QueueName": name}))
    assert got.find("GetQueueUrlResult/QueueUrl") == url
    listed = ok(query(gateway, {"Action": "ListQueues", "QueueNamePrefix": name}))
    assert [e.text for e in listed.findall("ListQueuesResult/QueueUrl")] == [url]

    ok(
        query(
            gateway,
            {
                "Action": "SetQueueAttributes",
                "QueueUrl": url,
                "Attribute.1.Name": "DelaySeconds",
                "Attribute.1.Value": "2",
            },
        )
    )
    attrs = ok(
        query(
            gateway,
            {
                "Action": "GetQueueAttributes",
                "QueueUrl": url,
                "AttributeName.1": "VisibilityTimeout",
                "AttributeName.2": "DelaySeconds",
            },
        )
    )
    pairs = {
        a.findtext(f"{NS}Name"): a.findtext(f"{NS}Value")
        for a in attrs.findall("GetQueueAttributesResult/Attribute")
    }
    assert pairs == {"VisibilityTimeout": "40", "DelaySeconds": "2"}
    ok(query(gateway, {"Action": "PurgeQueue", "QueueUrl": url}))
    ok(query(gateway, {"Action": "DeleteQueue", "QueueUrl": url}))
    gone = query(gateway, {"Action": "GetQueueUrl", "QueueName": name})
    assert gone.status == 400
    assert gone.error_code() == "AWS.SimpleQueueService.NonExistentQueue"
    assert gone.find("Error/Type") == "Sender"
    assert gone.find("RequestId")


def test_messages_and_batches(gateway: EventplaneProcess) -> None:
    name = f"gw-qm-{uuid.uuid4().hex[:8]}"
    url = ok(query(gateway, {"Action": "CreateQueue", "QueueName": name})).find(
        "CreateQueueResult/QueueUrl"
    )
    sent = ok(
        query(
            gateway,
            {
                "Action": "SendMessage",
                "QueueUrl": url,
                "MessageBody": "hello <xml> & co",
                "MessageAttribute.1.Name": "kind",
                "MessageAttribute.1.Value.DataType": "String",
                "MessageAttribute.1.Value.StringValue": "a",
                "MessageAttribute.2.Name": "raw",
                "MessageAttribute.2.Value.DataType": "Binary",
                "MessageAttribute.2.Value.BinaryValue": "AAEC",
            },
        )
    )
    body_md5 = hashlib.md5(b"hello <xml> & co").hexdigest()
    assert sent.find("SendMessageResult/MD5OfMessageBody") == body_md5
    batch = ok(
        query(
            gateway,
            {
                "Action": "SendMessageBatch",
                "QueueUrl": url,
                "SendMessageBatchRequestEntry.1.Id": "one",
                "SendMessageBatchRequestEntry.1.MessageBody": "b1",
                "SendMessageBatchRequestEntry.2.Id": "two",
                "SendMessageBatchRequestEntry.2.MessageBody": "b2",
                "SendMessageBatchRequestEntry.3.Id": "bad",
                "SendMessageBatchRequestEntry.3.MessageBody": "b3",
                "SendMessageBatchRequestEntry.3.DelaySeconds": "1000",
            },
        )
    )
    ids = [
        e.findtext(f"{NS}Id")
        for e in batch.findall("SendMessageBatchResult/SendMessageBatchResultEntry")
    ]
    assert sorted(ids) == ["one", "two"]
    (failed,) = batch.findall("SendMessageBatchResult/BatchResultErrorEntry")
    assert failed.findtext(f"{NS}Id") == "bad"
    assert failed.findtext(f"{NS}SenderFault") == "true"

    messages: dict[str, tuple[str, dict[str, str]]] = {}

    def received_all() -> bool:
        reply = ok(
            query(
                gateway,
                {
                    "Action": "ReceiveMessage",
                    "QueueUrl": url,
                    "MaxNumberOfMessages": "10",
                    "WaitTimeSeconds": "1",
                    "AttributeName.1": "All",
                    "MessageAttributeName.1": "All",
                },
            )
        )
        for m in reply.findall("ReceiveMessageResult/Message"):
            attrs = {
                a.findtext(f"{NS}Name") or "": a.findtext(f"{NS}Value/{NS}StringValue")
                or a.findtext(f"{NS}Value/{NS}BinaryValue")
                or ""
                for a in m.findall(f"{NS}MessageAttribute")
            }
            messages[m.findtext(f"{NS}Body") or ""] = (
                m.findtext(f"{NS}ReceiptHandle") or "",
                attrs,
            )
        return len(messages) == 3

    eventually(received_all, timeout=20)
    assert messages["hello <xml> & co"][1] == {"kind": "a", "raw": "AAEC"}
    handles = [h for h, _ in messages.values()]
    params = {"Action": "ChangeMessageVisibilityBatch", "QueueUrl": url}
    for i, h in enumerate(handles, 1):
        params |= {
            f"ChangeMessageVisibilityBatchRequestEntry.{i}.Id": f"e{i}",
            f"ChangeMessageVisibilityBatchRequestEntry.{i}.ReceiptHandle": h,
            f"ChangeMessageVisibilityBatchRequestEntry.{i}.VisibilityTimeout": "30",
        }
    changed = ok(query(gateway, params))
    assert (
        len(
            changed.findall(
                "ChangeMessageVisibilityBatchResult/ChangeMessageVisibilityBatchResultEntry"
            )
        )
        == 3
    )
    ok(query(gateway, {"Action": "DeleteMessage", "QueueUrl": url, "ReceiptHandle": handles[0]}))
    params = {"Action": "DeleteMessageBatch", "QueueUrl": url}
    for i, h in enumerate([*handles[1:], "bogus"], 1):
        params |= {
            f"DeleteMessageBatchRequestEntry.{i}.Id": f"d{i}",
            f"DeleteMessageBatchRequestEntry.{i}.ReceiptHandle": h,
        }
    deleted = ok(query(gateway, params))
    assert len(deleted.findall("DeleteMessageBatchResult/DeleteMessageBatchResultEntry")) == 2
    (bad,) = deleted.findall("DeleteMessageBatchResult/BatchResultErrorEntry")
    assert bad.findtext(f"{NS}Code") == "ReceiptHandleIsInvalid"
    ok(query(gateway, {"Action": "DeleteQueue", "QueueUrl": url}))


def test_posting_to_the_queue_url_names_the_queue(gateway: EventplaneProcess) -> None:
    """Older SDKs send a queue's actions to its URL without a QueueUrl parameter."""
    name = f"gw-qp-{uuid.uuid4().hex[:8]}"
    url = ok(query(gateway, {"Action": "CreateQueue", "QueueName": name})).find(
        "CreateQueueResult/QueueUrl"
    )
    path = urlsplit(url).path
    ok(query(gateway, {"Action": "SendMessage", "MessageBody": "via path"}, path=path))
    got = ok(query(gateway, {"Action": "ReceiveMessage", "WaitTimeSeconds": "5"}, path=path))
    assert got.find("ReceiveMessageResult/Message/Body") == "via path"
    ok(query(gateway, {"Action": "DeleteQueue"}, path=path))


def test_dead_letter_and_move_task_over_query(gateway: EventplaneProcess) -> None:
    dlq_name, src_name = f"gw-qd-{uuid.uuid4().hex[:8]}", f"gw-qs-{uuid.uuid4().hex[:8]}"
    dlq = ok(query(gateway, {"Action": "CreateQueue", "QueueName": dlq_name})).find(
        "CreateQueueResult/QueueUrl"
    )
    arn = ok(
        query(
            gateway,
            {"Action": "GetQueueAttributes", "QueueUrl": dlq, "AttributeName.1": "QueueArn"},
        )
    ).find("GetQueueAttributesResult/Attribute/Value")
    src = ok(
        query(
            gateway,
            {
                "Action": "CreateQueue",
                "QueueName": src_name,
                "Attribute.1.Name": "RedrivePolicy",
                "Attribute.1.Value": f'{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"1"}}',
            },
        )
    ).find("CreateQueueResult/QueueUrl")
    sources = ok(query(gateway, {"Action": "ListDeadLetterSourceQueues", "QueueUrl": dlq}))
    assert [e.text for e in sources.findall("ListDeadLetterSourceQueuesResult/QueueUrl")] == [src]
    task = query(gateway, {"Action": "StartMessageMoveTask", "SourceArn": arn})
    assert ok(task).find("StartMessageMoveTaskResult/TaskHandle")
    tasks = ok(query(gateway, {"Action": "ListMessageMoveTasks", "SourceArn": arn}))
    assert tasks.find("ListMessageMoveTasksResult/ListMessageMoveTasksResultEntry/SourceArn") == arn
    cancel = query(gateway, {"Action": "CancelMessageMoveTask", "TaskHandle": "bm9uZQ"})
    assert (cancel.status, cancel.error_code()) == (404, "ResourceNotFoundException")
    for url in (src, dlq):
        ok(query(gateway, {"Action": "DeleteQueue", "QueueUrl": url}))


def test_query_errors(gateway: EventplaneProcess) -> None:
    cases = [
        ({"Action": "NoSuchThing"}, 400, "InvalidAction"),
        ({}, 400, "InvalidAction"),
        (
            {"Action": "ReceiveMessage", "QueueUrl": "q", "MaxNumberOfMessages": "ten"},
            400,
            "InvalidParameterValue",
        ),
        ({"Action": "GetQueueUrl"}, 400, "MissingParameter"),
        (
            {
                "Action": "CreateQueue",
                "QueueName": "x",
                "Attribute.1.Name": "Bad",
                "Attribute.1.Value": "1",
            },
            400,
            "InvalidAttributeName",
        ),
    ]
    for params, status, code in cases:
        reply = query(gateway, params)
        assert (reply.status, reply.error_code()) == (status, code), reply.body
    wrong = query(gateway, {"Action": "ListQueues"}, secret="wrong-secret")
    assert (wrong.status, wrong.error_code()) == (403, "SignatureDoesNotMatch")
    unknown = query(gateway, {"Action": "ListQueues"}, key="AKIDNOPE")
    assert (unknown.status, unknown.error_code()) == (403, "InvalidClientTokenId")
    ok(query(gateway, {"Action": "ListQueues"}))
