from __future__ import annotations

from typing import Any

from eventplane.queues.attributes import QueueConfig
from eventplane.queues.queue_def import KIND, QueueDefs
from eventplane.registry import Resource


class _Registry:
    def __init__(self) -> None:
        self.resources: dict[tuple[str, str], Resource] = {}

    def get(self, kind: str, name: str) -> Resource | None:
        return self.resources.get((kind, name))

    def put(self, name: str, generation: int, created_at: int, **config: Any) -> None:
        spec = {"config": QueueConfig(**config).to_spec(), "incarnation": created_at}
        self.resources[(KIND, name)] = Resource(KIND, name, spec, generation, created_at, 0)


def test_parsed_once_per_generation_and_refreshed_on_change() -> None:
    reg = _Registry()
    defs = QueueDefs(reg)  # type: ignore[arg-type]
    assert defs.get("orders") is None
    reg.put("orders", 1, 100, visibility_timeout=30)
    first = defs.get("orders")
    assert first is not None and first.config.visibility_timeout == 30
    assert defs.get("orders") is first  # not parsed again
    reg.put("orders", 2, 100, visibility_timeout=60)  # SetQueueAttributes
    assert defs.get("orders").config.visibility_timeout == 60  # type: ignore[union-attr]
    reg.put("orders", 2, 200, visibility_timeout=5)  # deleted and created again
    again = defs.get("orders")
    assert again is not None and again.incarnation == 200 and again.config.visibility_timeout == 5
