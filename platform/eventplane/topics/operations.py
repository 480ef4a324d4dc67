"""The topics core: one method per SNS action, typed shapes in, typed shapes out.

Every front door (the gRPC servicer, the HTTP gateway's SNS query protocol, in-process
callers) calls these methods, so each rule and each error is written once: required
members, paging, the attributes GetTopicAttributes adds, and PublishBatch's per-entry
outcome. The engine below keeps the registry, Kafka and the dispatcher.
"""

from __future__ import annotations

from eventplane.errors import EventplaneError
from eventplane.messaging.batches import validate_batch_entry_ids
from eventplane.security import labelled
from eventplane.security.accounts import listing_account
from eventplane.topics import shapes as s
from eventplane.topics.attributes.topics import default_topic_policy
from eventplane.topics.engine import TopicEngine
from eventplane.topics.envelope import validate_batch_size
from eventplane.topics.errors import InvalidParameter, NotFound, TaggedResourceNotFound
from eventplane.topics.models import Published, SubscriptionDef, TopicDef

PAGE = 100


# The actions AddPermission may grant another account (SNS's shareable topic actions).
SHAREABLE_ACTIONS = frozenset(
    {
        "GetTopicAttributes",
        "SetTopicAttributes",
        "AddPermission",
        "RemovePermission",
        "DeleteTopic",
        "Subscribe",
        "ListSubscriptionsByTopic",
        "Publish",
        "Receive",
    }
)


def _require(value: str, parameter: str) -> str:
    if not value:
        raise InvalidParameter(f"Invalid parameter: {parameter}")
    return value


def _page(items: list[str], token: str) -> tuple[list[str], str]:
    start = int(token) if token.isascii() and token.isdigit() else 0
    chunk = items[start : start + PAGE]
    return chunk, str(start + PAGE) if start + PAGE < len(items) else ""


def _view(sub: SubscriptionDef) -> s.Subscription:
    attrs = sub.config.attributes()
    return s.Subscription(
        subscription_arn=sub.arn,
        owner=sub.account,
        protocol=sub.config.protocol,
        endpoint=attrs.get("Endpoint", sub.config.endpoint),
        topic_arn=sub.arn.rsplit(":", 1)[0],
    )


def _error(entry_id: str, exc: EventplaneError) -> s.BatchResultErrorEntry:
    return s.BatchResultErrorEntry(
        id=entry_id, code=exc.code, message=exc.message, sender_fault=not exc.retriable
    )


