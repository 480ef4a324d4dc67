"""The bus role: the EventBuses gRPC service, the rule dispatcher, deliveries and coordinator."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import grpc

from eventplane._gen.v1 import events_pb2, events_pb2_grpc
from eventplane.arn import PARTITION
from eventplane.bus.models.common import missing_resource
from eventplane.runtime import ServerContext
from eventplane.security.resource_policy import RESOURCE_POLICIES_KEY

if TYPE_CHECKING:
    from eventplane.bus.engine import BusEngine


class BusComponent:
    role: str = "bus"
    service_names: Sequence[str] = (events_pb2.DESCRIPTOR.services_by_name["EventBuses"].full_name,)

    def __init__(self) -> None:
        self._engine: BusEngine | None = None

    async def start(self, ctx: ServerContext, server: grpc.aio.Server) -> None:
        from eventplane.bus import metrics
        from eventplane.bus.aws import EventsBinding
        from eventplane.bus.engine import BusEngine
        from eventplane.bus.history import History
        from eventplane.bus.operations import BusOperations
        from eventplane.bus.service import EventBusesService
        from eventplane.runtime.series import precreate_series

        engine = BusEngine(ctx)
        await engine.start()
        precreate_series(ctx.registry, "event-bus", metrics.bus_series)
        precreate_series(ctx.registry, "rule", metrics.rule_series)
        self._engine = engine
        history = History(ctx, engine)
        self.operations = BusOperations(engine, history)
        # The AWS-protocol gateway (role api) finds the EventBridge binding here.
        ctx.extras.setdefault("gateway.bindings", {})["events"] = EventsBinding(self.operations)
        # Authorization (both front doors) reads a bus's PutPermission policy and the owner
        # account of buses and rules here.
        resource_policies = ctx.extras.get(RESOURCE_POLICIES_KEY)
        if resource_policies is not None:
            resource_policies.register(
                f"arn:{PARTITION}:events:",
                engine.policy_of,
                engine.owner_of,
                missing_resource,
                version=ctx.registry.version,
            )
            # Schemas have no resource policies: their owner only.
            resource_policies.register(
                f"arn:{PARTITION}:schemas:",
                lambda _arn: None,
                engine.owner_of,
                version=ctx.registry.version,
            )
        events_pb2_grpc.add_EventBusesServicer_to_server(
            EventBusesService(self.operations, history), server
        )

    async def stop(self) -> None:
        if self._engine is not None:
            await self._engine.stop()
