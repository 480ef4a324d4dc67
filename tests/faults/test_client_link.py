"""A queue workload whose client-to-server link is cut and restored through a TcpProxy.

Invariants, checked only from what the client saw:
- no acknowledged send is lost (every acked body is received at least once);
- FIFO group order is never violated (per group, first deliveries never go backwards);
- duplicates are bounded by the calls in flight when a link broke (each failed
  receive may strand up to 10 claimed messages, each failed delete one);
- the link recovers by itself once restored (recovery time printed).
Sends whose answer was lost are "unknown": they may or may not arrive, never counted
as lost. The CI variant cuts the link; the long one (make faults) adds delay and
half-open links and runs longer.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.testing import EventplaneProcess, TcpProxy, eventually, unique_cluster

pytestmark = [pytest.mark.integration, pytest.mark.faults]

GROUPS = 3
VISIBILITY = 3  # seconds; a stranded message comes back this fast


@dataclass
class Tally:
    acked: set[str] = field(default_factory=set)
    unknown_sends: int = 0
    deliveries: list[str] = field(default_factory=list)
    failed_receives: int = 0
    failed_deletes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    with EventplaneProcess(eventplane_kafka, cluster=unique_cluster()) as proc:
        yield proc


def _produce(client: Client, urls: dict[str, str], count: int, tally: Tally) -> None:
    for i in range(count):
        sends = [(urls["std"], f"std-{i}", None), (urls["fifo"], f"fifo-{i % GROUPS}-{i}", i)]
        for url, body, seq in sends:
            try:
                if seq is None:
                    client.queues.send_message(url, body)
                else:
                    client.queues.send_message(
                        url,
                        body,
                        message_group_id=f"g{seq % GROUPS}",
                        message_deduplication_id=body,
                    )
            except EventplaneError:
                tally.unknown_sends += 1
                continue
            with tally.lock:
                tally.acked.add(body)


def _consume(client: Client, urls: dict[str, str], tally: Tally, stop: threading.Event) -> None:
    while not stop.is_set():
        for url in urls.values():
            try:
                messages = client.queues.receive_message(
                    url, max_number_of_messages=10, wait_time_seconds=1
                )
            except EventplaneError:
                tally.failed_receives += 1
                continue
            for message in messages:
                with tally.lock:
                    tally.deliveries.append(message.body)
                try:
                    client.queues.delete_message(url, message.receipt_handle)
                except EventplaneError:
                    tally.failed_deletes += 1


def _fifo_order_violations(deliveries: list[str]) -> int:
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


def _run(server: EventplaneProcess, *, count: int, faults: list[tuple[str, float]]) -> None:
    name = uuid.uuid4().hex[:10]
    with (
        TcpProxy(("127.0.0.1", server.grpc_port)) as proxy,
        Client(proxy.endpoint, timeout=5.0) as client,
    ):
        urls = {
            "std": client.queues.create_queue(
                f"link-{name}", {"VisibilityTimeout": str(VISIBILITY)}
            ),
            "fifo": client.queues.create_queue(
                f"link-{name}.fifo", {"FifoQueue": "true", "VisibilityTimeout": str(VISIBILITY)}
            ),
        }
        tally = Tally()
        stop = threading.Event()
        producer = threading.Thread(target=_produce, args=(client, urls, count, tally))
        consumer = threading.Thread(target=_consume, args=(client, urls, tally, stop))
        producer.start()
        consumer.start()
        for kind, seconds in faults:  # one fault, then a healthy spell as long
            getattr(proxy, kind)(*([300] if kind == "delay" else []))
            time.sleep(seconds)
            proxy.restore()
            time.sleep(seconds)
        restored = time.monotonic()

        def answers() -> bool:
            try:
                return bool(client.queues.get_queue_url(f"link-{name}"))
            except EventplaneError as exc:
                raise AssertionError(f"link not back: {exc}") from exc

        eventually(answers, timeout=30)
        recovery = time.monotonic() - restored
        producer.join(120)
        assert not producer.is_alive()

        def all_acked_seen() -> bool:
            with tally.lock:
                missing = tally.acked - set(tally.deliveries)
            assert not missing, f"{len(missing)} acked messages not yet received"
            return True

        eventually(all_acked_seen, timeout=30 + VISIBILITY, interval=0.5)
        time.sleep(VISIBILITY + 1)  # let stranded claims come back, to count them
        stop.set()
        consumer.join(30)

    received = set(tally.deliveries)
    lost = len(tally.acked - received)
    duplicated = len(tally.deliveries) - len(received)
    violations = _fifo_order_violations(tally.deliveries)
    bound = 10 * tally.failed_receives + tally.failed_deletes
    print(
        "\nfaults | acked | unknown sends | lost | duplicated (bound) | order violations"
        " | recovery s\n"
        f"{proxy.faults:6d} | {len(tally.acked):5d} | {tally.unknown_sends:13d} | {lost:4d} |"
        f" {duplicated:10d} ({bound:3d}) | {violations:16d} | {recovery:.2f}"
    )
    assert proxy.faults == len(faults)
    assert lost == 0
    assert violations == 0
    assert duplicated <= bound
    assert len(tally.acked) > 0


def test_queue_workload_survives_link_cuts(server: EventplaneProcess) -> None:
    _run(server, count=120, faults=[("cut", 0.4)] * 4)


@pytest.mark.long
def test_queue_workload_survives_cuts_delays_and_half_open_links(
    server: EventplaneProcess,
) -> None:
    faults = [("cut", 0.5), ("delay", 1.0), ("half_open", 1.0)] * 4
    _run(server, count=600, faults=faults)
