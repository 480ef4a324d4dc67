"""Resource-based policies (a queue's ``Policy`` attribute): who may act on one resource.

A resource policy is an identity policy's statements plus, on each, the ``Principal``
(or ``NotPrincipal``) it is about: ``"*"``, ``{"AWS": ...}`` with 12-digit account ids,
``arn:aws:iam::ACCOUNT:root`` (any principal of that account) or
``arn:aws:iam::ACCOUNT:user/NAME`` (one principal), or ``{"Service": ...}`` with a
service principal such as ``sns.amazonaws.com``. A statement without ``Resource`` is
about the resource the policy is attached to.

Combined with the caller's identity policies as IAM does within one account: an
explicit ``Deny`` in either wins; else an ``Allow`` in either allows; else the call is
denied. A caller without identity policies (unrestricted) is still stopped by a
resource policy's explicit ``Deny``.

``ResourcePolicies`` is the server's one lookup: capabilities whose resources carry
policies register how to find a resource's policy by ARN prefix, and capabilities whose
resources belong to accounts how to find a resource's owner; the authorization of both
front doors asks it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eventplane.errors.base import EventplaneError, ResourceNotFound
from eventplane.errors.security import MalformedPolicyDocument
from eventplane.observability.logging import get_logger
from eventplane.security.conditions import RequestContext
from eventplane.security.memo import remember
from eventplane.security.policy import Decision, Statement, parse_policy

__all__ = [
    "RESOURCE_POLICIES_KEY",
    "SHARED",
    "PrincipalMatch",
    "ResourcePolicies",
    "ResourcePolicy",
    "combine",
    "grants_account",
    "parse_resource_policy",
]

_log = get_logger("eventplane.security")
# Where the server's ResourcePolicies sits in ServerContext.extras.
RESOURCE_POLICIES_KEY = "security.resource_policies"
# What an owner lookup answers for a resource every account uses as its own.
SHARED = "*"
_ACCOUNT = re.compile(r"[0-9]{12}")
_IAM = re.compile(r"arn:aws:iam::([0-9]{12}):(root|(?:user|role)/(.+))")


@dataclass(frozen=True)
class PrincipalMatch:
    """The principals a statement is about (``negated`` for NotPrincipal)."""

    anyone: bool = False
    accounts: frozenset[str] = frozenset()
    users: frozenset[tuple[str, str]] = frozenset()  # (account, name)
    services: frozenset[str] = frozenset()
    negated: bool = False

    def matches(self, name: str, account: str, service: str = "") -> bool:
        if service:
            hit = self.anyone or service in self.services
        else:
            hit = self.anyone or account in self.accounts or (account, name) in self.users
        return hit != self.negated


def _principal(raw: Any, where: str, *, negated: bool) -> PrincipalMatch:
    if raw == "*":
        return PrincipalMatch(anyone=True, negated=negated)
    if not isinstance(raw, dict) or not raw:
        raise MalformedPolicyDocument(f'{where} must be "*" or a mapping of AWS/Service')
    unknown = sorted(set(raw) - {"AWS", "Service"})
    if unknown:
        raise MalformedPolicyDocument(f"{where}: unsupported principal type(s): {unknown}")
    anyone, accounts, users, services = False, set(), set(), set()
    for value in _values(raw.get("AWS"), f"{where}.AWS"):
        if value == "*":
            anyone = True
        elif _ACCOUNT.fullmatch(value):
            accounts.add(value)
        elif (m := _IAM.fullmatch(value)) is not None:
            if m.group(2) == "root":
                accounts.add(m.group(1))
            else:
                users.add((m.group(1), str(m.group(3))))
        else:
            raise MalformedPolicyDocument(f"{where}.AWS: invalid principal {value!r}")
    for value in _values(raw.get("Service"), f"{where}.Service"):
        if not value.endswith(".amazonaws.com"):
            raise MalformedPolicyDocument(f"{where}.Service: invalid principal {value!r}")
        services.add(value)
    return PrincipalMatch(
        anyone, frozenset(accounts), frozenset(users), frozenset(services), negated
    )


def _values(raw: Any, where: str) -> list[str]:
    if raw is None:
        return []
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
        raise MalformedPolicyDocument(f"{where} must be a string or a list of strings")
    return items


@dataclass(frozen=True)
class ResourcePolicy:
    statements: tuple[tuple[PrincipalMatch, Statement], ...]

    def evaluate(
        self,
        name: str,
        account: str,
        action: str,
        resource: str,
        context: RequestContext | None = None,
        *,
        service: str = "",
    ) -> Decision:
        """This policy's decision for one principal (or service principal) and action."""
        allowed = False
        for who, statement in self.statements:
            if not who.matches(name, account, service) or not statement.matches_action(action):
                continue
            if not statement.matches_resource(resource):
                continue
            if not statement.matches_conditions(context or {}):
                continue
            if not statement.allow:
                return Decision.EXPLICIT_DENY
            allowed = True
        return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY

    def grants(self, name: str, account: str) -> bool:
        """Whether some statement allows this principal something (any action): a caller
        granted nothing here is not told the resource exists."""
        return any(s.allow and who.matches(name, account) for who, s in self.statements)


