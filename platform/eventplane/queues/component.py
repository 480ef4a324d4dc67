"""The queues role: engine + gRPC service, started by the server."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import grpc

from eventplane._gen.v1 import queues_pb2, queues_pb2_grpc
from eventplane.arn import PARTITION
from eventplane.errors.base import EventplaneError
from eventplane.errors.queues import QueueDoesNotExist
from eventplane.messaging.sources import QUEUE_SOURCE
from eventplane.runtime import ServerContext
from eventplane.security.resource_policy import RESOURCE_POLICIES_KEY

if TYPE_CHECKING:
    from eventplane.queues.engine import QueueEngine
    from eventplane.queues.queue_def import QueueDef


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
        from eventplane.queues.owners import owner_service
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
        # Authorization (both front doors) reads a queue's Policy attribute and owner
        # account through these.
        resource_policies = ctx.extras.get(RESOURCE_POLICIES_KEY)
        if resource_policies is not None:

            def queue_of(queue_arn: str) -> QueueDef | None:
                # In the ARN's account (the authorizer fills in the caller's for bare
                # names), as the core resolves it.
                try:
                    return engine.find(queue_arn)
                except EventplaneError:
                    return None

            def policy_of(queue_arn: str) -> str | None:
                qd = queue_of(queue_arn)
                return qd.config.policy if qd is not None else None

            def owner_of(queue_arn: str) -> str | None:
                qd = queue_of(queue_arn)
                return qd.account if qd is not None else None

            resource_policies.register(
                f"arn:{PARTITION}:sqs:",
                policy_of,
                owner_of,
                lambda _arn: QueueDoesNotExist("The specified queue does not exist."),
                version=ctx.registry.version,  # QueueDefs: the registry, parsed
            )
        # Event source mappings in this process read queues through this port.
        ctx.extras[QUEUE_SOURCE] = OperationsSource(self.operations)
        queues_pb2_grpc.add_QueuesServicer_to_server(QueuesService(self.operations), server)
        # Other replicas forward requests for this replica's partitions here.
        server.add_generic_rpc_handlers((owner_service(self.operations, engine.forward_token),))

    async def stop(self) -> None:
        if self._engine is not None:
            await self._engine.stop()
