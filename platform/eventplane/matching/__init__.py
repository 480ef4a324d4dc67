"""The pattern language EventBridge event patterns and SNS filter policies share.

A capability-neutral room: ``bus`` (event patterns, rule sets) and ``topics`` (filter
policies) both compile with it, each through its own :class:`Dialect`, and neither
imports the other. Validation is strict and happens once, at compile time; matching a
compiled pattern never looks at the pattern text again.
"""

from eventplane.matching.patterns import (
    OPERATORS,
    OR_KEY,
    STRING_OPERATORS,
    CompiledPattern,
    Dialect,
    ObjectTest,
    PatternError,
    build_matcher,
    load_document,
    split_keys,
)

__all__ = [
    "OPERATORS",
    "OR_KEY",
    "STRING_OPERATORS",
    "CompiledPattern",
    "Dialect",
    "ObjectTest",
    "PatternError",
    "build_matcher",
    "load_document",
    "split_keys",
]
