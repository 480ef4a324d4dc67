"""Write a payload to an ARN: the ports registered per target kind, and the two ways to write.

A capability owns the *port* that encodes its own records (the queue port knows FIFO
partitioning and the queue-record shape, the topic port the SNS record, ...). The ports
are registered here by dotted path, one line each, so this layer imports no capability
and every capability can reach every other one through it without importing its
internals. HTTP targets have no records: the caller POSTs them (``delivery.http``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Final, Protocol

from eventplane import arn as arns
from eventplane.delivery.payload import Payload, TargetUnavailable
from eventplane.kafka.outgoing import Outgoing

if TYPE_CHECKING:
    from confluent_kafka import Producer as RawProducer

    from eventplane.kafka.clients import Producer
    from eventplane.registry import Registry


class Port(Protocol):
    """Encodes the records of one kind of target."""

    def record(self, endpoint: str, payload: Payload) -> Outgoing:
        """The record that delivers ``payload`` to ``endpoint`` (a name, or a function's
        ``name[:qualifier]``); raises TargetUnavailable when it cannot be delivered now."""
        ...

    def fifo(self, endpoint: str) -> bool:
        """Whether ``endpoint`` exists and is FIFO (its payloads need a message group)."""
        ...


PORTS: Final = {
    arns.TargetKind.QUEUE: "eventplane.queues.port:QueuePort",
    arns.TargetKind.TOPIC: "eventplane.topics.port:TopicPort",
    arns.TargetKind.BUS: "eventplane.bus.port:BusPort",
    arns.TargetKind.FUNCTION: "eventplane.functions.invocations:FunctionPort",
    arns.TargetKind.STATE_MACHINE: "eventplane.workflows.port:StateMachinePort",
}


def _load(path: str, registry: Registry) -> Port:
    module, _, name = path.partition(":")
    port: Port = getattr(importlib.import_module(module), name)(registry)
    return port


class Router:
    """Dispatches payloads by ARN to the registered ports; one per engine."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._ports: dict[arns.TargetKind, Port] = {}

    def port(self, kind: arns.TargetKind) -> Port:
        found = self._ports.get(kind)
        if found is None:
            path = PORTS.get(kind)
            if path is None:
                raise TargetUnavailable("InternalFailure", f"no port writes {kind} targets")
            found = self._ports[kind] = _load(path, self._registry)
        return found

    def fifo(self, kind: arns.TargetKind, endpoint: str) -> bool:
        return self.port(kind).fifo(endpoint)

    def record(self, target: str | arns.Target, payload: Payload) -> Outgoing:
        """The record that delivers ``payload`` to ``target`` (an ARN or a parsed one)."""
        parsed = arns.target(target) if isinstance(target, str) else target
        if parsed is None:
            raise TargetUnavailable("InvalidParameter", f"{target!r} is not a target ARN")
        return self.port(parsed.kind).record(parsed.endpoint, payload)

    async def send(self, target: str | arns.Target, payload: Payload, producer: Producer) -> None:
        """At least once: written and acknowledged by Kafka when this returns."""
        await self.record(target, payload).send(producer)

    def produce(self, target: str | arns.Target, payload: Payload, producer: RawProducer) -> None:
        """Inside the caller's Kafka transaction: delivered when (and only if) it commits."""
        self.record(target, payload).produce(producer)
