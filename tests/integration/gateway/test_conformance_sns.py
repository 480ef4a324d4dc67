"""SNS behaviours AWS documents that a differential run against another emulator showed
we got wrong, through boto3 (query protocol) and the gRPC door."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.exceptions import ClientError

from eventplane.errors import EventplaneError
from eventplane.testing import EventplaneProcess, eventually
from eventplane.topics.errors import InvalidParameter

from .support import ACCOUNT
from .test_sns import drain, queue_arn

pytestmark = pytest.mark.integration


def test_delete_topic_is_idempotent(
    sns: Any, make_topic: Callable[..., str], gateway: EventplaneProcess
) -> None:
    # DeleteTopic: "This action is idempotent, so deleting a topic that does not exist does
    # not result in an error."
    topic = make_topic()
    sns.delete_topic(TopicArn=topic)
    sns.delete_topic(TopicArn=topic)
    never = f"arn:aws:sns:us-east-1:000000000000:gw-never-{uuid.uuid4().hex[:8]}"
    sns.delete_topic(TopicArn=never)
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_topic_attributes(TopicArn=topic)
    with gateway.client() as c:
        c.topics.delete_topic(never)
    # A malformed ARN is still an error, not a topic that is missing.
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.delete_topic(TopicArn="arn:aws:sns:us-east-1:000000000000:not a name")


def test_publish_batch_caps_the_total_payload(
    sns: Any, make_topic: Callable[..., str], gateway: EventplaneProcess
) -> None:
    # PublishBatch: "the maximum total payload size (the sum of the individual lengths of
    # all of the batched messages) [is] 256 KiB (262,144 bytes)."
    topic = make_topic()
    over = [{"Id": f"e{i}", "Message": "x" * 100_000} for i in range(3)]
    with pytest.raises(ClientError) as exc:
        sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=over)
    r = exc.value.response
    assert (r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]) == (
        "BatchRequestTooLong",
        400,
    )
    assert isinstance(exc.value, sns.exceptions.BatchRequestTooLongException)
    with gateway.client() as c, pytest.raises(EventplaneError) as grpc_exc:
        c.topics.publish_batch(topic, [{"id": e["Id"], "message": e["Message"]} for e in over])
    assert grpc_exc.value.code == "BatchRequestTooLong"
    # Exactly the limit is fine.
    at_limit = [{"Id": f"e{i}", "Message": "x" * 131_072} for i in range(2)]
    done = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=at_limit)
    assert [e["Id"] for e in done["Successful"]] == ["e0", "e1"]
    assert done.get("Failed", []) == []


def test_subscription_arns_end_in_a_uuid(sns: Any, make_topic: Callable[..., str]) -> None:
    # SNS subscription ARNs end in a UUID: arn:aws:sns:<region>:<account>:<topic>:<uuid>
    # (Subscribe's examples), which code that parses them relies on.
    topic = make_topic()
    queue = f"arn:aws:sqs:us-east-1:000000000000:gw-{uuid.uuid4().hex[:8]}"
    arn = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue, ReturnSubscriptionArn=True)[
        "SubscriptionArn"
    ]
    assert arn.startswith(topic + ":")
    suffix = arn.removeprefix(topic + ":")
    assert str(uuid.UUID(suffix)) == suffix
    assert sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["TopicArn"] == topic
    sns.unsubscribe(SubscriptionArn=arn)


def test_a_new_topic_has_sns_default_access_policy(
    sns: Any, make_topic: Callable[..., str], gateway: EventplaneProcess
) -> None:
    # GetTopicAttributes' Policy is "the JSON serialization of the topic's access control
    # policy"; SNS gives every topic one, which code reads to add a statement to it.
    topic = make_topic()
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    (default,) = policy["Statement"]
    assert (default["Effect"], default["Resource"]) == ("Allow", topic)
    assert "SNS:Publish" in default["Action"]
    assert default["Condition"] == {"StringEquals": {"AWS:SourceOwner": ACCOUNT}}
    with gateway.client() as c:
        assert json.loads(c.topics.get_topic_attributes(topic)["Policy"]) == policy
    # Read, add a statement, write back: the usual way to let a service publish.
    policy["Statement"].append(
        {
            "Sid": "events",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic,
        }
    )
    sns.set_topic_attributes(
        TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy)
    )
    stored = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    assert [s.get("Sid") for s in stored["Statement"]] == ["__default_statement_ID", "events"]
    assert sns.publish(TopicArn=topic, Message="still allowed")["MessageId"]


def test_subjects_are_utf8_text_without_line_breaks(
    sns: Any,
    sqs: Any,
    make_topic: Callable[..., str],
    make_queue: Callable[..., str],
    gateway: EventplaneProcess,
) -> None:
    # Publish's Subject: "Subjects must be UTF-8 text with no line breaks or control
    # characters, and less than 100 characters long."
    topic, queue = make_topic(), make_queue()
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, queue))
    subject = "Grüße — Bestellung 42 🚀"
    sns.publish(TopicArn=topic, Message="m", Subject=subject)
    (message,) = drain(sqs, queue, 1)
    assert json.loads(message["Body"])["Subject"] == subject
    with pytest.raises(sns.exceptions.InvalidParameterException) as broken:
        sns.publish(TopicArn=topic, Message="m", Subject="two\nlines")
    assert "Subject" in broken.value.response["Error"]["Message"]
    with gateway.client() as c, pytest.raises(InvalidParameter):
        c.topics.publish(topic, "m", subject="bell\x07")


class _Confirmations(BaseHTTPRequestHandler):
    """Keeps the SubscriptionConfirmation messages it is sent (in ``received``)."""

    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        if self.headers["x-amz-sns-message-type"] == "SubscriptionConfirmation":
            self.received.append(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_endpoint() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    handler = type("Handler", (_Confirmations,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sns", handler.received
    finally:
        server.shutdown()
        server.server_close()


def test_confirm_subscription_takes_the_token_sent_to_the_endpoint(
    sns: Any,
    make_topic: Callable[..., str],
    gateway: EventplaneProcess,
    http_endpoint: tuple[str, list[dict[str, Any]]],
) -> None:
    # ConfirmSubscription: "Verifies an endpoint owner's intent to receive messages by
    # validating the token sent to the endpoint by an earlier Subscribe action. If the
    # token is valid, the action [...] returns its Amazon Resource Name (ARN)."
    url, received = http_endpoint
    topic = make_topic()
    sub = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)["SubscriptionArn"]
    (message,) = eventually(lambda: list(received), timeout=30)
    assert (message["Type"], message["TopicArn"]) == ("SubscriptionConfirmation", topic)
    token = message["Token"]
    confirmed = sns.confirm_subscription(
        TopicArn=topic, Token=token, AuthenticateOnUnsubscribe="true"
    )
    assert confirmed["SubscriptionArn"] == sub
    with gateway.client() as c:
        assert c.topics.confirm_subscription(topic, token) == sub
    # A token this topic never sent: InvalidParameter; a topic that does not exist: NotFound.
    with pytest.raises(ClientError) as bad:
        sns.confirm_subscription(TopicArn=topic, Token="f" * 128)
    r = bad.value.response
    assert (r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]) == (
        "InvalidParameter",
        400,
    )
    assert isinstance(bad.value, sns.exceptions.InvalidParameterException)
    never = f"arn:aws:sns:us-east-1:{ACCOUNT}:gw-never-{uuid.uuid4().hex[:8]}"
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.confirm_subscription(TopicArn=never, Token=token)
    with gateway.client() as c, pytest.raises(InvalidParameter):
        c.topics.confirm_subscription(topic, "f" * 128)


def test_an_empty_tag_value_is_listed(sns: Any, make_topic: Callable[..., str]) -> None:
    # Tag Value: "Length Constraints: Minimum length of 0."
    topic = make_topic()
    sns.tag_resource(ResourceArn=topic, Tags=[{"Key": "empty", "Value": ""}])
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [{"Key": "empty", "Value": ""}]
