"""The registry of capabilities: one line each, and what a process's roles serve."""

from __future__ import annotations

from eventplane.config import ROLES, Settings
from eventplane.runtime import CAPABILITIES, components_for, declared_services

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
