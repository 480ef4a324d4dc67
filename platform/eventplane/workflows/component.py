"""The workflows role: the Workflows gRPC service, execution owners, task and timer
dispatch and the read view of executions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import grpc

from eventplane._gen.v1 import workflows_pb2, workflows_pb2_grpc
from eventplane.arn import PARTITION
from eventplane.observability.logging import get_logger
from eventplane.runtime import ServerContext
from eventplane.security.resource_policy import RESOURCE_POLICIES_KEY

if TYPE_CHECKING:
    from eventplane.workflows.core import WorkflowsCore
    from eventplane.workflows.dispatch import Dispatcher
    from eventplane.workflows.owner import Owner
    from eventplane.workflows.perform import Performer
    from eventplane.workflows.view import View

HISTORY_PARTITIONS = 8
# How long start-up waits for the read view to catch up with the history.
VIEW_READY_TIMEOUT_S = 60.0

_log = get_logger("eventplane.workflows")


def _no_policy(arn: str) -> None:
    """Step Functions has no resource policies: another account's machine is out of reach."""
    return None


class WorkflowsComponent:
    role: str = "workflows"
    service_names: Sequence[str] = (
        workflows_pb2.DESCRIPTOR.services_by_name["Workflows"].full_name,
    )

    def __init__(self) -> None:
        self._view: View | None = None
        self._owner: Owner | None = None
        self._dispatcher: Dispatcher | None = None
        self._core: WorkflowsCore | None = None
        self._performer: Performer | None = None

    async def start(self, ctx: ServerContext, server: grpc.aio.Server) -> None:
        from eventplane.kafka import naming
        from eventplane.kafka.clients import TopicSpec, ensure_topics, partition_count
        from eventplane.messaging.invoker import function_invoker
        from eventplane.security.setup import role_secret
        from eventplane.workflows import arns, metrics
        from eventplane.workflows.accounts import Owners, missing
        from eventplane.workflows.aws import StepFunctionsBinding
        from eventplane.workflows.clock import Clock
        from eventplane.workflows.core import WorkflowsCore
        from eventplane.workflows.dispatch import Dispatcher
        from eventplane.workflows.operations import WorkflowsOperations
        from eventplane.workflows.owner import Owner
        from eventplane.workflows.perform import Performer
        from eventplane.workflows.service import WorkflowsService
        from eventplane.workflows.view import View

        await asyncio.to_thread(
            ensure_topics,
            ctx.settings,
            [
                TopicSpec(naming.WF_HISTORY, HISTORY_PARTITIONS),
                TopicSpec(naming.WF_INBOX, HISTORY_PARTITIONS),
                TopicSpec(naming.WF_TASKS, HISTORY_PARTITIONS),
                TopicSpec(naming.WF_TIMERS, HISTORY_PARTITIONS),
            ],
        )
        clock = Clock.from_env()
        self._performer = Performer(
            ctx.loopback_target,
            ctx.internal_token,
            role_secret(ctx.settings),
            invoker=lambda: function_invoker(ctx.extras),
        )
        # Machines and activities belong to accounts: their ARNs carry the owner's, and
        # authorization (both front doors) finds the owner here. No resource policies.
        owners = Owners(ctx.registry)
        arns.use(owners.of_kind)
        resource_policies = ctx.extras.get(RESOURCE_POLICIES_KEY)
        if resource_policies is not None:
            resource_policies.register(
                f"arn:{PARTITION}:states:", _no_policy, owners.of_arn, missing
            )
        self._view = View(ctx.settings)
        self._view.start()
        # SERVING only once reads are right: a restarted replica first reads the history.
        if not await asyncio.to_thread(self._view.wait_ready, VIEW_READY_TIMEOUT_S):
            _log.warning(
                "workflow view not caught up; reads answer ServiceUnavailable until it is",
                waited_s=VIEW_READY_TIMEOUT_S,
            )
        self._core = WorkflowsCore(ctx, self._view, clock, self._performer)
        self._dispatcher = Dispatcher(ctx, clock, self._core.perform_task, self._view)
        self._owner = Owner(
            ctx,
            clock,
            lambda step, received: metrics.record_step(step, received, int(time.time() * 1000)),
            # function Tasks run by their owner right after their step committed
            tasks=self._dispatcher,
        )
        self._owner.start()
        # Starts whose inbox partition this replica's owner holds go to it directly.
        self._core.start_here(
            self._owner, await asyncio.to_thread(partition_count, ctx.settings, naming.WF_INBOX)
        )
        self._dispatcher.start()
        workflows_pb2_grpc.add_WorkflowsServicer_to_server(WorkflowsService(self._core), server)
        # The Step Functions JSON protocol of the gateway (role api) calls the same core.
        binding = StepFunctionsBinding(WorkflowsOperations(self._core))
        ctx.extras.setdefault("gateway.bindings", {})["stepfunctions"] = binding

    async def stop(self) -> None:
        if self._core is not None:
            await self._core.close()
        # The owner first: results its pump did not journal go to the inbox through the
        # dispatcher's loop, which must still run.
        if self._owner is not None:
            await asyncio.to_thread(self._owner.close)
        if self._dispatcher is not None:
            await asyncio.to_thread(self._dispatcher.close)
        if self._view is not None:
            await asyncio.to_thread(self._view.close)
        if self._performer is not None:
            await self._performer.close()
