"""The capabilities this build knows: one registration line each.

A capability is a folder under ``eventplane/`` with a component class that
follows ``runtime.Component``. It is registered here by dotted path, so this
module imports no capability and the import graph keeps pointing downward.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eventplane.config import Settings
    from eventplane.runtime.component import Component


@dataclass(frozen=True, slots=True)
class Capability:
    """A registered capability: the role that enables it and its component class."""

    role: str
    component: str  # "package.module:ClassName"

    def component_class(self) -> type[Component]:
        module, _, name = self.component.partition(":")
        cls: type[Component] = getattr(importlib.import_module(module), name)
        return cls

    def load(self) -> Component:
        return self.component_class()()


CAPABILITIES: tuple[Capability, ...] = (
    Capability("api", "eventplane.api.component:ApiComponent"),
    Capability("queues", "eventplane.queues.component:QueuesComponent"),
    Capability("fanout", "eventplane.topics.component:TopicsComponent"),
    Capability("bus", "eventplane.bus.component:BusComponent"),
    Capability("runner", "eventplane.functions.component:FunctionsComponent"),
    Capability("workflows", "eventplane.workflows.component:WorkflowsComponent"),
    Capability("tables", "eventplane.tables.component:TablesComponent"),
)


def components_for(settings: Settings) -> list[Component]:
    """The components this process runs, in registration order, by enabled role."""
    return [c.load() for c in CAPABILITIES if c.role in settings.roles]


def declared_services(settings: Settings) -> list[str]:
    """The gRPC services the components of this process's roles declare, without starting them."""
    return [
        name
        for c in CAPABILITIES
        if c.role in settings.roles
        for name in c.component_class().service_names
    ]
