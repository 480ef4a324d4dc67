"""A replica whose last queue, topic or table goes leaves that consumer group at once.

With two replicas, deleting the last queue (topic, table) used to take 6-12 s: each
replica's member was left subscribed to a pattern that matches nothing, on which
librdkafka neither joins again nor heartbeats, so the group coordinator listed it as
holding the deleted partitions until its 6 s session timed out, and the deletion waits
until no member holds them (kafka/retirement.py). Now the member closes its consumer,
which leaves the group at once (kafka/membership.py), and a new consumer joins when a
queue (topic, table) comes back.

The bound of 4.5 s below is no latency budget: a member that stays in the group after
its last topic went is listed for its whole 6 s session, so the group cannot empty
within 4.5 s of the delete call unless both members left it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from confluent_kafka import ConsumerGroupState, KafkaException
from confluent_kafka.admin import AdminClient

from eventplane.client import Client
from eventplane.kafka import naming
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

pytestmark = pytest.mark.integration

LEFT_AT_ONCE = 4.5  # seconds: below the 6 s session timeout of a member that stays


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _describe(bootstrap: str, cluster: str | None, group: str) -> Any:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    group = naming.in_cluster(group, cluster)
    try:
        return admin.describe_consumer_groups([group], request_timeout=5)[group].result()
    except KafkaException:
        return None  # no such group (yet)


def _members(bootstrap: str, cluster: str | None, group: str) -> list[str]:
    """The client ids the coordinator lists as members of ``group``."""
    described = _describe(bootstrap, cluster, group)
    return [] if described is None else sorted(m.client_id for m in described.members)


def _settled(server: EventplaneProcess, group: str, topic: str) -> bool:
    """Both replicas are members of a stable ``group`` and every partition of ``topic``
    (as this process names it) is assigned to one of them.

    A member that closes during a rebalance can take its whole session to leave
    (librdkafka 2.16): that case is not the one measured here.
    """
    topic = naming.in_cluster(topic, server.cluster)
    described = _describe(server.bootstrap, server.cluster, group)
    if described is None or len(described.members) != 2:
        return False
    if described.state != ConsumerGroupState.STABLE:
        return False
    admin = AdminClient({"bootstrap.servers": server.bootstrap})
    partitions = len(admin.list_topics(topic, timeout=5).topics[topic].partitions)
    assigned = {
        tp.partition
        for m in described.members
        for tp in (m.assignment.topic_partitions if m.assignment else [])
        if tp.topic == topic
    }
    return len(assigned) == partitions


def _delete_empties_group(
    server: EventplaneProcess, group: str, topic: str, delete: Callable[[], object]
) -> None:
    """``delete()`` removes ``topic``, the group's last: both members leave the group."""
    eventually(lambda: _settled(server, group, topic), timeout=30)
    with ThreadPoolExecutor(1) as pool:
        deleted = pool.submit(delete)
        eventually(
            lambda: _members(server.bootstrap, server.cluster, group) == [],
            timeout=LEFT_AT_ONCE,
            message=f"a member of {group} stayed in the group after its last topic went",
        )
        deleted.result(timeout=30)


# --- queues and the fan-out pump ----------------------------------------------------
@pytest.fixture(scope="module")
def queue_replicas(
    eventplane_kafka: str,
) -> Iterator[tuple[EventplaneProcess, EventplaneProcess]]:
    cluster = unique_cluster()
    with (
        EventplaneProcess(eventplane_kafka, roles="queues,fanout", cluster=cluster) as a,
        EventplaneProcess(eventplane_kafka, roles="queues,fanout", cluster=cluster) as b,
    ):
        yield a, b


@pytest.fixture(scope="module")
def queue_clients(
    queue_replicas: tuple[EventplaneProcess, EventplaneProcess],
) -> Iterator[tuple[Client, Client]]:
    a, b = queue_replicas
    with a.client(timeout=30) as ca, b.client(timeout=30) as cb:
        yield ca, cb


def _received(client: Client, url: str, body: str) -> bool:
    got = client.queues.receive_message(url, max_number_of_messages=10, wait_time_seconds=1)
    for m in got:
        client.queues.delete_message(url, m.receipt_handle)
    return any(body in m.body for m in got)


