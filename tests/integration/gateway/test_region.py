"""A server configured for eu-west-1 / 123456789012: every ARN and queue URL boto3 gets
through the gateway carries them, they work when passed back, and the gRPC SDK returns
the same ARNs. A key of another account creates resources of its own account, whose ARNs
carry that account."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from eventplane.testing import EventplaneProcess, eventually, unique_cluster

from .support import KEY, SECRET

pytestmark = pytest.mark.integration

REGION, ACCOUNT = "eu-west-1", "123456789012"
OTHER_KEY, OTHER_SECRET = "AKIDOTHERACCOUNT01", "other-account-secret"
OTHER_ACCOUNT = "444455556666"


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    process = EventplaneProcess(
        eventplane_kafka,
        roles="api,queues,fanout,bus,runner,workflows,tables",
        cluster=unique_cluster(),
        env={
            "EVENTPLANE_REGION": REGION,
            "EVENTPLANE_ACCOUNT_ID": ACCOUNT,
            "EVENTPLANE_GATEWAY_CREDENTIALS": (
                f"{KEY}:{SECRET}:{ACCOUNT},{OTHER_KEY}:{OTHER_SECRET}:{OTHER_ACCOUNT}"
            ),
        },
    ).start()
    try:
        yield process
    finally:
        process.stop()


def aws(server: EventplaneProcess, service: str, *, other: bool = False) -> Any:
    # The other key signs for us-east-1: any region is accepted, the answers keep eu-west-1.
    return boto3.client(
        service,
        endpoint_url=server.gateway_url,
        region_name="us-east-1" if other else REGION,
        aws_access_key_id=OTHER_KEY if other else KEY,
        aws_secret_access_key=OTHER_SECRET if other else SECRET,
        config=Config(retries={"max_attempts": 1}),
    )


def name() -> str:
    return f"rg-{uuid.uuid4().hex[:10]}"


def assert_ours(arn: str, service: str, account: str = ACCOUNT) -> None:
    assert arn.startswith(f"arn:aws:{service}:{REGION}:{account}:"), arn


def receive_one(sqs: Any, url: str) -> dict[str, Any]:
    def got() -> dict[str, Any]:
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
        assert messages, "nothing received yet"
        body: dict[str, Any] = json.loads(messages[0]["Body"])
        return body

    return eventually(got, timeout=30)


def test_queue_topic_rule_and_function_arns(server: EventplaneProcess) -> None:
    sqs, sns, events, lam = (aws(server, s) for s in ("sqs", "sns", "events", "lambda"))

    url = sqs.create_queue(QueueName=name())["QueueUrl"]
    assert f"/{ACCOUNT}/" in url
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    assert_ours(queue_arn, "sqs")

    # Topic -> queue by the queue's ARN; the notification names the topic's ARN.
    topic_arn = sns.create_topic(Name=name())["TopicArn"]
    assert_ours(topic_arn, "sns")
    subscription = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    assert_ours(subscription["SubscriptionArn"], "sns")
    assert sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["Owner"] == ACCOUNT
    sns.publish(TopicArn=topic_arn, Message="hello")
    notification = receive_one(sqs, url)
    assert (notification["Message"], notification["TopicArn"]) == ("hello", topic_arn)

    # Bus -> rule -> the same queue; the event's envelope carries region and account.
    bus = name()
    assert_ours(events.create_event_bus(Name=bus)["EventBusArn"], "events")
    rule_arn = events.put_rule(
        Name="to-queue", EventBusName=bus, EventPattern=json.dumps({"source": ["shop"]})
    )["RuleArn"]
    assert rule_arn == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{bus}/to-queue"
    events.put_targets(Rule="to-queue", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])
    events.put_events(
        Entries=[{"EventBusName": bus, "Source": "shop", "DetailType": "order", "Detail": "{}"}]
    )
    event = receive_one(sqs, url)
    assert (event["region"], event["account"]) == (REGION, ACCOUNT)

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return event\n")
    function = name()
    created = lam.create_function(
        FunctionName=function,
        Runtime="python3.11",
        Role=f"arn:aws:iam::{ACCOUNT}:role/test",
        Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()},
    )
    assert_ours(created["FunctionArn"], "lambda")
    assert (
        lam.get_function(FunctionName=created["FunctionArn"])["Configuration"]["FunctionArn"]
        == (created["FunctionArn"])
    )

    # The gRPC SDK sees the same identity and the same ARNs.
    with server.client() as client:
        info = client.platform.get_server_info()
        assert (info.region, info.account_id) == (REGION, ACCOUNT)
        assert client.topics.list_topics().count(topic_arn) == 1
        attributes = client.queues.get_queue_attributes(url, ["QueueArn"])
        assert attributes["QueueArn"] == queue_arn
        assert client.events.describe_rule("to-queue", event_bus_name=bus).arn == rule_arn
        sdk_function = client.functions.get_function(function).configuration
        assert sdk_function.function_arn == created["FunctionArn"]


def test_state_machine_and_table_arns(server: EventplaneProcess) -> None:
    sfn, ddb = aws(server, "stepfunctions"), aws(server, "dynamodb")
    machine = sfn.create_state_machine(
        name=name(),
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn",
    )["stateMachineArn"]
    assert_ours(machine, "states")
    execution = sfn.start_execution(stateMachineArn=machine, input='{"n": 1}')["executionArn"]
    assert_ours(execution, "states")

    def finished() -> dict[str, Any]:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution)
        assert described["status"] == "SUCCEEDED", described["status"]
        return described

    assert eventually(finished, timeout=30)["stateMachineArn"] == machine

    table = ddb.create_table(
        TableName=name(),
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    assert_ours(table["TableArn"], "dynamodb")
    assert_ours(table["LatestStreamArn"], "dynamodb")
    streams = aws(server, "dynamodbstreams")
    described = streams.describe_stream(StreamArn=table["LatestStreamArn"])["StreamDescription"]
    assert described["StreamArn"] == table["LatestStreamArn"]


def test_a_key_of_another_account_gets_its_accounts_arns(server: EventplaneProcess) -> None:
    """Resources belong to their creator's account: what another account's key creates
    carries that account in its ARNs and queue URL, what the gateway answers matches what
    is delivered later, and the installation's key does not list it."""
    sqs, sns = aws(server, "sqs", other=True), aws(server, "sns", other=True)
    url = sqs.create_queue(QueueName=name())["QueueUrl"]
    assert f"/{OTHER_ACCOUNT}/" in url
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    assert_ours(queue_arn, "sqs", OTHER_ACCOUNT)
    topic_arn = sns.create_topic(Name=name())["TopicArn"]
    assert_ours(topic_arn, "sns", OTHER_ACCOUNT)
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    sns.publish(TopicArn=topic_arn, Message="from the other account")
    notification = receive_one(sqs, url)
    assert notification["TopicArn"] == topic_arn
    installation = aws(server, "sns")
    assert topic_arn not in [t["TopicArn"] for t in installation.list_topics()["Topics"]]
