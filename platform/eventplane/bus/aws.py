"""The bus core as the AWS-protocol gateway sees it: EventBridge's binding.

Registered by the bus component under ``ctx.extras["gateway.bindings"]["events"]``; it
imports nothing of the gateway. Each EventBridge action maps by name onto a
``BusOperations`` method and its request shape; actions without one (archives,
replays, connections, API destinations, ...) have no handler yet, so the gateway
answers them as unsupported.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from eventplane.bus import shapes
from eventplane.bus.operations import BusOperations


def _snake(action: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower()


class EventsBinding:
    service = "events"

    def __init__(self, ops: BusOperations) -> None:
        self.ops = ops

    def handler(self, action: str) -> tuple[type[Any], Callable[[Any], Awaitable[Any]]] | None:
        request = getattr(shapes, f"{action}Request", None)
        call = getattr(self.ops, _snake(action), None)
        if request is None or call is None:
            return None
        return request, call

    def query_error_code(self, code: str) -> str:
        return code

    def implied_members(self, path: str, base_url: str) -> Mapping[str, Any]:
        return {}

    def present(self, output: dict[str, Any], base_url: str, account: str) -> dict[str, Any]:
        return output
