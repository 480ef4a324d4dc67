"""boto3's SQS client (AWS JSON 1.0 protocol), unchanged, against the gateway: every action."""

from __future__ import annotations

import hashlib
import json
import struct
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from eventplane.testing import EventplaneProcess, eventually

from .support import ACCOUNT

pytestmark = pytest.mark.integration


def md5_of_attributes(attrs: dict[str, dict[str, Any]]) -> str:
    """SQS's digest of message attributes, written from AWS's description (not our code)."""

    def field(data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + data

    buf = b""
    for name in sorted(attrs):
        a = attrs[name]
        buf += field(name.encode()) + field(a["DataType"].encode())
        if "StringValue" in a:
            buf += b"\x01" + field(a["StringValue"].encode())
        else:
            buf += b"\x02" + field(a["BinaryValue"])
    return hashlib.md5(buf).hexdigest()


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    r = exc.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]


def test_queue_lifecycle_and_url_round_trip(sqs: Any, gateway: EventplaneProcess) -> None:
    name = f"gw-life-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(
        QueueName=name, Attributes={"VisibilityTimeout": "45"}, tags={"team": "a"}
    )["QueueUrl"]
    assert url == f"{gateway.gateway_url}/{ACCOUNT}/{name}"
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    assert url in sqs.list_queues(QueueNamePrefix="gw-life-")["QueueUrls"]
    page = sqs.list_queues(QueueNamePrefix=name, MaxResults=1)
    assert page["QueueUrls"] == [url]

    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "45"
    assert attrs["QueueArn"].endswith(f":{name}")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "3"})
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])["Attributes"]
    assert got == {"DelaySeconds": "3"}

    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as exc:
        sqs.get_queue_url(QueueName=name)
    code, status, message = error(exc)
    assert (code, status) == ("AWS.SimpleQueueService.NonExistentQueue", 400)
    assert "does not exist" in message
    headers = exc.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    assert headers["x-amzn-requestid"]


def test_send_receive_delete_with_digests(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    attributes = {
        "kind": {"DataType": "String", "StringValue": "order"},
        "count": {"DataType": "Number", "StringValue": "42"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xffdata"},
    }
    body = 'héllo {"id": 1} ✓'
    sent = sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes)
    assert sent["MD5OfMessageBody"] == md5(body)
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(attributes)

    got = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=5,
        MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["All"],
    )["Messages"]
    assert len(got) == 1
    m = got[0]
    assert (m["MessageId"], m["Body"], m["MD5OfBody"]) == (sent["MessageId"], body, md5(body))
    assert m["MessageAttributes"] == attributes
    assert m["MD5OfMessageAttributes"] == md5_of_attributes(attributes)
    assert m["Attributes"]["ApproximateReceiveCount"] == "1"
    assert int(m["Attributes"]["SentTimestamp"]) > 0

    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
    )
    again = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, AttributeNames=["All"])
    (m2,) = again["Messages"]
    assert m2["Attributes"]["ApproximateReceiveCount"] == "2"
    assert "MessageAttributes" not in m2  # none were asked for
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m2["ReceiptHandle"])
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)

    with pytest.raises(ClientError) as exc:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")
    assert error(exc)[:2] == ("ReceiptHandleIsInvalid", 400)


def test_batches_report_each_entry(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    resp = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "MessageBody": "one"},
            {"Id": "b", "MessageBody": "two", "DelaySeconds": 0},
            {"Id": "c", "MessageBody": "three"},
            {"Id": "bad", "MessageBody": "four", "DelaySeconds": 901},
        ],
    )
    assert sorted(e["Id"] for e in resp["Successful"]) == ["a", "b", "c"]
    assert all(
        e["MD5OfMessageBody"] == md5(b)
        for e, b in zip(
            sorted(resp["Successful"], key=lambda e: e["Id"]), ["one", "two", "three"], strict=True
        )
    )
    (failed,) = resp["Failed"]
    assert (failed["Id"], failed["Code"], failed["SenderFault"]) == (
        "bad",
        "InvalidParameterValue",
        True,
    )

    messages: list[dict[str, Any]] = []

    def all_received() -> bool:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        messages.extend(got.get("Messages", []))
        return len(messages) == 3

    eventually(all_received, timeout=20)
    handles = {f"m{i}": m["ReceiptHandle"] for i, m in enumerate(messages)}
    vis = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[{"Id": k, "ReceiptHandle": h, "VisibilityTimeout": 60} for k, h in handles.items()]
        + [{"Id": "x", "ReceiptHandle": "bogus", "VisibilityTimeout": 60}],
    )
    assert sorted(e["Id"] for e in vis["Successful"]) == sorted(handles)
    assert [(e["Id"], e["Code"]) for e in vis["Failed"]] == [("x", "ReceiptHandleIsInvalid")]
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": k, "ReceiptHandle": h} for k, h in handles.items()],
    )
    assert sorted(e["Id"] for e in deleted["Successful"]) == sorted(handles)
    assert deleted.get("Failed", []) == []

    with pytest.raises(ClientError) as exc:
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": "same", "MessageBody": "1"}, {"Id": "same", "MessageBody": "2"}],
        )
    assert error(exc)[:2] == ("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400)
    with pytest.raises(sqs.exceptions.TooManyEntriesInBatchRequest):
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": f"e{i}", "MessageBody": "x"} for i in range(11)]
        )


