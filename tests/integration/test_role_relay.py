"""Split deployments: a server relays calls for the roles it does not run.

Two servers of one cluster: ``queues`` runs the Queues and Topics roles, ``front`` runs
only the api and workflows roles and names ``queues`` in EVENTPLANE_ROLE_ENDPOINTS. A
client of ``front`` uses every Queues call as if ``front`` served it (errors keep their
AWS codes), a workflow on ``front`` sends to a queue served by ``queues``, and a role
named nowhere is refused with a message saying which setting to use.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from prometheus_client.parser import text_string_to_metric_families

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.errors.queues import QueueDoesNotExist
from eventplane.security import sha256_hex
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

KEY, SECRET = "AKIDRELAYTEST0001", "relay-test-secret-key"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def split_pair(
    bootstrap: str, roles: tuple[str, ...], env: dict[str, str]
) -> Iterator[tuple[EventplaneProcess, EventplaneProcess]]:
    """A server running ``roles`` and a front (api, workflows) relaying them to it."""
    cluster = unique_cluster()
    back = EventplaneProcess(bootstrap, roles=",".join(roles), cluster=cluster, env=env)
    back.start()
    routes = ",".join(f"{role}={back.endpoint}" for role in roles)
    front = EventplaneProcess(
        bootstrap,
        roles="api,workflows",
        cluster=cluster,
        env={**env, "EVENTPLANE_ROLE_ENDPOINTS": routes},
    )
    try:
        front.start()
        yield back, front
    finally:
        front.stop()
        back.stop()


@pytest.fixture(scope="module")
def servers(eventplane_kafka: str) -> Iterator[tuple[EventplaneProcess, EventplaneProcess]]:
    keys = {"EVENTPLANE_GATEWAY_CREDENTIALS": f"{KEY}:{SECRET}:000000000000"}
    yield from split_pair(eventplane_kafka, ("queues", "fanout"), keys)


def relayed(server: EventplaneProcess, role: str, code: str) -> float:
    with urllib.request.urlopen(server.metrics_url, timeout=5) as resp:
        text = resp.read().decode()
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "eventplane_relayed_calls_total" and s.labels == {"role": role, "code": code}
    )


def test_queue_calls_on_a_server_without_the_role_are_served_by_the_one_with_it(
    servers: tuple[EventplaneProcess, EventplaneProcess],
) -> None:
    queues, front = servers
    name = unique("relay")
    with front.client(timeout=30) as via_front, queues.client(timeout=30) as direct:
        url = via_front.queues.create_queue(name, attributes={"VisibilityTimeout": "45"})
        assert direct.queues.get_queue_url(name) == url
        assert via_front.queues.get_queue_attributes(url, ["VisibilityTimeout"]) == {
            "VisibilityTimeout": "45"
        }
        via_front.queues.send_message(url, "through the front")
        got = direct.queues.receive_message(url, wait_time_seconds=5)
        assert [m.body for m in got] == ["through the front"]
        # The serving pod's error arrives typed, with its AWS code and message.
        with pytest.raises(QueueDoesNotExist) as missing:
            via_front.queues.get_queue_url(name + "-missing")
        assert str(missing.value).endswith("The specified queue does not exist.")
        via_front.queues.delete_queue(url)
    assert relayed(front, "queues", "OK") >= 4
    assert relayed(front, "queues", "NOT_FOUND") >= 1


def test_a_workflow_task_reaches_a_queue_served_by_another_workload(
    servers: tuple[EventplaneProcess, EventplaneProcess],
) -> None:
    queues, front = servers
    with front.client(timeout=30) as via_front, queues.client(timeout=30) as direct:
        url = direct.queues.create_queue(unique("wfrelay"))
        sm = via_front.workflows.create_state_machine(
            unique("relay"),
            {
                "StartAt": "Send",
                "States": {
                    "Send": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::sqs:sendMessage",
                        "Parameters": {"QueueUrl": url, "MessageBody.$": "$.order"},
                        "End": True,
                    }
                },
            },
        ).state_machine_arn
        run = via_front.workflows.start_execution(sm, {"order": {"id": 7}})

        def done() -> object:
            e = via_front.workflows.describe_execution(run.execution_arn)
            assert e.status != "RUNNING"
            return e

        e = eventually(done, timeout=60)
        assert e.status == "SUCCEEDED", (e.error, e.cause)  # type: ignore[attr-defined]
        got = direct.queues.receive_message(url, wait_time_seconds=5)
        assert [json.loads(m.body) for m in got] == [{"id": 7}]


def aws(server: EventplaneProcess, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.gateway_url,
        region_name="us-east-1",
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        config=Config(retries={"max_attempts": 1}),
    )


def test_boto3_on_the_front_reaches_services_the_front_does_not_run(
    servers: tuple[EventplaneProcess, EventplaneProcess],
) -> None:
    queues, front = servers
    sqs, sns = aws(front, "sqs"), aws(front, "sns")
    name = unique("boto")
    url = sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "0"})["QueueUrl"]
    # The queue URL names the endpoint the client called, and works passed back.
    assert url.startswith(front.gateway_url + "/")
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    # boto3 checks the MD5s of body and attributes the serving process computed.
    sqs.send_message(
        QueueUrl=url,
        MessageBody="relayed",
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
    )
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, MessageAttributeNames=["All"])
    assert [(m["Body"], m["MessageAttributes"]["k"]["StringValue"]) for m in got["Messages"]] == [
        ("relayed", "v")
    ]
    with pytest.raises(ClientError) as missing:
        sqs.get_queue_url(QueueName=name + "-missing")
    assert missing.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # SNS speaks the query protocol: XML out, XML errors.
    arn = sns.create_topic(Name=unique("boto"))["TopicArn"]
    with queues.client(timeout=30) as direct:
        assert arn in direct.topics.list_topics()
    with pytest.raises(ClientError) as bad:
        sns.publish(TopicArn=arn + "-missing", Message="x")
    assert bad.value.response["Error"]["Code"] == "NotFound"
    # A service whose role no endpoint names is refused by the front itself.
    with pytest.raises(ClientError) as refused:
        aws(front, "events").list_event_buses()
    assert refused.value.response["Error"]["Code"] == "ServiceUnavailable"
    assert relayed(front, "fanout", "OK") >= 2


def test_a_role_served_nowhere_is_refused_naming_the_setting(
    servers: tuple[EventplaneProcess, EventplaneProcess],
) -> None:
    _, front = servers
    with front.client(timeout=10) as via_front, pytest.raises(EventplaneError) as refused:
        via_front.events.list_event_buses()
    message = str(refused.value)
    assert "'bus' role" in message and "EVENTPLANE_ROLE_ENDPOINTS" in message
    assert front.proc is not None and front.proc.poll() is None


# --- with authentication on -------------------------------------------------------------

ADMIN_KEY = "ep-relay-admin-0123456789abcdef"
CI_KEY = "ep-relay-ci-0123456789abcdef"
ORDERS_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"],
            "Resource": "arn:aws:sqs:*:*:orders-*",
        }
    ],
}


@pytest.fixture(scope="module")
def secured(
    eventplane_kafka: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[EventplaneProcess, EventplaneProcess]]:
    tokens = tmp_path_factory.mktemp("relay") / "tokens.yaml"
    tokens.write_text(
        json.dumps(
            [
                {"principal": "admin", "sha256": sha256_hex(ADMIN_KEY)},
                {"principal": "ci", "sha256": sha256_hex(CI_KEY), "policies": [ORDERS_ONLY]},
            ]
        )
    )
    env = {
        "EVENTPLANE_AUTH_TOKENS_FILE": str(tokens),
        "EVENTPLANE_RECEIPT_SECRET": "relay-test-secret-0123456789",
    }
    yield from split_pair(eventplane_kafka, ("queues",), env)


def test_relayed_calls_are_authorized_as_the_caller(
    secured: tuple[EventplaneProcess, EventplaneProcess],
) -> None:
    queues, front = secured
    orders, other = unique("orders"), unique("other")
    with Client(front.endpoint, token=ADMIN_KEY, timeout=30) as admin:
        orders_url = admin.queues.create_queue(orders)
        other_url = admin.queues.create_queue(other)
    with Client(front.endpoint, token=CI_KEY, timeout=30) as ci:
        ci.queues.send_message(orders_url, "allowed")
        with pytest.raises(EventplaneError) as denied:
            ci.queues.send_message(other_url, "denied")
        assert denied.value.code == "AccessDeniedException"
    with Client(front.endpoint, timeout=10) as anonymous, pytest.raises(EventplaneError) as no:
        anonymous.queues.get_queue_url(orders)
    assert no.value.code == "MissingAuthenticationToken"
    with Client(queues.endpoint, token=ADMIN_KEY, timeout=30) as direct:
        got = direct.queues.receive_message(orders_url, wait_time_seconds=5)
        assert [m.body for m in got] == ["allowed"]
        assert direct.queues.receive_message(other_url, wait_time_seconds=1) == []


def test_a_workflow_task_is_relayed_with_the_clusters_credentials(
    secured: tuple[EventplaneProcess, EventplaneProcess],
) -> None:
    queues, front = secured
    with Client(front.endpoint, token=ADMIN_KEY, timeout=30) as admin:
        url = admin.queues.create_queue(unique("wfauth"))
        sm = admin.workflows.create_state_machine(
            unique("relay"),
            {
                "StartAt": "Send",
                "States": {
                    "Send": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::sqs:sendMessage",
                        "Parameters": {"QueueUrl": url, "MessageBody": "from a task"},
                        "End": True,
                    }
                },
            },
        ).state_machine_arn
        run = admin.workflows.start_execution(sm, {})

        def done() -> object:
            e = admin.workflows.describe_execution(run.execution_arn)
            assert e.status != "RUNNING"
            return e

        e = eventually(done, timeout=60)
        assert e.status == "SUCCEEDED", (e.error, e.cause)  # type: ignore[attr-defined]
    with Client(queues.endpoint, token=ADMIN_KEY, timeout=30) as direct:
        got = direct.queues.receive_message(url, wait_time_seconds=5)
        assert [m.body for m in got] == ["from a task"]


def test_a_queues_policy_grants_a_call_relayed_by_a_pod_without_the_queue(
    secured: tuple[EventplaneProcess, EventplaneProcess],
) -> None:
    """ci's own policies allow sending to orders-* only; a queue's Policy grants it more.
    The front has no queues role, so it leaves the decision to the pod that has the
    queue and its Policy (the bearer token travels there)."""
    _, front = secured
    with Client(front.endpoint, token=ADMIN_KEY, timeout=30) as admin:
        name = unique("billing")
        shared = admin.queues.create_queue(name)
        admin.queues.set_queue_attributes(
            shared,
            {
                "Policy": json.dumps(
                    {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": "arn:aws:iam::000000000000:user/ci"},
                                "Action": "sqs:SendMessage",
                            }
                        ]
                    }
                )
            },
        )
        with Client(front.endpoint, token=CI_KEY, timeout=30) as ci:
            ci.queues.send_message(shared, "granted by the queue")
            with pytest.raises(EventplaneError) as denied:
                ci.queues.purge_queue(shared)  # the queue grants only what it names
            assert denied.value.code == "AccessDeniedException"
        got = admin.queues.receive_message(shared, wait_time_seconds=5)
        assert [m.body for m in got] == ["granted by the queue"]
