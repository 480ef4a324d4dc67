"""EventplaneProcess picks three different ports even when free_port repeats itself."""

from __future__ import annotations

import pytest

from eventplane.testing import harness


def test_a_server_never_gets_the_same_port_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter([20001, 20001, 20001, 20002, 20002, 20003])
    monkeypatch.setattr(harness, "free_port", lambda: next(draws))
    p = harness.EventplaneProcess("127.0.0.1:9092")
    assert (p.grpc_port, p.metrics_port, p.gateway_port) == (20001, 20002, 20003)


def test_given_ports_are_kept_and_avoided(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter([20001, 20004])
    monkeypatch.setattr(harness, "free_port", lambda: next(draws))
    p = harness.EventplaneProcess("127.0.0.1:9092", grpc_port=20001, metrics_port=20002)
    assert (p.grpc_port, p.metrics_port, p.gateway_port) == (20001, 20002, 20004)


def test_xdist_workers_draw_from_slices_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two workers drawing the same port raced to bind it: each takes its own slice.
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    slices = []
    for worker in ("gw0", "gw1"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        low, high = harness._port_range()
        assert harness._PORTS[0] <= low < high <= harness._PORTS[1]
        assert all(low <= harness.free_port() <= high for _ in range(20))
        assert low <= harness.free_ports(2) and harness.free_ports(2) + 1 <= high
        slices.append(range(low, high + 1))
    assert not set(slices[0]) & set(slices[1])
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    assert harness._port_range() == harness._PORTS
