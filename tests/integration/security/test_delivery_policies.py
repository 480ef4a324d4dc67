"""A queue's Policy decides whether a topic or a rule may deliver into it, as on AWS:
the policy must allow sqs:SendMessage to sns.amazonaws.com / events.amazonaws.com,
with aws:SourceArn naming the topic or rule. A queue without a Policy takes them all."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

from eventplane.client import Client
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    proc = EventplaneProcess(
        eventplane_kafka, roles="api,queues,fanout,bus", cluster=unique_cluster()
    )
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def ep(server: EventplaneProcess) -> Iterator[Client]:
    with Client(server.endpoint, timeout=15) as client:
        yield client


def _allow(service: str, queue_arn: str, source_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}},
                }
            ],
        }
    )


def _queue(ep: Client, name: str, policy: str | None = None) -> tuple[str, str]:
    url = ep.queues.create_queue(name, {"Policy": policy} if policy else None)
    arn = ep.queues.get_queue_attributes(url, ["QueueArn"])["QueueArn"]
    return url, str(arn)


def _bodies(ep: Client, url: str) -> list[str]:
    return [m.body for m in ep.queues.receive_message(url, max_number_of_messages=10)]


def _failures(server: EventplaneProcess, topic: str) -> float:
    with urllib.request.urlopen(server.metrics_url, timeout=10) as resp:
        text = resp.read().decode()
    for line in text.splitlines():
        if (
            line.startswith("eventplane_topic_delivery_failures_total{")
            and f'topic="{topic}"' in line
        ):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_topic_delivers_only_where_the_queue_policy_allows_it(
    server: EventplaneProcess, ep: Client
) -> None:
    tag = uuid.uuid4().hex[:8]
    topic_name = f"orders-{tag}"
    topic = ep.topics.create_topic(topic_name)
    other_topic = ep.topics.create_topic(f"other-{tag}")
    open_url, open_arn = _queue(ep, f"open-{tag}")
    allowed_url, allowed_arn = _queue(ep, f"allowed-{tag}")
    ep.queues.set_queue_attributes(
        allowed_url, {"Policy": _allow("sns.amazonaws.com", allowed_arn, topic)}
    )
    # This queue's policy names another topic: deliveries from `topic` are refused.
    refused_url, refused_arn = _queue(ep, f"refused-{tag}")
    ep.queues.set_queue_attributes(
        refused_url, {"Policy": _allow("sns.amazonaws.com", refused_arn, other_topic)}
    )
    for arn in (open_arn, allowed_arn, refused_arn):
        ep.topics.subscribe(topic, "sqs", arn, attributes={"RawMessageDelivery": "true"})
    ep.topics.publish(topic, "m1")

    got: dict[str, list[str]] = {"open": [], "allowed": []}

    def both_delivered() -> bool:
        got["open"] += _bodies(ep, open_url)
        got["allowed"] += _bodies(ep, allowed_url)
        return got == {"open": ["m1"], "allowed": ["m1"]}

    eventually(both_delivered, timeout=30)
    eventually(lambda: _failures(server, topic_name) == 1.0, timeout=30)
    # The refused queue got nothing (the publish is counted as a failed delivery above,
    # which happened in the same transaction as the two deliveries that landed).
    assert _bodies(ep, refused_url) == []


def test_a_rule_delivers_only_where_the_queue_policy_allows_it(ep: Client) -> None:
    tag = uuid.uuid4().hex[:8]
    allowed_url, allowed_arn = _queue(ep, f"rule-allowed-{tag}")
    refused_url, refused_arn = _queue(ep, f"rule-refused-{tag}")
    dlq_url, dlq_arn = _queue(ep, f"rule-dlq-{tag}")
    rule_arn = ep.events.put_rule(f"r-{tag}", event_pattern={"source": [f"shop-{tag}"]})
    ep.queues.set_queue_attributes(
        allowed_url, {"Policy": _allow("events.amazonaws.com", allowed_arn, rule_arn)}
    )
    # Allows SNS only: EventBridge is refused and the event goes to the target's DLQ.
    ep.queues.set_queue_attributes(
        refused_url, {"Policy": _allow("sns.amazonaws.com", refused_arn, rule_arn)}
    )
    ep.events.put_targets(
        f"r-{tag}",
        [
            {"Id": "allowed", "Arn": allowed_arn},
            {
                "Id": "refused",
                "Arn": refused_arn,
                "RetryPolicy": {"MaximumRetryAttempts": 0},
                "DeadLetterConfig": {"Arn": dlq_arn},
            },
        ],
    )
    ep.events.put_events([{"Source": f"shop-{tag}", "DetailType": "t", "Detail": {"n": 1}}])

    delivered: list[str] = []
    eventually(lambda: bool(delivered.extend(_bodies(ep, allowed_url)) or delivered), timeout=30)
    assert json.loads(delivered[0])["detail"] == {"n": 1}

    dead: list[object] = []

    def dead_lettered() -> bool:
        dead.extend(ep.queues.receive_message(dlq_url, message_attribute_names=["All"]))
        return bool(dead)

    eventually(dead_lettered, timeout=60)
    attributes = dead[0].message_attributes  # type: ignore[attr-defined]
    assert attributes["ERROR_CODE"].string_value == "AccessDenied"
    assert _bodies(ep, refused_url) == []
