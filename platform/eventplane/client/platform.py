"""client.platform: what a server is and what it knows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eventplane._gen.v1 import platform_pb2 as pb
from eventplane._gen.v1 import platform_pb2_grpc
from eventplane.client._channel import ainvoke, invoke


@dataclass(frozen=True)
class ServerInfo:
    version: str
    roles: tuple[str, ...]
    kafka_bootstrap: str
    instance_id: str


@dataclass(frozen=True)
class ResourceInfo:
    kind: str
    name: str
    spec: dict[str, Any]
    generation: int
    created_at_ms: int
    updated_at_ms: int


def _info(r: pb.GetServerInfoResponse) -> ServerInfo:
    return ServerInfo(r.version, tuple(r.roles), r.kafka_bootstrap, r.instance_id)


def _resources(r: pb.ListResourcesResponse) -> list[ResourceInfo]:
    return [
        ResourceInfo(
            x.kind, x.name, json.loads(x.spec_json), x.generation, x.created_at_ms, x.updated_at_ms
        )
        for x in r.resources
    ]


class PlatformClient:
    def __init__(self, channel: Any, timeout: float | None) -> None:
        self._stub = platform_pb2_grpc.PlatformStub(channel)
        self._timeout = timeout

    def get_server_info(self) -> ServerInfo:
        """Version, roles and Kafka cluster of the server this client talks to."""
        return _info(invoke(self._stub.GetServerInfo, pb.GetServerInfoRequest(), self._timeout))

    def list_resources(self, kind: str, name_prefix: str = "") -> list[ResourceInfo]:
        """Resource definitions of one kind ("queue", "topic", ...) the server knows."""
        req = pb.ListResourcesRequest(kind=kind, name_prefix=name_prefix)
        return _resources(invoke(self._stub.ListResources, req, self._timeout))


class AsyncPlatformClient:
    def __init__(self, channel: Any, timeout: float | None) -> None:
        self._stub = platform_pb2_grpc.PlatformStub(channel)
        self._timeout = timeout

    async def get_server_info(self) -> ServerInfo:
        """Version, roles and Kafka cluster of the server this client talks to."""
        req = pb.GetServerInfoRequest()
        return _info(await ainvoke(self._stub.GetServerInfo, req, self._timeout))

    async def list_resources(self, kind: str, name_prefix: str = "") -> list[ResourceInfo]:
        """Resource definitions of one kind ("queue", "topic", ...) the server knows."""
        req = pb.ListResourcesRequest(kind=kind, name_prefix=name_prefix)
        return _resources(await ainvoke(self._stub.ListResources, req, self._timeout))
