"""What the delivery layer carries: a payload for a target, and why a target refuses it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Re-exported: a payload carries attributes; their type and rules live in messaging.
from eventplane.messaging.attributes import MessageAttribute as MessageAttribute


@dataclass(frozen=True)
class Payload:
    """ "Write this to that ARN": the body and what some kinds of target also use.

    Each port takes what its kind needs and ignores the rest: a queue the attributes,
    group and dedup ids; a topic the attributes, subject and message id; a function
    the body and ``origin``; a bus the ``event`` to forward, or, without one, the body
    as the ``detail`` of a new event from ``source`` / ``detail_type``.
    """

    body: str
    attributes: Mapping[str, MessageAttribute] = field(default_factory=dict)
    # FIFO: the message group, and the deduplication id (None: the target's default)
    group_id: str | None = None
    dedup_id: str | None = None
    # topics: the SNS message id and subject
    message_id: str | None = None
    subject: str | None = None
    # functions: what asked for the invocation ("bus", "topic", "destination", ...); queues
    # check a "topic" or "bus" origin against their policy as AWS's service principal
    origin: str = "delivery"
    # the resource that sends it (a topic's or rule's ARN, a function's for its
    # destinations and dead letters): aws:SourceArn in policies; its account is the
    # sender's, which a target of another account checks against its policy
    source_arn: str | None = None
    # buses: the event to forward as it is, with its text when it was read as text
    event: Mapping[str, Any] | None = None
    event_text: str | None = None
    # buses, without an event: the new event's source, detail-type and resources
    source: str | None = None
    detail_type: str | None = None
    resources: tuple[str, ...] = ()


class TargetUnavailable(Exception):
    """The target cannot take the payload now (it does not exist, ...); retried by policy."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
