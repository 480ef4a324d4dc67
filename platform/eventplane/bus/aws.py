"""The bus core as the AWS-protocol gateway sees it: EventBridge's binding.

Registered by the bus component under ``ctx.extras["gateway.bindings"]["events"]``; it
imports nothing of the gateway. Each EventBridge action maps by name onto a
``BusOperations`` method and its request shape; actions without one (archives,
replays, connections, API destinations, ...) have no handler yet, so the gateway
answers them as unsupported.
"""

from __future__ import annotations

from eventplane.bus import shapes
from eventplane.bus.operations import BusOperations
from eventplane.runtime.aws_binding import OperationsBinding


class EventsBinding(OperationsBinding):
    service = "events"
    shapes = shapes

    def __init__(self, ops: BusOperations) -> None:
        super().__init__(ops)
