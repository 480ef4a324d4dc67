"""The fanout role: the Topics gRPC service and the fan-out dispatcher."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import grpc

from eventplane._gen.v1 import topics_pb2, topics_pb2_grpc
from eventplane.arn import PARTITION
from eventplane.errors.base import EventplaneError
from eventplane.errors.topics import NotFound
from eventplane.runtime import ServerContext
from eventplane.security.resource_policy import RESOURCE_POLICIES_KEY

if TYPE_CHECKING:
    from eventplane.topics.engine import TopicEngine


class TopicsComponent:
    role: str = "fanout"
    service_names: Sequence[str] = (topics_pb2.DESCRIPTOR.services_by_name["Topics"].full_name,)

    def __init__(self) -> None:
        self._engine: TopicEngine | None = None

    async def start(self, ctx: ServerContext, server: grpc.aio.Server) -> None:
        from eventplane.runtime.series import precreate_series
        from eventplane.topics import metrics
        from eventplane.topics.aws import SnsBinding
        from eventplane.topics.engine import TopicEngine
        from eventplane.topics.models import TopicDef
        from eventplane.topics.operations import TopicOperations
        from eventplane.topics.service import TopicsService

        engine = TopicEngine(ctx)
        await engine.start()
        precreate_series(ctx.registry, "topic", metrics.topic_series)
        precreate_series(ctx.registry, "subscription", metrics.subscription_series)
        self._engine = engine
        self.operations = TopicOperations(engine)
        # The AWS-protocol gateway (role api) finds the SNS binding here.
        ctx.extras.setdefault("gateway.bindings", {})["sns"] = SnsBinding(self.operations)
        # Authorization (both front doors) reads a topic's Policy attribute and owner
        # account through these.
        resource_policies = ctx.extras.get(RESOURCE_POLICIES_KEY)
        if resource_policies is not None:

            def topic_of(topic_arn: str) -> TopicDef | None:
                # In the ARN's account (the authorizer fills in the caller's for bare
                # names), as the core resolves it.
                try:
                    return engine.get(topic_arn)
                except EventplaneError:
                    return None

            def policy_of(topic_arn: str) -> str | None:
                found = topic_of(topic_arn)
                return found.config.policy if found else None

            def owner(topic_arn: str) -> str | None:
                found = topic_of(topic_arn)
                return found.account if found else None

            def missing(arn: str) -> NotFound:
                subscription = arn.count(":") > 5
                return NotFound(f"{'Subscription' if subscription else 'Topic'} does not exist")

            resource_policies.register(
                f"arn:{PARTITION}:sns:", policy_of, owner, missing, version=ctx.registry.version
            )
        topics_pb2_grpc.add_TopicsServicer_to_server(TopicsService(self.operations), server)

    async def stop(self) -> None:
        if self._engine is not None:
            await self._engine.stop()
