"""Resource definitions on the compacted topic eventplane.resources."""

from eventplane.registry.store import Registry, Resource

__all__ = ["Registry", "Resource"]
