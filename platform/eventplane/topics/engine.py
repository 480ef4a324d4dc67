"""TopicEngine: topics and subscriptions in the registry, publish to Kafka, fan-out dispatch."""

from __future__ import annotations

import asyncio
import hmac
import itertools
import secrets
import time
import uuid
from collections.abc import Mapping
from typing import Any

from eventplane import names
from eventplane.errors import EventplaneError, ServiceUnavailable
from eventplane.kafka import naming
from eventplane.kafka.clients import ProduceError, TopicSpec, ensure_topics
from eventplane.kafka.retirement import retire_topics
from eventplane.messaging.attributes import MessageAttribute
from eventplane.messaging.tags import tag_problem
from eventplane.observability.logging import get_logger
from eventplane.runtime import ServerContext
from eventplane.security.accounts import caller_account, owned_by
from eventplane.topics import fifo, metrics, models
from eventplane.topics.attributes import (
    SubscriptionConfig,
    TopicConfig,
    parse_create,
    parse_subscribe,
    parse_subscription_arn,
    topic_reference,
)
from eventplane.topics.dispatcher import FanoutDispatcher
from eventplane.topics.envelope import message_for_protocol, validate_publish
from eventplane.topics.errors import InvalidParameter, NotFound, TagLimitExceeded
from eventplane.topics.http_worker import Confirmations, HttpWorkers
from eventplane.topics.models import (
    SUBSCRIPTION,
    TOPIC,
    Accepted,
    Published,
    SubscriptionDef,
    TopicDef,
)

_log = get_logger("eventplane.topics")

RETENTION_MS = 4 * 24 * 3600 * 1000  # published messages are kept four days for the dispatcher


def check_tags(tags: Mapping[str, str]) -> None:
    """SNS's tag limits (messaging.tags): TagLimitExceeded for too many, else InvalidParameter."""
    problem = tag_problem(tags)
    if problem is None:
        return
    too_many, reason = problem
    if too_many:
        raise TagLimitExceeded(
            f"Could not complete request: tag quota of per resource exceeded ({reason})"
        )
    raise InvalidParameter(f"Invalid parameter: Tags Reason: {reason}")