@functools.lru_cache(maxsize=512)
def parse_resource_policy(document: str, where: str = "Policy") -> ResourcePolicy:
    """Check and compile a resource policy's JSON text (cached by text: resources share few).

    Raises:
        MalformedPolicyDocument: naming the statement and field at fault.
    """
    try:
        raw = json.loads(document)
    except ValueError:
        raise MalformedPolicyDocument(f"{where} is not valid JSON") from None
    if not isinstance(raw, dict):
        raise MalformedPolicyDocument(f"{where} must be an object with Version and Statement")
    statements = raw.get("Statement")
    if statements is None or statements == []:
        return ResourcePolicy(())  # "{}" or no statements: stored, grants and denies nothing
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        statements = []  # parse_policy words the error
    principals: list[PrincipalMatch] = []
    stripped: list[Any] = []
    for i, statement in enumerate(statements):
        here = f"{where}.Statement[{i}]"
        if not isinstance(statement, dict):
            stripped.append(statement)
            continue
        if ("Principal" in statement) == ("NotPrincipal" in statement):
            raise MalformedPolicyDocument(
                f"{here} must have exactly one of Principal or NotPrincipal"
            )
        key = "Principal" if "Principal" in statement else "NotPrincipal"
        principals.append(_principal(statement[key], f"{here}.{key}", negated=key != "Principal"))
        rest = {k: v for k, v in statement.items() if k not in ("Principal", "NotPrincipal")}
        sid = rest.get("Sid")
        if isinstance(sid, str) and not sid.isalnum():
            del rest["Sid"]  # resource policies (Lambda's AddPermission) allow "-_." in a Sid
        if "Resource" not in rest and "NotResource" not in rest:
            rest["Resource"] = "*"  # the resource the policy is attached to
        stripped.append(rest)
    policy = parse_policy({**raw, "Statement": stripped or raw.get("Statement")}, where)
    return ResourcePolicy(tuple(zip(principals, policy.statements, strict=True)))


def grants_account(
    document: str | None, account: str, action: str, resource: str, source_arn: str = ""
) -> bool:
    """Whether a resource's policy text allows ``account`` ``action`` on ``resource``: how a
    delivery from another account's resource (a function's destination or dead-letter
    target, a rule's target bus) gets in, as on AWS. No policy, or a malformed one
    (stored before policies were checked): no."""
    if not document:
        return False
    try:
        policy = parse_resource_policy(document)
    except MalformedPolicyDocument:
        return False
    context = {"aws:sourcearn": source_arn, "aws:sourceaccount": account}
    return policy.evaluate("", account, action, resource, context) is Decision.ALLOW


def combine(identity: Decision | None, resource: Decision | None) -> Decision:
    """IAM within one account: explicit deny in either, else allow in either, else deny.

    ``identity`` None: the caller has no identity policies (unrestricted); ``resource``
    None: the resource has no policy.
    """
    if Decision.EXPLICIT_DENY in (identity, resource):
        return Decision.EXPLICIT_DENY
    if identity in (None, Decision.ALLOW) or resource is Decision.ALLOW:
        return Decision.ALLOW
    return Decision.IMPLICIT_DENY


Lookup = Callable[[str], str | None]
# A resource ARN -> the error its capability answers when there is no such resource.
Missing = Callable[[str], EventplaneError]
# A number that changes whenever what a capability's lookups answer may (Registry.version).
Version = Callable[[], int]


@dataclass(frozen=True, slots=True)
class _Known:
    """What the lookups answered for an existing resource, while ``version()`` is ``stamp``."""

    stamp: int
    version: Version
    owner: str
    policy: ResourcePolicy | None


