"""The supervisor of `--processes N`: how many workers, their ports, and one /metrics."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from eventplane import workers
from eventplane.config import ConfigError, load_settings
from eventplane.observability.metrics_http import serve_metrics
from eventplane.testing.harness import free_ports


def test_the_default_is_the_usable_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "usable_cores", lambda: 3)
    assert workers.process_count(load_settings({})) == 3
    assert workers.process_count(load_settings({"EVENTPLANE_PROCESSES": "1"})) == 1


def test_processes_is_checked_like_every_setting() -> None:
    with pytest.raises(ConfigError, match="EVENTPLANE_PROCESSES"):
        load_settings({"EVENTPLANE_PROCESSES": "-1"})


def test_each_worker_gets_its_own_ports_and_advertised_address() -> None:
    settings = load_settings(
        {
            "EVENTPLANE_GRPC_PORT": "7000",
            "EVENTPLANE_ADVERTISE_ADDRESS": "10.1.2.3:7000",
            "EVENTPLANE_ROLES": "api,queues",
        }
    )
    sup = workers.Supervisor(settings, 2)
    assert [(w.forward_port, w.metrics_port) for w in sup.workers] == [(7001, 7003), (7002, 7004)]
    env = sup.workers[1].env
    assert env["EVENTPLANE_ADVERTISE_ADDRESS"] == "10.1.2.3:7002"
    assert env["EVENTPLANE_FORWARD_PORT"] == "7002"
    assert env["EVENTPLANE_PROCESSES"] == "1"  # a worker never starts workers of its own
    assert env["EVENTPLANE_REUSE_PORT"] == "true"
    assert env["EVENTPLANE_METRICS_HOST"] == "127.0.0.1"
    assert env["EVENTPLANE_GRPC_PORT"] == "7000" and env["EVENTPLANE_ROLES"] == "api,queues"
    # The workers' settings are what the supervisor's were, with those overrides.
    assert load_settings(env).forward_port == 7002


@pytest.fixture
def two_workers() -> Iterator[workers.Supervisor]:
    """A supervisor whose two workers are /metrics endpoints with their own counts."""
    base = free_ports(2)
    settings = load_settings({"EVENTPLANE_WORKER_PORTS": str(base - 2)})
    sup = workers.Supervisor(settings, 2)
    servers = []
    for i, w in enumerate(sup.workers):
        registry = CollectorRegistry()
        calls = Counter("calls", "Calls served.", ["method"], registry=registry)
        calls.labels("Send").inc(10 * (i + 1))
        Histogram("latency_seconds", "Latency.", registry=registry).observe(0.01)
        servers.append(serve_metrics(w.metrics_port, "127.0.0.1", None, registry))
    try:
        yield sup
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def test_metrics_gather_every_worker_with_its_label(two_workers: workers.Supervisor) -> None:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(workers._Gathered(two_workers))
    text = generate_latest(registry).decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("calls_total", (("method", "Send"), ("worker", "0")))] == 10
    assert samples[("calls_total", (("method", "Send"), ("worker", "1")))] == 20
    assert samples[("latency_seconds_count", (("worker", "1"),))] == 1
    assert samples[("eventplane_worker_up", (("worker", "0"),))] == 1
    assert samples[("eventplane_worker_restarts_total", (("worker", "1"),))] == 0
    # One HELP/TYPE per family, however many workers report it.
    assert text.count("# TYPE calls_total counter") == 1


def test_a_worker_that_does_not_answer_is_reported_down(
    two_workers: workers.Supervisor,
) -> None:
    two_workers.workers[1].metrics_port = free_ports(1)  # nothing listens there
    registry = CollectorRegistry(auto_describe=False)
    registry.register(workers._Gathered(two_workers))
    families = {
        f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())
    }
    up = {s.labels["worker"]: s.value for s in families["eventplane_worker_up"].samples}
    assert up == {"0": 1.0, "1": 0.0}


def test_ports_past_the_last_one_are_a_setting_error() -> None:
    settings = load_settings({"EVENTPLANE_GRPC_PORT": "65530"})
    with pytest.raises(ConfigError, match="EVENTPLANE_WORKER_PORTS: 4 workers need ports"):
        workers.Supervisor(settings, 4)
