"""Identity policies through the AWS-protocol door: an access key acts as the principal it
names, with that principal's policies from the tokens file, exactly as on the gRPC door."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from eventplane.client import Client
from eventplane.security import sha256_hex
from eventplane.testing import EventplaneProcess, unique_cluster

from .support import REGION, signed_request

pytestmark = pytest.mark.integration

ACCOUNT = "111122223333"
ADMIN = ("AKIDAUTHZADMIN000001", "authz-admin-secret")
CI = ("AKIDAUTHZCI000000001", "authz-ci-secret")
ADMIN_TOKEN = "ep-gw-authz-admin-0123456789abcdef"

CI_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:GetQueueUrl"],
            "Resource": "arn:aws:sqs:*:*:orders-*",
        },
        {"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"},
        {"Effect": "Deny", "Action": "sns:Publish", "Resource": "arn:aws:sns:*:*:audit"},
    ],
}


@pytest.fixture(scope="module")
def server(
    eventplane_kafka: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EventplaneProcess]:
    tokens = tmp_path_factory.mktemp("gw-authz") / "tokens.yaml"
    tokens.write_text(
        json.dumps(
            {
                # The admin token acts in the keys' account: the queues the keys create are
                # that account's.
                "tokens": [
                    {"principal": "admin", "account": ACCOUNT, "sha256": sha256_hex(ADMIN_TOKEN)}
                ],
                # The CI key acts as principal "ci"; the admin key as itself (no policies).
                "principals": {"ci": {"account": ACCOUNT, "policies": [CI_POLICY]}},
            }
        )
    )
    keys = f"{ADMIN[0]}:{ADMIN[1]}:{ACCOUNT},{CI[0]}:{CI[1]}:{ACCOUNT}:ci"
    proc = EventplaneProcess(
        eventplane_kafka,
        roles="api,queues,fanout",
        cluster=unique_cluster(),
        env={"EVENTPLANE_GATEWAY_CREDENTIALS": keys, "EVENTPLANE_AUTH_TOKENS_FILE": str(tokens)},
    )
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def _client(server: EventplaneProcess, service: str, key: tuple[str, str]) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.gateway_url,
        region_name=REGION,
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
        config=Config(retries={"max_attempts": 1}),
    )


def _denied(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response  # type: ignore[no-any-return]


def test_sqs_calls_are_allowed_and_denied_by_the_keys_principal(
    server: EventplaneProcess, caplog: pytest.LogCaptureFixture
) -> None:
    admin, ci = _client(server, "sqs", ADMIN), _client(server, "sqs", CI)
    orders = admin.create_queue(QueueName="orders-1")["QueueUrl"]
    payments = admin.create_queue(QueueName="payments")["QueueUrl"]

    assert ci.send_message(QueueUrl=orders, MessageBody="m1")["MessageId"]
    got = ci.receive_message(QueueUrl=orders, WaitTimeSeconds=5)["Messages"]
    assert [m["Body"] for m in got] == ["m1"]

    refused = _denied(ci.send_message, QueueUrl=payments, MessageBody="m2")
    assert refused["Error"]["Code"] == "AccessDenied"
    assert refused["Error"]["Message"] == (
        "User: ci is not authorized to perform: sqs:SendMessage on resource: "
        f"arn:aws:sqs:local:{ACCOUNT}:payments because no identity-based policy allows "
        "the sqs:SendMessage action"
    )
    assert _denied(ci.delete_queue, QueueUrl=orders)["Error"]["Code"] == "AccessDenied"
    assert _denied(ci.create_queue, QueueName="orders-new")["Error"]["Code"] == "AccessDenied"
    # Nothing of the refused calls happened.
    assert (
        admin.get_queue_attributes(
            QueueUrl=payments, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        == "0"
    )
    assert orders in admin.list_queues(QueueNamePrefix="orders-").get("QueueUrls", [])

    # The same principal through the gRPC door would be refused the same way; the admin
    # token (no policies) is not restricted there either.
    with Client(server.endpoint, token=ADMIN_TOKEN, timeout=10) as ep:
        assert ep.queues.get_queue_url("payments")


def test_the_query_protocol_is_authorized_too(server: EventplaneProcess) -> None:
    admin = _client(server, "sqs", ADMIN)
    url = admin.create_queue(QueueName="payments-q")["QueueUrl"]
    form = {"Action": "SendMessage", "MessageBody": "x", "Version": "2012-11-05"}
    reply = signed_request(
        url,
        data=urlencode(form),
        headers={"content-type": "application/x-www-form-urlencoded"},
        key=CI[0],
        secret=CI[1],
    )
    assert (reply.status, reply.error_code()) == (400, "AccessDenied")


def test_an_explicit_deny_wins_on_sns(server: EventplaneProcess) -> None:
    admin, ci = _client(server, "sns", ADMIN), _client(server, "sns", CI)
    news = admin.create_topic(Name="news")["TopicArn"]
    audit = admin.create_topic(Name="audit")["TopicArn"]
    assert ci.publish(TopicArn=news, Message="hello")["MessageId"]
    refused = _denied(ci.publish, TopicArn=audit, Message="hello")["Error"]
    assert refused["Code"] == "AuthorizationError"
    assert "with an explicit deny in an identity-based policy" in refused["Message"]


def test_denials_are_counted(server: EventplaneProcess) -> None:
    ci = _client(server, "sqs", CI)
    _denied(ci.list_queues)
    with urllib.request.urlopen(server.metrics_url, timeout=10) as resp:
        metrics = resp.read().decode()
    assert 'eventplane_auth_denied_total{action="sqs:ListQueues"}' in metrics


def test_a_queue_policy_applies_to_access_keys(server: EventplaneProcess) -> None:
    admin = _client(server, "sqs", ADMIN)
    url = admin.create_queue(QueueName="orders-locked")["QueueUrl"]
    deny_all_sends = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sqs:SendMessage"}],
    }
    admin.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(deny_all_sends)})
    for key in (ADMIN, CI):  # the admin key's principal has no identity policies at all
        refused = _denied(_client(server, "sqs", key).send_message, QueueUrl=url, MessageBody="x")
        assert refused["Error"]["Code"] == "AccessDenied"
        assert refused["Error"]["Message"].endswith("explicit deny in a resource-based policy")
    bad = _denied(
        admin.set_queue_attributes, QueueUrl=url, Attributes={"Policy": '{"Statement": {}}'}
    )
    assert bad["Error"]["Code"] == "InvalidAttributeValue"


def test_a_topic_policy_applies_to_access_keys(server: EventplaneProcess) -> None:
    admin, ci = _client(server, "sns", ADMIN), _client(server, "sns", CI)
    guarded = admin.create_topic(Name="guarded")["TopicArn"]
    deny_ci = {
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/ci"},
                "Action": "sns:Publish",
                "Resource": guarded,
            }
        ]
    }
    admin.set_topic_attributes(
        TopicArn=guarded, AttributeName="Policy", AttributeValue=json.dumps(deny_ci)
    )
    refused = _denied(ci.publish, TopicArn=guarded, Message="x")["Error"]
    assert refused["Code"] == "AuthorizationError"
    assert refused["Message"].endswith("explicit deny in a resource-based policy")
    assert admin.publish(TopicArn=guarded, Message="x")["MessageId"]  # another principal
    bad = _denied(
        admin.set_topic_attributes,
        TopicArn=guarded,
        AttributeName="Policy",
        AttributeValue='{"Statement": [{"Effect": "Allow", "Action": "sns:*"}]}',
    )
    assert bad["Error"]["Code"] == "InvalidParameter"
    assert "Principal" in bad["Error"]["Message"]