def test_deleting_the_last_queue_empties_the_owner_group_at_once(
    queue_replicas: tuple[EventplaneProcess, EventplaneProcess],
    queue_clients: tuple[Client, Client],
) -> None:
    ca, _ = queue_clients
    name = _name("last")
    url = ca.queues.create_queue(name)
    _delete_empties_group(
        queue_replicas[0],
        naming.QUEUE_OWNERS_GROUP,
        naming.queue_topic(name),
        lambda: ca.queues.delete_queue(url),
    )


def test_a_queue_created_after_the_last_was_deleted_is_served_through_both_replicas(
    queue_replicas: tuple[EventplaneProcess, EventplaneProcess],
    queue_clients: tuple[Client, Client],
) -> None:
    server = queue_replicas[0]
    ca, cb = queue_clients
    ca.queues.delete_queue(ca.queues.create_queue(_name("first")))
    eventually(lambda: _members(server.bootstrap, server.cluster, naming.QUEUE_OWNERS_GROUP) == [])
    name = _name("again")
    url = ca.queues.create_queue(name)
    try:
        # Both replicas join the group again, each with a new consumer.
        eventually(
            lambda: len(_members(server.bootstrap, server.cluster, naming.QUEUE_OWNERS_GROUP)) == 2,
            timeout=30,
        )
        for sender, receiver in ((ca, cb), (cb, ca)):
            body = uuid.uuid4().hex
            sender.queues.send_message(url, body)
            eventually(lambda: _received(receiver, url, body), timeout=30)  # noqa: B023
    finally:
        ca.queues.delete_queue(url)


def test_a_topic_created_after_the_last_was_deleted_fans_out_again(
    queue_replicas: tuple[EventplaneProcess, EventplaneProcess],
    queue_clients: tuple[Client, Client],
) -> None:
    """The fan-out pump (kafka/transactional.py) leaves its group and joins it again."""
    server = queue_replicas[0]
    ca, cb = queue_clients
    target = ca.queues.create_queue(_name("fan"))
    try:
        name = _name("first")
        first = ca.topics.create_topic(name)
        _delete_empties_group(
            server,
            f"{naming.PREFIX}.fanout",
            naming.topic_topic(name),
            lambda: ca.topics.delete_topic(first),
        )
        topic = ca.topics.create_topic(_name("again"))
        ca.topics.subscribe(topic, "sqs", target)
        for publisher in (ca, cb):
            body = uuid.uuid4().hex
            publisher.topics.publish(topic, body)
            eventually(lambda: _received(ca, target, body), timeout=30)  # noqa: B023
        ca.topics.delete_topic(topic)
    finally:
        ca.queues.delete_queue(target)


# --- tables --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def table_replicas(
    eventplane_kafka: str,
) -> Iterator[tuple[EventplaneProcess, EventplaneProcess]]:
    cluster = unique_cluster()
    with (
        EventplaneProcess(eventplane_kafka, roles="tables", cluster=cluster) as a,
        EventplaneProcess(eventplane_kafka, roles="tables", cluster=cluster) as b,
    ):
        yield a, b


def _create_table(client: Client, name: str) -> None:
    desc = client.tables.create_table(
        name, key_schema=[("pk", "HASH")], attribute_definitions=[("pk", "S")], partitions=2
    )
    assert desc.table_status == "ACTIVE"


def test_a_table_created_after_the_last_was_deleted_is_served_through_both_replicas(
    table_replicas: tuple[EventplaneProcess, EventplaneProcess],
) -> None:
    a, b = table_replicas
    with a.client(timeout=30) as ca, b.client(timeout=30) as cb:
        first = _name("first")
        _create_table(ca, first)
        _delete_empties_group(
            a,
            naming.TABLE_OWNERS_GROUP,
            naming.table_topic(first),
            lambda: ca.tables.delete_table(first),
        )
        name = _name("again")
        _create_table(ca, name)
        try:
            eventually(
                lambda: len(_members(a.bootstrap, a.cluster, naming.TABLE_OWNERS_GROUP)) == 2,
                timeout=30,
            )
            keys = [f"k{i}" for i in range(8)]  # over both partitions
            for i, key in enumerate(keys):
                (ca, cb)[i % 2].tables.put_item(name, {"pk": {"S": key}, "v": {"N": str(i)}})
            for client in (ca, cb):
                for i, key in enumerate(keys):
                    item = client.tables.get_item(name, {"pk": {"S": key}})
                    assert item == {"pk": {"S": key}, "v": {"N": str(i)}}
        finally:
            ca.tables.delete_table(name)
