"""Event buses (EventBridge semantics): rules select events with compiled event patterns."""

from eventplane.bus.errors import InvalidEventPattern
from eventplane.bus.patterns import compile_pattern
from eventplane.matching import CompiledPattern

__all__ = ["CompiledPattern", "InvalidEventPattern", "compile_pattern"]
