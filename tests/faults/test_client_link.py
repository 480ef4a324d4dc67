"""A queue workload whose client-to-server link is cut and restored through a TcpProxy.

The invariants are the workload's (tests/faults/workload.py): nothing acknowledged lost,
FIFO order kept, duplicates bounded by the calls that failed, recovery by itself. The CI
variant cuts the link; the long one (make faults) adds delay and half-open links and runs
longer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from eventplane.client import Client
from eventplane.testing import EventplaneProcess, TcpProxy, unique_cluster

from .workload import QueueWorkload

pytestmark = [pytest.mark.integration, pytest.mark.faults]


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    with EventplaneProcess(eventplane_kafka, cluster=unique_cluster()) as proc:
        yield proc


def _run(server: EventplaneProcess, *, count: int, faults: list[tuple[str, float]]) -> None:
    with (
        TcpProxy(("127.0.0.1", server.grpc_port)) as proxy,
        Client(proxy.endpoint, timeout=5.0) as client,
    ):
        workload = QueueWorkload(client, count, prefix="link").start()
        for kind, seconds in faults:  # one fault, then a healthy spell as long
            getattr(proxy, kind)(*([300] if kind == "delay" else []))
            time.sleep(seconds)
            proxy.restore()
            time.sleep(seconds)
        recovery = workload.recovery_seconds(time.monotonic(), timeout=30)
        workload.finish(faults=proxy.faults, recovery=recovery, timeout=30)
    assert proxy.faults == len(faults)


def test_queue_workload_survives_link_cuts(server: EventplaneProcess) -> None:
    _run(server, count=120, faults=[("cut", 0.4)] * 4)


@pytest.mark.long
def test_queue_workload_survives_cuts_delays_and_half_open_links(
    server: EventplaneProcess,
) -> None:
    faults = [("cut", 0.5), ("delay", 1.0), ("half_open", 1.0)] * 4
    _run(server, count=600, faults=faults)
