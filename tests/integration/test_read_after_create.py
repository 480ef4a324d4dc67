"""A resource created through one replica is found through another at once.

Behind a load balancer, consecutive calls of one client land on different replicas.
Each replica follows the resource registry topic a moment behind the others, so B used
to answer "does not exist" for a queue whose CreateQueue had just returned through A
(seen in CI). Now a lookup that misses catches up with the registry topic's end before
it answers (registry/store.py ``catch_up``). No call through B waits for the resource:
the first one must succeed, in every round (only a message's arrival is waited for).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from eventplane.client import Client
from eventplane.errors.queues import QueueNameExists
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

pytestmark = pytest.mark.integration

ROUNDS = 8


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _received(client: Client, url: str, got: list[str]) -> bool:
    got.extend(m.body for m in client.queues.receive_message(url, wait_time_seconds=1))
    return bool(got)


@pytest.fixture(scope="module")
def clients(eventplane_kafka: str) -> Iterator[tuple[Client, Client]]:
    cluster = unique_cluster()
    roles = "api,queues,fanout,bus,workflows,tables"
    with (
        EventplaneProcess(eventplane_kafka, roles=roles, cluster=cluster) as a,
        EventplaneProcess(eventplane_kafka, roles=roles, cluster=cluster) as b,
        a.client(timeout=30) as ca,
        b.client(timeout=30) as cb,
    ):
        yield ca, cb


def test_a_queue_created_through_one_replica_is_used_through_the_other_at_once(
    clients: tuple[Client, Client],
) -> None:
    ca, cb = clients
    for i in range(ROUNDS):
        name = _name("raw")
        url = ca.queues.create_queue(name)
        try:
            assert cb.queues.get_queue_url(name) == url
            cb.queues.send_message(url, f"body-{i}")
            # The send and receive are answered at once (no QueueDoesNotExist); the
            # message itself arrives once the new queue's partitions have an owner,
            # which a rebalance on a loaded machine can take longer than one long poll.
            got: list[str] = []
            eventually(lambda: _received(cb, url, got), timeout=30)  # noqa: B023
            assert got == [f"body-{i}"]
        finally:
            ca.queues.delete_queue(url)


def test_a_second_create_through_the_other_replica_sees_the_first(
    clients: tuple[Client, Client],
) -> None:
    """CreateQueue of an existing name with other attributes is refused, whichever
    replica created the first: B must know A's queue when it decides."""
    ca, cb = clients
    for _ in range(ROUNDS):
        name = _name("twice")
        url = ca.queues.create_queue(name, attributes={"VisibilityTimeout": "45"})
        try:
            with pytest.raises(QueueNameExists):
                cb.queues.create_queue(name, attributes={"VisibilityTimeout": "50"})
        finally:
            ca.queues.delete_queue(url)


def test_topics_buses_activities_and_tables_created_through_one_replica_answer_through_the_other(
    clients: tuple[Client, Client],
) -> None:
    ca, cb = clients
    for i in range(ROUNDS):
        topic = ca.topics.create_topic(_name("topic"))
        assert cb.topics.get_topic_attributes(topic)["TopicArn"] == topic
        cb.topics.publish(topic, f"m{i}")
        ca.topics.delete_topic(topic)

        bus = _name("bus")
        ca.events.create_event_bus(bus)
        assert cb.events.describe_event_bus(bus).name == bus
        ca.events.delete_event_bus(bus)

        activity = ca.workflows.create_activity(_name("act"))
        assert cb.workflows.describe_activity(activity.activity_arn).activity_arn == (
            activity.activity_arn
        )
        ca.workflows.delete_activity(activity.activity_arn)

    for i in range(3):
        table = _name("table")
        ca.tables.create_table(
            table, key_schema=[("pk", "HASH")], attribute_definitions=[("pk", "S")]
        )
        try:
            cb.tables.put_item(table, {"pk": {"S": f"k{i}"}})
            assert cb.tables.get_item(table, {"pk": {"S": f"k{i}"}}) is not None
        finally:
            ca.tables.delete_table(table)
