"""What a rule target receives, as Kafka records: one place that knows every target kind.

The rule dispatcher writes these records inside its transaction (exactly once into
queues, topics and buses); the delivery worker writes them when it retries a target that
was unavailable, and writes dead letters. HTTP destinations are not records: they are
POSTed by the delivery worker.
"""

from __future__ import annotations

import itertools
import time
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eventplane.bus.model import BUS, BusEvent, Delivery, RuleDef, TargetDef, encode_event
from eventplane.functions.invocations import (
    ASYNC_TOPIC,
    FUNCTION_KIND,
    Invocation,
    new_invocation,
)
from eventplane.functions.invocations import encode as encode_invocation
from eventplane.kafka import naming
from eventplane.kafka.clients import Producer
from eventplane.queues import journal
from eventplane.queues.messages import MessageAttribute
from eventplane.queues.models import Record
from eventplane.queues.queue_def import QueueDef, QueueDefs
from eventplane.registry import Registry
from eventplane.topics import model as topic_model


@dataclass(frozen=True)
class Outgoing:
    topic: str
    value: bytes
    headers: list[tuple[str, bytes]]
    partition: int | None = None
    timestamp_ms: int | None = None
    key: str | None = None

    async def send(self, producer: Producer) -> None:
        """Write this record with the shared producer and wait for Kafka's acknowledgement."""
        await producer.send(
            self.topic,
            self.value,
            key=self.key,
            headers=self.headers,
            partition=self.partition,
            timestamp_ms=self.timestamp_ms,
        )

    def produce_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for confluent-kafka's ``Producer.produce``."""
        kwargs: dict[str, Any] = {"headers": self.headers}
        if self.partition is not None:
            kwargs["partition"] = self.partition
        if self.timestamp_ms is not None:
            kwargs["timestamp"] = self.timestamp_ms
        if self.key is not None:
            kwargs["key"] = self.key
        return kwargs


class TargetUnavailable(Exception):
    """The target cannot take the event now (it does not exist, ...); retried by policy."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class TargetWriter:
    """Builds the record each kind of target receives; parses queue definitions once."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._queues = QueueDefs(registry)
        self._spread = itertools.count()

    def queue(self, name: str) -> QueueDef | None:
        return self._queues.get(name)

    def record(self, target: TargetDef, event: BusEvent, payload: str) -> Outgoing:
        """The record that delivers ``payload`` (the target's input) to ``target``."""
        if target.kind == "sqs":
            queue = self._require_queue(target.endpoint)
            if queue.config.fifo and not target.message_group_id:
                raise TargetUnavailable(
                    "InvalidParameter",
                    f"Queue {queue.name} is FIFO: the target needs SqsParameters.MessageGroupId",
                )
            # EventBridge deduplicates FIFO deliveries by event id.
            return self.queue_record(
                queue,
                payload,
                group_id=target.message_group_id,
                dedup_id=str(event.event.get("id", "")) or None,
            )
        if target.kind == "sns":
            if self._registry.get(topic_model.TOPIC, target.endpoint) is None:
                raise TargetUnavailable(
                    "ResourceNotFoundException", f"Topic {target.endpoint} does not exist"
                )
            now = int(time.time() * 1000)
            published = topic_model.Published(
                message_id=str(uuid.uuid4()),
                message=payload,
                http_message=None,
                subject=None,
                attributes={},
                published_ms=now,
            )
            value, headers = topic_model.encode(published)
            return Outgoing(naming.topic_topic(target.endpoint), value, headers)
        if target.kind == "bus":
            if self._registry.get(BUS, target.endpoint) is None:
                raise TargetUnavailable(
                    "ResourceNotFoundException", f"Event bus {target.endpoint} does not exist"
                )
            # Another bus receives the event itself; it is ingested there anew.
            forwarded = BusEvent(event.event, int(time.time() * 1000), text=event.text)
            value, headers = encode_event(forwarded)
            return Outgoing(naming.bus_topic(target.endpoint), value, headers)
        if target.kind == "function":
            name, _, qualifier = target.endpoint.partition(":")
            if self._registry.get(FUNCTION_KIND, name) is None:
                raise TargetUnavailable(
                    "ResourceNotFoundException", f"Function {name} does not exist"
                )
            return invocation_record(
                new_invocation(name, qualifier or None, payload.encode(), source="bus")
            )
        raise TargetUnavailable("InternalFailure", f"target kind {target.kind} has no record")

    def _require_queue(self, name: str) -> QueueDef:
        queue = self._queues.get(name)
        if queue is None:
            raise TargetUnavailable(
                "AWS.SimpleQueueService.NonExistentQueue", f"Queue {name} does not exist"
            )
        return queue

    def queue_record(
        self,
        queue: QueueDef,
        body: str,
        *,
        attributes: Mapping[str, MessageAttribute] | None = None,
        group_id: str | None = None,
        dedup_id: str | None = None,
    ) -> Outgoing:
        record = Record(
            message_id=str(uuid.uuid4()),
            body=body,
            attributes=dict(attributes or {}),
            sent_ms=int(time.time() * 1000),
            delay_seconds=queue.config.delay_seconds,
            group_id=group_id if queue.config.fifo else None,
            dedup_id=dedup_id if queue.config.fifo else None,
        )
        value, headers = journal.encode_record(record)
        if queue.config.fifo:
            partition = zlib.crc32((group_id or "").encode()) % queue.config.partitions
        else:
            partition = next(self._spread) % queue.config.partitions
        return Outgoing(naming.queue_topic(queue.name), value, list(headers), partition)

    def dead_letter(
        self, target: TargetDef, rule: RuleDef, delivery: Delivery, condition: str
    ) -> Outgoing | None:
        """The record for the target's dead-letter queue, as EventBridge shapes it.

        None when the target has no dead-letter queue or the queue does not exist.
        """
        if target.dead_letter_arn is None:
            return None
        queue = self._queues.get(target.dead_letter_arn.rsplit(":", 1)[-1])
        if queue is None:
            return None

        def text(value: str) -> MessageAttribute:
            return MessageAttribute("String", value[:1024])

        attributes = {
            "RULE_ARN": text(rule.arn),
            "TARGET_ARN": text(target.arn),
            "ERROR_CODE": text(delivery.last_error_code or "Unknown"),
            "ERROR_MESSAGE": text(delivery.last_error or ""),
            "EXHAUSTED_RETRY_CONDITION": text(condition),
            "RETRY_ATTEMPTS": MessageAttribute("Number", str(max(0, delivery.attempt - 1))),
        }
        return self.queue_record(
            queue,
            delivery.event,
            attributes=attributes,
            group_id=delivery.rule if queue.config.fifo else None,
            dedup_id=f"{delivery.event_id}:{delivery.target_id}" if queue.config.fifo else None,
        )


def invocation_record(inv: Invocation) -> Outgoing:
    """An asynchronous invocation, keyed by function so one function's stay in order."""
    value, headers = encode_invocation(inv)
    return Outgoing(ASYNC_TOPIC, value, headers, key=inv.function)
