"""Each queue's partitions are spread over the replicas (issue 15.3), not only their total.

Under the classic cooperative-sticky assignor, two replicas could hold 8 partitions
each with all four of one queue's on one of them. The owner group now uses the KIP-848
protocol with the brokers' range assignor by default (kafka/groups.py): every queue
topic is split evenly, after start-up, after a replica dies, and after one joins.
"""

from __future__ import annotations

import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType
from prometheus_client.parser import text_string_to_metric_families

from eventplane.kafka import naming
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

pytestmark = [pytest.mark.integration, pytest.mark.slow]

QUEUES = 4
PARTITIONS = 4


def _held_by_member(admin: AdminClient, cluster: str, topics: list[str]) -> dict[str, Counter[str]]:
    """member id -> how many partitions of each of ``topics`` it is assigned, per Kafka."""
    group = naming.in_cluster(naming.QUEUE_OWNERS_GROUP, cluster)
    described = admin.describe_consumer_groups([group], request_timeout=10)[group].result()
    return {
        m.member_id: Counter(tp.topic for tp in m.assignment.topic_partitions if tp.topic in topics)
        for m in described.members
    }


def _assert_each_queue_split(
    admin: AdminClient, cluster: str, topics: list[str], members: int
) -> bool:
    held = _held_by_member(admin, cluster, topics)
    assert len(held) == members, f"{len(held)} members in the owner group, wanted {members}"
    share = PARTITIONS // members
    for topic in topics:
        counts = sorted(c[topic] for c in held.values())
        assert sum(counts) == PARTITIONS, f"{topic}: {sum(counts)} partitions assigned"
        assert counts[0] >= share and counts[-1] <= share + (PARTITIONS % members > 0), (
            f"{topic} is split {counts} over {members} replicas"
        )
    return True


def _group_configs(admin: AdminClient, cluster: str) -> dict[str, str]:
    group = naming.in_cluster(naming.QUEUE_OWNERS_GROUP, cluster)
    resource = ConfigResource(ResourceType.GROUP, group)
    entries = admin.describe_configs([resource], request_timeout=10)[resource].result()
    wanted = (
        "consumer.session.timeout.ms",
        "consumer.heartbeat.interval.ms",
        "consumer.assignment.interval.ms",
    )
    return {name: entries[name].value for name in wanted}


def _group_protocol(server: EventplaneProcess) -> set[str]:
    with urllib.request.urlopen(server.metrics_url, timeout=5) as resp:
        text = resp.read().decode()
    return {
        s.labels["protocol"]
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "eventplane_kafka_group_protocol"
        and s.value == 1
        and s.labels["group"].endswith("queue-owners")
    }


@pytest.fixture
def cluster(eventplane_kafka: str) -> Iterator[tuple[str, list[EventplaneProcess]]]:
    name = unique_cluster()
    servers: list[EventplaneProcess] = []
    try:
        yield name, servers
    finally:
        for s in reversed(servers):
            s.stop()


def test_every_queue_is_split_over_the_replicas_through_failover_and_rejoin(
    eventplane_kafka: str, cluster: tuple[str, list[EventplaneProcess]]
) -> None:
    name, servers = cluster

    def start() -> EventplaneProcess:
        return EventplaneProcess(eventplane_kafka, cluster=name, roles="api,queues").start()

    # The queues exist before the second replica joins: the first holds all of them,
    # and the newcomer must get half of each queue, not any half of the total.
    servers.append(start())
    admin = AdminClient({"bootstrap.servers": eventplane_kafka})
    queues = [f"bal-{i}-{uuid.uuid4().hex[:6]}" for i in range(QUEUES)]
    with servers[0].client(timeout=30) as client:
        for q in queues:
            client.queues.create_queue(q, attributes={"Partitions": str(PARTITIONS)})
    topics = [naming.in_cluster(naming.queue_topic(q), name) for q in queues]
    assert _group_protocol(servers[0]) == {"consumer"}
    # The owner group asked the brokers for its 6 s session and for assignments without
    # the 1 s batching of Kafka 4.3+ (a new queue is served as soon as it exists).
    assert _group_configs(admin, name) == {
        "consumer.session.timeout.ms": "6000",
        "consumer.heartbeat.interval.ms": "1000",
        "consumer.assignment.interval.ms": "0",
    }
    eventually(lambda: _assert_each_queue_split(admin, name, topics, 1), timeout=60)
    servers.append(start())
    eventually(lambda: _assert_each_queue_split(admin, name, topics, 2), timeout=60)

    # A replica dies without leaving the group: the other takes every partition, and
    # a new replica again gets half of each queue.
    servers[0].kill()
    eventually(lambda: _assert_each_queue_split(admin, name, topics, 1), timeout=60)
    servers.append(start())
    eventually(lambda: _assert_each_queue_split(admin, name, topics, 2), timeout=60)

    # The queues work across the split: a message sent to each is received once.
    with servers[2].client(timeout=30) as client:
        for q in queues:
            url = client.queues.get_queue_url(q)
            client.queues.send_message(url, f"hello {q}")
            got = eventually(
                lambda url=url: client.queues.receive_message(url, wait_time_seconds=1) or None,
                timeout=30,
            )
            assert [m.body for m in got] == [f"hello {q}"]


def test_a_rolling_upgrade_from_the_classic_protocol_keeps_every_message(
    eventplane_kafka: str, cluster: tuple[str, list[EventplaneProcess]]
) -> None:
    # An installation whose owners still use the classic protocol (older eventplane, or
    # brokers that refused the 6 s session) gets a replica with the consumer protocol:
    # Kafka migrates the group online; what was deleted stays deleted, nothing is lost.
    name, servers = cluster
    old = EventplaneProcess(
        eventplane_kafka,
        cluster=name,
        roles="api,queues",
        env={"EVENTPLANE_KAFKA_GROUP_PROTOCOL": "classic"},
    ).start()
    servers.append(old)
    assert _group_protocol(old) == {"classic"}
    with old.client(timeout=30) as client:
        url = client.queues.create_queue(
            f"upgrade-{uuid.uuid4().hex[:6]}", attributes={"Partitions": str(PARTITIONS)}
        )
        for i in range(20):
            client.queues.send_message(url, f"m{i}")
        deleted: set[str] = set()

        def five_deleted() -> bool:
            for m in client.queues.receive_message(url, max_number_of_messages=5):
                if len(deleted) < 5:
                    client.queues.delete_message(url, m.receipt_handle)
                    deleted.add(m.body)
                else:
                    client.queues.change_message_visibility(url, m.receipt_handle, 0)
            assert len(deleted) == 5
            return True

        eventually(five_deleted, timeout=30)
    new = EventplaneProcess(eventplane_kafka, cluster=name, roles="api,queues").start()
    servers.append(new)
    assert _group_protocol(new) == {"consumer"}
    old.stop()  # the last classic member leaves: the group is the new protocol's now

    got: set[str] = set()
    with new.client(timeout=30) as client:

        def the_rest_received() -> bool:
            for m in client.queues.receive_message(url, max_number_of_messages=10):
                got.add(m.body)
                client.queues.delete_message(url, m.receipt_handle)
            assert got == {f"m{i}" for i in range(20)} - deleted
            return True

        eventually(the_rest_received, timeout=60)
