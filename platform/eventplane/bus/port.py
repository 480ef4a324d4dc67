"""The bus's port: how anything outside the bus room puts an event on a bus.

A rule target of kind bus forwards the event itself (it is ingested there anew); a
function destination sends its record as the ``detail`` of a new event.
"""

from __future__ import annotations

import json
import time

from eventplane.bus.entries import envelope
from eventplane.bus.models import BUS, BusEvent, encode_event
from eventplane.delivery.payload import Payload, TargetUnavailable
from eventplane.kafka import naming
from eventplane.kafka.outgoing import Outgoing
from eventplane.registry import Registry

__all__ = ["BusPort"]


class BusPort:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def fifo(self, endpoint: str) -> bool:
        return False

    def record(self, endpoint: str, payload: Payload) -> Outgoing:
        if self._registry.get(BUS, endpoint) is None:
            raise TargetUnavailable(
                "ResourceNotFoundException", f"Event bus {endpoint} does not exist"
            )
        now = int(time.time() * 1000)
        if payload.event is not None:
            event = BusEvent(payload.event, now, text=payload.event_text)
        else:
            detail = envelope(
                source=payload.source or "eventplane",
                detail_type=payload.detail_type or "",
                detail=json.loads(payload.body),
                resources=payload.resources,
                time_ms=now,
            )
            event = BusEvent(detail, now)
        value, headers = encode_event(event)
        return Outgoing(naming.bus_topic(endpoint), value, headers)