class TopicEngine:
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self.registry = ctx.registry
        self._round_robin = itertools.count()
        self._recent = fifo.RecentPublishes()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.dispatcher = FanoutDispatcher(ctx.settings, ctx.registry, instance_id=ctx.instance_id)
        self.http = HttpWorkers(ctx.settings, ctx.registry, ctx.producer)
        self._confirmations = Confirmations()

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.registry.subscribe(self._on_registry_change)
        self._sync()
        self.dispatcher.start()
        self.http.reconcile()

    async def stop(self) -> None:
        self._confirmations.cancel()
        await asyncio.to_thread(self.http.close)
        await asyncio.to_thread(self.dispatcher.close)

    def _on_registry_change(self, kind: str, name: str, resource: Any) -> None:
        if kind == TOPIC and self._loop is not None:
            self._loop.call_soon_threadsafe(self._sync)
        elif kind == SUBSCRIPTION:
            self.http.reconcile()

    def _sync(self) -> None:
        self.dispatcher.subscribe([naming.topic_topic(t.name) for t in self.topics()])

    # --- topics ---------------------------------------------------------------------------
    def topics(self) -> list[TopicDef]:
        return [TopicDef.from_resource(r) for r in self.registry.find(TOPIC)]

    def get(self, ref: str) -> TopicDef:
        """The topic ``ref`` names: a bare name in the caller's account, an ARN in its
        account (``eventplane.names.candidates``)."""
        account, name = topic_reference(ref)
        for internal in names.candidates(name, account, caller_account()):
            r = self.registry.get(TOPIC, internal)
            if r is not None:
                return TopicDef.from_resource(r)
        raise NotFound("Topic does not exist")

    async def create_topic(
        self, name: str, attributes: Mapping[str, str], tags: Mapping[str, str]
    ) -> TopicDef:
        config = parse_create(name, attributes)
        check_tags(tags)
        account = caller_account()
        name = names.qualify(name, account)  # names are per account
        existing = self.registry.get(TOPIC, name)
        if existing is not None:
            current = TopicDef.from_resource(existing)
            if current.config.differs_from(config, list(attributes)) is not None:
                raise InvalidParameter(
                    "Invalid parameter: Attributes Reason: Topic already exists with different "
                    "attributes"
                )
            return current
        await asyncio.to_thread(ensure_topics, self.ctx.settings, _kafka_topics(name, config))
        spec = owned_by({"config": config.to_spec(), "tags": dict(tags)}, account)
        r = await asyncio.to_thread(self.registry.put, TOPIC, name, spec)
        _log.info("topic created", topic=name)
        return TopicDef.from_resource(r)

    async def delete_topic(self, topic: TopicDef) -> None:
        for sub in self.subscriptions(topic.name):
            await asyncio.to_thread(self.registry.delete, SUBSCRIPTION, sub.key)
        await asyncio.to_thread(self.registry.delete, TOPIC, topic.name)
        kafka_topics = [spec.name for spec in _kafka_topics(topic.name, topic.config)]
        await asyncio.to_thread(retire_topics, self.ctx.settings, kafka_topics)
        self._recent.forget(topic.name)

    async def set_tags(self, topic: TopicDef, tags: Mapping[str, str]) -> None:
        """Replace the topic's tags (TagResource and UntagResource compute the new set)."""
        check_tags(tags)
        spec = owned_by({"config": topic.config.to_spec(), "tags": dict(tags)}, topic.account)
        await asyncio.to_thread(self.registry.put, TOPIC, topic.name, spec)

    async def set_topic_attribute(self, topic: TopicDef, name: str, value: str) -> None:
        config: TopicConfig = topic.config.with_update(name, value)
        spec = owned_by({"config": config.to_spec(), "tags": topic.tags}, topic.account)
        await asyncio.to_thread(self.registry.put, TOPIC, topic.name, spec)

    # --- subscriptions ------------------------------------------------------------------------
    def subscriptions(self, topic: str | None = None) -> list[SubscriptionDef]:
        prefix = f"{topic}:" if topic else ""
        return [SubscriptionDef.from_resource(r) for r in self.registry.find(SUBSCRIPTION, prefix)]

    def subscription(self, arn: str) -> SubscriptionDef:
        topic, sub_id = parse_subscription_arn(arn)
        for internal in names.resolutions(topic):
            r = self.registry.get(SUBSCRIPTION, f"{internal}:{sub_id}")
            if r is not None:
                return SubscriptionDef.from_resource(r)
        raise NotFound("Subscription does not exist")

    async def subscribe(
        self, topic: TopicDef, protocol: str, endpoint: str, attributes: Mapping[str, str]
    ) -> SubscriptionDef:
        config = parse_subscribe(protocol, endpoint, attributes, topic.config, caller_account())
        for sub in self.subscriptions(topic.name):
            # SNS: subscribing the same endpoint again returns the existing subscription.
            if (sub.config.protocol, sub.config.endpoint) == (config.protocol, config.endpoint):
                if sub.config.to_spec() != config.to_spec() and attributes:
                    raise InvalidParameter(
                        "Invalid parameter: Attributes Reason: Subscription already exists with "
                        "different attributes"
                    )
                return sub
        # A UUID in its usual 8-4-4-4-12 form ends an SNS subscription ARN.
        http = config.protocol in ("http", "https")
        token = secrets.token_hex(64) if http else ""
        sub = SubscriptionDef(topic.name, str(uuid.uuid4()), config, token, topic.account)
        await self._save(sub, config)
        if http:
            self._confirmations.send(sub)
        return sub

    def confirm(self, topic: TopicDef, token: str) -> SubscriptionDef:
        """The subscription of ``topic`` whose SubscriptionConfirmation carried ``token``.

        http/https subscriptions deliver from the start (eventplane confirms them itself),
        so confirming one changes nothing and may be repeated.

        Raises:
            InvalidParameter: no subscription of the topic was sent that token.
        """
        for sub in self.subscriptions(topic.name):
            if sub.token and hmac.compare_digest(sub.token, token):
                return sub
        raise InvalidParameter("Invalid parameter: Token")

    async def _save(self, sub: SubscriptionDef, config: SubscriptionConfig) -> None:
        spec: dict[str, Any] = {"topic": sub.topic, "id": sub.sub_id, "config": config.to_spec()}
        if sub.token:
            spec["token"] = sub.token
        spec = owned_by(spec, sub.account)
        await asyncio.to_thread(self.registry.put, SUBSCRIPTION, sub.key, spec)

    async def unsubscribe(self, sub: SubscriptionDef) -> None:
        await asyncio.to_thread(self.registry.delete, SUBSCRIPTION, sub.key)

    async def set_subscription_attribute(self, sub: SubscriptionDef, name: str, value: str) -> None:
        await self._save(sub, sub.config.with_update(name, value))

    # --- publish ------------------------------------------------------------------------------
    def prepare(
        self,
        topic: TopicDef,
        message: str,
        subject: str,
        attributes: Mapping[str, MessageAttribute],
        message_structure: str,
        *,
        group_id: str = "",
        dedup_id: str = "",
    ) -> Published:
        """Validate one message and resolve it per protocol (MessageStructure=json)."""
        dedup = validate_publish(
            message,
            subject,
            attributes,
            message_structure,
            fifo=topic.config.fifo,
            group_id=group_id,
            dedup_id=dedup_id,
            content_based=topic.config.content_based_deduplication,
        )
        sqs_text = message_for_protocol(message, message_structure, "sqs")
        http_text = message_for_protocol(message, message_structure, "http")
        return Published(
            message_id=str(uuid.uuid4()),
            message=sqs_text,
            http_message=http_text if http_text != sqs_text else None,
            subject=subject or None,
            attributes=dict(attributes),
            published_ms=int(time.time() * 1000),
            group_id=group_id or None,
            dedup_id=dedup or None,
        )

    async def publish_many(
        self, topic: TopicDef, messages: list[Published]
    ) -> list[Accepted | EventplaneError]:
        """Write the messages to the topic; per message, what Publish answers or the error.

        A FIFO message goes to its group's partition, so a group keeps its order, and is
        answered with a sequence number from its offset. Duplicates are written too: the
        dispatcher decides what is delivered (see :mod:`eventplane.topics.fifo`).
        """
        kafka_topic = naming.topic_topic(topic.name)
        partitions = topic.config.partitions
        batch = []
        for p in messages:
            value, headers = models.encode(p)
            options: dict[str, Any] = {"headers": headers}
            if topic.config.fifo:
                group = p.group_id or ""
                options.update(key=group, partition=fifo.partition_for(group, partitions))
            else:
                options["partition"] = next(self._round_robin) % partitions
            batch.append((kafka_topic, value, options))
        try:
            written = await self.ctx.producer.send_many(batch, accepted=True)
        except ProduceError as exc:
            return [ServiceUnavailable(f"could not write to Kafka: {exc}")] * len(messages)
        metrics.PUBLISHED.labels(topic.name).inc(len(messages))
        if not topic.config.fifo:
            return [Accepted(p.message_id) for p in messages]
        out: list[Accepted | EventplaneError] = []
        for p, m in zip(messages, written, strict=True):
            partition, offset = m.partition(), m.offset()
            own = (p.message_id, fifo.sequence_number(partition or 0, offset or 0))
            message_id, sequence = self._recent.answer(
                topic.name,
                topic.config.fifo_throughput_scope,
                p.group_id or "",
                p.dedup_id or "",
                p.published_ms,
                own,
            )
            out.append(Accepted(message_id, sequence))
        return out


def _kafka_topics(name: str, config: TopicConfig) -> list[TopicSpec]:
    """The topic's Kafka topics: its messages, and for FIFO its dedup journal."""
    specs = [
        TopicSpec(naming.topic_topic(name), config.partitions, {"retention.ms": str(RETENTION_MS)})
    ]
    if config.fifo:
        specs.append(
            TopicSpec(
                fifo.journal_topic(name),
                config.partitions,
                {
                    "retention.ms": str(fifo.JOURNAL_RETENTION_MS),
                    "segment.ms": str(fifo.JOURNAL_SEGMENT_MS),
                },
            )
        )
    return specs
