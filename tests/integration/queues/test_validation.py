"""Bad requests get the SQS error class and a message naming the field, and harm nothing.

Every case asserts the exception class (eventplane.errors.queues / eventplane.errors) and that
its message names the offending field, so a user can act on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from eventplane.client import Client, MessageAttribute
from eventplane.errors import (
    EventplaneError,
    InvalidParameterValue,
    MissingParameter,
    ResourceNotFound,
)
from eventplane.errors.queues import (
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidBatchEntryId,
    InvalidMessageContents,
    QueueDoesNotExist,
)
from eventplane.testing import EventplaneProcess

pytestmark = pytest.mark.integration

MakeQueue = Callable[..., str]
Call = Callable[[Client, str], object]


def unique_name(prefix: str = "v") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def raises(call: Callable[[], object], error: type[EventplaneError], field: str) -> None:
    """``call`` fails with exactly ``error`` (or a subclass) and its message names ``field``."""
    with pytest.raises(error) as info:
        call()
    assert field in info.value.message, info.value.message


def attrs(n: int) -> dict[str, MessageAttribute]:
    return {f"a{i}": MessageAttribute("String", string_value="v") for i in range(n)}


# --- queue names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "attributes", "error"),
    [
        ("has space", {}, InvalidParameterValue),
        ("bad!char", {}, InvalidParameterValue),
        ("d\u00e9j\u00e0", {}, InvalidParameterValue),
        ("x" * 81, {}, InvalidParameterValue),
        ("orders.fifo", {}, InvalidParameterValue),  # FIFO name without FifoQueue
        ("orders", {"FifoQueue": "true"}, InvalidParameterValue),  # FifoQueue without .fifo
        ("x" * 77 + ".fifo", {"FifoQueue": "true"}, InvalidParameterValue),  # 82 with suffix
        ("", {}, MissingParameter),
    ],
    ids=[
        "space",
        "punctuation",
        "non-ascii",
        "81-chars",
        "fifo-name",
        "fifo-attr",
        "fifo-82",
        "empty",
    ],
)
def test_bad_queue_name(
    client: Client, name: str, attributes: dict[str, str], error: type[EventplaneError]
) -> None:
    raises(lambda: client.queues.create_queue(name, attributes), error, "QueueName")
    if name:
        with pytest.raises((QueueDoesNotExist, InvalidParameterValue)):
            client.queues.get_queue_url(name)  # nothing half-made


def test_longest_queue_names_are_accepted(make_queue: MakeQueue) -> None:
    make_queue(name="n" * 80)
    make_queue(name="f" * 75, fifo=True)  # 80 with ".fifo"


# --- queue attributes -------------------------------------------------------------------------

OUT_OF_RANGE = [
    ("VisibilityTimeout", "-1"),
    ("VisibilityTimeout", "43201"),
    ("VisibilityTimeout", "ten"),
    ("DelaySeconds", "-1"),
    ("DelaySeconds", "901"),
    ("DelaySeconds", "1.5"),
    ("MessageRetentionPeriod", "59"),
    ("MessageRetentionPeriod", "1209601"),
    ("MaximumMessageSize", "1023"),
    ("MaximumMessageSize", "1048577"),
    ("ReceiveMessageWaitTimeSeconds", "-1"),
    ("ReceiveMessageWaitTimeSeconds", "21"),
]
DEFAULTS = {
    "VisibilityTimeout": "30",
    "DelaySeconds": "0",
    "MessageRetentionPeriod": "345600",
    "MaximumMessageSize": "1048576",
    "ReceiveMessageWaitTimeSeconds": "0",
}


@pytest.mark.parametrize(("attribute", "value"), OUT_OF_RANGE)
def test_out_of_range_attribute_on_create(
    client: Client, make_queue: MakeQueue, attribute: str, value: str
) -> None:
    name = unique_name()
    raises(lambda: make_queue(name=name, **{attribute: value}), InvalidAttributeValue, attribute)
    raises(lambda: client.queues.get_queue_url(name), QueueDoesNotExist, "queue")


@pytest.mark.parametrize(("attribute", "value"), OUT_OF_RANGE)
def test_out_of_range_attribute_on_set(
    client: Client, make_queue: MakeQueue, attribute: str, value: str
) -> None:
    url = make_queue()
    raises(
        lambda: client.queues.set_queue_attributes(url, {attribute: value}),
        InvalidAttributeValue,
        attribute,
    )
    assert client.queues.get_queue_attributes(url, [attribute]) == {attribute: DEFAULTS[attribute]}


@pytest.mark.parametrize(
    "attribute", ["Bogus", "visibilitytimeout", "ApproximateNumberOfMessages", "QueueArn"]
)
def test_unknown_or_read_only_attribute(
    client: Client, make_queue: MakeQueue, attribute: str
) -> None:
    name = unique_name()
    raises(lambda: make_queue(name=name, **{attribute: "1"}), InvalidAttributeName, attribute)
    url = make_queue()
    raises(
        lambda: client.queues.set_queue_attributes(url, {attribute: "1"}),
        InvalidAttributeName,
        attribute,
    )


def test_unknown_attribute_name_on_get_and_fifo_queue_on_set(
    client: Client, make_queue: MakeQueue
) -> None:
    url = make_queue()
    raises(
        lambda: client.queues.get_queue_attributes(url, ["Bogus"]), InvalidAttributeName, "Bogus"
    )
    raises(
        lambda: client.queues.set_queue_attributes(url, {"FifoQueue": "true"}),
        InvalidAttributeName,
        "FifoQueue",
    )


# --- messages ---------------------------------------------------------------------------------


def test_message_size_counts_body_bytes_and_attributes(
    client: Client, make_queue: MakeQueue
) -> None:
    url = make_queue(MaximumMessageSize=1024)
    send = client.queues.send_message

    send(url, "x" * 1024)
    raises(lambda: send(url, "x" * 1025), InvalidParameterValue, "MessageBody")
    send(url, "\u00e9" * 512)  # bytes, not characters: 1024 bytes
    raises(lambda: send(url, "\u00e9" * 513), InvalidParameterValue, "MessageBody")

    # 1000 body + name "k" (1) + type "String" (6) + value: 17 fits, 18 does not.
    send(url, "x" * 1000, message_attributes={"k": MessageAttribute("String", "v" * 17)})
    raises(
        lambda: send(
            url, "x" * 1000, message_attributes={"k": MessageAttribute("String", "v" * 18)}
        ),
        InvalidParameterValue,
        "MessageAttributes",
    )


def send_with(**attributes: MessageAttribute) -> Call:
    return lambda c, u: c.queues.send_message(u, "x", message_attributes=attributes)


# pytest.param(call on a queue URL, error, field the message names); the survival test
# replays them all.
MESSAGE_CASES = [
    pytest.param(
        lambda c, u: c.queues.send_message(u, "x", message_attributes=attrs(11)),
        InvalidParameterValue,
        "message attributes",
        id="11-attributes",
    ),
    pytest.param(
        lambda c, u: c.queues.send_message(u, "a\x00b"),
        InvalidMessageContents,
        "MessageBody",
        id="nul-in-body",
    ),
    pytest.param(
        lambda c, u: c.queues.send_message(u, "a\x0bb"),
        InvalidMessageContents,
        "MessageBody",
        id="vertical-tab-in-body",
    ),
    pytest.param(
        lambda c, u: c.queues.send_message(u, "a\ufffeb"),
        InvalidMessageContents,
        "MessageBody",
        id="U+FFFE-in-body",
    ),
    pytest.param(
        lambda c, u: c.queues.send_message(u, ""),
        MissingParameter,
        "MessageBody",
        id="empty-body",
    ),
    pytest.param(
        send_with(k=MessageAttribute("Decimal", "1")),
        InvalidParameterValue,
        "'k'",
        id="bad-attribute-type",
    ),
    pytest.param(
        send_with(n=MessageAttribute("Number", "twelve")),
        InvalidParameterValue,
        "'n'",
        id="bad-number",
    ),
    pytest.param(
        send_with(s=MessageAttribute("String", "a\x00")),
        InvalidParameterValue,
        "'s'",
        id="bad-attribute-chars",
    ),
    pytest.param(
        send_with(**{"AWS.trace": MessageAttribute("String", "v")}),
        InvalidParameterValue,
        "AWS.trace",
        id="reserved-attribute-name",
    ),
    pytest.param(
        lambda c, u: c.queues.send_message(u, "x", delay_seconds=901),
        InvalidParameterValue,
        "DelaySeconds",
        id="delay-901",
    ),
    pytest.param(
        lambda c, u: c.queues.send_message(u, "x", delay_seconds=-1),
        InvalidParameterValue,
        "DelaySeconds",
        id="delay-negative",
    ),
    pytest.param(
        lambda c, u: c.queues.send_message(u, "x", message_deduplication_id="d1"),
        InvalidParameterValue,
        "MessageDeduplicationId",
        id="dedup-id-on-standard",
    ),
    pytest.param(
        lambda c, u: c.queues.receive_message(u, max_number_of_messages=11),
        InvalidParameterValue,
        "MaxNumberOfMessages",
        id="receive-11",
    ),
    pytest.param(
        lambda c, u: c.queues.receive_message(u, wait_time_seconds=21),
        InvalidParameterValue,
        "WaitTimeSeconds",
        id="receive-wait-21",
    ),
    pytest.param(
        lambda c, u: c.queues.receive_message(u, wait_time_seconds=-1),
        InvalidParameterValue,
        "WaitTimeSeconds",
        id="receive-wait-negative",
    ),
    pytest.param(
        lambda c, u: c.queues.receive_message(u, visibility_timeout=43_201),
        InvalidParameterValue,
        "VisibilityTimeout",
        id="receive-visibility-43201",
    ),
    pytest.param(
        lambda c, u: c.queues.receive_message(u, visibility_timeout=-1),
        InvalidParameterValue,
        "VisibilityTimeout",
        id="receive-visibility-negative",
    ),
    pytest.param(
        lambda c, u: c.queues.delete_message(u, ""),
        MissingParameter,
        "ReceiptHandle",
        id="delete-empty-handle",
    ),
    pytest.param(
        lambda c, u: c.queues.change_message_visibility(u, "", 1),
        MissingParameter,
        "ReceiptHandle",
        id="visibility-empty-handle",
    ),
    pytest.param(
        lambda c, u: c.queues.send_message_batch(u, [{"id": "no spaces!", "message_body": "x"}]),
        InvalidBatchEntryId,
        "Id",
        id="batch-bad-entry-id",
    ),
]


@pytest.mark.parametrize(("call", "error", "field"), MESSAGE_CASES)
def test_bad_message_request(
    client: Client, make_queue: MakeQueue, call: Call, error: type[EventplaneError], field: str
) -> None:
    url = make_queue()
    raises(lambda: call(client, url), error, field)


def test_receive_zero_messages_is_invalid(client: Client, make_queue: MakeQueue) -> None:
    url = make_queue()
    raises(
        lambda: client.queues.receive_message(url, max_number_of_messages=0),
        InvalidParameterValue,
        "MaxNumberOfMessages",
    )


def test_ten_attributes_are_fine(client: Client, make_queue: MakeQueue) -> None:
    url = make_queue()
    sent = client.queues.send_message(url, "x", message_attributes=attrs(10))
    assert sent.md5_of_message_attributes is not None


def test_change_visibility_out_of_range(client: Client, make_queue: MakeQueue) -> None:
    url = make_queue()
    client.queues.send_message(url, "x")
    (m,) = client.queues.receive_message(url, wait_time_seconds=10)
    for bad in (43_201, -1):
        raises(
            lambda bad=bad: client.queues.change_message_visibility(url, m.receipt_handle, bad),
            InvalidParameterValue,
            "VisibilityTimeout",
        )
    # The handle still works: nothing was changed by the bad calls.
    client.queues.change_message_visibility(url, m.receipt_handle, 0)


def test_empty_receipt_handle_in_batches(client: Client, make_queue: MakeQueue) -> None:
    url = make_queue()
    deleted = client.queues.delete_message_batch(url, [{"id": "e", "receipt_handle": ""}])
    changed = client.queues.change_message_visibility_batch(
        url, [{"id": "e", "receipt_handle": "", "visibility_timeout": 1}]
    )
    for result in (deleted, changed):
        assert result.successful == []
        (failure,) = result.failed
        assert (failure.id, failure.code, failure.sender_fault) == ("e", "MissingParameter", True)
        assert "ReceiptHandle" in failure.message


def test_malformed_queue_url(client: Client) -> None:
    raises(
        lambda: client.queues.send_message("not a queue url!", "x"),
        InvalidParameterValue,
        "QueueUrl",
    )


# --- unknown queues ---------------------------------------------------------------------------

UNKNOWN_QUEUE_CALLS: dict[str, Call] = {
    "get_queue_url": lambda c, u: c.queues.get_queue_url(u.rsplit("/", 1)[-1]),
    "delete_queue": lambda c, u: c.queues.delete_queue(u),
    "get_queue_attributes": lambda c, u: c.queues.get_queue_attributes(u),
    "set_queue_attributes": lambda c, u: c.queues.set_queue_attributes(u, {"DelaySeconds": 1}),
    "purge_queue": lambda c, u: c.queues.purge_queue(u),
    "send_message": lambda c, u: c.queues.send_message(u, "x"),
    "send_message_batch": lambda c, u: c.queues.send_message_batch(
        u, [{"id": "a", "message_body": "x"}]
    ),
    "receive_message": lambda c, u: c.queues.receive_message(u),
    "delete_message": lambda c, u: c.queues.delete_message(u, "handle"),
    "delete_message_batch": lambda c, u: c.queues.delete_message_batch(
        u, [{"id": "a", "receipt_handle": "handle"}]
    ),
    "change_message_visibility": lambda c, u: c.queues.change_message_visibility(u, "handle", 1),
    "change_message_visibility_batch": lambda c, u: c.queues.change_message_visibility_batch(
        u, [{"id": "a", "receipt_handle": "handle", "visibility_timeout": 1}]
    ),
    "list_dead_letter_source_queues": lambda c, u: c.queues.list_dead_letter_source_queues(u),
}


@pytest.mark.parametrize("call", list(UNKNOWN_QUEUE_CALLS.values()), ids=list(UNKNOWN_QUEUE_CALLS))
def test_unknown_queue(client: Client, call: Call) -> None:
    raises(
        lambda: call(client, f"eventplane://queues/{unique_name('missing')}"),
        QueueDoesNotExist,
        "queue",
    )


MOVE_TASK_CALLS: dict[str, Call] = {
    "start_message_move_task": lambda c, arn: c.queues.start_message_move_task(arn),
    "list_message_move_tasks": lambda c, arn: c.queues.list_message_move_tasks(arn),
}


@pytest.mark.parametrize("call", list(MOVE_TASK_CALLS.values()), ids=list(MOVE_TASK_CALLS))
def test_unknown_move_task_source(client: Client, call: Call) -> None:
    arn = f"arn:aws:sqs:local:000000000000:{unique_name('missing')}"
    raises(lambda: call(client, arn), ResourceNotFound, "SourceArn")


# --- nothing breaks ---------------------------------------------------------------------------


def test_server_still_serves_after_bad_requests(
    client: Client, make_queue: MakeQueue, eventplane_server: EventplaneProcess
) -> None:
    url = make_queue()
    kept = client.queues.send_message(url, "sent before the bad requests")

    missing = f"eventplane://queues/{unique_name('missing')}"
    for case in MESSAGE_CASES:
        call, error, _ = case.values
        with pytest.raises(error):
            call(client, url)
    for call in UNKNOWN_QUEUE_CALLS.values():
        with pytest.raises(QueueDoesNotExist):
            call(client, missing)
    for attribute, value in OUT_OF_RANGE:
        with pytest.raises(InvalidAttributeValue):
            client.queues.set_queue_attributes(url, {attribute: value})

    with grpc.insecure_channel(eventplane_server.endpoint) as ch:
        health = health_pb2_grpc.HealthStub(ch)
        status = health.Check(health_pb2.HealthCheckRequest(), timeout=5).status
    assert status == health_pb2.HealthCheckResponse.SERVING
    (m,) = client.queues.receive_message(url, wait_time_seconds=10)
    assert (m.message_id, m.body) == (kept.message_id, "sent before the bad requests")
    assert client.queues.get_queue_attributes(url, list(DEFAULTS)) == DEFAULTS
