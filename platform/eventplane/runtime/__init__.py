"""The runtime every capability plugs into: the server context, the component
contract and the registry of capabilities.

Capabilities import this package; the server imports it and the capabilities
named in ``registry.CAPABILITIES`` (by dotted path, so nothing here imports a
capability). Nothing imports ``eventplane.server``.
"""

from eventplane.runtime.clock import Clock, FixedClock, wall_clock_ms
from eventplane.runtime.component import Component, ServerContext
from eventplane.runtime.registry import (
    CAPABILITIES,
    Capability,
    components_for,
    declared_services,
)

__all__ = [
    "CAPABILITIES",
    "Capability",
    "Clock",
    "Component",
    "FixedClock",
    "ServerContext",
    "components_for",
    "declared_services",
    "wall_clock_ms",
]
