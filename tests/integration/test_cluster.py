"""EVENTPLANE_CLUSTER: installations with different names share a broker, nothing else."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from confluent_kafka.admin import AdminClient

from eventplane.testing import EventplaneProcess, unique_cluster

pytestmark = pytest.mark.integration


def test_two_installations_on_one_broker_see_only_their_own_resources(
    eventplane_kafka: str,
) -> None:
    blue, green = unique_cluster("blue"), unique_cluster("green")
    a = EventplaneProcess(eventplane_kafka, roles="api,queues", cluster=blue).start()
    b = EventplaneProcess(eventplane_kafka, roles="api,queues", cluster=green).start()
    name = f"shared-name-{uuid.uuid4().hex[:8]}"
    try:
        with a.client(timeout=30) as ca, b.client(timeout=30) as cb:
            url_a = ca.queues.create_queue(name)
            # The same name is free in the other installation, and its queue is another.
            url_b = cb.queues.create_queue(name)
            ca.queues.send_message(url_a, "for blue")
            assert [m.body for m in cb.queues.receive_message(url_b, wait_time_seconds=1)] == []
            got = ca.queues.receive_message(url_a, wait_time_seconds=5)
            assert [m.body for m in got] == ["for blue"]
            ca.queues.delete_queue(url_a)
            assert name in [u.rsplit("/", 1)[-1] for u in cb.queues.list_queues(name)]
    finally:
        a.stop()
        b.stop()
    topics = set(
        AdminClient({"bootstrap.servers": eventplane_kafka}).list_topics(timeout=10).topics
    )
    assert f"eventplane-{green}.q.{name}" in topics
    assert f"eventplane-{blue}.resources" in topics and f"eventplane-{green}.resources" in topics


def test_a_bad_cluster_name_stops_the_server_with_one_line(eventplane_kafka: str) -> None:
    proc = EventplaneProcess(eventplane_kafka, roles="api", cluster="Not.A_name")
    done = subprocess.run(
        [sys.executable, "-m", "eventplane.cli", "server"],
        env=proc.environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "eventplane: invalid setting cluster: EVENTPLANE_CLUSTER: 'Not.A_name' is not a "
        "cluster name (1-32 of a-z, 0-9 and '-', starting and ending with a letter or digit)"
    ]
