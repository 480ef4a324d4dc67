"""Scripted AWS CLI sessions (the `awscli` package, run as a subprocess) against the gateway."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from eventplane.testing import EventplaneProcess

from .support import KEY, REGION, SECRET

pytestmark = pytest.mark.integration

AWS = str(Path(sys.executable).with_name("aws"))


def aws(gateway: EventplaneProcess, tmp: Path, *args: str, service: str = "sqs") -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=KEY,
        AWS_SECRET_ACCESS_KEY=SECRET,
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=str(tmp / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp / "credentials"),
    )
    done = subprocess.run(
        [AWS, "--endpoint-url", gateway.gateway_url, "--output", "json", service, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_cli_session(gateway: EventplaneProcess, tmp_path: Path) -> None:
    name = f"gw-cli-{uuid.uuid4().hex[:8]}"
    url = aws(gateway, tmp_path, "create-queue", "--queue-name", name)["QueueUrl"]
    assert url.endswith(f"/{name}")
    assert aws(gateway, tmp_path, "get-queue-url", "--queue-name", name)["QueueUrl"] == url
    sent = aws(
        gateway,
        tmp_path,
        "send-message",
        "--queue-url",
        url,
        "--message-body",
        "from the cli",
        "--message-attributes",
        '{"kind": {"DataType": "String", "StringValue": "cli"}}',
    )
    assert sent["MessageId"]
    got = aws(
        gateway,
        tmp_path,
        "receive-message",
        "--queue-url",
        url,
        "--wait-time-seconds",
        "10",
        "--message-attribute-names",
        "All",
    )
    (message,) = got["Messages"]
    assert message["Body"] == "from the cli"
    assert message["MessageAttributes"]["kind"]["StringValue"] == "cli"
    aws(
        gateway,
        tmp_path,
        "delete-message",
        "--queue-url",
        url,
        "--receipt-handle",
        message["ReceiptHandle"],
    )
    attrs = aws(
        gateway, tmp_path, "get-queue-attributes", "--queue-url", url, "--attribute-names", "All"
    )["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0"
    aws(gateway, tmp_path, "delete-queue", "--queue-url", url)
    listed = aws(gateway, tmp_path, "list-queues", "--queue-name-prefix", name)
    assert not (listed or {}).get("QueueUrls")


def test_cli_sns_session(gateway: EventplaneProcess, tmp_path: Path) -> None:
    def sns(*args: str) -> Any:
        return aws(gateway, tmp_path, *args, service="sns")

    name = f"gw-cli-{uuid.uuid4().hex[:8]}"
    topic = sns("create-topic", "--name", name)["TopicArn"]
    assert topic.endswith(f":{name}")
    assert topic in [t["TopicArn"] for t in sns("list-topics")["Topics"]]
    queue = aws(gateway, tmp_path, "create-queue", "--queue-name", name)["QueueUrl"]
    queue_arn = aws(
        gateway, tmp_path, "get-queue-attributes", "--queue-url", queue,
        "--attribute-names", "QueueArn",
    )["Attributes"]["QueueArn"]  # fmt: skip
    sub = sns(
        "subscribe", "--topic-arn", topic, "--protocol", "sqs", "--notification-endpoint",
        queue_arn, "--attributes", "RawMessageDelivery=true",
    )["SubscriptionArn"]  # fmt: skip
    assert sub.startswith(topic + ":")
    published = sns("publish", "--topic-arn", topic, "--message", "from the sns cli")
    assert published["MessageId"]
    got = aws(
        gateway, tmp_path, "receive-message", "--queue-url", queue, "--wait-time-seconds", "10"
    )
    assert [m["Body"] for m in got["Messages"]] == ["from the sns cli"]
    sns("unsubscribe", "--subscription-arn", sub)
    sns("delete-topic", "--topic-arn", topic)
    assert topic not in [t["TopicArn"] for t in sns("list-topics")["Topics"]]
    aws(gateway, tmp_path, "delete-queue", "--queue-url", queue)


def test_cli_events_session(gateway: EventplaneProcess, tmp_path: Path) -> None:
    def events(*args: str) -> Any:
        return aws(gateway, tmp_path, *args, service="events")

    name = f"gw-cli-{uuid.uuid4().hex[:8]}"
    queue = aws(gateway, tmp_path, "create-queue", "--queue-name", name)["QueueUrl"]
    queue_arn = aws(
        gateway, tmp_path, "get-queue-attributes", "--queue-url", queue,
        "--attribute-names", "QueueArn",
    )["Attributes"]["QueueArn"]  # fmt: skip
    events("put-rule", "--name", name, "--event-pattern", json.dumps({"source": [name]}))
    assert name in [r["Name"] for r in events("list-rules", "--name-prefix", name)["Rules"]]
    events("put-targets", "--rule", name, "--targets", f"Id=q,Arn={queue_arn}")
    entry = {"Source": name, "DetailType": "placed", "Detail": '{"n": 1}'}
    put = events("put-events", "--entries", json.dumps([entry]))
    assert put["FailedEntryCount"] == 0
    got = aws(
        gateway, tmp_path, "receive-message", "--queue-url", queue, "--wait-time-seconds", "10"
    )
    (message,) = got["Messages"]
    assert json.loads(message["Body"])["id"] == put["Entries"][0]["EventId"]
    events("remove-targets", "--rule", name, "--ids", "q")
    events("delete-rule", "--name", name)
    aws(gateway, tmp_path, "delete-queue", "--queue-url", queue)
