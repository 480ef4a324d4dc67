"""Which bus, archive or replay a reference names: names are per account (``eventplane.names``).

A bare name (or none: the default bus) names the caller's account's; an ARN names the
one in the account it gives, else (ARNs pasted from AWS carry other account ids) the
installation's of that name. The bus keys every bus, rule (``<bus>:<rule>``), archive
and replay by internal names, which only ARNs and names shown to callers turn back into
plain names. Each account has its own default bus, ``<account>.default`` inside (the
installation's is ``default``), created when the account first uses it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eventplane import names
from eventplane.arn import Kind, parse_as
from eventplane.bus.models import ARCHIVE, BUS, DEFAULT_BUS, REPLAY, RULE, SCHEMA, BusDef, rule_key
from eventplane.registry import Registry, Resource
from eventplane.security.accounts import owner_of as _owner

__all__ = ["Move", "is_default", "lookup", "moves", "owner_of", "policy_of"]

# The registry kinds of what belongs to its creator's account whatever bus it is about.
_HISTORY = {Kind.ARCHIVE: ARCHIVE, Kind.REPLAY: REPLAY, Kind.SCHEMA: SCHEMA}


def is_default(internal: str) -> bool:
    """Whether the bus of internal name ``internal`` is an account's default bus."""
    return names.plain(internal) == DEFAULT_BUS


def lookup(
    registry: Registry, kind: str, name: str, account: str | None, caller: str
) -> str | None:
    """The internal name of the existing ``kind`` resource (a bus, archive or replay) a
    reference names: ``name`` in the account an ARN gives (None: a bare name, the
    ``caller``'s), by ``eventplane.names.candidates``; None when there is none.

    Each account has its own default bus: an ARN naming the default bus of an account
    that has none reaches the installation's only for the installation's own callers
    (ARNs pasted from AWS), never another account's events. A resource another account
    created while names were unique per installation is kept under its plain name: its
    owner's references still reach it.
    """
    if names.looks_qualified(name):
        return None  # another account's internal name: refused as a name (bus_reference)
    owner = account or caller
    found = names.candidates(name, account, owner)
    if kind == BUS and name == DEFAULT_BUS and caller != names.home():
        found = found[:1]
    # From the view first: an ARN pasted from AWS (another account's id, the
    # installation's resource) must not cost a catch-up with Kafka on each call.
    if len(found) > 1:
        for candidate in found:
            if registry.peek(kind, candidate) is not None:
                return candidate
    for candidate in found:
        if registry.get(kind, candidate) is not None:
            return candidate
    if found[0] != name:
        legacy = registry.get(kind, name)
        if legacy is not None and _owner(legacy.spec) == owner:
            return name
    return None


@dataclass(frozen=True)
class Move:
    """A rule or archive to move onto its account's own default bus (``bus``)."""

    kind: str
    old: str  # its registry key now
    new: str  # its registry key there
    spec: dict[str, Any]
    bus: str  # the account's default bus's internal name
    account: str


def moves(kind: str, found: Iterable[Resource]) -> list[Move]:
    """The rules or archives (``kind``) another account made on the default bus while it
    was every account's: each moves to its account's own default bus, under the same
    name (so the same ARN), with its spec but for the bus."""
    out = []
    for r in found:
        account = _owner(r.spec)
        if r.spec.get("bus") != DEFAULT_BUS or account == names.home():
            continue
        bus = names.qualify(DEFAULT_BUS, account)
        new = rule_key(bus, str(r.spec["name"])) if kind == RULE else r.name
        out.append(Move(kind, r.name, new, {**r.spec, "bus": bus}, bus, account))
    return out


def _existing(registry: Registry, name: str, account: str) -> str | None:
    """The internal name of ``account``'s bus ``name`` as an ARN of that account reaches
    it (authorization's lookups: an account's default bus not used yet is None, as the
    caller's new resource)."""
    return lookup(registry, BUS, name, account or None, account or names.home())


def owner_of(registry: Registry, arn: str) -> str | None:
    """The account a bus, rule, archive, replay or schema ``arn`` names belongs to
    (authorization's lookup), in the ARN's account (``eventplane.names``); None for what
    does not exist. An archive, replay or schema is its creator's; a rule its bus's
    (another account needs the bus's grant to add one; each account's default bus is
    its own).
    """
    found = parse_as(arn, Kind.BUS, Kind.RULE, *_HISTORY)
    if found is None:
        return None
    account = found.arn.account
    if found.kind is Kind.SCHEMA:  # schemas are still named per installation
        r = registry.get(SCHEMA, found.name)
        return _owner(r.spec) if r is not None else None
    if found.kind in _HISTORY:  # an archive or replay: its creator's
        kind = _HISTORY[found.kind]
        internal = lookup(registry, kind, found.name, account or None, account)
        r = registry.get(kind, internal) if internal is not None else None
        return _owner(r.spec) if r is not None else None
    name = found.parent if found.kind is Kind.RULE else found.name
    bus = _existing(registry, name or "", account)
    if bus is None:
        return None
    r = registry.get(RULE, rule_key(bus, found.name)) if found.kind is Kind.RULE else None
    if r is None:
        r = registry.get(BUS, bus)
    return _owner(r.spec) if r is not None else None


def policy_of(registry: Registry, arn: str) -> str | None:
    """The policy text of the bus ``arn`` names (authorization's lookup)."""
    found = parse_as(arn, Kind.BUS)
    if found is None:
        return None
    bus = _existing(registry, found.name, found.arn.account)
    r = registry.get(BUS, bus) if bus is not None else None
    return (BusDef.from_resource(r).policy or None) if r is not None else None
