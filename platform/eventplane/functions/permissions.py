"""Functions' resource-based policies in the registry: AddPermission, RemovePermission,
GetPolicy, and the lookup authorization uses to enforce them.

Policies live in the registry like every other function setting (kind
``function-policy``, one record per qualifier), so they survive restarts and every
replica's authorization reads the same text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from eventplane import arn as arns
from eventplane import names
from eventplane.functions.errors import ResourceNotFoundException
from eventplane.functions.models import (
    FUNCTION,
    LATEST,
    MAPPING,
    POLICY,
    FunctionConfig,
    new_revision_id,
)
from eventplane.functions.models.permissions import FunctionPolicy, build_statement, policy_key
from eventplane.registry import Registry
from eventplane.security.accounts import owner_of

__all__ = ["FunctionPermissions"]

# (name, qualifier) -> the configuration the qualifier names; raises when it names nothing.
Resolve = Callable[[str, str | None], FunctionConfig]


def _qualifier(qualifier: str | None) -> str | None:
    return None if qualifier in (None, "", LATEST) else qualifier


class FunctionPermissions:
    def __init__(self, registry: Registry, resolve: Resolve) -> None:
        self.registry = registry
        self.resolve = resolve

    def policy(self, name: str, qualifier: str | None) -> FunctionPolicy | None:
        r = self.registry.get(POLICY, policy_key(name, _qualifier(qualifier)))
        return FunctionPolicy.from_resource(r) if r is not None else None

    def _account(self, name: str) -> str | None:
        found = self.registry.get(FUNCTION, name)
        return owner_of(found.spec) if found is not None else None

    def _current(self, name: str, qualifier: str | None) -> FunctionPolicy:
        config = self.resolve(name, qualifier)  # the function (version, alias) must exist
        found = self.policy(name, qualifier)
        if found is not None:
            return found
        # No policy yet: the RevisionId a caller holds is the function's (or version's).
        return FunctionPolicy(name, qualifier or LATEST, (), config.revision_id)

    async def add(
        self,
        name: str,
        qualifier: str | None,
        *,
        statement_id: str,
        action: str,
        principal: str,
        source_arn: str = "",
        source_account: str = "",
        principal_org_id: str = "",
        revision_id: str = "",
    ) -> dict[str, object]:
        """The statement added; raises as ``FunctionPolicy.add`` and ``build_statement``."""
        qualifier = _qualifier(qualifier)
        statement = build_statement(
            name,
            qualifier,
            statement_id=statement_id,
            action=action,
            principal=principal,
            source_arn=source_arn,
            source_account=source_account,
            principal_org_id=principal_org_id,
            account=self._account(name),
        )
        current = self._current(name, qualifier)
        current.check_revision(revision_id)
        grown = current.add(statement, new_revision_id())
        await asyncio.to_thread(self.registry.put, POLICY, grown.key, grown.to_spec())
        return statement

    async def remove(
        self, name: str, qualifier: str | None, statement_id: str, revision_id: str = ""
    ) -> None:
        qualifier = _qualifier(qualifier)
        current = self._current(name, qualifier)
        current.check_revision(revision_id)
        shrunk = current.remove(statement_id, new_revision_id())
        if shrunk.statements:
            await asyncio.to_thread(self.registry.put, POLICY, shrunk.key, shrunk.to_spec())
        else:
            await asyncio.to_thread(self.registry.delete, POLICY, shrunk.key)

    def get(self, name: str, qualifier: str | None) -> FunctionPolicy:
        """The policy; ResourceNotFoundException when the qualifier has none."""
        qualifier = _qualifier(qualifier)
        self.resolve(name, qualifier)
        found = self.policy(name, qualifier)
        if found is None or not found.statements:
            raise ResourceNotFoundException("The resource you requested does not exist.")
        return found

    async def forget(self, name: str, qualifier: str | None = None) -> None:
        """Drop the policy of one qualifier, or (None) every policy of the function."""
        if qualifier is not None:
            await asyncio.to_thread(self.registry.delete, POLICY, policy_key(name, qualifier))
            return
        for r in self.registry.find(POLICY, f"{name}:"):
            if FunctionPolicy.from_resource(r).function == name:
                await asyncio.to_thread(self.registry.delete, POLICY, r.name)

    def _internal(self, found: arns.Resource, *, peek: bool = False) -> str:
        """The internal name of the function a parsed ARN names: in the ARN's account,
        else (ARNs pasted from AWS) the installation's (``eventplane.names``). ``peek``:
        from the view as it is (see ``text_of``)."""
        account = found.arn.account
        candidates = names.candidates(found.name, account, account)
        if len(candidates) == 1:
            return candidates[0]
        for internal in candidates:  # from the view first: no catch-up for pasted ARNs
            if self.registry.peek(FUNCTION, internal) is not None:
                return internal
        if not peek:
            for internal in candidates:
                if self.registry.get(FUNCTION, internal) is not None:
                    return internal
        return candidates[0]

    def owner_of(self, arn: str) -> str | None:
        """The account the function (version, alias) ``arn`` names belongs to; None: no
        such function, or not a function ARN (authorization's lookup, from the view)."""
        found = arns.parse_as(arn, arns.Kind.FUNCTION, arns.Kind.MAPPING)
        if found is not None and found.kind is arns.Kind.MAPPING:
            mapping = self.registry.get(MAPPING, found.name)  # its function's account
            return owner_of(mapping.spec) if mapping is not None else None
        return self._account(self._internal(found)) if found is not None else None

    def text_of(self, arn: str) -> str | None:
        """The policy text of the function ARN ``arn`` names (authorization's lookup).

        Read on every authorized call, where most functions have no policy: from the
        registry's view as it is, without asking Kafka for its end on each miss (a
        permission added through another replica takes effect here milliseconds later,
        as AWS's policy changes take a moment to apply everywhere)."""
        found = arns.parse_as(arn, arns.Kind.FUNCTION)
        if found is None:
            return None
        r = self.registry.peek(
            POLICY, policy_key(self._internal(found, peek=True), _qualifier(found.qualifier))
        )
        policy = FunctionPolicy.from_resource(r) if r is not None else None
        return policy.text() if policy is not None and policy.statements else None
