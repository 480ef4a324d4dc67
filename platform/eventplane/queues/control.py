"""Queue definitions' rules that reach beyond one queue: FIFO partitioning, DLQ checks,
and the Kafka topics a queue lives on. Split from the engine to keep it readable."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from eventplane.errors import InvalidParameterValue
from eventplane.errors.queues import InvalidAttributeValue
from eventplane.kafka import naming
from eventplane.kafka.clients import TopicSpec, ensure_topics
from eventplane.messaging.tags import tag_problem
from eventplane.queues.attributes import QueueConfig, name_from_ref
from eventplane.queues.queue_def import QueueDef

if TYPE_CHECKING:
    from eventplane.config import Settings


def check_config(
    config: QueueConfig,
    explicit_partitions: bool,
    lookup: Callable[[str], QueueDef | None],
    owner: str | None = None,
) -> QueueConfig:
    """The config as it will be stored, after the rules that need other queues or Kafka.

    ``lookup`` finds a queue by reference (the redrive policy's dead-letter target ARN).

    ``owner``: the queue's account; its dead-letter queue must be of the same, as on SQS.
    """
    if config.fifo and config.deduplication_scope == "queue":
        # Queue-wide dedup is exact only within one partition.
        if explicit_partitions and config.partitions != 1:
            raise InvalidAttributeValue(
                "Invalid value for the parameter Partitions. Reason: a FIFO queue with "
                "DeduplicationScope=queue has 1 partition; use DeduplicationScope="
                "messageGroup for more."
            )
        config = dataclasses.replace(config, partitions=1)
    if config.redrive_policy is not None:
        ref = config.redrive_policy.dead_letter_target_arn
        target = name_from_ref(ref, field="RedrivePolicy")
        dlq = lookup(ref)
        if dlq is None:
            raise InvalidAttributeValue(
                "Value for parameter RedrivePolicy is invalid. Reason: Dead letter target "
                f"{target} does not exist."
            )
        if owner is not None and dlq.account != owner:
            raise InvalidAttributeValue(
                "Value for parameter RedrivePolicy is invalid. Reason: Dead-letter target "
                "owner should be same as the source."
            )
        if dlq.config.fifo != config.fifo:
            raise InvalidAttributeValue(
                "Value for parameter RedrivePolicy is invalid. Reason: Dead-letter queue "
                "must be the same type of queue as the source."
            )
    return config


def check_tags(tags: Mapping[str, str]) -> None:
    """SQS's tag limits (messaging.tags), refused with InvalidParameterValue."""
    problem = tag_problem(tags)
    if problem is not None:
        raise InvalidParameterValue(f"Invalid tags: {problem[1]}.")


def ensure_queue_topics(settings: Settings, name: str, config: QueueConfig) -> None:
    """The queue's message topic and its co-partitioned, compacted lease journal."""
    retention_ms = (config.message_retention_period + 86_400) * 1000
    ensure_topics(
        settings,
        [
            TopicSpec(
                naming.queue_topic(name), config.partitions, {"retention.ms": str(retention_ms)}
            ),
            TopicSpec(
                naming.queue_state_topic(name),
                config.partitions,
                {
                    "cleanup.policy": "compact,delete",
                    "retention.ms": str(retention_ms),
                    "min.compaction.lag.ms": "60000",
                    "segment.ms": "3600000",
                },
            ),
        ],
    )
