"""client.topics: SNS-compatible topics; method names follow boto3's SNS client.

    with Client() as ep:
        topic = ep.topics.create_topic("orders")
        ep.topics.subscribe(topic, "sqs", "orders-eu", attributes={
            "FilterPolicy": {"region": ["eu-west-1"]}, "RawMessageDelivery": True})
        ep.topics.publish(topic, "hello", message_attributes={
            "region": {"DataType": "String", "StringValue": "eu-west-1"}})

Topics and subscriptions are addressed by ARN
(``arn:aws:sns:<region>:<account>:<topic>[:<subscription id>]``); a topic may
also be named by its bare name. The ``list_*`` methods follow every page.
Errors carry SNS's codes (``NotFound``, ``InvalidParameter``, ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from eventplane._gen.v1 import topics_pb2 as pb
from eventplane._gen.v1 import topics_pb2_grpc
from eventplane.client import _topic_types as t
from eventplane.client._channel import Page, every_page
from eventplane.client._facade import BlockingFacade, ServiceCore, blocking
from eventplane.client._queue_types import MessageAttributeInput
from eventplane.client._topic_types import (
    AttributeValue,
    PublishBatchEntry,
    PublishBatchResult,
    PublishResult,
    Subscription,
)


class AsyncTopicsClient(ServiceCore):
    """asyncio Topics API; reach it as ``AsyncClient().topics``.

    The one implementation of every call: ``TopicsClient`` runs these same
    methods over a blocking channel (see ``eventplane.client._facade``).
    """

    _stub_class = topics_pb2_grpc.TopicsStub

    async def create_topic(
        self,
        name: str,
        attributes: Mapping[str, AttributeValue] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Create a topic, or return the ARN of an identical existing one.

        Args:
            name: letters, digits, ``-`` and ``_``; FIFO topics end in ``.fifo``.
            attributes: SNS attribute names to values (``{"FifoTopic": True,
                "ContentBasedDeduplication": True, "DisplayName": "Orders"}``);
                ints and bools are sent as SNS spells them, dicts as JSON.
            tags: cost-allocation style tags.

        Returns:
            The topic ARN.

        Raises:
            EventplaneError: ``InvalidParameter`` when the name or an attribute is
                invalid, or a topic of that name exists with other attributes.
        """
        req = pb.CreateTopicRequest(
            name=name, attributes=t.attributes_pb(attributes), tags=dict(tags or {})
        )
        return str((await self._call(self._stub.CreateTopic, req, self._timeout)).topic_arn)

    async def delete_topic(self, topic_arn: str) -> None:
        """Delete a topic and all of its subscriptions.

        Args:
            topic_arn: the topic (ARN or name).
        """
        req = pb.DeleteTopicRequest(topic_arn=topic_arn)
        await self._call(self._stub.DeleteTopic, req, self._timeout)

    async def list_topics(self) -> list[str]:
        """The ARNs of every topic; follows all pages."""

        async def page(token: str | None) -> Page[str]:
            req = pb.ListTopicsRequest(next_token=token or "")
            return t.topic_page(await self._call(self._stub.ListTopics, req, self._timeout))

        return await every_page(page)

    async def get_topic_attributes(self, topic_arn: str) -> dict[str, str]:
        """A topic's attributes, by SNS attribute name.

        Args:
            topic_arn: the topic (ARN or name).

        Returns:
            Every attribute (``TopicArn``, ``DisplayName``, ``FifoTopic``,
            ``SubscriptionsConfirmed``, ...), values as SNS spells them.

        Raises:
            EventplaneError: ``NotFound`` when the topic does not exist.
        """
        req = pb.GetTopicAttributesRequest(topic_arn=topic_arn)
        return dict(
            (await self._call(self._stub.GetTopicAttributes, req, self._timeout)).attributes
        )

    async def set_topic_attributes(
        self, topic_arn: str, attribute_name: str, attribute_value: AttributeValue
    ) -> None:
        """Change one of a topic's attributes.

        Args:
            topic_arn: the topic (ARN or name).
            attribute_name: the SNS attribute name (``DisplayName``, ``DeliveryPolicy``, ...).
            attribute_value: the new value; ints and bools as SNS spells them, dicts as JSON.

        Raises:
            EventplaneError: ``NotFound`` when the topic does not exist;
                ``InvalidParameter`` when the attribute cannot be set to that value.
        """
        req = pb.SetTopicAttributesRequest(
            topic_arn=topic_arn,
            attribute_name=attribute_name,
            attribute_value=t.attribute_text(attribute_value),
        )
        await self._call(self._stub.SetTopicAttributes, req, self._timeout)

    async def tag_resource(self, resource_arn: str, tags: Mapping[str, str]) -> None:
        """Add tags to a topic, overwriting the value of a key it already has.

        Args:
            resource_arn: the topic (ARN or name).
            tags: keys of 1-128 characters (case-sensitive, not starting with ``aws:``)
                to values of up to 256 characters; a topic holds at most 50 tags.

        Raises:
            EventplaneError: ``ResourceNotFound`` when the topic does not exist;
                ``TagLimitExceeded`` when it would hold more than 50 tags;
                ``InvalidParameter`` when a key or value breaks the limits or
                ``tags`` is empty.
        """
        req = pb.TagResourceRequest(resource_arn=resource_arn, tags=dict(tags))
        await self._call(self._stub.TagResource, req, self._timeout)

    async def untag_resource(self, resource_arn: str, tag_keys: Sequence[str]) -> None:
        """Remove tags from a topic; a key the topic does not have is ignored.

        Args:
            resource_arn: the topic (ARN or name).
            tag_keys: the keys to remove.

        Raises:
            EventplaneError: ``ResourceNotFound`` when the topic does not exist;
                ``InvalidParameter`` when ``tag_keys`` is empty.
        """
        if isinstance(tag_keys, str):  # list("team") would remove t, e, a and m
            raise TypeError("tag_keys must be a sequence of keys, not one string")
        req = pb.UntagResourceRequest(resource_arn=resource_arn, tag_keys=list(tag_keys))
        await self._call(self._stub.UntagResource, req, self._timeout)

    async def list_tags_for_resource(self, resource_arn: str) -> dict[str, str]:
        """A topic's tags, key to value (empty when it has none).

        Args:
            resource_arn: the topic (ARN or name).

        Raises:
            EventplaneError: ``ResourceNotFound`` when the topic does not exist.
        """
        req = pb.ListTagsForResourceRequest(resource_arn=resource_arn)
        resp = await self._call(self._stub.ListTagsForResource, req, self._timeout)
        return dict(resp.tags)

    async def subscribe(
        self,
        topic_arn: str,
        protocol: str,
        endpoint: str,
        *,
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> str:
        """Subscribe an endpoint to a topic, or return the ARN of the identical subscription.

        Args:
            topic_arn: the topic (ARN or name).
            protocol: ``sqs`` (an eventplane queue), ``http`` or ``https``.
            endpoint: the queue's ARN, URL or name; or the URL to POST messages to.
            attributes: ``FilterPolicy`` (a dict or its JSON text),
                ``FilterPolicyScope`` (``MessageAttributes`` or ``MessageBody``),
                ``RawMessageDelivery`` (bool), ``RedrivePolicy`` (dict or JSON).

        Returns:
            The subscription ARN.

        Raises:
            EventplaneError: ``NotFound`` when the topic does not exist;
                ``InvalidParameter`` when the protocol, endpoint or filter policy is
                invalid (the message names the problem).
        """
        req = pb.SubscribeRequest(
            topic_arn=topic_arn,
            protocol=protocol,
            endpoint=endpoint,
            attributes=t.attributes_pb(attributes),
        )
        return str((await self._call(self._stub.Subscribe, req, self._timeout)).subscription_arn)

    async def confirm_subscription(
        self, topic_arn: str, token: str, *, authenticate_on_unsubscribe: bool | None = None
    ) -> str:
        """Confirm an http/https subscription with the ``Token`` of the
        SubscriptionConfirmation message its endpoint received.

        eventplane delivers to such a subscription from the start, so confirming it
        changes nothing; it answers as SNS does, for endpoints written for SNS.

        Returns:
            The subscription's ARN.

        Raises:
            EventplaneError: ``NotFound`` when the topic does not exist;
                ``InvalidParameter`` when no subscription of the topic got that token.
        """
        flag = "" if authenticate_on_unsubscribe is None else str(authenticate_on_unsubscribe)
        req = pb.ConfirmSubscriptionRequest(
            topic_arn=topic_arn, token=token, authenticate_on_unsubscribe=flag.lower()
        )
        resp = await self._call(self._stub.ConfirmSubscription, req, self._timeout)
        return str(resp.subscription_arn)

    async def unsubscribe(self, subscription_arn: str) -> None:
        """Delete a subscription; messages published from now on no longer reach it.

        Args:
            subscription_arn: the subscription.
        """
        req = pb.UnsubscribeRequest(subscription_arn=subscription_arn)
        await self._call(self._stub.Unsubscribe, req, self._timeout)

    async def list_subscriptions(self) -> list[Subscription]:
        """Every subscription of every topic; follows all pages."""

        async def page(token: str | None) -> Page[Subscription]:
            req = pb.ListSubscriptionsRequest(next_token=token or "")
            resp = await self._call(self._stub.ListSubscriptions, req, self._timeout)
            return t.subscription_page(resp)

        return await every_page(page)

    async def list_subscriptions_by_topic(self, topic_arn: str) -> list[Subscription]:
        """The subscriptions of one topic; follows all pages.

        Args:
            topic_arn: the topic (ARN or name).

        Raises:
            EventplaneError: ``NotFound`` when the topic does not exist.
        """

        async def page(token: str | None) -> Page[Subscription]:
            req = pb.ListSubscriptionsByTopicRequest(topic_arn=topic_arn, next_token=token or "")
            resp = await self._call(self._stub.ListSubscriptionsByTopic, req, self._timeout)
            return t.subscription_page(resp)

        return await every_page(page)

    async def get_subscription_attributes(self, subscription_arn: str) -> dict[str, str]:
        """A subscription's attributes, by SNS attribute name.

        Args:
            subscription_arn: the subscription.

        Returns:
            Every attribute (``TopicArn``, ``Protocol``, ``Endpoint``,
            ``FilterPolicy``, ``RawMessageDelivery``, ...), values as SNS spells them.

        Raises:
            EventplaneError: ``NotFound`` when the subscription does not exist.
        """
        req = pb.GetSubscriptionAttributesRequest(subscription_arn=subscription_arn)
        resp = await self._call(self._stub.GetSubscriptionAttributes, req, self._timeout)
        return dict(resp.attributes)

    async def set_subscription_attributes(
        self, subscription_arn: str, attribute_name: str, attribute_value: AttributeValue
    ) -> None:
        """Change one of a subscription's attributes.

        Args:
            subscription_arn: the subscription.
            attribute_name: ``FilterPolicy``, ``FilterPolicyScope``,
                ``RawMessageDelivery`` or ``RedrivePolicy``.
            attribute_value: the new value; a dict is sent as JSON (a filter
                policy), a bool as ``true``/``false``.

        Raises:
            EventplaneError: ``NotFound`` when the subscription does not exist;
                ``InvalidParameter`` when the value is invalid (a filter policy SNS
                would reject, ...).
        """
        req = pb.SetSubscriptionAttributesRequest(
            subscription_arn=subscription_arn,
            attribute_name=attribute_name,
            attribute_value=t.attribute_text(attribute_value),
        )
        await self._call(self._stub.SetSubscriptionAttributes, req, self._timeout)

    async def publish(
        self,
        topic_arn: str,
        message: str,
        *,
        subject: str | None = None,
        message_attributes: Mapping[str, MessageAttributeInput] | None = None,
        message_structure: str | None = None,
        message_group_id: str | None = None,
        message_deduplication_id: str | None = None,
    ) -> PublishResult:
        """Publish one message to every subscription whose filter policy matches.

        Args:
            topic_arn: the topic (ARN or name).
            message: the message text.
            subject: the ``Subject`` of the envelope subscribers receive.
            message_attributes: name to ``MessageAttribute`` or boto3-style dict, as
                for ``QueuesClient.send_message``; filter policies match on them.
            message_structure: ``"json"``: ``message`` is a JSON object with a
                ``default`` text and optionally one per protocol (``sqs``, ``http``).
            message_group_id: FIFO topics: messages of a group are delivered in order.
            message_deduplication_id: FIFO topics: publishes with the same id within
                5 minutes are accepted but delivered once.

        Returns:
            The message id and, on FIFO topics, the sequence number.

        Raises:
            EventplaneError: ``NotFound`` when the topic does not exist;
                ``InvalidParameter`` when the message or its attributes are invalid.
        """
        req = t.publish_request(
            topic_arn,
            message,
            subject,
            message_attributes,
            message_structure,
            message_group_id,
            message_deduplication_id,
        )
        return t.publish_result(await self._call(self._stub.Publish, req, self._timeout))

    async def publish_batch(
        self,
        topic_arn: str,
        entries: Iterable[PublishBatchEntry | Mapping[str, Any]],
    ) -> PublishBatchResult:
        """Publish up to 10 messages in one call.

        Args:
            topic_arn: the topic (ARN or name).
            entries: ``PublishBatchEntry`` or dicts with its snake_case keys
                (``{"id": "1", "message": "x", "subject": "s"}``).

        Returns:
            The entries that were published and those that failed; check ``failed``.

        Raises:
            InvalidParameterValue: an entry is malformed (before anything is sent).
        """
        req = pb.PublishBatchRequest(topic_arn=topic_arn, entries=t.publish_entries_pb(entries))
        return t.publish_batch_result(await self._call(self._stub.PublishBatch, req, self._timeout))


class TopicsClient(BlockingFacade[AsyncTopicsClient]):
    """Blocking Topics API; reach it as ``Client().topics``."""

    _core_class = AsyncTopicsClient

    create_topic = blocking(AsyncTopicsClient.create_topic)
    delete_topic = blocking(AsyncTopicsClient.delete_topic)
    list_topics = blocking(AsyncTopicsClient.list_topics)
    get_topic_attributes = blocking(AsyncTopicsClient.get_topic_attributes)
    set_topic_attributes = blocking(AsyncTopicsClient.set_topic_attributes)
    tag_resource = blocking(AsyncTopicsClient.tag_resource)
    untag_resource = blocking(AsyncTopicsClient.untag_resource)
    list_tags_for_resource = blocking(AsyncTopicsClient.list_tags_for_resource)
    subscribe = blocking(AsyncTopicsClient.subscribe)
    confirm_subscription = blocking(AsyncTopicsClient.confirm_subscription)
    unsubscribe = blocking(AsyncTopicsClient.unsubscribe)
    list_subscriptions = blocking(AsyncTopicsClient.list_subscriptions)
    list_subscriptions_by_topic = blocking(AsyncTopicsClient.list_subscriptions_by_topic)
    get_subscription_attributes = blocking(AsyncTopicsClient.get_subscription_attributes)
    set_subscription_attributes = blocking(AsyncTopicsClient.set_subscription_attributes)
    publish = blocking(AsyncTopicsClient.publish)
    publish_batch = blocking(AsyncTopicsClient.publish_batch)
