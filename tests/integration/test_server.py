"""The server process: health, reflection, metrics, typed errors, the registry across a crash."""

from __future__ import annotations

import signal
import urllib.request

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from eventplane.client import Client
from eventplane.config import Settings
from eventplane.errors import MissingParameter, ServiceUnavailable
from eventplane.kafka import naming
from eventplane.kafka.clients import Producer
from eventplane.registry import Registry
from eventplane.testing import EventplaneProcess, eventually
from eventplane.tracing import TRACE_ID_KEY, TraceContext, use_trace

pytestmark = pytest.mark.integration


def _metrics(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.read().decode()


def test_health_reflection_and_info(eventplane_server: EventplaneProcess) -> None:
    with grpc.insecure_channel(eventplane_server.endpoint) as ch:
        health = health_pb2_grpc.HealthStub(ch)
        for service in ("", "eventplane.v1.Platform"):
            resp = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert resp.status == health_pb2.HealthCheckResponse.SERVING
        refl = reflection_pb2_grpc.ServerReflectionStub(ch)
        (answer,) = list(
            refl.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")])
            )
        )
        names = {s.name for s in answer.list_services_response.service}
        assert {"eventplane.v1.Platform", "grpc.health.v1.Health"} <= names
    with eventplane_server.client() as ep:
        info = ep.platform.get_server_info()
    assert info.kafka_bootstrap == eventplane_server.bootstrap
    assert "queues" in info.roles


def test_typed_error_and_rpc_metrics(eventplane_server: EventplaneProcess) -> None:
    with eventplane_server.client() as ep:
        with pytest.raises(MissingParameter, match="kind is required") as info:
            ep.platform.list_resources("")
        assert info.value.code == "MissingParameter"
        ep.platform.get_server_info()
    text = _metrics(eventplane_server.metrics_url)
    assert (
        'eventplane_rpc_duration_seconds_count{method="GetServerInfo",service="Platform"}' in text
    )
    assert (
        'eventplane_rpc_errors_total{code="MissingParameter",method="ListResources",'
        'service="Platform"}' in text
    )


def test_registry_survives_sigkill_and_restart(eventplane_kafka: str, unique: str) -> None:
    settings = Settings(kafka_bootstrap=eventplane_kafka)
    producer = Producer(settings)
    writer = Registry(settings, producer)
    writer.start()
    server = EventplaneProcess(eventplane_kafka).start()
    try:
        name = f"res-{unique}"
        writer.put("widget", name, {"size": 3})
        writer.put("widget", name, {"size": 4})  # update: same key, generation 2
        writer.put("widget", f"gone-{unique}", {})
        writer.delete("widget", f"gone-{unique}")

        def seen() -> list[str]:
            with server.client() as ep:
                return [r.name for r in ep.platform.list_resources("widget", f"res-{unique}")]

        assert eventually(seen) == [name]  # followed live by the running server
        server.kill()
        server.restart()
        with server.client() as ep:
            (res,) = ep.platform.list_resources("widget", name)
            assert res.spec == {"size": 4} and res.generation == 2
            assert ep.platform.list_resources("widget", f"gone-{unique}") == []
    finally:
        server.stop()
        writer.close()
        producer.close()


def test_registry_writes_carry_the_trace_in_kafka_headers(
    kafka_settings: Settings, unique: str
) -> None:
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    producer = Producer(kafka_settings)
    reg = Registry(kafka_settings, producer)
    reg.start()
    try:
        with use_trace(TraceContext(request_id="req-1", trace_id=f"trace-{unique}")):
            reg.put("widget", f"traced-{unique}", {})
    finally:
        reg.close()
        producer.close()
    c = Consumer({"bootstrap.servers": kafka_settings.bootstrap, "group.id": unique})
    c.assign([TopicPartition(naming.RESOURCES, 0, OFFSET_BEGINNING)])
    try:

        def found() -> bool:
            m = c.poll(0.5)
            return bool(
                m is not None
                and not m.error()
                and m.key() == f"widget/traced-{unique}".encode()
                and (TRACE_ID_KEY, f"trace-{unique}".encode()) in (m.headers() or [])
            )

        eventually(found, timeout=20, interval=0)
    finally:
        c.close()


