"""The queue workload the fault scenarios run, and the invariants checked from what it saw.

A producer thread sends to a standard and a FIFO queue (three message groups); a consumer
thread receives and deletes from both. A send that fails is retried until it succeeds,
with the same deduplication id on the FIFO queue, as AWS asks of FIFO producers (and as
its SDKs do): the next message of the group is sent only once this one was accepted.
Invariants, checked only from the client's side:
- no acknowledged send is lost (every acked body is received at least once);
- FIFO group order is never violated (per group, first deliveries never go backwards);
- duplicates are bounded by the calls that failed while the fault lasted (each failed
  receive may strand up to 10 claimed messages, each failed delete one, and each failed
  standard send may have been written before it failed) and by the deletes that came
  after the message's visibility timeout ended (on a slow link: SQS may deliver such a
  message again, and so may we);
- the platform recovers by itself once the fault ends (recovery time printed).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.testing import eventually

GROUPS = 3
VISIBILITY = 3  # seconds; a stranded message comes back this fast


@dataclass
class Tally:
    acked: set[str] = field(default_factory=set)
    retried_sends: int = 0
    deliveries: list[str] = field(default_factory=list)
    failed_receives: int = 0
    failed_deletes: int = 0
    late_deletes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def fifo_order_violations(deliveries: list[str]) -> int:
    """First deliveries per group that come after a later message of their group.

    A redelivery of an earlier message is not a violation: a consumer that deleted
    message k+1 but lost the delete of k gets k back once its visibility ends, as
    in SQS. What must never happen is k+1 being handed out before k ever was.
    """
    highest: dict[str, int] = defaultdict(lambda: -1)
    seen: set[str] = set()
    violations = 0
    for body in deliveries:
        if not body.startswith("fifo-") or body in seen:
            continue
        seen.add(body)
        _, group, seq = body.split("-")
        if int(seq) < highest[group]:
            violations += 1
        highest[group] = max(highest[group], int(seq))
    return violations


class QueueWorkload:
    """Sends ``count`` messages to each queue while receiving and deleting them."""

    def __init__(self, client: Client, count: int, *, prefix: str = "fault") -> None:
        self.client = client
        self.count = count
        self.name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        attributes = {"VisibilityTimeout": str(VISIBILITY)}
        self.urls = {
            "std": client.queues.create_queue(self.name, attributes),
            "fifo": client.queues.create_queue(
                f"{self.name}.fifo", {"FifoQueue": "true", **attributes}
            ),
        }
        self.tally = Tally()
        self._stop = threading.Event()
        self._producer = threading.Thread(target=self._produce)
        self._consumer = threading.Thread(target=self._consume)

    def start(self) -> QueueWorkload:
        self._producer.start()
        self._consumer.start()
        return self

    def _produce(self) -> None:
        tally = self.tally
        for i in range(self.count):
            sends = [
                (self.urls["std"], f"std-{i}", None),
                (self.urls["fifo"], f"fifo-{i % GROUPS}-{i}", i),
            ]
            for url, body, seq in sends:
                deadline = time.monotonic() + 120
                while True:
                    try:
                        if seq is None:
                            self.client.queues.send_message(url, body)
                        else:
                            self.client.queues.send_message(
                                url,
                                body,
                                message_group_id=f"g{seq % GROUPS}",
                                message_deduplication_id=body,
                            )
                        break
                    except EventplaneError:
                        tally.retried_sends += 1
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.2)
                with tally.lock:
                    tally.acked.add(body)

    def _consume(self) -> None:
        tally = self.tally
        while not self._stop.is_set():
            for url in self.urls.values():
                asked = time.monotonic()
                try:
                    messages = self.client.queues.receive_message(
                        url, max_number_of_messages=10, wait_time_seconds=1
                    )
                except EventplaneError:
                    tally.failed_receives += 1
                    continue
                for message in messages:
                    with tally.lock:
                        tally.deliveries.append(message.body)
                    if time.monotonic() - asked >= VISIBILITY:
                        tally.late_deletes += 1
                    try:
                        self.client.queues.delete_message(url, message.receipt_handle)
                    except EventplaneError:
                        tally.failed_deletes += 1

    def recovery_seconds(self, since: float, timeout: float = 60) -> float:
        """How long after ``since`` (monotonic) the server answered a call again."""

        def answers() -> bool:
            try:
                return bool(self.client.queues.get_queue_url(self.name))
            except EventplaneError as exc:
                raise AssertionError(f"not answering yet: {exc}") from exc

        eventually(answers, timeout=timeout)
        return time.monotonic() - since

    def finish(
        self, *, faults: int, recovery: float, timeout: float = 60, more_duplicates: int = 0
    ) -> None:
        """Let the producer end and every acked message arrive, print the table, check it.

        ``more_duplicates`` widens the bound for a fault that makes in-flight messages
        visible early by design (a clock jumping forward past their visibility timeout).
        """
        self._producer.join(180)
        assert not self._producer.is_alive(), "the producer never finished"
        tally = self.tally

        def all_acked_seen() -> bool:
            with tally.lock:
                missing = tally.acked - set(tally.deliveries)
            assert not missing, f"{len(missing)} acked messages not yet received"
            return True

        try:
            eventually(all_acked_seen, timeout=timeout + VISIBILITY, interval=0.5)
            time.sleep(VISIBILITY + 1)  # let stranded claims come back, to count them
        finally:
            self._stop.set()
            self._consumer.join(30)
        received = set(tally.deliveries)
        lost = len(tally.acked - received)
        duplicated = len(tally.deliveries) - len(received)
        violations = fifo_order_violations(tally.deliveries)
        bound = (
            10 * tally.failed_receives
            + tally.failed_deletes
            + tally.retried_sends
            + tally.late_deletes
            + more_duplicates
        )
        print(
            "\nfaults | acked | retried sends | lost | duplicated (bound) | order violations"
            " | recovery s\n"
            f"{faults:6d} | {len(tally.acked):5d} | {tally.retried_sends:13d} | {lost:4d} |"
            f" {duplicated:10d} ({bound:3d}) | {violations:16d} | {recovery:.2f}"
        )
        assert lost == 0
        assert violations == 0
        assert duplicated <= bound
        assert len(tally.acked) > 0
