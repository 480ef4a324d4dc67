"""A queue as the registry defines it: its name, validated config and incarnation."""

from __future__ import annotations

from dataclasses import dataclass, field

from eventplane import arn as arns
from eventplane import names
from eventplane.queues.attributes import QueueConfig, queue_arn, queue_url
from eventplane.registry import Registry, Resource
from eventplane.security.accounts import owned_by, owner_of

KIND = "queue"


@dataclass(frozen=True)
class QueueDef:
    # The internal name (``eventplane.names``): the registry key, and what the queue's
    # Kafka topics are named after. Callers see ``plain`` (with ``account``).
    name: str
    config: QueueConfig
    # The creation time in epoch ms; signed into receipt handles so a handle of
    # a deleted queue never works on a new queue of the same name.
    incarnation: int
    updated_ms: int
    tags: dict[str, str]
    # The account the queue belongs to (its creator's).
    account: str = field(default_factory=lambda: arns.identity().account)

    @property
    def plain(self) -> str:
        """The queue's name as its owner named it."""
        return names.plain(self.name)

    @property
    def url(self) -> str:
        return queue_url(self.plain, self.account)

    @property
    def arn(self) -> str:
        return queue_arn(self.plain, self.account)

    def spec(self, config: QueueConfig, tags: dict[str, str]) -> dict[str, object]:
        """The registry spec of this queue with ``config`` and ``tags`` (its owner kept)."""
        spec = {"config": config.to_spec(), "incarnation": self.incarnation, "tags": tags}
        return owned_by(spec, self.account)

    @staticmethod
    def from_resource(r: Resource) -> QueueDef:
        spec = dict(r.spec)
        return QueueDef(
            name=r.name,
            config=QueueConfig.from_spec(spec.get("config", {})),
            incarnation=int(spec.get("incarnation", r.created_at)),
            updated_ms=r.updated_at,
            tags=dict(spec.get("tags", {})),
            account=owner_of(spec),
        )


class QueueDefs:
    """Queue definitions read from the registry, parsed once per registry generation.

    Lookups sit on hot paths (every queue request, every fan-out delivery), so
    the parsed QueueDef is reused until the definition changes.
    """

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._parsed: dict[str, tuple[int, int, QueueDef]] = {}

    def get(self, name: str) -> QueueDef | None:
        r = self._registry.get(KIND, name)
        if r is None:
            return None
        cached = self._parsed.get(name)
        # created_at tells a queue deleted and created again at the same generation apart.
        if cached is not None and cached[:2] == (r.generation, r.created_at):
            return cached[2]
        qd = QueueDef.from_resource(r)
        self._parsed[name] = (r.generation, r.created_at, qd)
        return qd
