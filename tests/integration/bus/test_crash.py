"""SIGKILL mid-stream: every event PutEvents accepted reaches the rule's queue exactly once.

Two replicas share the rule dispatcher's consumer group; one is killed while events
stream in, and restarted. The dispatcher writes queue records and consumed offsets in one
Kafka transaction, so the dead replica's half-done batch is aborted and redone by the
next owner of its partitions, never delivered twice.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.testing import EventplaneProcess, eventually

from .support import Resources, events, start_replicas, stop_all, unique

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOTAL = 300
PER_CALL = 3


@pytest.fixture
def replicas(eventplane_kafka: str) -> Iterator[tuple[EventplaneProcess, EventplaneProcess]]:
    a, b = start_replicas(eventplane_kafka)
    try:
        yield a, b
    finally:
        stop_all([a, b])


@pytest.mark.timeout(240)
def test_every_accepted_event_reaches_the_queue_once_across_a_sigkill(
    replicas: tuple[EventplaneProcess, EventplaneProcess],
) -> None:
    a, b = replicas
    with a.client(timeout=10) as ca, b.client(timeout=10) as cb:
        res = Resources(cb)  # b is never killed
        try:
            bus = res.bus()
            source = unique("shop")
            q = res.queue(VisibilityTimeout="120")
            res.rule(bus, [{"Id": "q", "Arn": q.arn}], pattern={"source": [source]})
            accepted: list[str] = []
            failures: list[BaseException] = []

            # A replica that refused a call is left alone for a while: each call to a dead
            # one takes the SDK's own UNAVAILABLE retries (about 2 s) to fail.
            resting: dict[int, float] = {}

            def put(clients: list[Client], n: int) -> None:
                entries = [
                    {
                        "Source": source,
                        "DetailType": "Numbered",
                        "Detail": {"n": n + i},
                        "EventBusName": bus,
                    }
                    for i in range(PER_CALL)
                ]
                deadline = time.monotonic() + 60
                while True:
                    awake = [c for c in clients if resting.get(id(c), 0.0) < time.monotonic()]
                    for c in awake or clients:
                        try:
                            result = c.events.put_events(entries)
                        except EventplaneError as exc:
                            if not exc.retriable:
                                raise
                            resting[id(c)] = time.monotonic() + 3
                            continue
                        # An entry that failed (InternalFailure) was not accepted: skip it.
                        accepted.extend(e.event_id for e in result.entries if e.event_id)
                        return
                    assert time.monotonic() < deadline, "no replica accepted events for 60 s"
                    time.sleep(0.1)

            def produce() -> None:
                try:
                    for call, n in enumerate(range(0, TOTAL, PER_CALL)):
                        put([ca, cb] if call % 2 == 0 else [cb, ca], n)
                        time.sleep(0.01)  # a stream, not a burst: the kill lands inside it
                except BaseException as exc:
                    failures.append(exc)

            producer = threading.Thread(target=produce)
            producer.start()
            try:
                eventually(lambda: len(accepted) >= TOTAL // 3, timeout=60)
                a.kill()  # no flush, no commit: its open transaction dies with it
                eventually(lambda: len(accepted) >= 2 * TOTAL // 3, timeout=60)
                a.restart()  # same ports, same transactional id: fences the dead one
            finally:
                producer.join(timeout=120)
            assert not failures, failures
            assert not producer.is_alive()
            assert len(accepted) == TOTAL

            # message id -> event id: a queue redelivery (same message id) is not a second
            # delivery by the bus, which would be a new message with the same event id.
            received: dict[str, str] = {}

            def drained() -> bool:
                try:
                    batch = cb.queues.receive_message(
                        q.url, max_number_of_messages=10, wait_time_seconds=1
                    )
                except EventplaneError as exc:
                    if not exc.retriable:
                        raise
                    return False
                for m, event in zip(batch, events(batch), strict=True):
                    received[m.message_id] = event["id"]
                    with contextlib.suppress(EventplaneError):
                        cb.queues.delete_message(q.url, m.receipt_handle)
                return set(accepted) <= set(received.values())

            eventually(drained, timeout=120, interval=0.0, message="accepted events were lost")
            for _ in range(3):  # a last look (1 s each) for duplicates still on their way
                drained()
            twice = [e for e, n in Counter(received.values()).items() if n > 1]
            assert twice == [], f"{len(twice)} events delivered more than once"
        finally:
            res.cleanup()
