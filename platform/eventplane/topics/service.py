"""The Topics gRPC service: validate at the edge, call the engine, map the result."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from eventplane._gen.v1 import queues_pb2, topics_pb2_grpc
from eventplane._gen.v1 import topics_pb2 as pb
from eventplane.errors import EventplaneError
from eventplane.queues import messages as msgs
from eventplane.queues.messages import MessageAttribute
from eventplane.topics.engine import TopicEngine
from eventplane.topics.errors import InvalidParameter
from eventplane.topics.models import Published, SubscriptionDef

Ctx: TypeAlias = grpc.aio.ServicerContext
PAGE = 100


def _require(value: str, parameter: str) -> str:
    if not value:
        raise InvalidParameter(f"Invalid parameter: {parameter}")
    return value


def _attributes(raw: Any) -> dict[str, MessageAttribute]:
    return {
        name: MessageAttribute(
            data_type=v.data_type,
            string_value=v.string_value if v.string_value or not v.binary_value else None,
            binary_value=v.binary_value or None,
        )
        for name, v in raw.items()
    }


def _page(items: list[str], token: str) -> tuple[list[str], str]:
    start = int(token) if token.isdigit() else 0
    chunk = items[start : start + PAGE]
    return chunk, str(start + PAGE) if start + PAGE < len(items) else ""


def _view(sub: SubscriptionDef) -> pb.Subscription:
    attrs = sub.config.attributes()
    return pb.Subscription(
        subscription_arn=sub.arn,
        owner="000000000000",
        protocol=sub.config.protocol,
        endpoint=attrs.get("Endpoint", sub.config.endpoint),
        topic_arn=sub.arn.rsplit(":", 1)[0],
    )


class TopicsService(topics_pb2_grpc.TopicsServicer):
    def __init__(self, engine: TopicEngine) -> None:
        self.engine = engine

    async def CreateTopic(
        self, request: pb.CreateTopicRequest, context: Ctx
    ) -> pb.CreateTopicResponse:
        name = _require(request.name, "Name")
        topic = await self.engine.create_topic(name, dict(request.attributes), dict(request.tags))
        return pb.CreateTopicResponse(topic_arn=topic.arn)

    async def DeleteTopic(
        self, request: pb.DeleteTopicRequest, context: Ctx
    ) -> pb.DeleteTopicResponse:
        await self.engine.delete_topic(self.engine.get(_require(request.topic_arn, "TopicArn")))
        return pb.DeleteTopicResponse()

    async def ListTopics(
        self, request: pb.ListTopicsRequest, context: Ctx
    ) -> pb.ListTopicsResponse:
        arns, token = _page(sorted(t.arn for t in self.engine.topics()), request.next_token)
        return pb.ListTopicsResponse(topic_arns=arns, next_token=token)

    async def GetTopicAttributes(
        self, request: pb.GetTopicAttributesRequest, context: Ctx
    ) -> pb.GetTopicAttributesResponse:
        topic = self.engine.get(_require(request.topic_arn, "TopicArn"))
        subs = self.engine.subscriptions(topic.name)
        attrs = {
            **topic.config.attributes(),
            "TopicArn": topic.arn,
            "Owner": "000000000000",
            "SubscriptionsConfirmed": str(len(subs)),
            "SubscriptionsPending": "0",
            "SubscriptionsDeleted": "0",
        }
        return pb.GetTopicAttributesResponse(attributes=attrs)

    async def SetTopicAttributes(
        self, request: pb.SetTopicAttributesRequest, context: Ctx
    ) -> pb.SetTopicAttributesResponse:
        topic = self.engine.get(_require(request.topic_arn, "TopicArn"))
        name = _require(request.attribute_name, "AttributeName")
        await self.engine.set_topic_attribute(topic, name, request.attribute_value)
        return pb.SetTopicAttributesResponse()

    async def Subscribe(self, request: pb.SubscribeRequest, context: Ctx) -> pb.SubscribeResponse:
        topic = self.engine.get(_require(request.topic_arn, "TopicArn"))
        sub = await self.engine.subscribe(
            topic,
            _require(request.protocol, "Protocol"),
            _require(request.endpoint, "Endpoint"),
            dict(request.attributes),
        )
        return pb.SubscribeResponse(subscription_arn=sub.arn)

    async def Unsubscribe(
        self, request: pb.UnsubscribeRequest, context: Ctx
    ) -> pb.UnsubscribeResponse:
        arn = _require(request.subscription_arn, "SubscriptionArn")
        await self.engine.unsubscribe(self.engine.subscription(arn))
        return pb.UnsubscribeResponse()

    async def ListSubscriptions(
        self, request: pb.ListSubscriptionsRequest, context: Ctx
    ) -> pb.ListSubscriptionsResponse:
        return self._list(self.engine.subscriptions(), request.next_token)

    async def ListSubscriptionsByTopic(
        self, request: pb.ListSubscriptionsByTopicRequest, context: Ctx
    ) -> pb.ListSubscriptionsResponse:
        topic = self.engine.get(_require(request.topic_arn, "TopicArn"))
        return self._list(self.engine.subscriptions(topic.name), request.next_token)

    @staticmethod
    def _list(subs: list[SubscriptionDef], token: str) -> pb.ListSubscriptionsResponse:
        by_arn = {s.arn: s for s in subs}
        arns, next_token = _page(sorted(by_arn), token)
        return pb.ListSubscriptionsResponse(
            subscriptions=[_view(by_arn[a]) for a in arns], next_token=next_token
        )

    async def GetSubscriptionAttributes(
        self, request: pb.GetSubscriptionAttributesRequest, context: Ctx
    ) -> pb.GetSubscriptionAttributesResponse:
        sub = self.engine.subscription(_require(request.subscription_arn, "SubscriptionArn"))
        attrs = {
            **sub.config.attributes(),
            "SubscriptionArn": sub.arn,
            "TopicArn": sub.arn.rsplit(":", 1)[0],
            "Owner": "000000000000",
        }
        return pb.GetSubscriptionAttributesResponse(attributes=attrs)

    async def SetSubscriptionAttributes(
        self, request: pb.SetSubscriptionAttributesRequest, context: Ctx
    ) -> pb.SetSubscriptionAttributesResponse:
        sub = self.engine.subscription(_require(request.subscription_arn, "SubscriptionArn"))
        name = _require(request.attribute_name, "AttributeName")
        await self.engine.set_subscription_attribute(sub, name, request.attribute_value)
        return pb.SetSubscriptionAttributesResponse()

    async def Publish(self, request: pb.PublishRequest, context: Ctx) -> pb.PublishResponse:
        topic = self.engine.get(_require(request.topic_arn, "TopicArn"))
        published = self.engine.prepare(
            topic,
            request.message,
            request.subject,
            _attributes(request.message_attributes),
            request.message_structure,
            group_id=request.message_group_id,
            dedup_id=request.message_deduplication_id,
        )
        (outcome,) = await self.engine.publish_many(topic, [published])
        if isinstance(outcome, EventplaneError):
            raise outcome
        return pb.PublishResponse(
            message_id=outcome.message_id, sequence_number=outcome.sequence_number or ""
        )

    async def PublishBatch(
        self, request: pb.PublishBatchRequest, context: Ctx
    ) -> pb.PublishBatchResponse:
        topic = self.engine.get(_require(request.topic_arn, "TopicArn"))
        entries = list(request.entries)
        ids = [e.id for e in entries]
        msgs.validate_batch_entry_ids(ids)
        failed: list[queues_pb2.BatchResultErrorEntry] = []
        ready: list[tuple[str, Published]] = []
        for e in entries:
            try:
                ready.append(
                    (
                        e.id,
                        self.engine.prepare(
                            topic,
                            e.message,
                            e.subject,
                            _attributes(e.message_attributes),
                            e.message_structure,
                            group_id=e.message_group_id,
                            dedup_id=e.message_deduplication_id,
                        ),
                    )
                )
            except EventplaneError as exc:
                failed.append(_error(e.id, exc))
        outcomes = await self.engine.publish_many(topic, [p for _, p in ready])
        successful = []
        for (entry_id, _), outcome in zip(ready, outcomes, strict=True):
            if isinstance(outcome, EventplaneError):
                failed.append(_error(entry_id, outcome))
            else:
                successful.append(
                    pb.PublishBatchResultEntry(
                        id=entry_id,
                        message_id=outcome.message_id,
                        sequence_number=outcome.sequence_number or "",
                    )
                )
        return pb.PublishBatchResponse(successful=successful, failed=failed)


def _error(entry_id: str, exc: EventplaneError) -> queues_pb2.BatchResultErrorEntry:
    return queues_pb2.BatchResultErrorEntry(
        id=entry_id, sender_fault=not exc.retriable, code=exc.code, message=exc.message
    )
