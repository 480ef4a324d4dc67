"""SIGSTOP a replica longer than the Kafka session timeout, let the other take over, SIGCONT.

The paused replica comes back believing it still owns its partitions. Fencing
means it must not act as their owner: a message deleted through the new owner
while it slept must never be handed out again (through either replica), nothing
acknowledged is lost, and sends through the resumed replica reach the new owner.
Checked from what the clients saw; a table is printed.
"""

from __future__ import annotations

import contextlib
import signal
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from eventplane.errors import EventplaneError
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.slow]

T = TypeVar("T")
SESSION_TIMEOUT = 6.0  # session.timeout.ms of the server's consumer groups


def _retrying(call: Callable[[], T], timeout: float = 60) -> T:
    result: list[T] = []

    def attempt() -> bool:
        try:
            result.append(call())
        except EventplaneError as exc:
            raise AssertionError(f"still failing: {exc}") from exc
        return True

    eventually(attempt, timeout=timeout, interval=0.2)
    return result[0]


def _drain(clients: list[Any], url: str, want: set[str], seen: list[str], timeout: float) -> None:
    """Receive and delete through every client until ``want`` has all been seen."""

    def step() -> bool:
        for client in clients:
            try:
                messages = client.queues.receive_message(
                    url, max_number_of_messages=10, wait_time_seconds=1
                )
            except EventplaneError:
                continue
            for m in messages:
                seen.append(m.body)
                with contextlib.suppress(EventplaneError):
                    client.queues.delete_message(url, m.receipt_handle)
        missing = want - set(seen)
        assert not missing, f"{len(missing)} acked messages not received yet"
        return True

    eventually(step, timeout=timeout, interval=0.1)


def test_paused_replica_does_not_act_as_owner_after_resuming(eventplane_kafka: str) -> None:
    cluster = unique_cluster()
    a = EventplaneProcess(eventplane_kafka, cluster=cluster).start()
    b = EventplaneProcess(eventplane_kafka, cluster=cluster).start()
    assert a.proc is not None
    try:
        with a.client(timeout=5) as ca, b.client(timeout=5) as cb:
            url = ca.queues.create_queue(
                f"pause-{uuid.uuid4().hex[:8]}",
                attributes={"Partitions": "4", "VisibilityTimeout": "30"},
            )
            before = {f"before-{i}" for i in range(40)}
            for body in sorted(before):
                ca.queues.send_message(url, body)

            a.proc.send_signal(signal.SIGSTOP)
            paused = time.monotonic()
            during = {f"during-{i}" for i in range(20)}
            for body in sorted(during):
                _retrying(lambda body=body: cb.queues.send_message(url, body))
            takeover = time.monotonic() - paused
            seen: list[str] = []
            _drain([cb], url, before | during, seen, timeout=90)
            deleted = set(seen)
            # Stay paused well past the session timeout before resuming.
            time.sleep(max(0.0, SESSION_TIMEOUT * 1.5 - (time.monotonic() - paused)))
            a.proc.send_signal(signal.SIGCONT)
            resumed = time.monotonic()

            after = {f"after-{i}" for i in range(20)}
            for body in sorted(after):
                _retrying(lambda body=body: ca.queues.send_message(url, body))
            recovery = time.monotonic() - resumed
            later: list[str] = []
            _drain([ca, cb], url, after, later, timeout=90)
            # Give a zombie owner the chance to hand out what it still holds in memory.
            end = time.monotonic() + SESSION_TIMEOUT
            while time.monotonic() < end:
                for client in (ca, cb):
                    with contextlib.suppress(EventplaneError):
                        later.extend(
                            m.body
                            for m in client.queues.receive_message(
                                url, max_number_of_messages=10, wait_time_seconds=1
                            )
                        )
    finally:
        if a.proc is not None and a.proc.poll() is None:
            a.proc.send_signal(signal.SIGCONT)
        b.stop()
        a.stop()

    acked = before | during | after
    resurrected = [body for body in later if body in deleted]
    lost = acked - set(seen) - set(later)
    print(
        "\nfaults | acked | lost | resurrected after delete | sends while paused s | recovery s\n"
        f"{1:6d} | {len(acked):5d} | {len(lost):4d} | {len(resurrected):24d} |"
        f" {takeover:20.2f} | {recovery:10.2f}"
    )
    assert not lost
    assert not resurrected, f"the resumed replica served deleted messages: {resurrected[:5]}"
