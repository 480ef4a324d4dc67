"""Deleting a queue, topic or bus deletes its Kafka topics only after every consumer let go.

librdkafka mishandles a topic deleted under a consumer that still holds it (the deleted
partitions stay assigned for good, warning every 100 ms, and a segfault now and then
killed the server). So a delete call returns only once the server's consumers have been
revoked the topic's partitions (eventplane_kafka_partitions_held drops by them) and no
other member of their groups is assigned any, as the group coordinator says.
"""

from __future__ import annotations

import urllib.request
import uuid
from collections.abc import Callable, Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from eventplane.bus.engine import BUS_PARTITIONS
from eventplane.client import Client
from eventplane.testing import EventplaneProcess, eventually, unique_cluster


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    s = EventplaneProcess(eventplane_kafka, roles="queues,fanout,bus", cluster=unique_cluster())
    s.start()
    try:
        # Serving comes before the rule engine's first assignment (the default bus):
        # a test that read its baseline earlier counted that assignment as its own.
        eventually(lambda: held(s, "bus") == BUS_PARTITIONS, timeout=60)
        yield s
    finally:
        s.stop()


@pytest.fixture
def client(server: EventplaneProcess) -> Iterator[Client]:
    with server.client(timeout=30) as c:
        yield c


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def held(server: EventplaneProcess, consumer: str) -> float:
    """eventplane_kafka_partitions_held{consumer=...} on the server's /metrics."""
    with urllib.request.urlopen(server.metrics_url, timeout=5) as resp:
        text = resp.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "eventplane_kafka_partitions_held"
                and sample.labels.get("consumer") == consumer
            ):
                return sample.value
    return 0.0


def check_delete_waits(
    server: EventplaneProcess,
    consumer: str,
    partitions: int,
    create: Callable[[], Callable[[], None]],
) -> None:
    """``create()`` makes a resource of ``partitions`` partitions, returns its delete."""
    before = held(server, consumer)
    delete = create()
    eventually(lambda: held(server, consumer) == before + partitions, timeout=30)
    delete()
    # No eventually: by the time the delete call answered, the partitions were given up.
    assert held(server, consumer) == before


def test_deleting_a_bus_returns_once_the_rule_engine_let_go_of_its_topic(
    server: EventplaneProcess, client: Client
) -> None:
    def create() -> Callable[[], None]:
        bus = name("bus")
        client.events.create_event_bus(bus)
        return lambda: client.events.delete_event_bus(bus)

    check_delete_waits(server, "bus", 3, create)


def test_deleting_a_queue_returns_once_its_owner_let_go_of_its_partitions(
    server: EventplaneProcess, client: Client
) -> None:
    def create() -> Callable[[], None]:
        url = client.queues.create_queue(name("q"))
        return lambda: client.queues.delete_queue(url)

    check_delete_waits(server, "queue-owner", 4, create)


def test_deleting_a_topic_returns_once_the_fanout_let_go_of_it(
    server: EventplaneProcess, client: Client
) -> None:
    def create() -> Callable[[], None]:
        arn = client.topics.create_topic(name("t"))
        return lambda: client.topics.delete_topic(arn)

    check_delete_waits(server, "fanout", 4, create)


def test_buses_and_queues_created_and_deleted_at_once_leave_delivery_working(
    server: EventplaneProcess, client: Client
) -> None:
    # The pattern that crashed the server: resources deleted right after they were
    # created, while their consumers were still being assigned them.
    bus_before, owner_before = held(server, "bus"), held(server, "queue-owner")
    for _ in range(6):
        bus = name("bus")
        client.events.create_event_bus(bus)
        url = client.queues.create_queue(name("q"))
        client.events.delete_event_bus(bus)
        client.queues.delete_queue(url)
        assert (held(server, "bus"), held(server, "queue-owner")) == (bus_before, owner_before)
    target = name("q")
    url = client.queues.create_queue(target)
    rule = name("r")
    client.events.put_rule(rule, event_pattern={"source": ["retire.test"]})
    try:
        client.events.put_targets(
            rule, [{"Id": "q", "Arn": f"arn:aws:sqs:local:000000000000:{target}"}]
        )
        client.events.put_events([{"Source": "retire.test", "DetailType": "t", "Detail": "{}"}])

        def delivered() -> list[object]:
            return client.queues.receive_message(url, max_number_of_messages=1, wait_time_seconds=1)

        assert len(eventually(delivered, timeout=60)) == 1
        assert server.proc is not None and server.proc.poll() is None
        assert "deleting topics that consumers still hold" not in server.log_path.read_text()
    finally:
        client.events.delete_rule(rule, force=True)
        client.queues.delete_queue(url)
