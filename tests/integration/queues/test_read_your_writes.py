"""Send, then receive at once (a short poll): the message is there.

SQS users write exactly that (and the emulators they test with answer it); a send is
acknowledged once Kafka has the record, a few milliseconds before its owner has read
it, so without the read-your-writes wait a short poll right after a send came back
empty. Each round sends one message and receives with no wait at all.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from eventplane.client import Client

ROUNDS = 100


@pytest.mark.parametrize("fifo", [False, True], ids=["standard", "fifo"])
def test_a_short_poll_right_after_a_send_returns_the_message(
    client: Client, make_queue: Callable[..., str], fifo: bool
) -> None:
    url = make_queue(fifo=fifo)
    # Served: the new queue's partitions reached their owner (a probe made the trip).
    probe = {"message_group_id": "g", "message_deduplication_id": "probe"} if fifo else {}
    client.queues.send_message(url, "probe", **probe)
    (first,) = client.queues.receive_message(url, wait_time_seconds=10)
    client.queues.delete_message(url, first.receipt_handle)
    missed = []
    for i in range(ROUNDS):
        extra = {"message_group_id": "g", "message_deduplication_id": f"d{i}"} if fifo else {}
        client.queues.send_message(url, f"m{i}", **extra)
        got = client.queues.receive_message(url, wait_time_seconds=0)
        if [m.body for m in got] != [f"m{i}"]:
            missed.append((i, [m.body for m in got]))
        for m in got:
            client.queues.delete_message(url, m.receipt_handle)
    assert missed == []


def test_a_batch_sent_is_received_by_one_short_poll_at_once(
    client: Client, new_queue: Callable[..., str]
) -> None:
    url = new_queue()
    bodies = {f"b{i}" for i in range(10)}
    client.queues.send_message_batch(url, [{"id": b, "message_body": b} for b in sorted(bodies)])
    # Every message is in a partition this server owns and has read: one short poll
    # (taking from every partition in turn) returns the whole batch.
    got = client.queues.receive_message(url, max_number_of_messages=10, wait_time_seconds=0)
    assert {m.body for m in got} == bodies


@pytest.mark.parametrize("fifo", [False, True], ids=["standard", "fifo"])
def test_create_send_and_a_short_poll_at_once_find_the_message(
    client: Client, make_queue: Callable[..., str], fifo: bool
) -> None:
    # No probe, no wait: the receive itself waits until the new queue is served.
    for i in range(3):
        url = make_queue(fifo=fifo)
        extra = {"message_group_id": "g", "message_deduplication_id": "d"} if fifo else {}
        client.queues.send_message(url, f"first {i}", **extra)
        got = client.queues.receive_message(url, wait_time_seconds=0)
        assert [m.body for m in got] == [f"first {i}"]
