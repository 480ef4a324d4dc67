"""Authorization of one call: the principal's policies against the method's action.

Kept apart from the interceptor so the decision (and its AWS wording) is plain Python a
unit test can drive. The principals the platform itself authenticates (``replica`` for
calls forwarded between replicas, ``internal`` for the process's own components) are
always allowed and not audited: the call they carry on was authorized and audited where
it entered, or was set up by a call that was.

Accounts: a resource belongs to the account of the principal that created it (its owner,
``ResourcePolicies.owner``), and the call is checked on its ARN in that account. A
principal of another account may act on it only when the resource's policy allows it
and its own identity policies do too, as AWS checks a cross-account call (a principal
without identity policies has full access here, so the resource policy alone decides);
an explicit deny in either wins. A caller whose account the resource's policy grants
nothing at all is refused with the capability's own "does not exist"
(``ResourcePolicies.missing``), so another account learns neither that the resource
exists nor whose it is. A create call is checked on the ARN the new resource would
have, in the caller's account: where names are unique per installation, the core
refuses a name another account holds; where they are per account (queues, topics,
functions, buses: ``eventplane.names``), the name is the caller's own.

Cost: a principal without policies (the default) costs a dict lookup per resource (its
policy and its owner, both from the registry's view). With policies, the request's
resource is worked out only when a statement that matches the action names specific
resources, or to word a denial, or for the audit line of a mutating call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter

from eventplane import arn as arns
from eventplane.errors.base import EventplaneError
from eventplane.errors.security import AccessDeniedException
from eventplane.observability.logging import LineLogger, get_logger
from eventplane.security.actions import ANY, Rule
from eventplane.security.conditions import RequestContext
from eventplane.security.memo import remember
from eventplane.security.policy import DECISIONS_REMEMBERED, Decision
from eventplane.security.resource_policy import (
    SHARED,
    ResourcePolicies,
    ResourcePolicy,
    combine,
)
from eventplane.security.tokens import Principal

__all__ = ["AUTH_DENIED", "TRUSTED", "Outcome", "audit", "authorize", "request_context"]

AUTH_DENIED = Counter(
    "eventplane_auth_denied_total",
    "Calls refused because no policy allows them (or one denies them), by IAM action.",
    ["action"],
)
TRUSTED = frozenset({"replica", "internal"})
# Written on every mutating call: the lean logger, off structlog's chain (same line).
_audit = LineLogger("eventplane.audit")
_log = get_logger("eventplane.security")


@dataclass(frozen=True)
class Outcome:
    """What was decided for a call, and on what (for the audit line)."""

    action: str
    resource: str
    # AccessDeniedException, or the capability's "does not exist" for another account's
    # resource its caller was granted nothing on (authorize's module docstring).
    error: EventplaneError | None = None


@functools.lru_cache(maxsize=1024)
def request_context(principal: Principal, *, secure: bool) -> RequestContext:
    """The global condition keys of a call (lower-cased names, as conditions look them up).

    They depend only on who calls and how, so each principal's are built once.
    """
    return {
        "aws:username": principal.name,
        "aws:userid": principal.name,
        "aws:principalaccount": principal.account,
        "aws:principalarn": f"arn:{arns.PARTITION}:iam::{principal.account}:user/{principal.name}",
        "aws:principaltype": "User",
        "aws:securetransport": "true" if secure else "false",
        "aws:requestedregion": arns.identity().region,
        "eventplane:authenticatedvia": principal.via,
    }


def _denial(
    principal: Principal,
    action: str,
    resource: str,
    decision: Decision,
    *,
    by_resource: bool = False,
) -> str:
    """AWS's wording; ``by_resource``: the resource's policy decided (its explicit deny,
    or, on a cross-account call, the lack of an allow)."""
    kind = "resource-based" if by_resource else "identity-based"
    why = (
        f"with an explicit deny in {'a' if by_resource else 'an'} {kind} policy"
        if decision is Decision.EXPLICIT_DENY
        else f"because no {kind} policy allows the {action} action"
    )
    return (
        f"User: {principal.name} is not authorized to perform: {action} "
        f"on resource: {resource} {why}"
    )


def _checks(rule: Rule, request: Any, caller: str) -> Sequence[tuple[str, str]]:
    """The rule's checks (bare names in the ``caller``'s account); on ``*`` if the request
    defeats extraction (fails closed: statements naming specific ARNs never match ``*``)."""
    try:
        return rule.checks(request, caller)
    except Exception:  # a bug here must not turn into an unexplained failed call
        _log.exception("cannot work out the resource of a call", action=rule.action)
        return ((rule.action, ANY),)


# Whether the call came over TLS, or how to find out (asked only when a condition may look).
Secure = bool | Callable[[], bool]


def _context(principal: Principal, secure: Secure) -> RequestContext:
    return request_context(principal, secure=secure() if callable(secure) else secure)


def _resources(checks: Sequence[tuple[str, str]]) -> str:
    return ",".join(dict.fromkeys(resource for _, resource in checks)) or ANY


def authorize(
    principal: Principal,
    rule: Rule,
    request: Any,
    *,
    secure: Secure,
    resources: ResourcePolicies | None = None,
) -> Outcome | None:
    """None when allowed and nothing needs auditing; else what was decided.

    An ``Outcome`` with ``error`` set is a denial; without, an allowed mutating call.
    ``resources`` finds the policies of the resources the call acts on (a queue's
    ``Policy``) and their owners; they take part as IAM combines them within one
    account, or across accounts (module docstring) when the owner is another. ``secure`` may
    be a callable: it is asked only when a policy with conditions takes part.
    """
    policies = principal.policies
    if principal.via in TRUSTED:
        return None
    # The request's resources, worked out at most once, and only when needed.
    checks: Sequence[tuple[str, str]] | None = None
    if resources is not None and not resources.empty:
        checks = _checks(rule, request, principal.account)
        # A repeat of an allowed call on the caller's own resources, none of which has
        # changed or has a policy: the decision rests on the caller's policies alone.
        calls = policies.calls if policies is not None and not policies.conditional else None
        stamps = resources.stamps(checks, principal.account) if calls is not None else None
        if calls is not None and stamps is not None:
            key = (principal, rule, checks)
            known = calls.get(key)
            if known is not None and known[0] == stamps:
                remembered: Outcome | None = known[1]
                return remembered
        checks, owners = _owned(principal, rule, checks, resources)
        found = {
            resource: None if resource in owners.new else resources.find(resource)
            for _, resource in checks
        }
        if owners.foreign or any(p is not None for p in found.values()):
            return _with_resource_policies(
                principal, rule, checks, found, owners.foreign, secure=secure, hidden=resources
            )
        if calls is not None and stamps is not None:
            outcome = _by_identity(principal, rule, request, checks, secure)
            if outcome is None or outcome.error is None:  # denials are decided afresh
                remember(calls, key, (stamps, outcome), DECISIONS_REMEMBERED)
            return outcome
    return _by_identity(principal, rule, request, checks, secure)


def _by_identity(
    principal: Principal,
    rule: Rule,
    request: Any,
    checks: Sequence[tuple[str, str]] | None,
    secure: Secure,
) -> Outcome | None:
    """The decision of the caller's own policies (no resource policy or other account
    takes part)."""
    policies = principal.policies
    if policies is None:
        return _allowed(principal, rule, request, checks)
    # Without conditions the decision cannot depend on the context: none is built.
    context = _context(principal, secure) if policies.conditional else None
    if rule.items is None and not policies.needs_resource(rule.action):
        decision = policies.evaluate(rule.action, ANY, context)
        if decision is not Decision.ALLOW:
            if checks is None:
                checks = _checks(rule, request, principal.account)
            resource = checks[0][1] if checks else ANY
            message = _denial(principal, rule.action, resource, decision)
            return Outcome(rule.action, resource, AccessDeniedException(message))
        return _allowed(principal, rule, request, checks)
    if checks is None:
        checks = _checks(rule, request, principal.account)
    for action, resource in checks:
        decision = policies.evaluate(action, resource, context)
        if decision is not Decision.ALLOW:
            message = _denial(principal, action, resource, decision)
            return Outcome(action, resource, AccessDeniedException(message))
    return _allowed(principal, rule, request, checks)


def _allowed(
    principal: Principal,
    rule: Rule,
    request: Any,
    checks: Sequence[tuple[str, str]] | None,
) -> Outcome | None:
    """An allowed call: None, or for a mutating call what the audit line names."""
    if not rule.mutating:
        return None
    if checks is None:
        checks = _checks(rule, request, principal.account)
    return Outcome(rule.action, _resources(checks))


@dataclass(frozen=True)
class _Owners:
    """Which ARNs of a call's checks are another account's resources (``foreign``), and
    which name a create call's new resource where another account holds the name
    (``new``: that resource's policy is not the new one's)."""

    foreign: frozenset[str] = frozenset()
    new: frozenset[str] = frozenset()


def _owned(
    principal: Principal,
    rule: Rule,
    checks: Sequence[tuple[str, str]],
    resources: ResourcePolicies,
) -> tuple[Sequence[tuple[str, str]], _Owners]:
    """The checks on each resource's ARN in its owner's account, and whose they are."""
    if not resources.scoped:
        return checks, _Owners()
    out: list[tuple[str, str]] = []
    foreign: set[str] = set()
    new: set[str] = set()
    for action, resource in checks:
        scoped, owner = resources.owner(resource) if resource != ANY else (False, None)
        if not scoped or owner == SHARED:
            # Not kept per account, or every account's (the default bus): as it is.
            out.append((action, resource))
            continue
        if owner is None or (rule.creates and owner != principal.account):
            # No such resource (the core answers so), or a name another account holds,
            # which the core refuses a create call without a word of whose it is.
            owned = arns.with_account(resource, principal.account)
            if owner is not None:
                new.add(owned)
        else:
            owned = arns.with_account(resource, owner)
            if owner != principal.account:
                foreign.add(owned)
        out.append((action, owned))
    return out, _Owners(frozenset(foreign), frozenset(new))


def _cross_account(identity: Decision | None, resource: Decision | None) -> Decision:
    """AWS across accounts: the resource's policy must allow, and the caller's policies
    too (None: no identity policies, full access); an explicit deny in either wins."""
    if Decision.EXPLICIT_DENY in (identity, resource):
        return Decision.EXPLICIT_DENY
    if resource is Decision.ALLOW and identity in (None, Decision.ALLOW):
        return Decision.ALLOW
    return Decision.IMPLICIT_DENY


def _unknown(
    principal: Principal, identity: Decision | None, attached: ResourcePolicy | None
) -> bool:
    """Whether a refused cross-account call is refused for want of any grant: neither
    policy denies it explicitly, and the resource's policy grants the caller nothing."""
    return identity is not Decision.EXPLICIT_DENY and (
        attached is None or not attached.grants(principal.name, principal.account)
    )


