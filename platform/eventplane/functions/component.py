"""The runner role: the Functions gRPC service, worker processes, async invocations and
event source mappings."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

import grpc

from eventplane._gen.v1 import functions_pb2, functions_pb2_grpc
from eventplane.arn import PARTITION
from eventplane.functions.errors import ResourceNotFoundException
from eventplane.messaging.invoker import FUNCTION_INVOKER
from eventplane.runtime import ServerContext
from eventplane.security.resource_policy import RESOURCE_POLICIES_KEY

if TYPE_CHECKING:
    from eventplane.functions.engine import FunctionEngine


class FunctionsComponent:
    role: str = "runner"
    service_names: Sequence[str] = (
        functions_pb2.DESCRIPTOR.services_by_name["Functions"].full_name,
    )

    def __init__(self) -> None:
        self._engine: FunctionEngine | None = None

    async def start(self, ctx: ServerContext, server: grpc.aio.Server) -> None:
        from eventplane.functions import metrics
        from eventplane.functions.aws import LambdaBinding
        from eventplane.functions.engine import FunctionEngine
        from eventplane.functions.invoker import OperationsInvoker
        from eventplane.functions.operations import FunctionOperations
        from eventplane.functions.service import FunctionsService
        from eventplane.runtime.series import precreate_series

        engine = FunctionEngine(ctx)
        await engine.start()
        precreate_series(ctx.registry, "function", metrics.function_series)
        self._engine = engine
        self.operations = FunctionOperations(engine)
        # The AWS-protocol gateway (role api) finds the Lambda binding here.
        ctx.extras.setdefault("gateway.bindings", {})["lambda"] = LambdaBinding(self.operations)
        # Authorization (both front doors) reads a function's AddPermission policy here.
        resource_policies = ctx.extras.get(RESOURCE_POLICIES_KEY)
        if resource_policies is not None:
            resource_policies.register(
                f"arn:{PARTITION}:lambda:",
                engine.permissions.text_of,
                engine.permissions.owner_of,
                lambda arn: ResourceNotFoundException(f"Function not found: {arn}"),
                version=ctx.registry.version,  # both lookups read the registry only
            )
        # Workflow tasks in this process invoke through the core, not the loopback socket.
        ctx.extras[FUNCTION_INVOKER] = OperationsInvoker(
            self.operations, asyncio.get_running_loop()
        )
        functions_pb2_grpc.add_FunctionsServicer_to_server(
            FunctionsService(self.operations), server
        )

    async def stop(self) -> None:
        if self._engine is not None:
            await self._engine.stop()
