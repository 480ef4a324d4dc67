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
