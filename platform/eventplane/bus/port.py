"""The bus's port: how anything outside the bus room puts an event on a bus.

A rule target of kind bus forwards the event itself (it is ingested there anew); a
function destination sends its record as the ``detail`` of a new event. A rule of one
account reaches another account's bus only through that bus's policy.
"""

from __future__ import annotations

import json
import time

from eventplane import arn as arns
from eventplane import names
from eventplane.bus.entries import envelope
from eventplane.bus.models import BUS, DEFAULT_BUS, BusDef, BusEvent, encode_event
from eventplane.delivery.payload import Payload, TargetUnavailable
from eventplane.delivery.senders import admit_sender
from eventplane.kafka import naming
from eventplane.kafka.outgoing import Outgoing
from eventplane.registry import Registry, Resource

__all__ = ["BusPort"]


def _check_account(bus: BusDef, payload: Payload) -> None:
    """A rule (or a function's destination) of another account puts events on a bus (its
    default bus too: every account has its own) only if the bus's policy (PutPermission)
    allows ``events:PutEvents`` to the rule's (function's) account, as on EventBridge.
    """
    if payload.origin not in ("bus", "destination"):
        return
    admit_sender(
        payload,
        owner=bus.account,
        policy=bus.policy,
        action="events:PutEvents",
        resource=bus.arn,
        what=f"event bus {bus.plain}",
        verb="put events on it",
    )


class BusPort:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def fifo(self, endpoint: str) -> bool:
        return False

    def _find(self, endpoint: str, payload: Payload) -> Resource | None:
        """The bus of internal name ``endpoint`` (a target's: in its ARN's account, else,
        for ARNs pasted from AWS, the installation's; ``eventplane.names``). A default bus
        an account has not used yet stands for the installation's only when the sender
        is the installation's (its status events, say, never reach another account's)."""
        if names.looks_qualified(names.plain(endpoint)):
            return None  # a name of an internal name's shape names no bus
        found = names.resolutions(endpoint)
        sender = arns.account_of(payload.source_arn or "") or names.home()
        if names.plain(endpoint) == DEFAULT_BUS and sender != names.home():
            found = found[:1]
        for internal in found:
            r = self._registry.get(BUS, internal)
            if r is not None:
                return r
        return None

    def record(self, endpoint: str, payload: Payload) -> Outgoing:
        found = self._find(endpoint, payload)
        if found is None:
            raise TargetUnavailable(
                "ResourceNotFoundException", f"Event bus {names.plain(endpoint)} does not exist"
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
                # the sender's (a state machine's for its status events, a function's)
                account=arns.account_of(payload.source_arn or "") or None,
            )
            event = BusEvent(detail, now)
        value, headers = encode_event(event)
        return Outgoing(naming.bus_topic(found.name), value, headers)
