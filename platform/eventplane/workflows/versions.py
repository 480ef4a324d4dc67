"""State machine versions and aliases, as Step Functions has them.

A version is an immutable snapshot of a machine's definition and role, numbered from 1;
numbers are never reused (a counter record per machine outlives deleted versions). An
alias routes executions to one version, or splits them between two by weight. All
three live in the resource registry (kinds below), so every replica sees them and a
restarted one reads them back from Kafka like the definitions themselves.

Publishes on one replica are serialized (a lock). Two replicas publishing the same
machine at the same instant may both take the same number (the registry has no
compare-and-set); the later write wins. That race needs two concurrent publishes of
one machine on two replicas and is accepted for now.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventplane.errors import ValidationException
from eventplane.runtime import ServerContext
from eventplane.workflows import arns
from eventplane.workflows.errors import (
    ConflictException,
    ServiceQuotaExceeded,
    StatesResourceNotFound,
)

VERSION_KIND = "statemachineversion"
ALIAS_KIND = "statemachinealias"
COUNTER_KIND = "statemachineversionseq"
MAX_VERSIONS = 1000
MAX_ALIASES = 100
MAX_DESCRIPTION = 256


@dataclass(frozen=True, slots=True)
class Version:
    state_machine_version_arn: str
    machine: str
    number: int
    definition: str
    role_arn: str
    type: str
    description: str
    revision_id: str
    creation_date: int


@dataclass(frozen=True, slots=True)
class RoutingEntry:
    state_machine_version_arn: str
    weight: int


@dataclass(frozen=True, slots=True)
class Alias:
    state_machine_alias_arn: str
    name: str
    description: str
    routing_configuration: list[RoutingEntry]
    creation_date: int
    update_date: int


@dataclass(frozen=True, slots=True)
class Target:
    """What an execution runs: the definition, and the version/alias it came through."""

    machine: str
    definition: str
    type: str
    version_arn: str | None = None
    alias_arn: str | None = None
    role_arn: str = ""


def check_description(description: str, field: str = "description") -> str:
    if len(description) > MAX_DESCRIPTION:
        raise ValidationException(
            f"{field} must be at most {MAX_DESCRIPTION} characters, got {len(description)}"
        )
    return description


def pick(routing: Sequence[RoutingEntry], rng: random.Random) -> str:
    """The version an execution through an alias runs: by weight, out of 100."""
    roll = rng.randrange(100)
    for entry in routing:
        if roll < entry.weight:
            return entry.state_machine_version_arn
        roll -= entry.weight
    return routing[-1].state_machine_version_arn


class Versions:
    def __init__(self, ctx: ServerContext, rng: random.Random | None = None) -> None:
        self._registry = ctx.registry
        self._rng = rng or random.Random()
        self._publishing = asyncio.Lock()

    # --- versions ---------------------------------------------------------------------
    def _version(self, r: Any) -> Version:
        s = r.spec
        return Version(
            arns.version_arn(s["machine"], s["number"]),
            s["machine"],
            s["number"],
            s["definition"],
            s.get("roleArn", ""),
            s.get("type", "STANDARD"),
            s.get("description", ""),
            s.get("revisionId", ""),
            r.created_at,
        )

    def versions(self, machine: str) -> list[Version]:
        """The machine's versions, newest first."""
        found = [self._version(r) for r in self._registry.find(VERSION_KIND, machine + ":")]
        return sorted(found, key=lambda v: v.number, reverse=True)

    def version(self, arn: str, field: str = "stateMachineArn") -> Version:
        machine, number = arns.parse_version_arn(arn, field)
        r = self._registry.get(VERSION_KIND, f"{machine}:{number}")
        if r is None:
            raise StatesResourceNotFound(f"State Machine Version Does Not Exist: '{arn}'")
        return self._version(r)

    async def publish(
        self,
        machine: str,
        spec: dict[str, Any],
        revision_id: str,
        description: str = "",
        expected_revision_id: str = "",
    ) -> Version:
        """Publish the machine's current definition (``spec``); an unchanged one returns
        the latest version instead of a new one."""
        async with self._publishing:
            return await self._publish(
                machine, spec, revision_id, description, expected_revision_id
            )

    async def _publish(
        self,
        machine: str,
        spec: dict[str, Any],
        revision_id: str,
        description: str,
        expected_revision_id: str,
    ) -> Version:
        check_description(description)
        if expected_revision_id and expected_revision_id != revision_id:
            raise ConflictException(
                f"revisionId {expected_revision_id!r} is not the state machine's current "
                f"revision ({revision_id!r})"
            )
        existing = self.versions(machine)
        if existing and all(
            getattr(existing[0], a) == spec.get(k, d)
            for a, k, d in (
                ("definition", "definition", ""),
                ("role_arn", "roleArn", ""),
                ("type", "type", "STANDARD"),
            )
        ):
            return existing[0]
        if len(existing) >= MAX_VERSIONS:
            raise ServiceQuotaExceeded(
                f"State machine '{arns.plain(machine)}' has {MAX_VERSIONS} versions; "
                "delete some first"
            )
        counter = self._registry.get(COUNTER_KIND, machine)
        number = int(counter.spec["last"]) + 1 if counter is not None else 1
        await asyncio.to_thread(self._registry.put, COUNTER_KIND, machine, {"last": number})
        record = {
            "machine": machine,
            "number": number,
            "definition": spec["definition"],
            "roleArn": spec.get("roleArn", ""),
            "type": spec.get("type", "STANDARD"),
            "description": description,
            "revisionId": revision_id,
        }
        r = await asyncio.to_thread(self._registry.put, VERSION_KIND, f"{machine}:{number}", record)
        return self._version(r)

    async def delete_version(self, arn: str) -> None:
        """Delete a version (none: nothing to do); refused while an alias routes to it."""
        machine, number = arns.parse_version_arn(arn)
        canonical = arns.version_arn(machine, number)
        users = [a.name for a in self.aliases(machine) if _routes_to(a, canonical)]
        if users:
            raise ConflictException(
                f"Version '{arn}' can't be deleted: alias(es) {', '.join(users)} route to it"
            )
        await asyncio.to_thread(self._registry.delete, VERSION_KIND, f"{machine}:{number}")

    # --- aliases ----------------------------------------------------------------------
    def _alias(self, r: Any) -> Alias:
        s = r.spec
        return Alias(
            arns.alias_arn(s["machine"], s["name"]),
            s["name"],
            s.get("description", ""),
            [RoutingEntry(e["stateMachineVersionArn"], e["weight"]) for e in s["routing"]],
            r.created_at,
            r.updated_at,
        )

    def aliases(self, machine: str) -> list[Alias]:
        return [self._alias(r) for r in self._registry.find(ALIAS_KIND, machine + ":")]

    def alias(self, arn: str) -> Alias:
        machine, name = arns.parse_alias_arn(arn)
        r = self._registry.get(ALIAS_KIND, f"{machine}:{name}")
        if r is None:
            raise StatesResourceNotFound(f"State Machine Alias Does Not Exist: '{arn}'")
        return self._alias(r)

    def _routing(self, routing: Sequence[RoutingEntry]) -> tuple[str, list[dict[str, Any]]]:
        """Validate a routingConfiguration; returns its machine and its stored form."""
        if not 1 <= len(routing) <= 2:
            raise ValidationException(
                f"routingConfiguration must have 1 or 2 entries, got {len(routing)}"
            )
        machines = set()
        for e in routing:
            field = "routingConfiguration.stateMachineVersionArn"
            machines.add(arns.parse_version_arn(e.state_machine_version_arn, field)[0])
            if not 0 <= e.weight <= 100:
                raise ValidationException(
                    f"routingConfiguration.weight must be between 0 and 100, got {e.weight}"
                )
        if len(machines) != 1:
            raise ValidationException(
                "routingConfiguration must route to versions of one state machine"
            )
        if len({e.state_machine_version_arn for e in routing}) != len(routing):
            raise ValidationException("routingConfiguration must name each version once")
        total = sum(e.weight for e in routing)
        if total != 100:
            raise ValidationException(f"routingConfiguration weights must sum to 100, got {total}")
        # Kept as the versions' own ARNs (in their account, whatever account or form
        # the caller wrote), which ListStateMachineAliases and DeleteStateMachineVersion
        # compare with.
        stored = [
            {
                "stateMachineVersionArn": self.version(
                    e.state_machine_version_arn, "routingConfiguration"
                ).state_machine_version_arn,
                "weight": e.weight,
            }
            for e in routing
        ]
        return machines.pop(), stored

    async def create_alias(
        self, name: str, routing: Sequence[RoutingEntry], description: str = ""
    ) -> Alias:
        """Create an alias; the same one again returns it, another one is a conflict."""
        arns.check_alias_name(name)
        check_description(description)
        machine, stored = self._routing(routing)
        spec = {"machine": machine, "name": name, "description": description, "routing": stored}
        existing = self._registry.get(ALIAS_KIND, f"{machine}:{name}")
        if existing is not None:
            if dict(existing.spec) == spec:
                return self._alias(existing)
            raise ConflictException(
                f"Alias '{arns.alias_arn(machine, name)}' exists with another configuration"
            )
        if len(self.aliases(machine)) >= MAX_ALIASES:
            raise ServiceQuotaExceeded(
                f"State machine '{arns.plain(machine)}' has {MAX_ALIASES} aliases; "
                "delete some first"
            )
        r = await asyncio.to_thread(self._registry.put, ALIAS_KIND, f"{machine}:{name}", spec)
        return self._alias(r)

    async def update_alias(
        self,
        arn: str,
        description: str | None = None,
        routing: Sequence[RoutingEntry] | None = None,
    ) -> Alias:
        machine, name = arns.parse_alias_arn(arn)
        found = self._registry.get(ALIAS_KIND, f"{machine}:{name}")
        if found is None:
            raise StatesResourceNotFound(f"State Machine Alias Does Not Exist: '{arn}'")
        if description is None and routing is None:
            raise ValidationException("Either description or routingConfiguration must be given")
        spec = dict(found.spec)
        if description is not None:
            spec["description"] = check_description(description)
        if routing is not None:
            routed_machine, spec["routing"] = self._routing(routing)
            if routed_machine != machine:
                raise ValidationException(
                    f"routingConfiguration must route to versions of '{arns.plain(machine)}', "
                    f"the alias's state machine"
                )
        r = await asyncio.to_thread(self._registry.put, ALIAS_KIND, f"{machine}:{name}", spec)
        return self._alias(r)

    async def delete_alias(self, arn: str) -> None:
        machine, name = arns.parse_alias_arn(arn)
        await asyncio.to_thread(self._registry.delete, ALIAS_KIND, f"{machine}:{name}")

    async def delete_machine(self, machine: str) -> None:
        """Deleting a machine deletes its versions, aliases and version counter."""
        for kind in (ALIAS_KIND, VERSION_KIND):
            for r in self._registry.find(kind, machine + ":"):
                await asyncio.to_thread(self._registry.delete, kind, r.name)
        await asyncio.to_thread(self._registry.delete, COUNTER_KIND, machine)

    # --- starting executions ----------------------------------------------------------
    def resolve_alias(self, arn: str) -> Version:
        """The version an execution started through alias ``arn`` runs (by weight)."""
        alias = self.alias(arn)
        return self.version(pick(alias.routing_configuration, self._rng))


def _routes_to(alias: Alias, version_arn: str) -> bool:
    return any(e.state_machine_version_arn == version_arn for e in alias.routing_configuration)
