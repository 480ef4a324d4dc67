"""Dead-letter queues: RedrivePolicy moves poison messages out, move tasks bring them back."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from eventplane.client import Client, MessageAttribute, MessageMoveTask
from eventplane.errors import InvalidParameterValue
from eventplane.errors.queues import InvalidAttributeValue
from eventplane.testing import eventually

from .support import counts, expect_counts, receive_all

pytestmark = pytest.mark.integration

NewQueue = Callable[..., str]
MakeQueue = Callable[..., str]


def arn(client: Client, url: str) -> str:
    return client.queues.get_queue_attributes(url, ["QueueArn"])["QueueArn"]


def redrive(dlq_arn: str, max_receive_count: int) -> str:
    return json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count})


def latest_task(client: Client, dlq_arn: str, *statuses: str) -> MessageMoveTask:
    """The newest move task of ``dlq_arn``, once its status is one of ``statuses``."""

    def check() -> MessageMoveTask:
        tasks = client.queues.list_message_move_tasks(dlq_arn)
        assert len(tasks) == 1
        assert tasks[0].status in statuses, tasks[0]
        return tasks[0]

    return eventually(check, timeout=15)


def dead_letter(client: Client, src: str, dlq: str, bodies: list[str]) -> None:
    """Send ``bodies`` to ``src`` (maxReceiveCount=1, VisibilityTimeout=1) and drive them into
    ``dlq``: receive each once, let the lease run out, and the next receive moves them."""
    for body in bodies:
        client.queues.send_message(
            src, body, message_attributes={"body": MessageAttribute("String", body)}
        )
        time.sleep(0.02)  # distinct SentTimestamps: "oldest" must be well defined
    receive_all(client, src, len(bodies))
    assert client.queues.receive_message(src, max_number_of_messages=10, wait_time_seconds=2) == []
    expect_counts(client, dlq, visible=len(bodies))
    expect_counts(client, src)


# --- RedrivePolicy --------------------------------------------------------------------------


def test_message_moves_to_dlq_after_max_receive_count(client: Client, new_queue: NewQueue) -> None:
    dlq = new_queue()
    dlq_arn = arn(client, dlq)
    src = new_queue(VisibilityTimeout=1, RedrivePolicy=redrive(dlq_arn, 2))
    attributes = {
        "kind": MessageAttribute("String", string_value="poison"),
        "n": MessageAttribute("Number", string_value="7"),
        "raw": MessageAttribute("Binary", binary_value=b"\x00\xff"),
    }
    sent = client.queues.send_message(src, "poison pill", message_attributes=attributes)

    sent_timestamp = None
    for n in (1, 2):  # each lease runs out after 1 s; the long poll waits for it
        (m,) = client.queues.receive_message(
            src, wait_time_seconds=5, message_system_attribute_names=["All"]
        )
        assert m.message_id == sent.message_id
        assert m.attributes["ApproximateReceiveCount"] == str(n)
        sent_timestamp = m.attributes["SentTimestamp"]

    # The receive after the second lease runs out moves the message instead of delivering it.
    assert client.queues.receive_message(src, max_number_of_messages=10, wait_time_seconds=3) == []
    expect_counts(client, src)

    (d,) = client.queues.receive_message(
        dlq,
        wait_time_seconds=5,
        message_attribute_names=["All"],
        message_system_attribute_names=["All"],
    )
    assert (d.message_id, d.body) == (sent.message_id, "poison pill")
    assert d.message_attributes == attributes
    assert d.md5_of_message_attributes == sent.md5_of_message_attributes
    assert d.md5_of_body == sent.md5_of_message_body
    assert d.attributes["DeadLetterQueueSourceArn"] == arn(client, src)
    assert d.attributes["SentTimestamp"] == sent_timestamp  # retention counts from the send

    assert client.queues.list_dead_letter_source_queues(dlq) == [src]
    assert client.queues.list_dead_letter_source_queues(src) == []


def test_redrive_policy_to_missing_queue(client: Client, make_queue: MakeQueue) -> None:
    missing = "arn:aws:sqs:local:000000000000:no-such-dlq-4f1c2a"
    with pytest.raises(InvalidAttributeValue) as info:
        make_queue(RedrivePolicy=redrive(missing, 3))
    assert "RedrivePolicy" in info.value.message

    url = make_queue()
    with pytest.raises(InvalidAttributeValue) as info:
        client.queues.set_queue_attributes(url, {"RedrivePolicy": redrive(missing, 3)})
    assert "RedrivePolicy" in info.value.message
    assert "RedrivePolicy" not in client.queues.get_queue_attributes(url)


def test_redrive_policy_needs_dlq_of_the_same_type(client: Client, make_queue: MakeQueue) -> None:
    standard_dlq = arn(client, make_queue())
    fifo_dlq = arn(client, make_queue(fifo=True))

    with pytest.raises(InvalidAttributeValue) as info:
        make_queue(fifo=True, RedrivePolicy=redrive(standard_dlq, 3))
    assert "RedrivePolicy" in info.value.message
    with pytest.raises(InvalidAttributeValue) as info:
        make_queue(RedrivePolicy=redrive(fifo_dlq, 3))
    assert "RedrivePolicy" in info.value.message


@pytest.mark.parametrize("count", [0, 1001])
def test_redrive_policy_max_receive_count_range(
    client: Client, make_queue: MakeQueue, count: int
) -> None:
    dlq_arn = arn(client, make_queue())
    with pytest.raises(InvalidAttributeValue) as info:
        make_queue(RedrivePolicy=redrive(dlq_arn, count))
    assert "maxReceiveCount" in info.value.message


def test_redrive_policy_round_trips(client: Client, make_queue: MakeQueue) -> None:
    dlq_arn = arn(client, make_queue())
    url = make_queue(RedrivePolicy=redrive(dlq_arn, 5))
    policy = json.loads(client.queues.get_queue_attributes(url, ["RedrivePolicy"])["RedrivePolicy"])
    assert policy == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}


# --- message move tasks ----------------------------------------------------------------------


def test_move_task_returns_messages_to_their_source(client: Client, new_queue: NewQueue) -> None:
    dlq = new_queue()
    dlq_arn = arn(client, dlq)
    src = new_queue(VisibilityTimeout=1, RedrivePolicy=redrive(dlq_arn, 1))
    bodies = [f"m{i}" for i in range(4)]
    dead_letter(client, src, dlq, bodies)

    handle = client.queues.start_message_move_task(dlq_arn)
    assert handle

    task = latest_task(client, dlq_arn, "COMPLETED")
    assert task.approximate_number_of_messages_moved == 4
    assert task.approximate_number_of_messages_to_move == 4
    assert task.source_arn == dlq_arn
    assert task.destination_arn is None
    assert task.task_handle is None  # only a RUNNING task has one
    assert task.started_timestamp > 0

    back = receive_all(client, src, 4, message_attribute_names=["All"], visibility_timeout=30)
    assert sorted(m.body for m in back) == bodies
    for m in back:
        assert m.message_attributes == {"body": MessageAttribute("String", m.body)}
    expect_counts(client, dlq)


def test_move_task_moves_oldest_first(client: Client, new_queue: NewQueue) -> None:
    dlq = new_queue()  # several partitions, as by default
    dlq_arn = arn(client, dlq)
    # One partition: this queue hands messages out in the order they arrived, so the order
    # we receive them back in is the order the task moved them in.
    src = new_queue(VisibilityTimeout=1, RedrivePolicy=redrive(dlq_arn, 1), Partitions=1)
    bodies = [f"m{i}" for i in range(6)]
    dead_letter(client, src, dlq, bodies)

    client.queues.start_message_move_task(dlq_arn)
    latest_task(client, dlq_arn, "COMPLETED")

    back = receive_all(client, src, 6, visibility_timeout=30)
    assert [m.body for m in back] == bodies


def test_move_task_to_a_destination(client: Client, new_queue: NewQueue) -> None:
    dlq = new_queue()
    dlq_arn = arn(client, dlq)
    src = new_queue(RedrivePolicy=redrive(dlq_arn, 3))
    elsewhere = new_queue()
    elsewhere_arn = arn(client, elsewhere)
    for i in range(3):
        client.queues.send_message(dlq, f"d{i}")
    expect_counts(client, dlq, visible=3)

    client.queues.start_message_move_task(dlq_arn, destination_arn=elsewhere_arn)

    task = latest_task(client, dlq_arn, "COMPLETED")
    assert task.destination_arn == elsewhere_arn
    assert task.approximate_number_of_messages_moved == 3
    assert sorted(m.body for m in receive_all(client, elsewhere, 3)) == ["d0", "d1", "d2"]
    expect_counts(client, dlq)
    expect_counts(client, src)


def test_cancel_a_running_move_task(client: Client, new_queue: NewQueue) -> None:
    dlq = new_queue()
    dlq_arn = arn(client, dlq)
    src = new_queue(RedrivePolicy=redrive(dlq_arn, 3))
    for i in range(5):
        client.queues.send_message(dlq, f"slow-{i}")
    expect_counts(client, dlq, visible=5)

    client.queues.start_message_move_task(
        dlq_arn, destination_arn=arn(client, src), max_number_of_messages_per_second=1
    )
    running = latest_task(client, dlq_arn, "RUNNING")
    assert running.max_number_of_messages_per_second == 1
    assert running.task_handle is not None
    # Let it move one message, so the cancel lands in the middle of the run.
    eventually(lambda: counts(client, src)[0] >= 1, timeout=5)

    client.queues.cancel_message_move_task(running.task_handle)
    assert client.queues.list_message_move_tasks(dlq_arn)[0].status in ("CANCELLING", "CANCELLED")

    task = latest_task(client, dlq_arn, "CANCELLED")
    moved = task.approximate_number_of_messages_moved
    assert 1 <= moved < 5
    # Nothing lost, nothing doubled: what was moved is in the source, the rest stays put.
    expect_counts(client, src, visible=moved)
    expect_counts(client, dlq, visible=5 - moved)


def test_move_task_needs_a_dead_letter_queue(client: Client, make_queue: MakeQueue) -> None:
    plain_arn = arn(client, make_queue())
    with pytest.raises(InvalidParameterValue) as info:
        client.queues.start_message_move_task(plain_arn)
    assert "Dead Letter Queue" in info.value.message
    assert client.queues.list_message_move_tasks(plain_arn) == []


def test_move_task_rate_out_of_range(client: Client, make_queue: MakeQueue) -> None:
    dlq = make_queue()
    dlq_arn = arn(client, dlq)
    make_queue(RedrivePolicy=redrive(dlq_arn, 3))
    with pytest.raises(InvalidParameterValue) as info:
        client.queues.start_message_move_task(dlq_arn, max_number_of_messages_per_second=501)
    assert "MaxNumberOfMessagesPerSecond" in info.value.message
