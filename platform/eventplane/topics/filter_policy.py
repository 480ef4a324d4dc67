"""SNS subscription filter policies, validated and compiled once at subscribe time.

SNS filtering runs on the same engine as EventBridge patterns (both are aws/event-ruler),
so matching uses :mod:`eventplane.matching` with SNS's narrower dialect: no
``wildcard``, ``anything-but`` only with values or one ``prefix`` or ``suffix`` (not the
lists of affixes EventBridge takes, nor ``equals-ignore-case``/``wildcard``), and nested
keys only when the scope is ``MessageBody``. In that scope a key ``"a.b"`` is the nested
path a -> b, as in EventBridge; in ``MessageAttributes`` scope it is one attribute name.
On top of that SNS enforces limits:

- at most 5 keys (distinct leaf key paths; nested paths count in ``MessageBody`` scope);
- at most 150 value combinations: the product, over leaf arrays, of the array length
  times the depth of its key (1 at the top level), with the branches of ``$or`` added up,
  as the SNS documentation computes it;
- every number within ±1e9 and with at most 5 digits after the decimal point.

Message attributes are compared by type: ``String`` values as strings, ``Number`` values
numerically, ``String.Array`` values element by element; ``Binary`` attributes are
ignored, as if absent.

``anything-but`` forms SNS takes (the rest are refused at subscribe time): a string or
number, a non-empty list of only strings or only numbers, ``{"prefix": "x"}`` and
``{"suffix": "x"}`` with one non-empty string each. Against an array (a ``String.Array``
attribute or an array in the body) it holds when one element is not excluded, the same
as EventBridge: the SNS "String value matching" page's example has ``["rugby",
"baseball"]`` matching ``{"anything-but": ["rugby", "tennis"]}`` (its sentence "matches if
none of the array elements are listed" contradicts that example), and the "Numeric value
matching" page has ``[100, 50]`` matching ``{"anything-but": [100, 500]}``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any, Final

from eventplane.matching.patterns import (
    OPERATORS,
    OR_KEY,
    Dialect,
    ObjectTest,
    PatternError,
    build_matcher,
    descent_tree,
    expander,
    load_document,
    split_keys,
)
from eventplane.topics.errors import InvalidFilterPolicy

SCOPES: Final = ("MessageAttributes", "MessageBody")
MAX_KEYS: Final = 5
MAX_COMBINATIONS: Final = 150
NUMBER_LIMIT: Final = 1_000_000_000
MAX_DECIMALS: Final = 5


def _check_number(value: int | float, threshold: bool) -> str | None:
    # Unlike EventBridge, SNS bounds every number in a policy, exact values included.
    if not -NUMBER_LIMIT <= value <= NUMBER_LIMIT:
        return f"Value {value} is out of range: numbers must be between -1E9 and 1E9"
    if isinstance(value, float):
        exponent = Decimal(repr(value)).as_tuple().exponent
        if isinstance(exponent, int) and exponent < -MAX_DECIMALS:
            return f"Value {value} has more than {MAX_DECIMALS} digits after the decimal point"
    return None


_BODY: Final = Dialect(
    operators=OPERATORS - {"wildcard"},
    anything_but_operators=frozenset({"prefix", "suffix"}),
    case_insensitive_affixes=False,
    empty_matches_all=True,
    nested_error=None,
    check_number=_check_number,
    anything_but_affix_lists=False,
    dotted_keys=True,
)
_DIALECTS: Final = {
    "MessageBody": _BODY,
    # Attribute names may hold dots ("order.id" is one name), and attributes are flat.
    "MessageAttributes": replace(
        _BODY,
        nested_error="Filter policy scope MessageAttributes does not support nested filter policy",
        dotted_keys=False,
    ),
}


class CompiledFilterPolicy:
    """A validated filter policy; matching never looks at the policy text again."""

    __slots__ = ("_expand", "_test", "policy", "scope")

    def __init__(self, policy: Mapping[str, Any], scope: str, test: ObjectTest) -> None:
        self.policy = policy
        self.scope = scope
        self._test = test
        self._expand = expander(descent_tree(policy) if scope == "MessageBody" else {})

    def matches(self, *, body: str | bytes, attributes: Mapping[str, Mapping[str, Any]]) -> bool:
        """Whether a published message is delivered, judged by the policy's scope."""
        if self.scope == "MessageBody":
            return self.matches_body(body)
        return self.matches_attributes(attributes)

    def matches_attributes(self, attributes: Mapping[str, Mapping[str, Any]]) -> bool:
        """Match message attributes (``{"name": {"DataType": ..., "StringValue": ...}}``)."""
        return self._test(attributes_as_object(attributes))

    def matches_body(self, body: str | bytes) -> bool:
        """Match a message body; a body that is not a JSON object matches only ``{}``."""
        if not self.policy:
            return True
        try:
            document = json.loads(body)
        except ValueError:
            return False
        return isinstance(document, dict) and self._test(self._expand(document))

    def __repr__(self) -> str:
        return f"CompiledFilterPolicy({json.dumps(self.policy, sort_keys=True)}, {self.scope})"


