"""The Platform service: what this server is and which resources the registry holds."""

from __future__ import annotations

import json

import grpc

import eventplane
from eventplane._gen.v1 import platform_pb2, platform_pb2_grpc
from eventplane.errors import InvalidParameterValue, MissingParameter
from eventplane.runtime import ServerContext


class PlatformService(platform_pb2_grpc.PlatformServicer):
    def __init__(self, ctx: ServerContext) -> None:
        self._ctx = ctx

    async def GetServerInfo(
        self, request: platform_pb2.GetServerInfoRequest, context: grpc.aio.ServicerContext
    ) -> platform_pb2.GetServerInfoResponse:
        return platform_pb2.GetServerInfoResponse(
            version=eventplane.__version__,
            roles=list(self._ctx.settings.roles),
            kafka_bootstrap=self._ctx.settings.bootstrap,
            instance_id=self._ctx.instance_id,
            region=self._ctx.settings.region,
            account_id=self._ctx.settings.account_id,
        )

    async def ListResources(
        self, request: platform_pb2.ListResourcesRequest, context: grpc.aio.ServicerContext
    ) -> platform_pb2.ListResourcesResponse:
        if not request.kind:
            raise MissingParameter("kind is required")
        if "/" in request.kind:
            raise InvalidParameterValue(f"kind {request.kind!r} must not contain '/'")
        return platform_pb2.ListResourcesResponse(
            resources=[
                platform_pb2.Resource(
                    kind=r.kind,
                    name=r.name,
                    spec_json=json.dumps(r.spec, sort_keys=True),
                    generation=r.generation,
                    created_at_ms=r.created_at,
                    updated_at_ms=r.updated_at,
                )
                for r in self._ctx.registry.find(request.kind, request.name_prefix)
            ]
        )
