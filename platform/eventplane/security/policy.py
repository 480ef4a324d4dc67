"""IAM identity policies: parsed and compiled once, evaluated on every call.

A document is read when the tokens file loads (``parse_policy``): every field is
checked there, and wildcards become compiled patterns, so a request costs a few regex
matches. Evaluation follows IAM's logic for identity-based policies in one account:
an explicit ``Deny`` in any statement wins, else an ``Allow`` that matches, else the
call is implicitly denied.

Matching rules, as IAM documents them:
- ``Action``/``NotAction``: ``*`` any run of characters, ``?`` any one character,
  case-insensitive (``SQS:send*`` matches ``sqs:SendMessage``);
- ``Resource``/``NotResource``: the same wildcards, case-sensitive; a ``*`` in the middle
  of an ARN segment stays inside that segment, one that ends a segment may run across
  the following colons (``arn:aws:sqs:*:*:orders-*``);
- ``Condition``: see ``eventplane.security.conditions``.

Policy variables (``${aws:username}``) are not expanded yet: a document using one is
refused rather than silently matching the literal text.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eventplane.errors.security import MalformedPolicyDocument
from eventplane.security.conditions import (
    Condition,
    RequestContext,
    parse_conditions,
    wildcard_regex,
)
from eventplane.security.memo import remember

__all__ = [
    "VERSIONS",
    "Decision",
    "Policy",
    "PolicySet",
    "Statement",
    "evaluate",
    "parse_policy",
]

VERSIONS = ("2012-10-17", "2008-10-17")
_DOCUMENT_KEYS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}
)
_ACTION = re.compile(r"[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+")


class Decision(enum.Enum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit_deny"
    IMPLICIT_DENY = "implicit_deny"


def _compile(patterns: Sequence[str], *, arn: bool) -> re.Pattern[str]:
    flags = re.DOTALL if arn else re.DOTALL | re.IGNORECASE
    return re.compile("|".join(f"(?:{wildcard_regex(p, arn=arn)})" for p in patterns), flags)


@dataclass(frozen=True)
class Statement:
    sid: str
    allow: bool
    # Exactly one of actions/not_actions is set; same for resources/not_resources.
    actions: re.Pattern[str] | None
    not_actions: re.Pattern[str] | None
    resources: re.Pattern[str] | None
    not_resources: re.Pattern[str] | None
    # Whether any resource can match (Resource "*"): the request's resource need not be
    # worked out to decide this statement.
    any_resource: bool
    conditions: tuple[Condition, ...]

    def matches_action(self, action: str) -> bool:
        if self.actions is not None:
            return self.actions.fullmatch(action) is not None
        assert self.not_actions is not None
        return self.not_actions.fullmatch(action) is None

    def matches_resource(self, resource: str) -> bool:
        if self.any_resource:
            return True
        if self.resources is not None:
            return self.resources.fullmatch(resource) is not None
        assert self.not_resources is not None
        return self.not_resources.fullmatch(resource) is None

    def matches_conditions(self, context: RequestContext) -> bool:
        return all(c.matches(context) for c in self.conditions)


@dataclass(frozen=True)
class Policy:
    version: str
    statements: tuple[Statement, ...]


def _strings(value: Any, where: str) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise MalformedPolicyDocument(f"{where} must be a string or a non-empty list of strings")
    for item in items:
        if not isinstance(item, str) or not item:
            raise MalformedPolicyDocument(f"{where} must hold only non-empty strings")
        if "${" in item:
            raise MalformedPolicyDocument(f"{where}: policy variables are not supported: {item!r}")
    return items


def _one_of(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, list[str]]:
    plain, negated = key, f"Not{key}"
    if (plain in raw) == (negated in raw):
        raise MalformedPolicyDocument(f"{where} must have exactly one of {plain} or {negated}")
    name = plain if plain in raw else negated
    return name, _strings(raw[name], f"{where}.{name}")


def _statement(raw: Any, where: str) -> Statement:
    if not isinstance(raw, dict):
        raise MalformedPolicyDocument(f"{where} must be an object")
    unknown = sorted(set(raw) - _STATEMENT_KEYS)
    if "Principal" in raw or "NotPrincipal" in raw:
        raise MalformedPolicyDocument(
            f"{where}: an identity-based policy must not specify a Principal"
        )
    if unknown:
        raise MalformedPolicyDocument(f"{where} has unknown field(s): {', '.join(unknown)}")
    sid = raw.get("Sid", "")
    if not isinstance(sid, str) or not re.fullmatch(r"[A-Za-z0-9]*", sid):
        raise MalformedPolicyDocument(f"{where}.Sid must be letters and digits only")
    if sid:
        where = f"{where} (Sid {sid})"
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise MalformedPolicyDocument(f"{where}.Effect must be Allow or Deny, got {effect!r}")
    action_key, actions = _one_of(raw, "Action", where)
    for action in actions:
        if action != "*" and not _ACTION.fullmatch(action):
            raise MalformedPolicyDocument(
                f"{where}.{action_key}: {action!r} is not service:action (e.g. sqs:SendMessage)"
            )
    resource_key, resources = _one_of(raw, "Resource", where)
    for resource in resources:
        if resource != "*" and not resource.startswith("arn:"):
            raise MalformedPolicyDocument(
                f"{where}.{resource_key}: {resource!r} must be an ARN or *"
            )
        if resource.startswith("arn:") and resource.count(":") < 5:
            raise MalformedPolicyDocument(
                f"{where}.{resource_key}: {resource!r} needs six ':'-separated parts "
                "(arn:partition:service:region:account:resource)"
            )
    compiled_actions = _compile(actions, arn=False)
    compiled_resources = _compile(resources, arn=True)
    return Statement(
        sid=sid,
        allow=effect == "Allow",
        actions=compiled_actions if action_key == "Action" else None,
        not_actions=compiled_actions if action_key == "NotAction" else None,
        resources=compiled_resources if resource_key == "Resource" else None,
        not_resources=compiled_resources if resource_key == "NotResource" else None,
        any_resource=resource_key == "Resource" and "*" in resources,
        conditions=parse_conditions(raw.get("Condition"), f"{where}.Condition"),
    )


def parse_policy(document: Mapping[str, Any] | str, where: str = "Policy") -> Policy:
    """Check and compile one policy document (a mapping, or its JSON text).

    Raises:
        MalformedPolicyDocument: naming the statement and field at fault.
    """
    raw: Any = document
    if isinstance(document, str):
        try:
            raw = json.loads(document)
        except ValueError:
            raise MalformedPolicyDocument(f"{where} is not valid JSON") from None
    if not isinstance(raw, dict):
        raise MalformedPolicyDocument(f"{where} must be an object with Version and Statement")
    unknown = sorted(set(raw) - _DOCUMENT_KEYS)
    if unknown:
        raise MalformedPolicyDocument(f"{where} has unknown field(s): {', '.join(unknown)}")
    version = raw.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise MalformedPolicyDocument(
            f"{where}.Version must be one of {', '.join(VERSIONS)}, got {version!r}"
        )
    if "Statement" not in raw:
        raise MalformedPolicyDocument(f"{where}.Statement is required")
    statements = raw["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise MalformedPolicyDocument(
            f"{where}.Statement must be a statement or a non-empty list of them"
        )
    return Policy(
        version=version,
        statements=tuple(
            _statement(s, f"{where}.Statement[{i}]") for i, s in enumerate(statements)
        ),
    )


def _decide(
    statements: Iterable[Statement],
    resource: str | Callable[[], str],
    context: RequestContext | None,
) -> Decision:
    """The decision over statements already known to match the action."""
    ctx: RequestContext = context or {}
    cached: list[str] = []

    def resource_arn() -> str:
        if not cached:
            cached.append(resource() if callable(resource) else resource)
        return cached[0]

    allowed = False
    for statement in statements:
        if statement.allow and allowed:
            continue  # already allowed; only a Deny can change the outcome now
        if not statement.any_resource and not statement.matches_resource(resource_arn()):
            continue
        if not statement.matches_conditions(ctx):
            continue
        if not statement.allow:
            return Decision.EXPLICIT_DENY
        allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def evaluate(
    policies: Iterable[Policy],
    action: str,
    resource: str | Callable[[], str],
    context: RequestContext | None = None,
) -> Decision:
    """IAM's decision for ``action`` on ``resource``: explicit Deny, else Allow, else deny.

    ``resource`` may be a callable: it is called (once) only if a statement that matches
    the action names specific resources, so calls decided by ``Resource: "*"`` statements
    never work out their ARN.
    """
    statements = (s for p in policies for s in p.statements if s.matches_action(action))
    return _decide(statements, resource, context)


# How many decisions a PolicySet remembers before it forgets them all and starts again
# (resource names are the caller's to choose, so the memo must not grow without bound).
DECISIONS_REMEMBERED = 4096


class PolicySet:
    """A principal's policies, with the statements that apply to each action remembered.

    Actions come from the method table (a bounded set), so after the first call of an
    action only the few statements naming it are looked at. The decision itself is
    remembered per (action, resource ARN, request context): a decision is a pure function
    of the three, and a principal calls the same few resources over and over, so a repeat
    call costs a dict lookup whatever the number of statements. The memo belongs to the
    set: policies that change come as a new PolicySet (a reloaded tokens file), with an
    empty memo. A request context is remembered by identity (the memo holds it, so its id
    is not reused): ``request_context`` hands out one mapping per principal and
    transport, never changed after it is built.
    """

    def __init__(self, policies: Iterable[Policy]) -> None:
        self.policies = tuple(policies)
        self._by_action: dict[str, tuple[Statement, ...]] = {}
        self._decisions: dict[tuple[str, str, int], tuple[object, Decision]] = {}
        # Whole calls decided for principals holding this set (``authorize``): a repeat call
        # on unchanged resources is one lookup. Bounded like ``_decisions``.
        self.calls: dict[Any, tuple[Any, Any]] = {}
        # Whether any statement has a Condition (else the request context cannot matter).
        self.conditional = any(s.conditions for p in self.policies for s in p.statements)

    def __len__(self) -> int:
        return len(self.policies)

    def statements_for(self, action: str) -> tuple[Statement, ...]:
        key = action.lower()
        found = self._by_action.get(key)
        if found is None:
            found = tuple(
                s for p in self.policies for s in p.statements if s.matches_action(action)
            )
            self._by_action[key] = found
        return found

    def needs_resource(self, action: str) -> bool:
        """Whether deciding ``action`` may need the request's resource ARN."""
        return any(not s.any_resource for s in self.statements_for(action))

    def evaluate(
        self,
        action: str,
        resource: str | Callable[[], str],
        context: RequestContext | None = None,
    ) -> Decision:
        if callable(resource):
            return _decide(self.statements_for(action), resource, context)
        key = (action, resource, id(context))
        found = self._decisions.get(key)
        if found is not None and found[0] is context:
            return found[1]
        decision = _decide(self.statements_for(action), resource, context)
        remember(self._decisions, key, (context, decision), DECISIONS_REMEMBERED)
        return decision