def compile_filter_policy(
    policy: str | Mapping[str, Any], scope: str = "MessageAttributes"
) -> CompiledFilterPolicy:
    """Validate and compile an SNS filter policy.

    Args:
        policy: The policy as JSON text or as an already parsed object.
        scope: The subscription's FilterPolicyScope, ``MessageAttributes`` or ``MessageBody``.

    Raises:
        InvalidFilterPolicy: The policy or scope is not one SNS would accept.
    """
    dialect = _DIALECTS.get(scope)
    if dialect is None:
        raise InvalidFilterPolicy(
            f"Invalid parameter: FilterPolicyScope: Invalid value [{scope}]. "
            "Please use either MessageBody or MessageAttributes"
        )
    try:
        document = load_document(policy)
        if dialect.dotted_keys:
            document = split_keys(document)
        test = build_matcher(document, dialect)
        _check_limits(document)
    except PatternError as err:
        raise InvalidFilterPolicy(f"Invalid parameter: FilterPolicy: {err.describe()}") from None
    return CompiledFilterPolicy(document, scope, test)


def _check_limits(document: Mapping[str, Any]) -> None:
    keys = _leaf_paths(document, ())
    if len(keys) > MAX_KEYS:
        raise PatternError(
            f"Filter policy can not have more than {MAX_KEYS} keys (it has {len(keys)})"
        )
    combinations = _combinations(document, 1)
    if combinations > MAX_COMBINATIONS:
        raise PatternError(
            f"Filter policy is too complex: {combinations} value combinations, "
            f"at most {MAX_COMBINATIONS} allowed"
        )


def _leaf_paths(obj: Mapping[str, Any], prefix: tuple[str, ...]) -> set[tuple[str, ...]]:
    paths: set[tuple[str, ...]] = set()
    for key, spec in obj.items():
        if key == OR_KEY:
            for branch in spec:
                paths |= _leaf_paths(branch, prefix)
        elif isinstance(spec, Mapping):
            paths |= _leaf_paths(spec, (*prefix, key))
        else:
            paths.add((*prefix, key))
    return paths


def _combinations(obj: Mapping[str, Any], depth: int) -> int:
    total = 1
    for key, spec in obj.items():
        if key == OR_KEY:
            total *= sum(_combinations(branch, depth) for branch in spec)
        elif isinstance(spec, Mapping):
            total *= _combinations(spec, depth + 1)
        else:
            total *= len(spec) * depth
    return total


# --- message attributes -------------------------------------------------------------

_ABSENT: Final[Any] = object()


def attributes_as_object(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Message attributes as the JSON object a policy is matched against.

    Attributes SNS ignores (``Binary``, values that do not parse as their type) are left
    out, so ``{"exists": false}`` holds for them.
    """
    out: dict[str, Any] = {}
    for name, attribute in attributes.items():
        value = _attribute_value(attribute)
        if value is not _ABSENT:
            out[name] = value
    return out


def _attribute_value(attribute: Mapping[str, Any]) -> Any:
    data_type = attribute.get("DataType")
    raw = attribute.get("StringValue")
    if not isinstance(data_type, str) or not isinstance(raw, str):
        return _ABSENT
    base, _, label = data_type.partition(".")
    if base not in ("String", "Number"):
        return _ABSENT
    if label == "Array":
        try:
            values = json.loads(raw)
        except ValueError:
            return _ABSENT
        return values if isinstance(values, list) else _ABSENT
    return raw if base == "String" else _parse_number(raw)


def _parse_number(raw: str) -> Any:
    # Policy numbers are bounded to ±1e9 with 5 decimals, so a float compares exactly enough.
    try:
        number = float(raw)
    except ValueError:
        return _ABSENT
    return number if math.isfinite(number) else _ABSENT
