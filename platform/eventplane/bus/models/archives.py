"""Archives of a bus's events and the replays that send them back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from eventplane import arn as arns
from eventplane import names
from eventplane.bus.models.common import (
    archive_arn,
    compile_event_pattern,
    replay_arn,
)
from eventplane.errors import ValidationException
from eventplane.matching import CompiledPattern
from eventplane.registry import Resource
from eventplane.security.accounts import owned_by, owner_of


def _installation() -> str:
    return arns.identity().account


@dataclass(frozen=True)
class ArchiveDef:
    # Internal names (``eventplane.names``): the archive's (registry key, Kafka topic) and
    # its bus's; callers see plain names in the owner's account.
    name: str
    bus: str
    description: str = ""
    event_pattern: str | None = None
    retention_days: int = 0
    created_ms: int = 0
    pattern: CompiledPattern | None = field(default=None, compare=False, repr=False)
    account: str = field(default_factory=_installation)  # its creator's

    @property
    def arn(self) -> str:
        return archive_arn(names.plain(self.name), self.account)

    @property
    def retention_ms(self) -> int:
        return -1 if self.retention_days == 0 else self.retention_days * 86_400_000

    def to_spec(self) -> dict[str, Any]:
        spec = {
            "bus": self.bus,
            "description": self.description,
            "event_pattern": self.event_pattern,
            "retention_days": self.retention_days,
        }
        return owned_by(spec, self.account)

    @staticmethod
    def build(
        name: str,
        bus: str,
        *,
        description: str = "",
        event_pattern: str | None = None,
        retention_days: int = 0,
        created_ms: int = 0,
        account: str | None = None,  # None: the installation's
    ) -> ArchiveDef:
        if retention_days < 0:
            raise ValidationException(
                f"RetentionDays must be 0 (indefinitely) or more, got {retention_days}"
            )
        pattern = compile_event_pattern(event_pattern) if event_pattern else None
        return ArchiveDef(
            name,
            bus,
            description,
            event_pattern or None,
            retention_days,
            created_ms,
            pattern,
            account or _installation(),
        )

    @staticmethod
    def from_resource(r: Resource) -> ArchiveDef:
        s = r.spec
        return ArchiveDef.build(
            r.name,
            s["bus"],
            description=s.get("description", ""),
            event_pattern=s.get("event_pattern"),
            retention_days=int(s.get("retention_days", 0)),
            created_ms=r.created_at,
            account=owner_of(s),
        )


# Replay states, as EventBridge names them.
STARTING, RUNNING, CANCELLING = "STARTING", "RUNNING", "CANCELLING"
COMPLETED, CANCELLED, FAILED = "COMPLETED", "CANCELLED", "FAILED"
FINISHED: Final = (COMPLETED, CANCELLED, FAILED)


@dataclass(frozen=True)
class ReplayDef:
    name: str  # internal names (``eventplane.names``), as ArchiveDef's
    archive: str
    bus: str
    start_ms: int
    end_ms: int
    rules: tuple[str, ...] = ()  # rule names on the bus; empty: every rule
    description: str = ""
    state: str = STARTING
    state_reason: str = ""
    replay_start_ms: int = 0
    replay_end_ms: int = 0
    events_replayed: int = 0
    last_replayed_ms: int = 0
    account: str = field(default_factory=_installation)  # its creator's

    @property
    def arn(self) -> str:
        return replay_arn(names.plain(self.name), self.account)

    def to_spec(self) -> dict[str, Any]:
        spec = {
            "archive": self.archive,
            "bus": self.bus,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "rules": list(self.rules),
            "description": self.description,
            "state": self.state,
            "state_reason": self.state_reason,
            "replay_start_ms": self.replay_start_ms,
            "replay_end_ms": self.replay_end_ms,
            "events_replayed": self.events_replayed,
            "last_replayed_ms": self.last_replayed_ms,
        }
        return owned_by(spec, self.account)

    @staticmethod
    def from_resource(r: Resource) -> ReplayDef:
        s = r.spec
        return ReplayDef(
            r.name,
            s["archive"],
            s["bus"],
            int(s["start_ms"]),
            int(s["end_ms"]),
            tuple(s.get("rules", ())),
            s.get("description", ""),
            s.get("state", STARTING),
            s.get("state_reason", ""),
            int(s.get("replay_start_ms", 0)),
            int(s.get("replay_end_ms", 0)),
            int(s.get("events_replayed", 0)),
            int(s.get("last_replayed_ms", 0)),
            owner_of(s),
        )
