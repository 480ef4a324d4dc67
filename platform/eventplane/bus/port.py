"""The bus's port: how anything outside the bus room puts an event on a bus.

A rule target of kind bus forwards the event itself (it is ingested there anew); a
function destination sends its record as the ``detail`` of a new event. A rule of one
account reaches another account's bus only through that bus's policy.
"""

from __future__ import annotations

import json
import time

from eventplane.bus.entries import envelope
from eventplane.bus.models import BUS, DEFAULT_BUS, BusDef, BusEvent, encode_event
from eventplane.delivery.payload import Payload, TargetUnavailable
from eventplane.delivery.senders import admit_sender
from eventplane.kafka import naming
from eventplane.kafka.outgoing import Outgoing
from eventplane.registry import Registry

__all__ = ["BusPort"]


def _check_account(bus: BusDef, payload: Payload) -> None:
    """A rule (or a function's destination) of another account puts events on a custom
    bus only if the bus's policy (PutPermission) allows ``events:PutEvents`` to the rule's
    (function's) account, as on EventBridge.

    The default bus is every account's, so it takes every rule's events.
    """
    if payload.origin not in ("bus", "destination") or bus.name == DEFAULT_BUS:
        return
    admit_sender(
        payload,
        owner=bus.account,
        policy=bus.policy,
        action="events:PutEvents",
        resource=bus.arn,
        what=f"event bus {bus.name}",
        verb="put events on it",
    )


class BusPort:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def fifo(self, endpoint: str) -> bool:
        return False

    def record(self, endpoint: str, payload: Payload) -> Outgoing:
        found = self._registry.get(BUS, endpoint)
        if found is None:
            raise TargetUnavailable(
                "ResourceNotFoundException", f"Event bus {endpoint} does not exist"
            )
        _check_account(BusDef.from_resource(found), payload)
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
