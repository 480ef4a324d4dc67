"""Whose state machines and activities are (``security.accounts``), and as whom their
tasks act.

A machine or activity belongs to its creator's account, kept in its registry spec
(none there: the installation's), and its name is unique in that account only: another
account's is kept under ``<account>.<name>`` (``eventplane.names``, ``workflows.arns``).
Every ARN derived from a machine (its executions, versions, aliases, Map Runs) carries
that account and the plain name: ``workflows.arns`` asks ``Owners`` where it builds or
parses one, from the registry's view (memory). Step Functions has no resource policies,
so another account never reaches them.

A task of a machine of another account than the installation's calls the other
capabilities as the machine's execution role (a role of its own account), never as
the platform's ``internal`` principal: a machine of account B cannot reach account A's
functions, queues, topics, buses or tables unless their policies grant B.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
from collections.abc import Iterator
from typing import Any

from eventplane import arn as arn_mod
from eventplane.errors import EventplaneError, ResourceNotFound
from eventplane.errors.security import AccessDeniedException
from eventplane.errors.workflows import (
    ActivityDoesNotExist,
    ExecutionDoesNotExist,
    StateMachineDoesNotExist,
)
from eventplane.registry import Registry, Resource
from eventplane.security.accounts import caller_account, listing_account, owned_by, owner_of
from eventplane.security.roles import account_of as role_account
from eventplane.workflows import arns
from eventplane.workflows.errors import InvalidArn

__all__ = [
    "ACTIVITY",
    "MACHINE",
    "Owners",
    "acting_role",
    "caller_role",
    "check_child",
    "check_role",
    "mine",
    "missing",
    "owned",
    "owned_machine",
    "owner_of",
    "task_role",
    "token_of",
]

MACHINE = arns.MACHINE  # the registry kinds
ACTIVITY = arns.ACTIVITY
# What follows "arn:PARTITION:states:REGION:ACCOUNT:" for each kind that names a machine.
_OF_MACHINE = re.compile(r"(?:stateMachine|execution|express):([^:]+)|mapRun:([^/:]+)/")
_ACTIVITY = re.compile(r"activity:([^:]+)$")


def _resource(text: str) -> str:
    """What follows the account in an ARN ("" when ``text`` is not one)."""
    parts = text.split(":", 5)
    return parts[5] if len(parts) == 6 else ""


class Owners:
    """The owner accounts of machines and activities, from one registry's view."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def _account(self, kind: str, name: str, peek: bool = False) -> str | None:
        r = self._registry.peek(kind, name) if peek else self._registry.get(kind, name)
        return owner_of(r.spec) if r is not None else None

    def machine(self, name: str) -> str | None:
        """The owner account of the machine of internal name ``name``; None: no such
        machine. A Distributed Map's item processor (``machine/label``, its children's
        machine) is its machine's."""
        return self._account(MACHINE, name.split("/", 1)[0])

    def activity(self, name: str) -> str | None:
        return self._account(ACTIVITY, name)

    def of_kind(self, kind: str, name: str, peek: bool = False) -> str | None:
        """The owner of the registry record ``kind``/``name`` (``workflows.arns``' lookup;
        ``peek``: from the view, without catching up on a miss)."""
        return self._account(kind, name, peek)

    def of_arn(self, text: str) -> str | None:
        """The owner of what a Step Functions ARN names (a machine and what derives from
        it, or an activity); None: nothing known (authorization's lookup). An execution
        or Map Run of a machine since deleted is its ARN's account's (the read view keeps
        it under that ARN)."""
        resource = _resource(text)
        account = arn_mod.account_of(text)
        found = _OF_MACHINE.match(resource)
        if found is not None:
            name = self._internal(MACHINE, found.group(1) or found.group(2), account)
            owner = self.machine(name)
            if owner is None and not resource.startswith("stateMachine:"):
                return account or None
            return owner
        found = _ACTIVITY.match(resource)
        if found is None:
            return None
        return self.activity(self._internal(ACTIVITY, found.group(1), account))

    def _internal(self, kind: str, name: str, account: str) -> str:
        """The internal name of what an ARN of ``account`` names (``arns.internal``)."""
        return arns.internal(kind, name.split("/", 1)[0], account, self.of_kind)

    def role_of(self, execution_arn: str) -> str | None:
        """The role a task of the execution acts as: None for a machine of the
        installation's account (the platform's own principal, as always), else its
        machine's role (by default its account's ``eventplane`` role)."""
        found = _OF_MACHINE.match(_resource(execution_arn))
        plain = (found.group(1) or found.group(2)) if found else ""
        account = arn_mod.account_of(execution_arn)
        name = self._internal(MACHINE, plain, account) if plain else ""
        r = self._registry.get(MACHINE, name) if name else None
        if r is None:  # a deleted machine's execution: its ARN's account's role
            if not account or account == arn_mod.identity().account:
                return None
            return arn_mod.default_role(account)
        account = owner_of(r.spec)
        if account == arn_mod.identity().account:
            return None
        return str(r.spec.get("roleArn") or arn_mod.default_role(account))


