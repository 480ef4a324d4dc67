"""The registry of capabilities: one line each, and what a process's roles serve."""

from __future__ import annotations

from eventplane.config import ROLES, Settings
from eventplane.runtime import CAPABILITIES, components_for, declared_services
from eventplane.runtime.relay import _outgoing, service_roles

PLATFORM = "eventplane.v1.Platform"
REFLECTION = "grpc.reflection.v1alpha.ServerReflection"


def test_every_registered_role_is_a_configurable_role() -> None:
    assert {c.role for c in CAPABILITIES} <= set(ROLES)
    assert len({c.role for c in CAPABILITIES}) == len(CAPABILITIES)


def test_every_component_declares_its_role_and_services() -> None:
    for capability in CAPABILITIES:
        cls = capability.component_class()
        assert cls.role == capability.role
        assert cls.service_names, capability


def test_api_alone_serves_platform_and_reflection_only() -> None:
    assert declared_services(Settings(roles=("api",))) == [PLATFORM, REFLECTION]
    assert [c.role for c in components_for(Settings(roles=("api",)))] == ["api"]


def test_a_role_that_is_off_registers_no_service() -> None:
    services = declared_services(Settings(roles=("queues",)))
    assert services == ["eventplane.v1.Queues"]
    assert PLATFORM not in services
    everything = declared_services(Settings())
    assert {PLATFORM, REFLECTION, "eventplane.v1.Queues", "eventplane.v1.Topics"} <= set(everything)
    assert {"eventplane.v1.EventBuses", "eventplane.v1.Functions"} <= set(everything)


def test_every_capability_rpc_is_unary_so_a_relay_serves_it() -> None:
    # runtime/relay.py relays unary calls only; a streaming RPC would need it extended.
    from google.protobuf import descriptor_pool

    roles = service_roles()
    assert roles["eventplane.v1.Queues"] == "queues"
    assert roles["eventplane.v1.Tables"] == "tables"
    pool = descriptor_pool.Default()
    for service, _role in roles.items():
        if service == REFLECTION:
            continue
        for method in pool.FindServiceByName(service).methods:
            assert not (method.client_streaming or method.server_streaming), method.full_name


def test_relayed_metadata_keeps_bearer_tokens_and_replaces_what_cannot_travel() -> None:
    from eventplane.security.interceptor import INTERNAL, current_principal
    from eventplane.security.replicas import FORWARDED_KEY
    from eventplane.security.tokens import Principal

    incoming = [
        ("authorization", "Bearer user-token"),
        ("x-eventplane-request-id", "r1"),
        ("user-agent", "grpc-python"),
        ("grpc-accept-encoding", "gzip"),
        (FORWARDED_KEY, "forged"),
    ]
    reset = current_principal.set(Principal(name="ci", via="token"))
    try:
        assert _outgoing(incoming, "relay") == (
            ("authorization", "Bearer user-token"),
            ("x-eventplane-request-id", "r1"),
        )
    finally:
        current_principal.reset(reset)
    reset = current_principal.set(INTERNAL)
    try:
        assert _outgoing(incoming, "relay") == (
            ("x-eventplane-request-id", "r1"),
            (FORWARDED_KEY, "relay"),
        )
    finally:
        current_principal.reset(reset)
