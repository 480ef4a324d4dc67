"""The topic's port: how anything outside the topic room publishes to a topic.

Bus targets, function destinations and dead letters publish through here (via the
delivery layer); the fan-out dispatcher then treats the message like any other publish.
"""

from __future__ import annotations

import time
import uuid

from eventplane import names
from eventplane.delivery.payload import Payload, TargetUnavailable
from eventplane.delivery.senders import admit_sender
from eventplane.kafka import naming
from eventplane.kafka.outgoing import Outgoing
from eventplane.registry import Registry, Resource
from eventplane.topics.models import TOPIC, Published, TopicDef, encode

__all__ = ["TopicPort"]


def _check_sender(topic: TopicDef, payload: Payload) -> None:
    """A function's destination or dead-letter topic of another account takes its records
    only if the topic's Policy allows the function's account ``sns:Publish``."""
    admit_sender(
        payload,
        owner=topic.account,
        policy=topic.config.policy,
        action="sns:Publish",
        resource=topic.arn,
        what=f"topic {topic.plain}",
        verb="publish to it",
    )


class TopicPort:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def _find(self, endpoint: str) -> Resource | None:
        """The topic of internal name ``endpoint`` (a target's: its ARN's account's, else,
        for ARNs pasted from AWS, the installation's; ``eventplane.names``)."""
        for internal in names.resolutions(endpoint):
            found = self._registry.get(TOPIC, internal)
            if found is not None:
                return found
        return None

    def fifo(self, endpoint: str) -> bool:
        return endpoint.endswith(".fifo") and self._find(endpoint) is not None

    def record(self, endpoint: str, payload: Payload) -> Outgoing:
        found = self._find(endpoint)
        if found is None:
            raise TargetUnavailable(
                "ResourceNotFoundException", f"Topic {names.plain(endpoint)} does not exist"
            )
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
        return Outgoing(naming.topic_topic(found.name), value, headers)
