"""Registry records parsed once: the definitions every invoke reads.

A sync invoke reads its function's record (and its version's or alias's, when it names
one) from the registry's view and needs the parsed definition. Records are immutable
and replaced whole on every change, so a definition parsed from a record stands for as
long as the registry hands out that same record object: a changed, deleted or re-created
function is a new record, parsed afresh. Keeping the parsed object also gives it a
stable identity, which the invoke path keys its own per-configuration caches on
(``invoke.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from eventplane.functions.models import FunctionDef
from eventplane.registry import Resource

Parsed = TypeVar("Parsed")

# How many version and alias records are kept before starting afresh (deleted ones'
# records must not pile up; functions are dropped when found missing).
QUALIFIERS_KEPT = 4096


class ParsedRecords:
    """Each record's parse, remembered with the record it came from."""

    def __init__(self) -> None:
        self._functions: dict[str, tuple[Resource, FunctionDef]] = {}
        self._qualifiers: dict[tuple[str, str], tuple[Resource, Any]] = {}

    def function(self, r: Resource) -> FunctionDef:
        found = self._functions.get(r.name)
        if found is not None and found[0] is r:
            return found[1]
        fn = FunctionDef.from_resource(r)
        self._functions[r.name] = (r, fn)
        return fn

    def forget(self, name: str) -> None:
        """The function ``name`` is gone."""
        self._functions.pop(name, None)

    def qualifier(self, r: Resource, parse: Callable[[Resource], Parsed]) -> Parsed:
        """A version's or alias's record, parsed by ``parse``."""
        key = (r.kind, r.name)
        found = self._qualifiers.get(key)
        if found is not None and found[0] is r:
            return cast("Parsed", found[1])
        if len(self._qualifiers) >= QUALIFIERS_KEPT:
            self._qualifiers.clear()
        value = parse(r)
        self._qualifiers[key] = (r, value)
        return value
