"""The queues role: engine + gRPC service, started by the server."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import grpc

from eventplane._gen.v1 import queues_pb2, queues_pb2_grpc
from eventplane.messaging.sources import QUEUE_SOURCE
from eventplane.runtime import ServerContext

if TYPE_CHECKING:
    from eventplane.queues.engine import QueueEngine


class QueuesComponent:
    role: str = "queues"
    service_names: Sequence[str] = (queues_pb2.DESCRIPTOR.services_by_name["Queues"].full_name,)

    def __init__(self) -> None:
        self._engine: QueueEngine | None = None

    async def start(self, ctx: ServerContext, server: grpc.aio.Server) -> None:
        from eventplane.queues import metrics
        from eventplane.queues.aws import SqsBinding
        from eventplane.queues.engine import QueueEngine
        from eventplane.queues.move_tasks import MoveTasks
        from eventplane.queues.operations import QueueOperations
        from eventplane.queues.service import QueuesService
        from eventplane.queues.source import OperationsSource
        from eventplane.runtime.series import precreate_series

        engine = QueueEngine(ctx)
        await engine.start()
        precreate_series(ctx.registry, "queue", metrics.queue_series)
        self._engine = engine
        self.operations = QueueOperations(engine, MoveTasks(engine))
        # The AWS-protocol gateway (role api) finds the SQS binding here.
        ctx.extras.setdefault("gateway.bindings", {})["sqs"] = SqsBinding(self.operations)
        # Event source mappings in this process read queues through this port.
        ctx.extras[QUEUE_SOURCE] = OperationsSource(self.operations)
        queues_pb2_grpc.add_QueuesServicer_to_server(QueuesService(self.operations), server)

    async def stop(self) -> None:
        if self._engine is not None:
            await self._engine.stop()
