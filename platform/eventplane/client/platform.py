"""client.platform: what a server is and what it knows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eventplane._gen.v1 import platform_pb2 as pb
from eventplane._gen.v1 import platform_pb2_grpc
from eventplane.client._facade import BlockingFacade, ServiceCore, blocking


@dataclass(frozen=True)
class ServerInfo:
    version: str
    roles: tuple[str, ...]
    kafka_bootstrap: str
    instance_id: str
    # The region and account id in the ARNs the server formats.
    region: str = ""
    account_id: str = ""


@dataclass(frozen=True)
class ResourceInfo:
    kind: str
    name: str
    spec: dict[str, Any]
    generation: int
    created_at_ms: int
    updated_at_ms: int


class AsyncPlatformClient(ServiceCore):
    """asyncio Platform API; reach it as ``AsyncClient().platform``."""

    _stub_class = platform_pb2_grpc.PlatformStub

    async def get_server_info(self) -> ServerInfo:
        """Version, roles, Kafka cluster, region and account of the server this client
        talks to."""
        req = pb.GetServerInfoRequest()
        r = await self._call(self._stub.GetServerInfo, req, self._timeout)
        return ServerInfo(
            r.version, tuple(r.roles), r.kafka_bootstrap, r.instance_id, r.region, r.account_id
        )

    async def list_resources(self, kind: str, name_prefix: str = "") -> list[ResourceInfo]:
        """Resource definitions of one kind ("queue", "topic", ...) the server knows."""
        req = pb.ListResourcesRequest(kind=kind, name_prefix=name_prefix)
        r = await self._call(self._stub.ListResources, req, self._timeout)
        return [
            ResourceInfo(
                x.kind,
                x.name,
                json.loads(x.spec_json),
                x.generation,
                x.created_at_ms,
                x.updated_at_ms,
            )
            for x in r.resources
        ]


class PlatformClient(BlockingFacade[AsyncPlatformClient]):
    """Blocking Platform API; reach it as ``Client().platform``."""

    _core_class = AsyncPlatformClient

    get_server_info = blocking(AsyncPlatformClient.get_server_info)
    list_resources = blocking(AsyncPlatformClient.list_resources)