def check_role(role_arn: str, account: str) -> str:
    """``role_arn``, when it is a role of ``account`` (a machine acts as a role of its own
    account: one of another would let it act in that account)."""
    # The installation's own machines keep any role, as before accounts (their tasks act
    # as the platform, and ARNs pasted from AWS carry other account ids).
    installation = arn_mod.identity().account
    if role_arn and account != installation and role_account(role_arn) != account:
        raise InvalidArn(
            f"Invalid Arn: '{role_arn}' is not a role of the state machine's account ({account})"
        )
    return role_arn


def owned(spec: dict[str, Any]) -> dict[str, Any]:
    """A new activity's (or machine's) spec, owned by the caller's account."""
    return owned_by(spec, caller_account())


def owned_machine(spec: dict[str, Any]) -> dict[str, Any]:
    """A new machine's spec, owned by the caller's account, whose its role must be."""
    check_role(spec.get("roleArn") or "", caller_account())
    return owned(spec)


def mine(found: list[Resource]) -> list[Resource]:
    """The records a list call shows the caller (every account's to the platform)."""
    account = listing_account()
    return [r for r in found if account in (None, owner_of(r.spec))]


def check_child(machine_arn: str) -> None:
    """A task may start executions of its own account's machines only (Step Functions
    has no resource policies to grant another's)."""
    role = task_role.get()
    acting = role_account(role) if role else arn_mod.identity().account
    name = arns.parse_qualified_arn(machine_arn)[0]
    owner = arns.machine_account(name)
    if owner is not None and owner != acting:
        action = "states:StartExecution"
        raise AccessDeniedException(
            f"User: {role or 'eventplane'} is not authorized to perform: {action} on resource: "
            f"{arns.state_machine_arn(name)} because no resource-based policy allows the "
            f"{action} action"
        )


def token_of(execution_arn: str) -> bool:
    """Whether the caller may use the task tokens of the execution: its machine's
    account's (the ARN carries it) and the platform's principals only. Tokens are opaque
    and AWS authorizes their calls on "*": another account's token names no task."""
    account = listing_account()
    return account is None or arn_mod.account_of(execution_arn) == account


def caller_role(role_arn: str) -> str | None:
    """The role a TestState call's task acts as: None for a caller of the installation's
    account (the platform's own principal, as always), else ``role_arn`` (which must be of
    the caller's account) or its account's default role."""
    account = caller_account()
    if account == arn_mod.identity().account:
        return None
    return check_role(role_arn, account) or arn_mod.default_role(account)


# The role the current task acts as (None: the platform's own principal).
task_role: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "eventplane_workflows_task_role", default=None
)


@contextlib.contextmanager
def acting_role(role_arn: str | None) -> Iterator[None]:
    """Calls made inside (and tasks created inside) act as ``role_arn``."""
    reset = task_role.set(role_arn)
    try:
        yield
    finally:
        task_role.reset(reset)


def missing(arn: str) -> EventplaneError:
    """Step Functions' "does not exist" for the machine, execution or activity ``arn``
    names: what a caller of another account is told (``authorize``)."""
    kind = arn.split(":", 6)[5] if arn.count(":") >= 6 else ""
    if kind in ("execution", "express"):
        return ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")
    if kind == "activity":
        return ActivityDoesNotExist(f"Activity Does Not Exist: '{arn}'")
    if kind == "mapRun":
        return ResourceNotFound(f"Map Run Does Not Exist: '{arn}'")
    return StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")
