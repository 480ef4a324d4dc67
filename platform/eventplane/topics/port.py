"""The topic's port: how anything outside the topic room publishes to a topic.

Bus targets, function destinations and dead letters publish through here (via the
delivery layer); the fan-out dispatcher then treats the message like any other publish.
"""

from __future__ import annotations

import time
import uuid

from eventplane import arn as arns
from eventplane.delivery.payload import Payload, TargetUnavailable
from eventplane.kafka import naming
from eventplane.kafka.outgoing import Outgoing
from eventplane.registry import Registry
from eventplane.security.resource_policy import grants_account
from eventplane.topics.models import TOPIC, Published, TopicDef, encode

__all__ = ["TopicPort"]


def _check_sender(topic: TopicDef, payload: Payload) -> None:
    """A function's destination or dead-letter topic of another account takes its records
    only if the topic's Policy allows the function's account ``sns:Publish``."""
    sender = arns.account_of(payload.source_arn or "")
    if not sender or sender == topic.account:
        return
    source = payload.source_arn or ""
    if not grants_account(topic.config.policy, sender, "sns:Publish", topic.arn, source):
        raise TargetUnavailable(
            "AccessDenied",
            f"The policy of topic {topic.name} does not allow account {sender} to publish to it",
        )


class TopicPort:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def fifo(self, endpoint: str) -> bool:
        return endpoint.endswith(".fifo") and self._registry.get(TOPIC, endpoint) is not None

    def record(self, endpoint: str, payload: Payload) -> Outgoing:
        found = self._registry.get(TOPIC, endpoint)
        if found is None:
            raise TargetUnavailable("ResourceNotFoundException", f"Topic {endpoint} does not exist")
        if payload.origin == "destination":
            _check_sender(TopicDef.from_resource(found), payload)
        published = Published(
            message_id=payload.message_id or str(uuid.uuid4()),
            message=payload.body,
            http_message=None,
            subject=payload.subject,
            attributes=dict(payload.attributes),
            published_ms=int(time.time() * 1000),
        )
        value, headers = encode(published)
        return Outgoing(naming.topic_topic(endpoint), value, headers)
