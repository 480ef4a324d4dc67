"""boto3's SNS client (query protocol), unchanged, against the gateway: topics, subscriptions
of SQS queues, fan-out received through boto3's SQS client, and SNS's errors."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.integration


def queue_arn(sqs: Any, url: str) -> str:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    arn: str = attrs["QueueArn"]
    return arn


def drain(sqs: Any, url: str, expected: int, *, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Receive and delete until ``expected`` messages arrived (or the timeout)."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(got) < expected and time.monotonic() < deadline:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        for m in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        got += batch
    return got


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    r = exc.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]


def test_topic_and_subscription_lifecycle(
    sns: Any, sqs: Any, make_topic: Callable[..., str], make_queue: Callable[..., str]
) -> None:
    topic = make_topic(DisplayName="orders")
    assert topic.startswith("arn:aws:sns:") and topic.rsplit(":", 1)[1].startswith("gw-")
    listed = [t["TopicArn"] for t in sns.get_paginator("list_topics").paginate().search("Topics")]
    assert topic in listed

    attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attrs["TopicArn"] == topic and attrs["DisplayName"] == "orders"
    sns.set_topic_attributes(TopicArn=topic, AttributeName="DisplayName", AttributeValue="o2")
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["DisplayName"] == "o2"

    q = queue_arn(sqs, make_queue())
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=q, ReturnSubscriptionArn=True)
    arn = sub["SubscriptionArn"]
    assert arn.startswith(topic + ":")
    (listed_sub,) = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert listed_sub == {
        "SubscriptionArn": arn,
        "Owner": listed_sub["Owner"],
        "Protocol": "sqs",
        "Endpoint": q,
        "TopicArn": topic,
    }
    assert arn in [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]]

    sns.set_subscription_attributes(
        SubscriptionArn=arn, AttributeName="RawMessageDelivery", AttributeValue="true"
    )
    sub_attrs = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert sub_attrs["RawMessageDelivery"] == "true"
    assert sub_attrs["TopicArn"] == topic and sub_attrs["Endpoint"] == q

    sns.unsubscribe(SubscriptionArn=arn)
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    sns.delete_topic(TopicArn=topic)
    listed = [t["TopicArn"] for t in sns.get_paginator("list_topics").paginate().search("Topics")]
    assert topic not in listed


def test_topic_tags_are_added_overwritten_removed_and_listed(
    sns: Any, make_topic: Callable[..., str]
) -> None:
    topic = make_topic()
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == []
    sns.tag_resource(ResourceArn=topic, Tags=[{"Key": "team", "Value": "a"}])
    sns.tag_resource(
        ResourceArn=topic, Tags=[{"Key": "team", "Value": "b"}, {"Key": "Team", "Value": "c"}]
    )
    tags = {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=topic)["Tags"]}
    assert tags == {"team": "b", "Team": "c"}
    sns.untag_resource(ResourceArn=topic, TagKeys=["team", "not-there"])
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [{"Key": "Team", "Value": "c"}]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="DisplayName", AttributeValue="shop")
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [{"Key": "Team", "Value": "c"}]

    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    with pytest.raises(sns.exceptions.TagLimitExceededException) as limit:
        sns.tag_resource(ResourceArn=topic, Tags=too_many)
    assert error(limit)[:2] == ("TagLimitExceeded", 400)
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.tag_resource(ResourceArn=topic, Tags=[{"Key": "aws:owner", "Value": "x"}])
    with pytest.raises(sns.exceptions.ResourceNotFoundException) as missing:
        sns.list_tags_for_resource(ResourceArn=topic + "-gone")
    assert error(missing)[:2] == ("ResourceNotFound", 404)


def test_publish_fans_out_to_queues_as_envelope_and_raw(
    sns: Any, sqs: Any, make_topic: Callable[..., str], make_queue: Callable[..., str]
) -> None:
    topic = make_topic()
    enveloped, raw = make_queue(), make_queue()
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, enveloped))
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn(sqs, raw),
        Attributes={"RawMessageDelivery": "true"},
    )
    published = sns.publish(
        TopicArn=topic,
        Message="order 42 placed",
        Subject="orders",
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "new"},
            "amount": {"DataType": "Number", "StringValue": "42"},
        },
    )

    (message,) = drain(sqs, enveloped, 1)
    envelope = json.loads(message["Body"])
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == published["MessageId"]
    assert envelope["TopicArn"] == topic
    assert (envelope["Subject"], envelope["Message"]) == ("orders", "order 42 placed")
    assert envelope["MessageAttributes"]["kind"] == {"Type": "String", "Value": "new"}
    assert envelope["MessageAttributes"]["amount"] == {"Type": "Number", "Value": "42"}

    (delivered,) = drain(sqs, raw, 1)
    assert delivered["Body"] == "order 42 placed"
    assert delivered["MessageAttributes"]["kind"] == {"DataType": "String", "StringValue": "new"}


def test_filter_policy_drops_what_it_does_not_match(
    sns: Any, sqs: Any, make_topic: Callable[..., str], make_queue: Callable[..., str]
) -> None:
    topic = make_topic()
    every, only_keep = make_queue(), make_queue()
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, every))
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn(sqs, only_keep),
        Attributes={"RawMessageDelivery": "true", "FilterPolicy": '{"kind": ["keep"]}'},
    )
    for kind in ("drop", "keep", "drop"):
        sns.publish(
            TopicArn=topic,
            Message=kind,
            MessageAttributes={"kind": {"DataType": "String", "StringValue": kind}},
        )
    # Every subscription of a message is decided together: once the unfiltered queue holds
    # all three, the filtered one has had its chance at each.
    assert len(drain(sqs, every, 3)) == 3
    kept = drain(sqs, only_keep, 1)
    kept += sqs.receive_message(QueueUrl=only_keep, WaitTimeSeconds=1).get("Messages", [])
    assert [m["Body"] for m in kept] == ["keep"]


def test_publish_batch_reports_each_entry(
    sns: Any, sqs: Any, make_topic: Callable[..., str], make_queue: Callable[..., str]
) -> None:
    topic = make_topic()
    url = make_queue()
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn(sqs, url),
        Attributes={"RawMessageDelivery": "true"},
    )
    result = sns.publish_batch(
        TopicArn=topic,
        PublishBatchRequestEntries=[
            {"Id": "ok-1", "Message": "first"},
            {"Id": "bad", "Message": ""},
            {
                "Id": "ok-2",
                "Message": "second",
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
            },
        ],
    )
    assert sorted(e["Id"] for e in result["Successful"]) == ["ok-1", "ok-2"]
    assert all(e["MessageId"] for e in result["Successful"])
    (failed,) = result["Failed"]
    assert failed["Id"] == "bad" and failed["SenderFault"] is True
    assert failed["Code"] == "InvalidParameter" and "message" in failed["Message"].lower()
    bodies = sorted(m["Body"] for m in drain(sqs, url, 2))
    assert bodies == ["first", "second"]

    with pytest.raises(ClientError) as exc:
        sns.publish_batch(
            TopicArn=topic,
            PublishBatchRequestEntries=[{"Id": "x", "Message": "a"}, {"Id": "x", "Message": "b"}],
        )
    assert error(exc)[:2] == ("BatchEntryIdsNotDistinct", 400)


def test_errors_come_as_sns_gives_them(sns: Any, make_topic: Callable[..., str]) -> None:
    missing = "arn:aws:sns:us-east-1:000000000000:gw-no-such-topic"
    with pytest.raises(sns.exceptions.NotFoundException) as nf:
        sns.get_topic_attributes(TopicArn=missing)
    assert error(nf)[:2] == ("NotFound", 404)
    assert nf.value.response["Error"]["Type"] == "Sender"
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.publish(TopicArn=missing, Message="m")

    with pytest.raises(sns.exceptions.InvalidParameterException) as bad_name:
        sns.create_topic(Name="no spaces allowed")
    code, status, message = error(bad_name)
    assert (code, status) == ("InvalidParameter", 400) and "Name" in message

    topic = make_topic()
    with pytest.raises(sns.exceptions.InvalidParameterException) as bad_protocol:
        sns.subscribe(TopicArn=topic, Protocol="carrier-pigeon", Endpoint="coop")
    assert "Protocol" in error(bad_protocol)[2]
    with pytest.raises(sns.exceptions.InvalidParameterException) as bad_policy:
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint="arn:aws:sqs:us-east-1:000000000000:q",
            Attributes={"FilterPolicy": "{not json"},
        )
    assert "FilterPolicy" in error(bad_policy)[2]

    # A modeled action eventplane does not serve: SNS's InvalidAction, and the server goes on.
    with pytest.raises(ClientError) as unsupported:
        sns.get_sms_attributes()
    code, status, message = error(unsupported)
    assert (code, status) == ("InvalidAction", 400) and "GetSMSAttributes" in message
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["TopicArn"] == topic
