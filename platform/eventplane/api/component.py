"""The api role's component: the front doors. The Platform service and server
reflection on the gRPC port, and the AWS-protocol gateway on its HTTP port."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection

from eventplane._gen.v1 import platform_pb2, platform_pb2_grpc
from eventplane.api.platform import PlatformService
from eventplane.gateway.component import GatewayComponent
from eventplane.runtime import ServerContext, declared_services

HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name


class ApiComponent:
    role: str = "api"
    service_names: Sequence[str] = (
        platform_pb2.DESCRIPTOR.services_by_name["Platform"].full_name,
        reflection.SERVICE_NAME,
    )

    def __init__(self) -> None:
        self._gateway = GatewayComponent()

    async def start(self, ctx: ServerContext, server: grpc.aio.Server) -> None:
        platform_pb2_grpc.add_PlatformServicer_to_server(PlatformService(ctx), server)
        # Reflection lists what this process serves: health (every process) and the
        # services each enabled component declares, whatever order they start in.
        names = [HEALTH_SERVICE, *declared_services(ctx.settings)]
        reflection.enable_server_reflection(names, server)
        # The capabilities started after this one add their AWS bindings to the same
        # ctx.extras dict the gateway holds, so the order of start does not matter.
        await self._gateway.start(ctx, server)

    async def stop(self) -> None:
        await self._gateway.stop()
