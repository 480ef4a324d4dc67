"""Asynchronous invocation: retries, destinations, the dead-letter queue and the
maximum event age (retry waits run at 1/100: about 0.6 s, then 1.2 s)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer

from eventplane.client import Client, Message
from eventplane.functions.invocations import ASYNC_TOPIC, encode, new_invocation
from eventplane.kafka import naming
from eventplane.testing import EventplaneProcess, eventually

from .support import Queue, Resources, drain, function_arn, lines

pytestmark = pytest.mark.integration


def _one_record(client: Client, queue: Queue) -> dict[str, Any]:
    got = drain(client, queue.url, 1, timeout=30)
    assert len(got) == 1, f"no destination record in {queue.name}"
    record: dict[str, Any] = json.loads(got[0].body)
    return record


def _destinations(
    client: Client,
    name: str,
    *,
    on_success: Queue | None = None,
    on_failure: Queue | None = None,
    **kwargs: Any,
) -> None:
    config: dict[str, Any] = {}
    if on_success is not None:
        config["OnSuccess"] = {"Destination": on_success.arn}
    if on_failure is not None:
        config["OnFailure"] = {"Destination": on_failure.arn}
    client.functions.put_function_event_invoke_config(name, destination_config=config, **kwargs)


def test_a_failing_event_is_retried_until_it_succeeds(
    client: Client, res: Resources, tmp_path: Path
) -> None:
    name = res.function("basics.flaky")
    success = res.queue("ok")
    _destinations(client, name, on_success=success)
    counter = tmp_path / "attempts"
    event = {"counter": str(counter), "fail_times": 2, "id": "e1"}

    accepted = client.functions.invoke(name, event, invocation_type="Event")

    assert accepted.status_code == 202
    record = _one_record(client, success)
    context = record["requestContext"]
    assert context["condition"] == "Success"
    assert context["approximateInvokeCount"] == 3
    assert context["requestId"] == accepted.request_id
    assert context["functionArn"] == function_arn(name) + ":$LATEST"
    assert record["requestPayload"] == event
    assert record["responsePayload"] == {"attempts": 3, "id": "e1"}
    assert record["responseContext"]["statusCode"] == 200
    assert "functionError" not in record["responseContext"]
    # Every attempt ran under the same request id.
    assert lines(counter) == [accepted.request_id] * 3


def test_an_event_that_keeps_failing_goes_to_on_failure_and_the_dlq(
    client: Client, res: Resources
) -> None:
    dlq = res.queue("dlq")
    failure = res.queue("failed")
    name = res.function("basics.fail", dead_letter_target_arn=dlq.arn)
    _destinations(client, name, on_failure=failure)  # the default: 2 retries
    event = {"order": 42}

    accepted = client.functions.invoke(name, event, invocation_type="Event")

    record = _one_record(client, failure)
    context = record["requestContext"]
    assert context["condition"] == "RetriesExhausted"
    assert context["approximateInvokeCount"] == 3
    assert context["requestId"] == accepted.request_id
    assert record["requestPayload"] == event
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorType"] == "ValueError"
    assert record["responsePayload"]["errorMessage"] == "bad input: {'order': 42}"

    dead: list[Message] = drain(client, dlq.url, 1)
    assert len(dead) == 1
    assert json.loads(dead[0].body) == event
    attributes = dead[0].message_attributes
    assert attributes["RequestID"].string_value == accepted.request_id
    assert attributes["ErrorCode"].string_value == "200"
    assert attributes["ErrorMessage"].string_value == "bad input: {'order': 42}"


def test_no_retries_sends_the_first_failure_on_at_once(
    client: Client, res: Resources, tmp_path: Path
) -> None:
    name = res.function("basics.flaky")
    failure = res.queue("failed")
    _destinations(client, name, on_failure=failure, maximum_retry_attempts=0)
    counter = tmp_path / "attempts"
    event = {"counter": str(counter), "fail_times": 1}

    accepted = client.functions.invoke(name, event, invocation_type="Event")

    record = _one_record(client, failure)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestContext"]["requestId"] == accepted.request_id
    assert record["responsePayload"]["errorMessage"] == "attempt 1 fails"
    # A retry would have succeeded: there was none.
    assert lines(counter) == [accepted.request_id]


def test_an_event_older_than_the_maximum_age_is_dropped_unrun(
    client: Client,
    res: Resources,
    tmp_path: Path,
    eventplane_kafka: str,
    fn_server: EventplaneProcess,
) -> None:
    """MaximumEventAgeInSeconds is at least 60, too long to wait for: the event is written
    straight to the async topic as if accepted two minutes ago."""
    dlq = res.queue("dlq")
    failure = res.queue("failed")
    name = res.function("basics.flaky", dead_letter_target_arn=dlq.arn)
    _destinations(client, name, on_failure=failure, maximum_event_age_in_seconds=60)
    counter = tmp_path / "attempts"
    payload = json.dumps({"counter": str(counter), "fail_times": 0}).encode()
    fresh = new_invocation(name, None, payload, source="invoke")
    aged = replace(fresh, first_ms=fresh.first_ms - 120_000)
    value, headers = encode(aged)
    producer = Producer({"bootstrap.servers": eventplane_kafka})
    topic = naming.in_cluster(ASYNC_TOPIC, fn_server.cluster)
    producer.produce(topic, value, key=name.encode(), headers=list(headers))
    assert producer.flush(10) == 0

    record = _one_record(client, failure)
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["requestId"] == aged.request_id
    assert record["requestPayload"] == json.loads(payload)
    assert "responsePayload" not in record
    dead = drain(client, dlq.url, 1)
    assert [json.loads(m.body) for m in dead] == [json.loads(payload)]
    assert dead[0].message_attributes["RequestID"].string_value == aged.request_id
    assert not counter.exists()  # never ran

    # A fresh event of the same function still runs.
    client.functions.invoke(name, json.loads(payload), invocation_type="Event")
    eventually(lambda: len(lines(counter)) == 1, timeout=20)


def test_a_topic_subscription_invokes_the_function(
    client: Client, res: Resources, tmp_path: Path
) -> None:
    out = tmp_path / "events"
    name = res.function("basics.dump", environment={"RECORD_FILE": str(out)})
    topic = res.topic()
    subscription = client.topics.subscribe(topic, "lambda", function_arn(name))

    published = client.topics.publish(topic, "hello function", subject="greeting")

    events = eventually(lambda: [json.loads(x) for x in lines(out)], timeout=20)
    assert len(events) == 1
    (record,) = events[0]["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"] == subscription
    sns = record["Sns"]
    assert sns["Message"] == "hello function"
    assert sns["Subject"] == "greeting"
    assert sns["TopicArn"] == topic
    assert sns["MessageId"] == published.message_id
    assert sns["Type"] == "Notification"


def test_a_bus_rule_target_invokes_the_function(
    client: Client, res: Resources, tmp_path: Path
) -> None:
    out = tmp_path / "events"
    name = res.function("basics.dump", environment={"RECORD_FILE": str(out)})
    bus = res.bus()
    res.rule(bus, {"source": ["test.functions"]}, [{"Id": "fn", "Arn": function_arn(name)}])

    sent = client.events.put_events(
        [
            {"Source": "other", "DetailType": "Skipped", "Detail": {}, "EventBusName": bus},
            {
                "Source": "test.functions",
                "DetailType": "Order Placed",
                "Detail": {"order": 7},
                "EventBusName": bus,
            },
        ]
    )
    assert sent.failed_entry_count == 0

    events = eventually(lambda: [json.loads(x) for x in lines(out)], timeout=20)
    assert len(events) == 1
    event = events[0]
    assert event["source"] == "test.functions"
    assert event["detail-type"] == "Order Placed"
    assert event["detail"] == {"order": 7}
    assert event["id"] == sent.entries[1].event_id
