"""The Condition block of an IAM statement: a few operators, compiled once.

Semantics, as IAM documents them: every operator of a block must match, every key of an
operator must match, and a key matches when the request's value matches ANY of the
listed values. A key the request does not carry makes a condition false, except for the
negated operators (``StringNotEquals``, ``ArnNotLike``, ...), which are then true, and
the ``...IfExists`` forms, which are then true too. ``Null`` tests whether a key is
absent. Condition key names are case-insensitive; values of ``String*`` and ``Arn*``
operators are case-sensitive (except the ``IgnoreCase`` ones).

Operators: StringEquals, StringNotEquals, StringEqualsIgnoreCase,
StringNotEqualsIgnoreCase, StringLike, StringNotLike, ArnEquals, ArnNotEquals, ArnLike,
ArnNotLike, Bool (each also as ``...IfExists``), and Null.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eventplane.errors.security import MalformedPolicyDocument

__all__ = ["OPERATORS", "Condition", "RequestContext", "parse_conditions", "wildcard_regex"]

# The request's condition keys, lower-cased, to their string values.
RequestContext = Mapping[str, str]


def wildcard_regex(pattern: str, *, arn: bool) -> str:
    """A regex for an IAM wildcard pattern; in ARNs a mid-segment ``*`` stays in its segment."""
    out: list[str] = []
    for i, ch in enumerate(pattern):
        if ch == "*":
            at_segment_end = i + 1 == len(pattern) or pattern[i + 1] == ":"
            out.append(".*" if not arn or at_segment_end else "[^:]*")
        elif ch == "?":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def _like(pattern: str, *, arn: bool) -> re.Pattern[str]:
    return re.compile(wildcard_regex(pattern, arn=arn), re.DOTALL)


# A matcher takes the listed values and returns a test of one request value.
_Matcher = Callable[[list[str]], Callable[[str], bool]]


def _equals(values: list[str]) -> Callable[[str], bool]:
    wanted = frozenset(values)
    return lambda got: got in wanted


def _equals_ignore_case(values: list[str]) -> Callable[[str], bool]:
    wanted = frozenset(v.casefold() for v in values)
    return lambda got: got.casefold() in wanted


def _string_like(values: list[str]) -> Callable[[str], bool]:
    patterns = [_like(v, arn=False) for v in values]
    return lambda got: any(p.fullmatch(got) for p in patterns)


def _arn_like(values: list[str]) -> Callable[[str], bool]:
    patterns = [_like(v, arn=True) for v in values]
    return lambda got: any(p.fullmatch(got) for p in patterns)


def _bool(values: list[str]) -> Callable[[str], bool]:
    wanted = frozenset(v.lower() for v in values)
    return lambda got: got.lower() in wanted


# operator -> (matcher, negated)
OPERATORS: dict[str, tuple[_Matcher, bool]] = {
    "StringEquals": (_equals, False),
    "StringNotEquals": (_equals, True),
    "StringEqualsIgnoreCase": (_equals_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_equals_ignore_case, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    # IAM's ArnEquals takes wildcards too: the two differ only in name.
    "ArnEquals": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnLike": (_arn_like, False),
    "ArnNotLike": (_arn_like, True),
    "Bool": (_bool, False),
}


@dataclass(frozen=True)
class Condition:
    operator: str
    key: str  # lower-cased
    test: Callable[[str], bool]
    negated: bool
    if_exists: bool
    null_check: bool | None = None  # for Null: True means "the key must be absent"

    def matches(self, context: RequestContext) -> bool:
        got = context.get(self.key)
        if self.null_check is not None:
            return (got is None) == self.null_check
        if got is None:
            return self.negated or self.if_exists
        hit = self.test(got)
        return not hit if self.negated else hit


def _values(raw: Any, where: str) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise MalformedPolicyDocument(f"{where} must have at least one value")
    out: list[str] = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, str | int | float):
            out.append(str(item))
        else:
            raise MalformedPolicyDocument(f"{where} values must be strings, numbers or booleans")
    return out


def parse_conditions(raw: Any, where: str) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise MalformedPolicyDocument(f"{where} must be an object of operators")
    found: list[Condition] = []
    for operator, block in raw.items():
        at = f"{where}.{operator}"
        if not isinstance(block, dict) or not block:
            raise MalformedPolicyDocument(f"{at} must be an object of condition keys")
        if operator == "Null":
            for key, value in block.items():
                flags = {v.lower() for v in _values(value, f"{at}.{key}")}
                if not flags <= {"true", "false"} or len(flags) != 1:
                    raise MalformedPolicyDocument(f"{at}.{key} must be true or false")
                found.append(
                    Condition(
                        operator, str(key).lower(), bool, False, False, null_check="true" in flags
                    )
                )
            continue
        base = operator.removesuffix("IfExists")
        if base not in OPERATORS:
            raise MalformedPolicyDocument(
                f"{at}: unsupported operator (supported: {', '.join(OPERATORS)}, "
                "each also ...IfExists, and Null)"
            )
        matcher, negated = OPERATORS[base]
        for key, value in block.items():
            values = _values(value, f"{at}.{key}")
            if base == "Bool" and not {v.lower() for v in values} <= {"true", "false"}:
                raise MalformedPolicyDocument(f"{at}.{key} must be true or false")
            found.append(
                Condition(
                    operator,
                    str(key).lower(),
                    matcher(values),
                    negated,
                    if_exists=operator != base,
                )
            )
    return tuple(found)
