"""The delivery layer: write a payload to any ARN, in a Kafka transaction or at least once.

Used by bus targets, topic subscriptions and function destinations (and workflow tasks):
``Router(registry).record(arn, Payload(...))`` gives the record the target's own port
encodes; ``TaskRunner`` is the due-time retry runner beneath retries, maximum ages and
dead letters; ``delivery.http`` posts to HTTP targets.
"""

from eventplane.delivery.payload import MessageAttribute, Payload, TargetUnavailable
from eventplane.delivery.router import PORTS, Port, Router
from eventplane.kafka.outgoing import Outgoing

__all__ = [
    "PORTS",
    "MessageAttribute",
    "Outgoing",
    "Payload",
    "Port",
    "Router",
    "TargetUnavailable",
]
