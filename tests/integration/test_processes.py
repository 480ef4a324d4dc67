"""`eventplane server --processes 2`: two workers behind one port, each a replica.

What a user relies on: the one gRPC port (and /metrics) keeps serving with every
worker in use, each worker owns its share of every queue, a worker that crashes is
started again without losing a message, and SIGTERM stops them all.
"""

from __future__ import annotations

import os
import signal
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
from confluent_kafka.admin import AdminClient
from prometheus_client.parser import text_string_to_metric_families

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.kafka import naming
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PARTITIONS = 4


def _metric(server: EventplaneProcess, name: str, **match: str) -> dict[str, float]:
    """worker -> value of the samples named ``name`` whose labels include ``match``."""
    with urllib.request.urlopen(server.metrics_url, timeout=10) as resp:
        text = resp.read().decode()
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in match.items()):
                worker = s.labels["worker"]
                found[worker] = found.get(worker, 0.0) + s.value
    return found


def _workers(server: EventplaneProcess) -> list[int]:
    assert server.proc is not None
    pid = server.proc.pid
    with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as fh:
        return [int(p) for p in fh.read().split()]


def _send(client: Client, url: str, body: str) -> None:
    # A connection to a worker that just died fails once; the retry reaches a live one.
    def sent() -> bool:
        try:
            client.queues.send_message(url, body)
        except EventplaneError as exc:
            raise AssertionError(f"send failed: {exc}") from exc
        return True

    eventually(sent, timeout=30)


def _drain(clients: list[Client], url: str, want: set[str]) -> None:
    got: set[str] = set()

    def all_received() -> bool:
        for c in clients:
            try:
                messages = c.queues.receive_message(url, max_number_of_messages=10)
            except EventplaneError:
                continue  # a connection to the dead worker
            for m in messages:
                got.add(m.body)
                c.queues.delete_message(url, m.receipt_handle)
        assert got >= want, f"{len(want - got)} of {len(want)} messages not received yet"
        return True

    eventually(all_received, timeout=90)


@pytest.fixture
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    process = EventplaneProcess(
        eventplane_kafka,
        roles="api,queues",
        cluster=unique_cluster(),
        processes=2,
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


def test_two_workers_share_a_port_split_each_queue_and_survive_a_crash(
    server: EventplaneProcess, eventplane_kafka: str
) -> None:
    assert server.cluster is not None
    eventually(lambda: _metric(server, "eventplane_worker_up") == {"0": 1.0, "1": 1.0}, timeout=60)
    clients = [server.client(timeout=30) for _ in range(8)]
    try:
        queue = f"workers-{uuid.uuid4().hex[:8]}"
        url = clients[0].queues.create_queue(queue, attributes={"Partitions": str(PARTITIONS)})

        # Each worker is a member of the owner group with half of the queue.
        admin = AdminClient({"bootstrap.servers": eventplane_kafka})
        group = naming.in_cluster(naming.QUEUE_OWNERS_GROUP, server.cluster)
        topic = naming.in_cluster(naming.queue_topic(queue), server.cluster)

        def split() -> bool:
            members = admin.describe_consumer_groups([group])[group].result().members
            held = sorted(
                Counter(tp.topic for tp in m.assignment.topic_partitions)[topic] for m in members
            )
            assert held == [2, 2], f"partitions per worker: {held}"
            return True

        eventually(split, timeout=60)

        # The kernel spreads the clients' connections: both workers answer sends.
        first = {f"a{i}" for i in range(80)}
        for i, body in enumerate(sorted(first)):
            _send(clients[i % len(clients)], url, body)
        served = _metric(server, "eventplane_rpc_duration_seconds_count", method="SendMessage")
        assert set(served) == {"0", "1"} and sum(served.values()) == len(first)
        _drain(clients, url, first)

        # A worker crashes: the supervisor starts it again, and nothing sent is lost.
        os.kill(_workers(server)[0], signal.SIGKILL)
        second = {f"b{i}" for i in range(40)}
        for i, body in enumerate(sorted(second)):
            _send(clients[i % len(clients)], url, body)
        eventually(
            lambda: (
                sorted(_metric(server, "eventplane_worker_restarts_total").values()) == [0.0, 1.0]
            ),
            timeout=30,
        )
        eventually(
            lambda: _metric(server, "eventplane_worker_up") == {"0": 1.0, "1": 1.0}, timeout=60
        )
        _drain(clients, url, second)
    finally:
        for c in clients:
            c.close()

    # SIGTERM stops every worker before the supervisor exits, cleanly.
    workers = _workers(server)
    assert len(workers) == 2
    assert server.stop() == 0
    assert [pid for pid in workers if os.path.exists(f"/proc/{pid}")] == []
