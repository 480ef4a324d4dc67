"""Failed deliveries: retries by the target's RetryPolicy, then its dead-letter queue with
EventBridge's attributes; HTTP destinations on a real local server.

The server runs with EVENTPLANE_DELIVERY_TIME_SCALE=0.01, so the retry backoff (1 s,
2 s, 4 s, ...) takes 10 ms, 20 ms, 40 ms, ...
"""

from __future__ import annotations

import json
import time

import pytest

from eventplane.client import Client, Message
from eventplane.testing import eventually

from .support import Endpoint, Resources, drain, unique

pytestmark = pytest.mark.integration


def _attributes(m: Message) -> dict[str, str | None]:
    return {name: a.string_value for name, a in m.message_attributes.items()}


def _put_one(client: Client, bus: str, source: str) -> str:
    result = client.events.put_events(
        [{"Source": source, "DetailType": "Ping", "Detail": {"k": 1}, "EventBusName": bus}]
    )
    assert result.failed_entry_count == 0, result.entries
    event_id = result.entries[0].event_id
    assert event_id is not None
    return event_id


def test_a_missing_queue_target_ends_in_the_dead_letter_queue(
    client: Client, res: Resources
) -> None:
    bus = res.bus()
    source = unique("shop")
    missing, dlq = res.missing_queue(), res.queue("dlq")
    rule = res.rule(
        bus,
        [
            {
                "Id": "nowhere",
                "Arn": missing.arn,
                "RetryPolicy": {"MaximumRetryAttempts": 2},
                "DeadLetterConfig": {"Arn": dlq.arn},
            }
        ],
        pattern={"source": [source]},
    )
    event_id = _put_one(client, bus, source)

    (m,) = drain(client, dlq.url, 1, settle=1)
    assert json.loads(m.body)["id"] == event_id  # the dead letter is the event itself
    attributes = _attributes(m)
    assert attributes["RULE_ARN"] == rule.arn
    assert attributes["TARGET_ARN"] == missing.arn
    assert attributes["ERROR_CODE"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttemptsExhausted"
    assert attributes["RETRY_ATTEMPTS"] == "2"


def test_an_http_destination_failing_twice_gets_the_event_once(
    client: Client, res: Resources, endpoint: Endpoint
) -> None:
    endpoint.plan["/flaky"] = [500, 500]
    bus = res.bus()
    source = unique("shop")
    res.rule(bus, [{"Id": "http", "Arn": endpoint.url("/flaky")}], pattern={"source": [source]})
    event_id = _put_one(client, bus, source)

    def attempts() -> list[str]:
        ids = endpoint.event_ids("/flaky")
        assert len(ids) >= 3
        return ids

    # Two 500s, then one 200: three POSTs of the same event...
    assert eventually(attempts, timeout=30) == [event_id] * 3
    # ...and none after the one that succeeded (retries are 10-40 ms apart here).
    time.sleep(1.0)
    assert endpoint.event_ids("/flaky") == [event_id] * 3


def test_an_always_failing_http_destination_ends_in_its_dead_letter_queue(
    client: Client, res: Resources, endpoint: Endpoint
) -> None:
    endpoint.always["/down"] = 500
    bus = res.bus()
    source = unique("shop")
    dlq = res.queue("dlq")
    url = endpoint.url("/down")
    rule = res.rule(
        bus,
        [
            {
                "Id": "http",
                "Arn": url,
                "RetryPolicy": {"MaximumRetryAttempts": 2},
                "DeadLetterConfig": {"Arn": dlq.arn},
            }
        ],
        pattern={"source": [source]},
    )
    event_id = _put_one(client, bus, source)

    (m,) = drain(client, dlq.url, 1)
    assert json.loads(m.body)["id"] == event_id
    attributes = _attributes(m)
    assert attributes["RULE_ARN"] == rule.arn
    assert attributes["TARGET_ARN"] == url
    assert attributes["ERROR_CODE"] == "HTTP_500"
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttemptsExhausted"
    # The dead letter is written after the last attempt: all three POSTs were made.
    assert endpoint.event_ids("/down") == [event_id] * 3


def test_an_http_400_goes_to_the_dead_letter_queue_without_retries(
    client: Client, res: Resources, endpoint: Endpoint
) -> None:
    endpoint.always["/refuses"] = 400
    bus = res.bus()
    source = unique("shop")
    dlq = res.queue("dlq")
    res.rule(
        bus,
        [
            {
                "Id": "http",
                "Arn": endpoint.url("/refuses"),
                "RetryPolicy": {"MaximumRetryAttempts": 5},
                "DeadLetterConfig": {"Arn": dlq.arn},
            }
        ],
        pattern={"source": [source]},
    )
    event_id = _put_one(client, bus, source)

    (m,) = drain(client, dlq.url, 1)
    assert json.loads(m.body)["id"] == event_id
    attributes = _attributes(m)
    assert attributes["ERROR_CODE"] == "HTTP_400"
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "NonRetriableError"
    assert endpoint.event_ids("/refuses") == [event_id]
