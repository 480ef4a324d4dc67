"""The Topics gRPC service: translate protobuf onto the topics core and back.

Every rule lives in ``operations.TopicOperations`` (shared with the AWS-protocol
gateway); this module only maps fields.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from eventplane._gen.v1 import queues_pb2, topics_pb2_grpc
from eventplane._gen.v1 import topics_pb2 as pb
from eventplane.topics import shapes as s
from eventplane.topics.operations import TopicOperations

Ctx: TypeAlias = grpc.aio.ServicerContext


def _attributes(raw: Any) -> dict[str, s.MessageAttributeValue]:
    return {
        name: s.MessageAttributeValue(
            data_type=v.data_type,
            string_value=v.string_value if v.string_value or not v.binary_value else None,
            binary_value=v.binary_value or None,
        )
        for name, v in raw.items()
    }


def _subscriptions(result: s.ListSubscriptionsResult) -> pb.ListSubscriptionsResponse:
    return pb.ListSubscriptionsResponse(
        subscriptions=[
            pb.Subscription(
                subscription_arn=sub.subscription_arn,
                owner=sub.owner,
                protocol=sub.protocol,
                endpoint=sub.endpoint,
                topic_arn=sub.topic_arn,
            )
            for sub in result.subscriptions
        ],
        next_token=result.next_token,
    )


class TopicsService(topics_pb2_grpc.TopicsServicer):
    def __init__(self, ops: TopicOperations) -> None:
        self.ops = ops

    async def CreateTopic(
        self, request: pb.CreateTopicRequest, context: Ctx
    ) -> pb.CreateTopicResponse:
        result = await self.ops.create_topic(
            s.CreateTopicRequest(
                name=request.name,
                attributes=dict(request.attributes),
                tags=[s.Tag(k, v) for k, v in request.tags.items()],
            )
        )
        return pb.CreateTopicResponse(topic_arn=result.topic_arn)

    async def DeleteTopic(
        self, request: pb.DeleteTopicRequest, context: Ctx
    ) -> pb.DeleteTopicResponse:
        await self.ops.delete_topic(s.DeleteTopicRequest(topic_arn=request.topic_arn))
        return pb.DeleteTopicResponse()

    async def ListTopics(
        self, request: pb.ListTopicsRequest, context: Ctx
    ) -> pb.ListTopicsResponse:
        result = await self.ops.list_topics(s.ListTopicsRequest(next_token=request.next_token))
        return pb.ListTopicsResponse(
            topic_arns=[t.topic_arn for t in result.topics], next_token=result.next_token
        )

    async def GetTopicAttributes(
        self, request: pb.GetTopicAttributesRequest, context: Ctx
    ) -> pb.GetTopicAttributesResponse:
        result = await self.ops.get_topic_attributes(
            s.GetTopicAttributesRequest(topic_arn=request.topic_arn)
        )
        return pb.GetTopicAttributesResponse(attributes=result.attributes)

    async def SetTopicAttributes(
        self, request: pb.SetTopicAttributesRequest, context: Ctx
    ) -> pb.SetTopicAttributesResponse:
        await self.ops.set_topic_attributes(
            s.SetTopicAttributesRequest(
                request.topic_arn, request.attribute_name, request.attribute_value
            )
        )
        return pb.SetTopicAttributesResponse()

    async def TagResource(
        self, request: pb.TagResourceRequest, context: Ctx
    ) -> pb.TagResourceResponse:
        await self.ops.tag_resource(
            s.TagResourceRequest(
                resource_arn=request.resource_arn,
                tags=[s.Tag(k, v) for k, v in request.tags.items()],
            )
        )
        return pb.TagResourceResponse()

    async def UntagResource(
        self, request: pb.UntagResourceRequest, context: Ctx
    ) -> pb.UntagResourceResponse:
        await self.ops.untag_resource(
            s.UntagResourceRequest(
                resource_arn=request.resource_arn, tag_keys=list(request.tag_keys)
            )
        )
        return pb.UntagResourceResponse()

    async def ListTagsForResource(
        self, request: pb.ListTagsForResourceRequest, context: Ctx
    ) -> pb.ListTagsForResourceResponse:
        result = await self.ops.list_tags_for_resource(
            s.ListTagsForResourceRequest(resource_arn=request.resource_arn)
        )
        return pb.ListTagsForResourceResponse(tags={t["Key"]: t["Value"] for t in result.tags})

    async def Subscribe(self, request: pb.SubscribeRequest, context: Ctx) -> pb.SubscribeResponse:
        result = await self.ops.subscribe(
            s.SubscribeRequest(
                topic_arn=request.topic_arn,
                protocol=request.protocol,
                endpoint=request.endpoint,
                attributes=dict(request.attributes),
            )
        )
        return pb.SubscribeResponse(subscription_arn=result.subscription_arn)

    async def ConfirmSubscription(
        self, request: pb.ConfirmSubscriptionRequest, context: Ctx
    ) -> pb.ConfirmSubscriptionResponse:
        result = await self.ops.confirm_subscription(
            s.ConfirmSubscriptionRequest(
                request.topic_arn, request.token, request.authenticate_on_unsubscribe
            )
        )
        return pb.ConfirmSubscriptionResponse(subscription_arn=result.subscription_arn)

    async def Unsubscribe(
        self, request: pb.UnsubscribeRequest, context: Ctx
    ) -> pb.UnsubscribeResponse:
        await self.ops.unsubscribe(s.UnsubscribeRequest(request.subscription_arn))
        return pb.UnsubscribeResponse()

    async def ListSubscriptions(
        self, request: pb.ListSubscriptionsRequest, context: Ctx
    ) -> pb.ListSubscriptionsResponse:
        result = await self.ops.list_subscriptions(s.ListSubscriptionsRequest(request.next_token))
        return _subscriptions(result)

    async def ListSubscriptionsByTopic(
        self, request: pb.ListSubscriptionsByTopicRequest, context: Ctx
    ) -> pb.ListSubscriptionsResponse:
        result = await self.ops.list_subscriptions_by_topic(
            s.ListSubscriptionsByTopicRequest(request.topic_arn, request.next_token)
        )
        return _subscriptions(result)

    async def GetSubscriptionAttributes(
        self, request: pb.GetSubscriptionAttributesRequest, context: Ctx
    ) -> pb.GetSubscriptionAttributesResponse:
        result = await self.ops.get_subscription_attributes(
            s.GetSubscriptionAttributesRequest(request.subscription_arn)
        )
        return pb.GetSubscriptionAttributesResponse(attributes=result.attributes)

    async def SetSubscriptionAttributes(
        self, request: pb.SetSubscriptionAttributesRequest, context: Ctx
    ) -> pb.SetSubscriptionAttributesResponse:
        await self.ops.set_subscription_attributes(
            s.SetSubscriptionAttributesRequest(
                request.subscription_arn, request.attribute_name, request.attribute_value
            )
        )
        return pb.SetSubscriptionAttributesResponse()

    async def Publish(self, request: pb.PublishRequest, context: Ctx) -> pb.PublishResponse:
        result = await self.ops.publish(
            s.PublishRequest(
                topic_arn=request.topic_arn,
                message=request.message,
                subject=request.subject,
                message_structure=request.message_structure,
                message_attributes=_attributes(request.message_attributes),
                message_deduplication_id=request.message_deduplication_id,
                message_group_id=request.message_group_id,
            )
        )
        return pb.PublishResponse(
            message_id=result.message_id, sequence_number=result.sequence_number
        )

    async def PublishBatch(
        self, request: pb.PublishBatchRequest, context: Ctx
    ) -> pb.PublishBatchResponse:
        result = await self.ops.publish_batch(
            s.PublishBatchRequest(
                topic_arn=request.topic_arn,
                publish_batch_request_entries=[
                    s.PublishBatchRequestEntry(
                        id=e.id,
                        message=e.message,
                        subject=e.subject,
                        message_structure=e.message_structure,
                        message_attributes=_attributes(e.message_attributes),
                        message_deduplication_id=e.message_deduplication_id,
                        message_group_id=e.message_group_id,
                    )
                    for e in request.entries
                ],
            )
        )
        return pb.PublishBatchResponse(
            successful=[
                pb.PublishBatchResultEntry(
                    id=e.id, message_id=e.message_id, sequence_number=e.sequence_number
                )
                for e in result.successful
            ],
            failed=[
                queues_pb2.BatchResultErrorEntry(
                    id=e.id, sender_fault=e.sender_fault, code=e.code, message=e.message
                )
                for e in result.failed
            ],
        )