def _with_resource_policies(
    principal: Principal,
    rule: Rule,
    checks: Sequence[tuple[str, str]],
    found: dict[str, ResourcePolicy | None],
    foreign: frozenset[str] = frozenset(),
    *,
    secure: Secure,
    hidden: ResourcePolicies | None = None,
) -> Outcome | None:
    policies = principal.policies
    context = _context(principal, secure)
    for action, resource in checks:
        identity = None if policies is None else policies.evaluate(action, resource, context)
        attached = found.get(resource)
        by_resource = (
            None
            if attached is None
            else attached.evaluate(principal.name, principal.account, action, resource, context)
        )
        if resource in foreign:
            decision = _cross_account(identity, by_resource)
            decided_by_resource = by_resource is Decision.EXPLICIT_DENY or (
                identity is not Decision.EXPLICIT_DENY and by_resource is not Decision.ALLOW
            )
        else:
            decision = combine(identity, by_resource)
            decided_by_resource = by_resource is Decision.EXPLICIT_DENY
        if decision is not Decision.ALLOW:
            if (
                resource in foreign
                and hidden is not None
                and by_resource is not Decision.EXPLICIT_DENY
                and _unknown(principal, identity, attached)
            ):
                # Nothing grants this account anything here: as far as the caller can
                # tell, there is no such resource in the account it asked in.
                mine = arns.with_account(resource, principal.account)
                return Outcome(action, resource, hidden.missing(mine))
            message = _denial(
                principal,
                action,
                resource,
                decision,
                by_resource=decided_by_resource,
            )
            return Outcome(action, resource, AccessDeniedException(message))
    if not rule.mutating:
        return None
    return Outcome(rule.action, _resources(checks))


def audit(principal: Principal, method: str, outcome: Outcome, request_id: str) -> None:
    """One line on ``eventplane.audit``: who, what, on what, which request, and the verdict.

    Never the request's body: only names and ARNs the call already made visible.
    """
    if outcome.error is not None:
        AUTH_DENIED.labels(outcome.action).inc()
    _audit.info(
        "access denied" if outcome.error is not None else "call allowed",
        principal=principal.name,
        account=principal.account,
        via=principal.via,
        method=method,
        action=outcome.action,
        resource=outcome.resource,
        request_id=request_id,
        outcome="denied" if outcome.error is not None else "allowed",
    )
