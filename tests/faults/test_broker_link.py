"""One replica's link to the broker is cut, or goes half-open, while the other keeps its own.

Replica A reaches the broker only through a TcpProxy: the broker has a second listener
that advertises the proxy's address, so every connection of A (bootstrap, partition
leaders, group coordinator) passes through it. Replica B and the test's client connect
directly (the client to B). When A's link breaks, A's group memberships time out and B
takes A's partitions over; A must not act as their owner meanwhile or once the link is
back. The queue workload's invariants (tests/faults/workload.py) must hold, and the
cluster must recover by itself. The broker is this module's own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from eventplane.config import load_settings
from eventplane.kafka.local import Listener, LocalKafka
from eventplane.testing import EventplaneProcess, TcpProxy, free_port, unique_cluster

from .workload import QueueWorkload

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.slow]

SESSION_TIMEOUT = 6.0  # session.timeout.ms of the server's consumer groups


@pytest.fixture(scope="module")
def broker() -> Iterator[tuple[LocalKafka, TcpProxy]]:
    proxied = free_port()
    proxy = TcpProxy(("127.0.0.1", proxied)).start()
    kafka = LocalKafka(
        home=Path(load_settings({}).home),
        port=free_port(),
        listeners=(Listener("proxied", proxied, advertised=proxy.endpoint),),
    )
    kafka.start(fresh=True)
    try:
        yield kafka, proxy
    finally:
        kafka.stop()
        proxy.stop()


def _run(
    broker: tuple[LocalKafka, TcpProxy], *, count: int, faults: list[tuple[str, float]]
) -> None:
    kafka, proxy = broker
    proxy.faults = 0
    cluster = unique_cluster()
    with (
        EventplaneProcess(proxy.endpoint, roles="queues", cluster=cluster) as cut_off,
        EventplaneProcess(kafka.bootstrap, roles="queues", cluster=cluster) as healthy,
        healthy.client(timeout=5.0) as client,
    ):
        workload = QueueWorkload(client, count, prefix="brokerlink").start()
        restored = time.monotonic()
        for kind, seconds in faults:  # a healthy spell, then a fault
            time.sleep(2.0)
            getattr(proxy, kind)()
            time.sleep(seconds)
            proxy.restore()
            restored = time.monotonic()
        recovery = workload.recovery_seconds(restored, timeout=120)
        workload.finish(faults=proxy.faults, recovery=recovery, timeout=120)
        for server in (cut_off, healthy):
            assert server.proc is not None and server.proc.poll() is None, "a replica died"
    assert proxy.faults == len(faults)


# In make faults only: in one CI run the cut-off replica died of SIGABRT inside librdkafka
# while its link was cut (the workload's invariants held); until that is understood it
# would fail CI at random.
@pytest.mark.long
def test_queue_workload_survives_a_replica_cut_off_from_the_broker(
    broker: tuple[LocalKafka, TcpProxy],
) -> None:
    _run(broker, count=200, faults=[("cut", SESSION_TIMEOUT + 4)])


@pytest.mark.long
def test_queue_workload_survives_cut_and_half_open_broker_links(
    broker: tuple[LocalKafka, TcpProxy],
) -> None:
    faults = [("cut", 2.0), ("half_open", SESSION_TIMEOUT + 4), ("cut", 25.0), ("half_open", 3.0)]
    _run(broker, count=800, faults=faults)
