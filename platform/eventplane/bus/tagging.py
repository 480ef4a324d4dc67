"""Tags on event buses and rules: TagResource, UntagResource, ListTagsForResource, and the
tags CreateEventBus and PutRule take.

EventBridge tags buses and rules only, names them by ARN, and keeps the limits SQS and
SNS keep (``eventplane.messaging.tags``: 50 per resource, keys of 1-128 characters not
starting with ``aws:``, values of at most 256), refusing a breach with
ValidationException. The tags are part of the bus's or rule's registry spec, so they
live and die with it and survive a restart like the rest of its definition.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from eventplane import arn as arns
from eventplane import names
from eventplane.bus.models import BUS, RULE, rule_key
from eventplane.bus.references import lookup
from eventplane.errors import ResourceNotFound, ValidationException
from eventplane.messaging.tags import tag_problem
from eventplane.registry import Registry, Resource

__all__ = ["BusTags", "check_tags"]


def check_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """``tags`` as a dict, when they keep EventBridge's limits.

    Raises:
        ValidationException: saying which limit is broken.
    """
    problem = tag_problem(tags)
    if problem is not None:
        raise ValidationException(f"Tags are not valid: {problem[1]}.")
    return dict(tags)


class BusTags:
    """The tags of the buses and rules in the registry, found by their ARNs."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def _resource(self, resource_arn: str) -> Resource:
        found = arns.parse_as(resource_arn, arns.Kind.BUS, arns.Kind.RULE)
        r = None
        if found is not None:
            # The bus in the ARN's account (``eventplane.bus.references``).
            account = found.arn.account
            name = found.name if found.kind is arns.Kind.BUS else found.parent
            name = name or ""
            bus = lookup(self.registry, BUS, name, account or None, account or names.home())
            bus = bus or names.qualify(name, account)
            if found.kind is arns.Kind.BUS:
                r = self.registry.get(BUS, bus)
            else:
                r = self.registry.get(RULE, rule_key(bus, found.name))
        if r is None:
            raise ResourceNotFound(f"Resource {resource_arn} does not exist.")
        return r

    def tags(self, resource_arn: str) -> dict[str, str]:
        """The tags of the bus or rule ``resource_arn`` names.

        Raises:
            ResourceNotFound: no bus or rule has that ARN.
        """
        return dict(self._resource(resource_arn).spec.get("tags") or {})

    async def tag(self, resource_arn: str, tags: Mapping[str, str]) -> None:
        """Add ``tags``, overwriting the value of a key the resource already has."""
        r = self._resource(resource_arn)
        await self._save(r, {**(r.spec.get("tags") or {}), **tags})

    async def untag(self, resource_arn: str, keys: list[str]) -> None:
        """Remove the tags ``keys`` name; a key the resource does not have is ignored."""
        r = self._resource(resource_arn)
        gone = set(keys)
        await self._save(r, {k: v for k, v in (r.spec.get("tags") or {}).items() if k not in gone})

    async def _save(self, r: Resource, tags: Mapping[str, str]) -> None:
        spec = {k: v for k, v in r.spec.items() if k != "tags"}
        if tags:
            spec["tags"] = check_tags(tags)
        await asyncio.to_thread(self.registry.put, r.kind, r.name, spec)