def test_fifo_order_dedup_and_sequence(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue(fifo=True, ContentBasedDeduplication="true")
    first = sqs.send_message(QueueUrl=url, MessageBody="1", MessageGroupId="g")
    sqs.send_message(QueueUrl=url, MessageBody="2", MessageGroupId="g")
    dup = sqs.send_message(QueueUrl=url, MessageBody="1", MessageGroupId="g")
    assert first["SequenceNumber"] and dup["MessageId"] == first["MessageId"]
    with pytest.raises(ClientError) as exc:
        sqs.send_message(QueueUrl=url, MessageBody="no group")
    assert error(exc)[0] == "MissingParameter"

    got = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=5, AttributeNames=["All"]
    )["Messages"]
    assert [m["Body"] for m in got] == ["1", "2"]
    assert got[0]["Attributes"]["MessageGroupId"] == "g"
    assert int(got[0]["Attributes"]["SequenceNumber"]) < int(got[1]["Attributes"]["SequenceNumber"])


def test_dead_letter_queue_and_message_move_task(sqs: Any, make_queue: Callable[..., str]) -> None:
    dlq = make_queue()
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    source = make_queue(RedrivePolicy=policy)
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [source]

    sqs.send_message(QueueUrl=source, MessageBody="poison")
    first = sqs.receive_message(QueueUrl=source, WaitTimeSeconds=5, VisibilityTimeout=0)
    assert len(first["Messages"]) == 1

    def in_dlq() -> bool:
        sqs.receive_message(QueueUrl=source, WaitTimeSeconds=0)  # the move happens on receive
        attrs = sqs.get_queue_attributes(
            QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return attrs["ApproximateNumberOfMessages"] == "1"

    eventually(in_dlq, timeout=20)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    assert handle

    def moved_back() -> bool:
        got = sqs.receive_message(QueueUrl=source, WaitTimeSeconds=1)
        return [m["Body"] for m in got.get("Messages", [])] == ["poison"]

    eventually(moved_back, timeout=20)
    tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10)["Results"]
    assert tasks[0]["Status"] in ("RUNNING", "COMPLETED")
    assert tasks[0]["SourceArn"] == dlq_arn
    with pytest.raises(ClientError) as exc:
        sqs.cancel_message_move_task(TaskHandle="bm90LWEtaGFuZGxl")
    assert error(exc)[:2] == ("ResourceNotFoundException", 404)


def test_purge(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    sqs.send_message(QueueUrl=url, MessageBody="gone")

    def visible() -> bool:
        names = ["ApproximateNumberOfMessages"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return attrs["ApproximateNumberOfMessages"] == "1"

    eventually(visible, timeout=20)
    sqs.purge_queue(QueueUrl=url)
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress):
        sqs.purge_queue(QueueUrl=url)


def test_tags_are_added_overwritten_removed_and_listed(
    sqs: Any, make_queue: Callable[..., str]
) -> None:
    url = make_queue()
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)
    sqs.tag_queue(QueueUrl=url, Tags={"team": "a", "env": "dev"})
    sqs.tag_queue(QueueUrl=url, Tags={"team": "b", "Team": "c"})  # keys are case-sensitive
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "b", "Team": "c", "env": "dev"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team", "not-there"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"Team": "c", "env": "dev"}
    # Tags leave the queue's attributes alone, and the queue keeps serving.
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "41"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"Team": "c", "env": "dev"}
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert attrs["Attributes"]["VisibilityTimeout"] == "41"
    with pytest.raises(ClientError) as exc:
        sqs.list_queue_tags(QueueUrl=url + "-gone")
    assert error(exc)[0] == "AWS.SimpleQueueService.NonExistentQueue"


def test_bad_input_gets_sqs_errors(sqs: Any, stack: str, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    cases: list[tuple[Callable[[], Any], str]] = [
        (
            lambda: sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11),
            "InvalidParameterValue",
        ),
        (lambda: sqs.create_queue(QueueName="bad name!"), "InvalidParameterValue"),
        (lambda: sqs.create_queue(QueueName="q", Attributes={"Nope": "1"}), "InvalidAttributeName"),
        (lambda: sqs.send_message(QueueUrl=url, MessageBody=""), "MissingParameter"),
        (
            # DeleteQueue is the owner's: AddPermission cannot grant it.
            lambda: sqs.add_permission(
                QueueUrl=url, Label="l", AWSAccountIds=[ACCOUNT], Actions=["DeleteQueue"]
            ),
            "InvalidParameterValue",
        ),
        (
            lambda: sqs.tag_queue(QueueUrl=url, Tags={f"k{i}": "v" for i in range(51)}),
            "InvalidParameterValue",
        ),
        (lambda: sqs.tag_queue(QueueUrl=url, Tags={"aws:owner": "x"}), "InvalidParameterValue"),
        (lambda: sqs.tag_queue(QueueUrl=url, Tags={"k": "v" * 257}), "InvalidParameterValue"),
    ]
    if stack == "boto3":  # aiohttp refuses to send a raw body over 1 MiB itself
        oversized = "x" * (1024 * 1024 + 1)
        cases.append(
            (lambda: sqs.send_message(QueueUrl=url, MessageBody=oversized), "InvalidParameterValue")
        )
    for call, code in cases:
        with pytest.raises(ClientError) as exc:
            call()
        assert error(exc)[:2] == (code, 400)
    assert url in sqs.list_queues()["QueueUrls"]  # still serving
