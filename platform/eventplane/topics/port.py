"""The topic's port: how anything outside the topic room publishes to a topic.

Bus targets, function destinations and dead letters publish through here (via the
delivery layer); the fan-out dispatcher then treats the message like any other publish.
"""

from __future__ import annotations

import time
import uuid

from eventplane.delivery.payload import Payload, TargetUnavailable
from eventplane.kafka import naming
from eventplane.kafka.outgoing import Outgoing
from eventplane.registry import Registry
from eventplane.topics.models import TOPIC, Published, encode

__all__ = ["TopicPort"]


class TopicPort:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def fifo(self, endpoint: str) -> bool:
        return endpoint.endswith(".fifo") and self._registry.get(TOPIC, endpoint) is not None

    def record(self, endpoint: str, payload: Payload) -> Outgoing:
        if self._registry.get(TOPIC, endpoint) is None:
            raise TargetUnavailable("ResourceNotFoundException", f"Topic {endpoint} does not exist")
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
