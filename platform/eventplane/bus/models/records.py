"""The records the bus writes to Kafka: events on a bus and delivery retry tasks."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eventplane.bus.models.common import (
    DELIVERY_SCHEMA,
    EVENT_SCHEMA,
)
from eventplane.kafka import codec

# --- records on Kafka -----------------------------------------------------------------------


@dataclass(frozen=True)
class BusEvent:
    """One event on ``eventplane.bus.<bus>``: the envelope plus routing facts."""

    event: Mapping[str, Any]
    ingestion_ms: int
    replay_name: str | None = None
    rule_filter: tuple[str, ...] = ()
    scheduled_rule: str | None = None
    text: str | None = None  # the envelope's JSON text when it was read from Kafka

    @property
    def event_json(self) -> str:
        return self.text if self.text is not None else json.dumps(self.event, separators=(",", ":"))

    @property
    def archivable(self) -> bool:
        return self.replay_name is None and self.scheduled_rule is None


def encode_event(e: BusEvent) -> tuple[bytes, list[tuple[str, bytes]]]:
    return codec.encode(
        EVENT_SCHEMA,
        {
            "event": e.event_json,
            "ingestion_ms": e.ingestion_ms,
            "replay_name": e.replay_name,
            "rule_filter": list(e.rule_filter),
            "scheduled_rule": e.scheduled_rule,
        },
    )


def decode_event(value: bytes, headers: Sequence[tuple[str, bytes | None]]) -> BusEvent:
    _, rec = codec.decode(value, headers)
    text = rec["event"]
    return BusEvent(
        json.loads(text),
        rec["ingestion_ms"],
        rec["replay_name"],
        tuple(rec["rule_filter"]),
        rec["scheduled_rule"],
        text,
    )


@dataclass(frozen=True)
class Delivery:
    """A delivery still to be made to one target (``eventplane.bus.deliveries``)."""

    bus: str
    rule: str
    target_id: str
    event_id: str
    event: str
    payload: str
    attempt: int
    first_ms: int
    due_ms: int
    last_error_code: str | None = None
    last_error: str | None = None


def encode_delivery(d: Delivery) -> tuple[bytes, list[tuple[str, bytes]]]:
    return codec.encode(DELIVERY_SCHEMA, d.__dict__)


def decode_delivery(value: bytes, headers: Sequence[tuple[str, bytes | None]]) -> Delivery:
    _, rec = codec.decode(value, headers)
    return Delivery(**rec)
