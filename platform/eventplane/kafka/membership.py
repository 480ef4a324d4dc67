"""A consumer-group member that exists only while it has topics to be assigned.

The owner groups (queues, tables) and the transactional pumps (fan-out, bus rules,
workflows) subscribe each replica's member to the topics of the resources the registry
holds, and that list can become empty: the last queue is deleted. What the member does
then decides how long the deletion takes, since ``retire_topics`` waits until no member
of the group is assigned a partition of the deleted topics:

- Subscribing to a pattern that matches no topic left the member in the group on paper
  only: librdkafka (2.16, cooperative-sticky) revokes what it held but neither joins
  again nor heartbeats ("no subscribed topics"), so the coordinator kept listing it as
  the holder of the old partitions until its 6 s session timed out. With two replicas,
  deleting the last queue took 6-12 s.
- Unsubscribing and subscribing the same consumer again can leave a cooperative member
  out of the group for good.

So a member whose topics all went closes its consumer, which runs its revoke callback
(the owners commit what they relinquish there) and leaves the group at once, and a
fresh consumer joins when a topic comes back. Callers change the subscription only
between batches, so nothing taken from the closed consumer is still being processed
(for a pump: no transaction is open, and each batch's offsets go with the group
metadata of the consumer that read it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition

from eventplane.kafka.lag import LagReporter
from eventplane.kafka.retirement import Holdings
from eventplane.observability.logging import get_logger

_log = get_logger("eventplane.kafka.membership")

Rebalance = Callable[[Consumer, list[TopicPartition]], None]


class Membership:
    """One thread's member of a consumer group: a consumer while there are topics, else none.

    Call it from the consumer's own thread only. ``config`` is the consumer's librdkafka
    configuration; the member adds its lag reporting (``eventplane_kafka_consumer_lag``)
    and keeps ``holdings`` up to date with what it subscribes to.
    """

    def __init__(
        self,
        config: dict[str, Any],
        holdings: Holdings,
        *,
        on_assign: Rebalance,
        on_revoke: Rebalance,
        on_lost: Rebalance,
    ) -> None:
        self._config = config
        self._holdings = holdings
        self._lag = LagReporter(str(config["group.id"]))
        self._on_assign = on_assign
        self._on_revoke = on_revoke
        self._on_lost = on_lost
        self.consumer: Consumer | None = None  # None: not a member of the group

    def follow(self, topics: Sequence[str]) -> None:
        """Be subscribed to those of ``topics`` still wanted (``Holdings.subscribing``);
        with none, leave the group (see the module)."""
        kept = self._holdings.subscribing(topics)
        if not kept:
            self.leave()
            return
        if self.consumer is None:
            self.consumer = Consumer({**self._config, **self._lag.settings})
        self.consumer.subscribe(
            kept,
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )

    def leave(self) -> None:
        """Close the consumer: its revoke callback runs, then the coordinator lets it go."""
        consumer, self.consumer = self.consumer, None
        try:
            if consumer is not None:
                consumer.close()
        except KafkaException as exc:
            _log.warning("closing a group member", group=self._holdings.group, error=str(exc))
        finally:
            self._lag.close()
            self._holdings.released()
