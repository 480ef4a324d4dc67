"""The version and alias actions of the Workflows core (a part of ``WorkflowsCore``).

Kept apart so core.py stays about executions; the rules themselves live in
``versions.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from eventplane.workflows import arns
from eventplane.workflows.shapes import Page, StateMachine, page, require
from eventplane.workflows.versions import Alias, RoutingEntry, Version, Versions

if TYPE_CHECKING:
    from eventplane.runtime import ServerContext


def version_machine(v: Version, update_date: int) -> StateMachine:
    """DescribeStateMachine of a version ARN."""
    return StateMachine(
        v.state_machine_version_arn,
        arns.plain(v.machine),
        "ACTIVE",
        v.definition,
        v.role_arn,
        v.type,
        v.creation_date,
        update_date,
        v.revision_id,
        v.description,
    )


class VersionActions:
    _ctx: ServerContext
    _versions: Versions

    def _machine(self, arn: str) -> StateMachine:
        raise NotImplementedError

    async def publish_state_machine_version(
        self, state_machine_arn: str, description: str = "", revision_id: str = ""
    ) -> Version:
        """Publish the machine's current revision (the latest version if it is unchanged)."""
        require(state_machine_arn, "stateMachineArn")
        m = self._machine(state_machine_arn)
        name = arns.parse_state_machine_arn(state_machine_arn)  # its internal name
        r = self._ctx.registry.get(arns.MACHINE, name)
        assert r is not None
        return await self._versions.publish(
            name, dict(r.spec), m.revision_id, description, revision_id
        )

    async def list_state_machine_versions(
        self, state_machine_arn: str, max_results: int = 0, next_token: str = ""
    ) -> Page:
        """Versions newest first."""
        require(state_machine_arn, "stateMachineArn")
        self._machine(state_machine_arn)
        name = arns.parse_state_machine_arn(state_machine_arn)
        return page(self._versions.versions(name), max_results, next_token)

    async def delete_state_machine_version(self, state_machine_version_arn: str) -> None:
        require(state_machine_version_arn, "stateMachineVersionArn")
        await self._versions.delete_version(state_machine_version_arn)

    async def create_state_machine_alias(
        self, name: str, routing_configuration: Sequence[RoutingEntry], description: str = ""
    ) -> Alias:
        require(name, "name")
        require(routing_configuration, "routingConfiguration")
        return await self._versions.create_alias(name, routing_configuration, description)

    async def describe_state_machine_alias(self, state_machine_alias_arn: str) -> Alias:
        require(state_machine_alias_arn, "stateMachineAliasArn")
        return self._versions.alias(state_machine_alias_arn)

    async def update_state_machine_alias(
        self,
        state_machine_alias_arn: str,
        description: str | None = None,
        routing_configuration: Sequence[RoutingEntry] | None = None,
    ) -> Alias:
        require(state_machine_alias_arn, "stateMachineAliasArn")
        return await self._versions.update_alias(
            state_machine_alias_arn, description, routing_configuration
        )

    async def delete_state_machine_alias(self, state_machine_alias_arn: str) -> None:
        require(state_machine_alias_arn, "stateMachineAliasArn")
        await self._versions.delete_alias(state_machine_alias_arn)

    async def list_state_machine_aliases(
        self, state_machine_arn: str, max_results: int = 0, next_token: str = ""
    ) -> Page:
        """The machine's aliases; given a version ARN, those that route to that version."""
        require(state_machine_arn, "stateMachineArn")
        machine, qualifier = arns.parse_qualified_arn(state_machine_arn)
        if qualifier is None:
            self._machine(state_machine_arn)
            found = self._versions.aliases(machine)
        else:
            version = self._versions.version(state_machine_arn)
            found = [
                a
                for a in self._versions.aliases(machine)
                if any(
                    e.state_machine_version_arn == version.state_machine_version_arn
                    for e in a.routing_configuration
                )
            ]
        return page(found, max_results, next_token)
