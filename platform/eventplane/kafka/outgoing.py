"""A record to write: the unit every port hands to the delivery layer.

Written either at least once through the shared producer (``send``), or inside the
caller's Kafka transaction through a transactional confluent-kafka producer
(``produce``): the same record both ways, so a target behaves alike on both paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # light to import: payload types are used where Kafka clients are not
    from confluent_kafka import Producer as RawProducer

    from eventplane.kafka.clients import Producer


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

    def produce(self, producer: RawProducer) -> None:
        """Write this record in ``producer``'s open transaction (it commits or aborts it)."""
        producer.produce(self.topic, self.value, **self.produce_kwargs())

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