def test_sigterm_exits_cleanly(eventplane_kafka: str) -> None:
    server = EventplaneProcess(eventplane_kafka).start()
    assert server.proc is not None
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(30) == 0
    assert "eventplane stopped" in server.log_tail()
    with pytest.raises(grpc.RpcError), grpc.insecure_channel(server.endpoint) as ch:
        health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=1)


def test_client_reports_unavailable_then_recovers_on_same_channel(eventplane_kafka: str) -> None:
    server = EventplaneProcess(eventplane_kafka)
    with Client(server.endpoint, timeout=5) as ep:
        with pytest.raises(ServiceUnavailable) as info:
            ep.platform.get_server_info()
        assert info.value.retriable
        server.start()
        try:

            def answered() -> str:
                try:
                    return ep.platform.get_server_info().instance_id
                except ServiceUnavailable as exc:
                    raise AssertionError(str(exc)) from None

            assert eventually(answered, timeout=30)
        finally:
            server.stop()


def _reflected(endpoint: str) -> set[str]:
    with grpc.insecure_channel(endpoint) as ch:
        refl = reflection_pb2_grpc.ServerReflectionStub(ch)
        (answer,) = list(
            refl.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")])
            )
        )
    return {s.name for s in answer.list_services_response.service}


def test_roles_decide_the_services_a_process_serves(eventplane_kafka: str) -> None:
    api = EventplaneProcess(eventplane_kafka, roles="api").start()
    queues = EventplaneProcess(eventplane_kafka, roles="queues").start()
    try:
        # api alone: the Platform service and reflection, no capability's service.
        with api.client() as ep:
            assert ep.platform.get_server_info().roles == ("api",)
        assert _reflected(api.endpoint) == {
            "eventplane.v1.Platform",
            "grpc.health.v1.Health",
            "grpc.reflection.v1alpha.ServerReflection",
        }
        with grpc.insecure_channel(api.endpoint) as ch:
            call = ch.unary_unary("/eventplane.v1.Queues/ListQueues")
            with pytest.raises(grpc.RpcError) as err:
                call(b"", timeout=5)
            assert err.value.code() is grpc.StatusCode.UNIMPLEMENTED
        # queues without api: its own service and health (probes), no Platform.
        with grpc.insecure_channel(queues.endpoint) as ch:
            health = health_pb2_grpc.HealthStub(ch)
            for service in ("", "eventplane.v1.Queues"):
                resp = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
                assert resp.status == health_pb2.HealthCheckResponse.SERVING
            info = ch.unary_unary("/eventplane.v1.Platform/GetServerInfo")
            with pytest.raises(grpc.RpcError) as err:
                info(b"", timeout=5)
            assert err.value.code() is grpc.StatusCode.UNIMPLEMENTED
        with queues.client() as ep:
            assert ep.queues.list_queues(queue_name_prefix="no-such-prefix-") == []
    finally:
        api.stop()
        queues.stop()


def test_registry_version_moves_after_its_listeners_have_seen_a_change(
    kafka_settings: Settings, unique: str
) -> None:
    """Authorization remembers owners and policies under Registry.version: it must move on
    every change, and only once the listeners (whose caches lookups read) have it."""
    producer = Producer(kafka_settings)
    reg = Registry(kafka_settings, producer)
    reg.start()
    during: list[tuple[str, int]] = []
    reg.subscribe(lambda kind, name, _r: during.append((name, reg.version())))

    def mine() -> list[int]:
        return [v for name, v in during if name == f"v-{unique}"]

    try:
        before = reg.version()
        reg.put("widget", f"v-{unique}", {"size": 1})
        after_put = reg.version()
        assert after_put > before  # a write that has returned has moved it
        reg.delete("widget", f"v-{unique}")
        assert reg.version() > after_put
        seen = eventually(lambda: mine() if len(mine()) == 2 else None)
        # The listeners saw each change under a version that moves again once they return.
        eventually(lambda: reg.version() > seen[1])
        assert seen[0] < seen[1]
    finally:
        reg.close()
        producer.close()