class TopicOperations:
    """The SNS actions over one replica's TopicEngine."""

    def __init__(self, engine: TopicEngine) -> None:
        self.engine = engine

    # --- topics -------------------------------------------------------------------------------
    async def create_topic(self, req: s.CreateTopicRequest) -> s.CreateTopicResult:
        name = _require(req.name, "Name")
        tags = {t.key: t.value for t in req.tags}
        topic = await self.engine.create_topic(name, req.attributes, tags)
        return s.CreateTopicResult(topic_arn=topic.arn)

    async def delete_topic(self, req: s.DeleteTopicRequest) -> s.DeleteTopicResult:
        """Idempotent, as in SNS: deleting a topic that does not exist is no error."""
        try:
            topic = self.engine.get(_require(req.topic_arn, "TopicArn"))
        except NotFound:
            return s.DeleteTopicResult()
        await self.engine.delete_topic(topic)
        return s.DeleteTopicResult()

    async def list_topics(self, req: s.ListTopicsRequest) -> s.ListTopicsResult:
        """The caller's account's topics (every account's for the platform's own calls)."""
        account = listing_account()
        mine = sorted(t.arn for t in self.engine.topics() if account in (None, t.account))
        arns, token = _page(mine, req.next_token)
        return s.ListTopicsResult(topics=[s.Topic(a) for a in arns], next_token=token)

    async def get_topic_attributes(
        self, req: s.GetTopicAttributesRequest
    ) -> s.GetTopicAttributesResult:
        topic = self.engine.get(_require(req.topic_arn, "TopicArn"))
        subs = self.engine.subscriptions(topic.name)
        account = topic.account
        attrs = {
            "Policy": default_topic_policy(topic.arn, account),
            **topic.config.attributes(),
            "TopicArn": topic.arn,
            "Owner": account,
            "SubscriptionsConfirmed": str(len(subs)),
            "SubscriptionsPending": "0",
            "SubscriptionsDeleted": "0",
        }
        return s.GetTopicAttributesResult(attributes=attrs)

    async def set_topic_attributes(
        self, req: s.SetTopicAttributesRequest
    ) -> s.SetTopicAttributesResult:
        topic = self.engine.get(_require(req.topic_arn, "TopicArn"))
        name = _require(req.attribute_name, "AttributeName")
        await self.engine.set_topic_attribute(topic, name, req.attribute_value)
        return s.SetTopicAttributesResult()

    # --- permissions --------------------------------------------------------------------------
    async def add_permission(self, req: s.AddPermissionRequest) -> s.AddPermissionResult:
        """A statement ``Label`` in the topic's Policy (the default one if none was set)
        allowing the accounts the actions."""
        topic = self.engine.get(_require(req.topic_arn, "TopicArn"))
        label = _require(req.label, "Label")
        if not labelled.LABEL.fullmatch(label):
            raise InvalidParameter("Invalid parameter: Label")
        if not req.aws_account_id:
            raise InvalidParameter("Invalid parameter: AWSAccountId")
        if not req.action_name:
            raise InvalidParameter("Invalid parameter: ActionName")
        for account in req.aws_account_id:
            if not labelled.ACCOUNT.fullmatch(account):
                raise InvalidParameter(f"Invalid parameter: AWSAccountId Reason: {account!r}")
        for action in req.action_name:
            if action not in SHAREABLE_ACTIONS:
                raise InvalidParameter(
                    f"Invalid parameter: Policy statement action out of service scope! ({action})"
                )
        policy = topic.config.policy or default_topic_policy(topic.arn, topic.account)
        try:
            policy = labelled.add_statement(
                policy,
                "__default_policy_ID",
                label,
                list(dict.fromkeys(req.aws_account_id)),
                [f"SNS:{a}" for a in dict.fromkeys(req.action_name)],
                topic.arn,
            )
        except labelled.LabelExists:
            raise InvalidParameter("Invalid parameter: Statement already exists") from None
        await self.engine.set_topic_attribute(topic, "Policy", policy)
        return s.AddPermissionResult()

    async def remove_permission(self, req: s.RemovePermissionRequest) -> s.RemovePermissionResult:
        """The topic's Policy without the statement ``Label`` (a label it lacks: nothing)."""
        topic = self.engine.get(_require(req.topic_arn, "TopicArn"))
        label = _require(req.label, "Label")
        policy = topic.config.policy or default_topic_policy(topic.arn, topic.account)
        try:
            policy = labelled.remove_statement(policy, label)
        except labelled.LabelMissing:
            return s.RemovePermissionResult()
        await self.engine.set_topic_attribute(topic, "Policy", policy)
        return s.RemovePermissionResult()

    # --- tags ---------------------------------------------------------------------------------
    def _tagged(self, resource_arn: str) -> TopicDef:
        ref = _require(resource_arn, "ResourceArn")
        try:
            return self.engine.get(ref)
        except NotFound:
            raise TaggedResourceNotFound("Resource does not exist") from None

    async def tag_resource(self, req: s.TagResourceRequest) -> s.TagResourceResult:
        """Add or overwrite tags (keys are case-sensitive)."""
        topic = self._tagged(req.resource_arn)
        if not req.tags:
            raise InvalidParameter("Invalid parameter: Tags")
        await self.engine.set_tags(topic, {**topic.tags, **{t.key: t.value for t in req.tags}})
        return s.TagResourceResult()

    async def untag_resource(self, req: s.UntagResourceRequest) -> s.UntagResourceResult:
        """Remove tags by key; a key the topic does not have is ignored."""
        topic = self._tagged(req.resource_arn)
        if not req.tag_keys:
            raise InvalidParameter("Invalid parameter: TagKeys")
        gone = set(req.tag_keys)
        await self.engine.set_tags(topic, {k: v for k, v in topic.tags.items() if k not in gone})
        return s.UntagResourceResult()

    async def list_tags_for_resource(
        self, req: s.ListTagsForResourceRequest
    ) -> s.ListTagsForResourceResult:
        topic = self._tagged(req.resource_arn)
        return s.ListTagsForResourceResult(
            tags=[{"Key": k, "Value": v} for k, v in sorted(topic.tags.items())]
        )

    # --- subscriptions --------------------------------------------------------------------------
    async def subscribe(self, req: s.SubscribeRequest) -> s.SubscribeResult:
        topic = self.engine.get(_require(req.topic_arn, "TopicArn"))
        sub = await self.engine.subscribe(
            topic,
            _require(req.protocol, "Protocol"),
            _require(req.endpoint, "Endpoint"),
            req.attributes,
        )
        return s.SubscribeResult(subscription_arn=sub.arn)

    async def confirm_subscription(
        self, req: s.ConfirmSubscriptionRequest
    ) -> s.ConfirmSubscriptionResult:
        """The subscription whose SubscriptionConfirmation message carried ``token``."""
        topic = self.engine.get(_require(req.topic_arn, "TopicArn"))
        token = _require(req.token, "Token")
        if req.authenticate_on_unsubscribe not in ("", "true", "false"):
            raise InvalidParameter("Invalid parameter: AuthenticateOnUnsubscribe")
        return s.ConfirmSubscriptionResult(self.engine.confirm(topic, token).arn)

    async def unsubscribe(self, req: s.UnsubscribeRequest) -> s.UnsubscribeResult:
        arn = _require(req.subscription_arn, "SubscriptionArn")
        await self.engine.unsubscribe(self.engine.subscription(arn))
        return s.UnsubscribeResult()

    async def list_subscriptions(
        self, req: s.ListSubscriptionsRequest
    ) -> s.ListSubscriptionsResult:
        """The subscriptions of the caller's account's topics."""
        account = listing_account()
        subs = [sub for sub in self.engine.subscriptions() if account in (None, sub.account)]
        return self._list(subs, req.next_token)

    async def list_subscriptions_by_topic(
        self, req: s.ListSubscriptionsByTopicRequest
    ) -> s.ListSubscriptionsResult:
        topic = self.engine.get(_require(req.topic_arn, "TopicArn"))
        return self._list(self.engine.subscriptions(topic.name), req.next_token)

    @staticmethod
    def _list(subs: list[SubscriptionDef], token: str) -> s.ListSubscriptionsResult:
        by_arn = {sub.arn: sub for sub in subs}
        arns, next_token = _page(sorted(by_arn), token)
        return s.ListSubscriptionsResult(
            subscriptions=[_view(by_arn[a]) for a in arns], next_token=next_token
        )

    async def get_subscription_attributes(
        self, req: s.GetSubscriptionAttributesRequest
    ) -> s.GetSubscriptionAttributesResult:
        sub = self.engine.subscription(_require(req.subscription_arn, "SubscriptionArn"))
        attrs = {
            **sub.config.attributes(),
            "SubscriptionArn": sub.arn,
            "TopicArn": sub.arn.rsplit(":", 1)[0],
            "Owner": sub.account,
        }
        return s.GetSubscriptionAttributesResult(attributes=attrs)

    async def set_subscription_attributes(
        self, req: s.SetSubscriptionAttributesRequest
    ) -> s.SetSubscriptionAttributesResult:
        sub = self.engine.subscription(_require(req.subscription_arn, "SubscriptionArn"))
        name = _require(req.attribute_name, "AttributeName")
        await self.engine.set_subscription_attribute(sub, name, req.attribute_value)
        return s.SetSubscriptionAttributesResult()

    # --- publish --------------------------------------------------------------------------------
    async def publish(self, req: s.PublishRequest) -> s.PublishResult:
        ref = req.topic_arn or req.target_arn
        if not ref and req.phone_number:
            raise InvalidParameter(
                "Invalid parameter: PhoneNumber Reason: eventplane does not deliver SMS"
            )
        topic = self.engine.get(_require(ref, "TopicArn or TargetArn"))
        published = self.engine.prepare(
            topic,
            req.message,
            req.subject,
            req.message_attributes,
            req.message_structure,
            group_id=req.message_group_id,
            dedup_id=req.message_deduplication_id,
        )
        (outcome,) = await self.engine.publish_many(topic, [published])
        if isinstance(outcome, EventplaneError):
            raise outcome
        return s.PublishResult(outcome.message_id, outcome.sequence_number or "")

    async def publish_batch(self, req: s.PublishBatchRequest) -> s.PublishBatchResult:
        """Publish up to ten entries; a bad entry fails alone, the others are published."""
        topic = self.engine.get(_require(req.topic_arn, "TopicArn"))
        entries = req.publish_batch_request_entries
        validate_batch_entry_ids([e.id for e in entries])
        validate_batch_size([(e.message, e.message_attributes) for e in entries])
        failed: list[s.BatchResultErrorEntry] = []
        ready: list[tuple[str, Published]] = []
        for e in entries:
            try:
                prepared = self.engine.prepare(
                    topic,
                    e.message,
                    e.subject,
                    e.message_attributes,
                    e.message_structure,
                    group_id=e.message_group_id,
                    dedup_id=e.message_deduplication_id,
                )
            except EventplaneError as exc:
                failed.append(_error(e.id, exc))
            else:
                ready.append((e.id, prepared))
        outcomes = await self.engine.publish_many(topic, [p for _, p in ready])
        successful = []
        for (entry_id, _), outcome in zip(ready, outcomes, strict=True):
            if isinstance(outcome, EventplaneError):
                failed.append(_error(entry_id, outcome))
            else:
                successful.append(
                    s.PublishBatchResultEntry(
                        entry_id, outcome.message_id, outcome.sequence_number or ""
                    )
                )
        return s.PublishBatchResult(successful=successful, failed=failed)
