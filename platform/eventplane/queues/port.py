"""The queue's port: how anything outside the queue room writes into a queue.

A queue record is what SendMessage writes; FIFO messages go to their group's partition
(``partition_for``), others are spread round robin. Bus targets, topic subscriptions,
function destinations and dead letters all write through here (via the delivery layer),
so the queue's record shape and partitioning rule live in one place.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Mapping

from eventplane import arn as arns
from eventplane import names
from eventplane.delivery.payload import MessageAttribute, Payload, TargetUnavailable
from eventplane.delivery.senders import admit_sender
from eventplane.errors.security import MalformedPolicyDocument
from eventplane.kafka import naming
from eventplane.kafka.fifo import partition_for as partition_for
from eventplane.kafka.fifo import sequence_number as sequence_number
from eventplane.kafka.outgoing import Outgoing
from eventplane.queues import journal
from eventplane.queues.models import Record
from eventplane.queues.queue_def import QueueDef, QueueDefs
from eventplane.registry import Registry
from eventplane.security.policy import Decision
from eventplane.security.resource_policy import parse_resource_policy

__all__ = ["QueuePort", "partition_for", "queue_record", "sequence_number"]

_spread = itertools.count()


def queue_record(
    queue: QueueDef,
    body: str,
    *,
    attributes: Mapping[str, MessageAttribute] | None = None,
    group_id: str | None = None,
    dedup_id: str | None = None,
    message_id: str | None = None,
) -> Outgoing:
    """The record SendMessage would write for ``body`` (group and dedup ids: FIFO only)."""
    fifo = queue.config.fifo
    record = Record(
        message_id=message_id or str(uuid.uuid4()),
        body=body,
        attributes=dict(attributes or {}),
        sent_ms=int(time.time() * 1000),
        delay_seconds=queue.config.delay_seconds,
        group_id=group_id if fifo else None,
        dedup_id=dedup_id if fifo else None,
    )
    value, headers = journal.encode_record(record)
    if fifo:
        partition = partition_for(group_id or "", queue.config.partitions)
    else:
        partition = next(_spread) % queue.config.partitions
    return Outgoing(naming.queue_topic(queue.name), value, list(headers), partition)


# The service principal a queue's policy must allow for each origin that stands for one.
SERVICE_PRINCIPALS: Mapping[str, str] = {
    "topic": "sns.amazonaws.com",
    "bus": "events.amazonaws.com",
}


def _check_policy(queue: QueueDef, payload: Payload) -> None:
    """A queue with a Policy takes a topic's or rule's delivery only if it allows it.

    As on AWS, the policy must allow ``sqs:SendMessage`` to the service principal
    (``sns.amazonaws.com``, ``events.amazonaws.com``), usually with an ``aws:SourceArn``
    condition naming the topic or rule. A queue without a Policy takes every delivery
    from its own account's topics and rules (AWS would refuse them: a local platform lets
    a new user's fan-out just work), and none from another account's.
    """
    if payload.origin == "destination":
        _check_sender(queue, payload)
        return
    service = SERVICE_PRINCIPALS.get(payload.origin)
    if service is None:
        return
    sender = arns.account_of(payload.source_arn or "") or arns.identity().account
    if not queue.config.policy:
        if sender == queue.account:
            return
        # Another account's topic or rule: only a Policy lets it in, as on AWS.
        raise TargetUnavailable(
            "AccessDenied",
            f"Queue {queue.plain} has no policy allowing {service} to send to it from "
            f"another account",
        )
    try:
        policy = parse_resource_policy(queue.config.policy)
    except MalformedPolicyDocument:
        return  # stored before policies were checked on the way in: ignored, as then
    resource = queue.arn
    context = {
        "aws:sourcearn": payload.source_arn or "",
        "aws:sourceaccount": sender,
    }
    decision = policy.evaluate("", "", "sqs:SendMessage", resource, context, service=service)
    if decision is not Decision.ALLOW:
        raise TargetUnavailable(
            "AccessDenied",
            f"The policy of queue {queue.plain} does not allow {service} to send to it"
            + (f" from {payload.source_arn}" if payload.source_arn else ""),
        )


def _check_sender(queue: QueueDef, payload: Payload) -> None:
    """A queue of another account than the sender's (a function whose destination or
    dead-letter queue it is, a rule or topic subscription whose dead-letter queue it is)
    takes its records only if the queue's Policy allows that account ``sqs:SendMessage``."""
    admit_sender(
        payload,
        owner=queue.account,
        policy=queue.config.policy,
        action="sqs:SendMessage",
        resource=queue.arn,
        what=f"queue {queue.plain}",
        verb="send to it",
    )


class QueuePort:
    def __init__(self, registry: Registry) -> None:
        self._queues = QueueDefs(registry)

    def queue(self, name: str) -> QueueDef | None:
        """The queue of internal name ``name`` (a target's endpoint: its ARN's account's,
        else, for ARNs pasted from AWS, the installation's; ``eventplane.names``)."""
        for internal in names.resolutions(name):
            found = self._queues.get(internal)
            if found is not None:
                return found
        return None

    def fifo(self, endpoint: str) -> bool:
        queue = self.queue(endpoint)
        return queue is not None and queue.config.fifo

    def record(self, endpoint: str, payload: Payload) -> Outgoing:
        queue = self.queue(endpoint)
        if queue is None:
            raise TargetUnavailable(
                "AWS.SimpleQueueService.NonExistentQueue",
                f"Queue {names.plain(endpoint)} does not exist",
            )
        if queue.config.fifo and not payload.group_id:
            raise TargetUnavailable(
                "InvalidParameter",
                f"Queue {queue.plain} is FIFO: the message needs a MessageGroupId",
            )
        _check_policy(queue, payload)
        return queue_record(
            queue,
            payload.body,
            attributes=payload.attributes,
            group_id=payload.group_id,
            dedup_id=payload.dedup_id,
        )