class ResourcePolicies:
    """Each resource's policy text and owner by ARN, through lookups the capabilities register.

    Every authorized call asks for the owner and policy of the resources it names. For
    capabilities that register a ``version``, the answers for an existing resource are
    remembered under that version and given again until it changes: a repeat call on the
    same queue or function costs a dict lookup, not a name resolution, two registry
    reads and a parse of its policy. A resource that was not found is looked up afresh
    every time (its lookups catch up with the registry, so a resource just created
    through another replica is found).
    """

    KEPT = 4096  # resources remembered; past that the memory starts again

    def __init__(self) -> None:
        self._lookups: dict[str, Lookup] = {}
        self._owners: dict[str, Lookup] = {}
        self._missing: dict[str, Missing] = {}
        self._versions: dict[str, Version] = {}
        self._known: dict[str, _Known] = {}

    def register(
        self,
        arn_prefix: str,
        lookup: Lookup,
        owner: Lookup | None = None,
        missing: Missing | None = None,
        version: Version | None = None,
    ) -> None:
        """``lookup(arn)`` returns the policy text of the resource ``arn`` names, or None;
        ``owner(arn)`` its owner account (the installation's for resources of no account),
        ``SHARED`` for a resource every account uses as its own (none now: each account has
        its own default bus), or None
        when there is no such resource; ``missing(arn)`` the error the capability answers
        for a resource that does not exist (what another account's caller is told);
        ``version()`` a number that changes whenever the answers of ``lookup`` and
        ``owner`` may (give it only when they read nothing else: it lets their answers
        be remembered).

        Lookups must answer from memory (the registry's view): they run on every call.
        """
        self._lookups[arn_prefix] = lookup
        if owner is not None:
            self._owners[arn_prefix] = owner
        if missing is not None:
            self._missing[arn_prefix] = missing
        if version is not None:
            self._versions[arn_prefix] = version
        self._known.clear()

    def missing(self, arn: str) -> EventplaneError:
        """What a caller is told about a resource it may not know of: the capability's own
        "does not exist" for ``arn`` (given in the caller's account)."""
        for prefix, missing in self._missing.items():
            if arn.startswith(prefix):
                return missing(arn)
        return ResourceNotFound(f"Resource {arn} does not exist.")

    def owner(self, arn: str) -> tuple[bool, str | None]:
        """Whether the capability of the resource ``arn`` names keeps resources per
        account, and if so the resource's owner account (None: no such resource)."""
        known = self._known.get(arn)
        if known is not None and known.stamp == known.version():
            return True, known.owner
        for prefix, owner in self._owners.items():
            if arn.startswith(prefix):
                version = self._versions.get(prefix)
                if version is None:
                    return True, owner(arn)
                stamp = version()  # before the lookups: a change during them is seen
                found = owner(arn)
                if found is not None and _names_account(arn):
                    policy = self._parsed(arn, self._lookups.get(prefix))
                    remember(self._known, arn, _Known(stamp, version, found, policy), self.KEPT)
                return True, found
        return False, None

    def stamps(self, checks: Sequence[tuple[str, str]], account: str) -> tuple[int, ...] | None:
        """The versions under which every resource ``checks`` names is remembered as
        ``account``'s own, with no resource policy; None if one is not (not looked up
        yet, changed since, another account's, or with a policy). While they hold, a
        decision about these resources depends on the caller's own policies only."""
        out: list[int] = []
        for _, arn in checks:
            known = self._known.get(arn)
            if known is None or known.owner != account or known.policy is not None:
                return None
            stamp = known.version()
            if stamp != known.stamp:
                return None
            out.append(stamp)
        return tuple(out)

    @property
    def scoped(self) -> bool:
        """Whether some capability's resources belong to accounts."""
        return bool(self._owners)

    def find(self, arn: str) -> ResourcePolicy | None:
        known = self._known.get(arn)
        if known is not None and known.stamp == known.version():
            return known.policy
        for prefix, lookup in self._lookups.items():
            if arn.startswith(prefix):
                return self._parsed(arn, lookup)
        return None

    @staticmethod
    def _parsed(arn: str, lookup: Lookup | None) -> ResourcePolicy | None:
        text = lookup(arn) if lookup is not None else None
        if not text:
            return None
        try:
            return parse_resource_policy(text)
        except MalformedPolicyDocument as exc:
            # Stored before policies were checked on the way in: as before, ignored.
            _log.warning("resource policy ignored", resource=arn, error=exc.message)
            return None

    @property
    def empty(self) -> bool:
        return not self._lookups


def _names_account(arn: str) -> bool:
    """Whether ``arn`` gives an account (what a bare name resolves in depends on the caller:
    such an ARN's answers are not remembered)."""
    parts = arn.split(":", 5)
    return len(parts) == 6 and bool(parts[4])
