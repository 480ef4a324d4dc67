"""The bus engine's compiled views of the registry: per-bus rule sets, rules by name,
archives, schemas, scheduled rules and active replays, parsed once and kept until a
registry change invalidates them (compile once, match many)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from eventplane.bus.models import (
    ARCHIVE,
    DISABLED,
    FINISHED,
    REPLAY,
    RULE,
    ArchiveDef,
    ReplayDef,
    RuleDef,
)
from eventplane.bus.ruleset import RuleSet
from eventplane.bus.schemas import SchemaDef
from eventplane.errors import (
    EventplaneError,
)
from eventplane.observability.logging import get_logger
from eventplane.registry import Resource

if TYPE_CHECKING:
    from eventplane.bus.engine import BusEngine


_log = get_logger("eventplane.bus")

LENIENT_MIN_RATE_SECONDS = 0.001


class CompiledViews:
    """Per-bus compiled views (rule set, rules by name, archives), rebuilt after a change."""

    def __init__(self, engine: BusEngine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._rules: dict[str, tuple[RuleSet[RuleDef], dict[str, RuleDef]]] = {}
        self._archives: dict[str, list[ArchiveDef]] = {}
        self._schemas: dict[tuple[str, str], SchemaDef] | None = None
        self._parsed_rules: dict[str, tuple[int, int, RuleDef]] = {}
        # The coordinator asks for these many times a second: kept until a rule or replay
        # changes.
        self._scheduled: list[RuleDef] | None = None
        self._replays: list[ReplayDef] | None = None

    def invalidate(self, kind: str, name: str) -> None:
        with self._lock:
            if kind == RULE:
                self._rules.pop(name.partition(":")[0], None)
                self._scheduled = None
            elif kind == REPLAY:
                self._replays = None
            elif kind == ARCHIVE:
                self._archives.clear()
            elif kind == "schema":
                self._schemas = None

    def rule(self, r: Resource) -> RuleDef:
        cached = self._parsed_rules.get(r.name)
        if cached is not None and cached[:2] == (r.generation, r.created_at):
            return cached[2]
        try:
            # Validation happened when the rule was written; a stored rule is read leniently
            # so a replica with stricter settings (or a newer version) still routes it.
            rule = RuleDef.from_resource(r, min_rate_seconds=LENIENT_MIN_RATE_SECONDS)
        except EventplaneError as exc:
            _log.error("stored rule cannot be read; it is skipped", rule=r.name, error=exc.message)
            s = r.spec
            rule = RuleDef(s["bus"], s["name"], None, None, DISABLED, s.get("description", ""))
        self._parsed_rules[r.name] = (r.generation, r.created_at, rule)
        return rule

    def rules(self, bus: str) -> tuple[RuleSet[RuleDef], dict[str, RuleDef]]:
        with self._lock:
            found = self._rules.get(bus)
            if found is None:
                rules = [self.rule(r) for r in self._engine.registry.find(RULE, f"{bus}:")]
                by_name = {r.name: r for r in rules}
                ruleset = RuleSet(
                    (r, r.pattern) for r in rules if r.enabled and r.pattern is not None
                )
                found = self._rules[bus] = (ruleset, by_name)
            return found

    def scheduled_rules(self) -> list[RuleDef]:
        with self._lock:
            if self._scheduled is None:
                rules = (self.rule(r) for r in self._engine.registry.find(RULE))
                self._scheduled = [r for r in rules if r.schedule is not None and r.enabled]
            return self._scheduled

    def active_replays(self) -> list[ReplayDef]:
        with self._lock:
            if self._replays is None:
                found = (ReplayDef.from_resource(r) for r in self._engine.registry.find(REPLAY))
                self._replays = [r for r in found if r.state not in FINISHED]
            return self._replays

    def archives(self, bus: str) -> list[ArchiveDef]:
        with self._lock:
            found = self._archives.get(bus)
            if found is None:
                found = [
                    a
                    for a in (
                        ArchiveDef.from_resource(r) for r in self._engine.registry.find(ARCHIVE)
                    )
                    if a.bus == bus
                ]
                self._archives[bus] = found
            return found

    def schema(self, source: str, detail_type: str) -> SchemaDef | None:
        with self._lock:
            if self._schemas is None:
                self._schemas = {}
                for r in self._engine.registry.find("schema"):
                    s = SchemaDef.from_resource(r)
                    if s.source or s.detail_type:
                        self._schemas[(s.source, s.detail_type)] = s
            return self._schemas.get((source, detail_type))
