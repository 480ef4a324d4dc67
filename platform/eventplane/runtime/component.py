"""The contract between the server and one capability's runtime."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from eventplane.runtime.clock import Clock, wall_clock_ms

if TYPE_CHECKING:
    import grpc

    from eventplane.config import Settings
    from eventplane.kafka.clients import Producer
    from eventplane.registry import Registry


@dataclass
class ServerContext:
    """What every component gets: settings and the shared Kafka-backed parts."""

    settings: Settings
    producer: Producer
    registry: Registry
    instance_id: str
    extras: dict[str, Any] = field(default_factory=dict)
    # The wall clock engines read (ms since the epoch); tests pass a FixedClock.
    clock: Clock = wall_clock_ms
    # Where this process's own components call its gRPC API (workflow tasks): a private
    # Unix socket, plaintext whatever the public port speaks, and the bearer token that
    # authenticates them there. Empty: the public address, no token. (Event source
    # mappings read queues through a port in ``extras``, see eventplane.messaging.sources.)
    internal_target: str = ""
    internal_token: str = ""

    @property
    def loopback_target(self) -> str:
        return self.internal_target or self.settings.grpc_target


class Component(Protocol):
    """One capability's runtime, started when its role is enabled."""

    role: str
    service_names: Sequence[str]

    async def start(self, ctx: ServerContext, server: grpc.aio.Server) -> None: ...

    async def stop(self) -> None: ...
