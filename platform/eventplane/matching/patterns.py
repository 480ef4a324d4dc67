"""Event patterns and filter policies, validated and compiled once into matcher closures.

EventBridge event patterns and SNS filter policies are one language (both are
aws/event-ruler), so both capabilities compile with this module, each through its own
:class:`Dialect` (``eventplane.bus.patterns.EVENTBRIDGE``, ``eventplane.topics.filter_policy``)
and each wrapping :class:`PatternError` in its own AWS error. Semantics follow the
EventBridge documentation (and aws/event-ruler, which implements it):

- Every key of a pattern object must match (AND); the values in a leaf array are
  alternatives (OR). ``"$or": [p1, p2, ...]`` (at least two objects) holds when any
  branch holds against the same object.
- A leaf compares against the *leaf values* of the event field: the field itself when
  it is a string, number, boolean or null; the elements of an array, flattened. Objects
  are never leaf values, so a leaf pattern that meets an object does not match, and
  ``{"exists": false}`` holds for absent fields, objects and empty arrays alike.
- A nested pattern object is matched against the event object at that key; when the
  event holds an array, against each object element in turn (fields of one match
  never come from different elements). When there is no object to descend into, it is
  matched against ``{}``, so only absence tests can hold.
- Exact values are typed: ``"3"`` never equals ``3``, numbers compare numerically
  (``3 == 3.0``), ``true`` is not ``1``, ``null`` is not ``""``.
- ``anything-but`` only excludes values of its own type: ``{"anything-but": "x"}``
  matches ``5`` and ``null``; ``{"anything-but": [1, 2]}`` matches ``"1"``. Against an
  array it is a test of each leaf value like any other, so ``["rugby", "baseball"]``
  matches ``{"anything-but": ["rugby"]}``: one value that is not excluded is enough (in
  SNS too, String.Array attributes and Number arrays included, as the SNS examples show).
- Keys name paths with dots, as event-ruler flattens both rule and event: the pattern key
  ``"a.b"`` is the nested path ``{"a": {"b": ...}}``, and an event key literally named
  ``"a.b"`` is reached by a nested pattern. Patterns are stored with dotted keys split
  (``split_dotted_keys``); events are expanded once per match, and only when needed (``expander``).
- Wildcards that could keep too many partial matches alive at once are measured by
  :func:`wildcard_complexity` (see :mod:`eventplane.matching._wildcards`); EventBridge
  rejects a pattern over its limit ("Rule is too complex ...").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from eventplane.matching._dotted import (
    DuplicateField,
    Tree,
    descent_tree,
    expand_for,
    expander,
    split_dotted_keys,
)
from eventplane.matching._wildcards import glob, wildcard_complexity, wildcard_segments

__all__ = [
    "OPERATORS",
    "OR_KEY",
    "STRING_OPERATORS",
    "CompiledPattern",
    "Dialect",
    "ObjectTest",
    "Path",
    "PatternError",
    "Tree",
    "build_matcher",
    "descent_tree",
    "expand_for",
    "expander",
    "load_document",
    "split_keys",
    "wildcard_complexity",
]
from eventplane.matching._pattern_base import (
    Path,
    PatternError,
    ValueTest,
    _check_number,
    _is_number,
    _require_str,
)
from eventplane.matching._ranges import _cidr, _numeric

ObjectTest = Callable[[Mapping[str, Any]], bool]

OR_KEY: Final = "$or"
STRING_OPERATORS: Final = frozenset({"prefix", "suffix", "equals-ignore-case", "wildcard"})
OPERATORS: Final = STRING_OPERATORS | {"anything-but", "numeric", "cidr", "exists"}
_MISSING: Final[Any] = object()
_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class Dialect:
    """What a pattern language accepts. EventBridge accepts everything; SNS accepts less."""

    # Operator names allowed in a leaf's match expression.
    operators: frozenset[str]
    # Operators allowed inside {"anything-but": {...}}.
    anything_but_operators: frozenset[str]
    # Whether prefix and suffix accept {"equals-ignore-case": "..."}.
    case_insensitive_affixes: bool
    # True: an empty top-level object matches everything (SNS); False: it is invalid.
    empty_matches_all: bool
    # None when nested objects are allowed, else the reason they are not.
    nested_error: str | None
    # The problem with a number in the pattern, or None. ``threshold`` is True for
    # operands of numeric/anything-but, False for exact values.
    check_number: Callable[[int | float, bool], str | None]
    # Whether {"anything-but": {"prefix"/"suffix": [...]}} may list several affixes.
    anything_but_affix_lists: bool
    # Whether a key "a.b" names the path a -> b (EventBridge, SNS body) or is one name
    # (SNS message attributes, whose names may contain dots).
    dotted_keys: bool


class CompiledPattern:
    """A validated event pattern; :meth:`matches` never looks at the pattern text again."""

    __slots__ = ("_expand", "_test", "source")

    def __init__(self, source: Mapping[str, Any], test: ObjectTest) -> None:
        # The pattern with dotted keys split into nested objects (what is matched).
        self.source = source
        self._test = test
        self._expand = expander(descent_tree(source))

    def matches(self, event: Mapping[str, Any]) -> bool:
        """Whether ``event`` (a JSON object, already parsed) matches the pattern."""
        return isinstance(event, Mapping) and self._test(self._expand(event))

    def matches_expanded(self, event: Mapping[str, Any]) -> bool:
        """:meth:`matches` for an event already passed through an :func:`expander` whose
        tree covers this pattern's (a rule set expands each event once, not once per rule)."""
        return self._test(event)

    def __repr__(self) -> str:
        return f"CompiledPattern({json.dumps(self.source, sort_keys=True)})"


def load_document(pattern: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    """The pattern as a fresh JSON object (a Mapping is copied through JSON, so later
    changes by the caller cannot alter a compiled pattern)."""
    try:
        if isinstance(pattern, Mapping):
            pattern = json.dumps(pattern, allow_nan=False, default=_plain)
        document = json.loads(pattern, parse_constant=_reject_constant)
    except (TypeError, ValueError) as err:
        raise PatternError(f"Not valid JSON: {err}") from None
    if not isinstance(document, dict):
        raise PatternError("Filter is not an object")
    return document


def split_keys(document: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`split_dotted_keys`, with a path given twice as a pattern error."""
    try:
        return split_dotted_keys(document)
    except DuplicateField as err:
        raise PatternError(
            "The same field is given twice (once with a dotted key)", err.path
        ) from None


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def build_matcher(document: Mapping[str, Any], dialect: Dialect) -> ObjectTest:
    """Compile a pattern object into a test over event objects."""
    if not document and dialect.empty_matches_all:
        return lambda event: True
    return _compile_object(document, (), dialect, in_or=False, nested=False)


# --- structure ----------------------------------------------------------------------


def _compile_object(
    obj: Any, path: Path, dialect: Dialect, *, in_or: bool, nested: bool
) -> ObjectTest:
    if not isinstance(obj, Mapping):
        raise PatternError("Only JSON objects are allowed in $or", path)
    if not obj:
        raise PatternError("Empty objects are not allowed", path)
    if nested and dialect.nested_error:
        raise PatternError(dialect.nested_error, path)
    tests: list[ObjectTest] = []
    for key, spec in obj.items():
        if key == OR_KEY:
            tests.append(_compile_or(spec, path, dialect, nested=nested))
            continue
        here = (*path, key)
        # Inside $or an operator name as a key is almost surely a misplaced match
        # expression; EventBridge rejects it rather than treat it as a field.
        if in_or and key in OPERATORS:
            raise PatternError(f"{key} is a reserved name and cannot be a field inside $or", here)
        if isinstance(spec, Mapping):
            sub = _compile_object(spec, here, dialect, in_or=in_or, nested=True)
            tests.append(_nested(key, sub))
        elif isinstance(spec, list):
            tests.append(_field(key, _compile_leaf(spec, here, dialect)))
        else:
            raise PatternError(f'"{key}" must be an object or an array', here)
    if len(tests) == 1:
        return tests[0]
    all_tests = tuple(tests)
    return lambda event: all(test(event) for test in all_tests)


def _compile_or(spec: Any, path: Path, dialect: Dialect, *, nested: bool) -> ObjectTest:
    here = (*path, OR_KEY)
    if not isinstance(spec, list):
        raise PatternError("$or must be an array of objects", here)
    if len(spec) < 2:
        raise PatternError("$or must contain at least 2 objects", here)
    branches = tuple(
        _compile_object(branch, (*path, f"{OR_KEY}[{i}]"), dialect, in_or=True, nested=nested)
        for i, branch in enumerate(spec)
    )
    return lambda event: any(branch(event) for branch in branches)


def _nested(key: str, sub: ObjectTest) -> ObjectTest:
    # Known at compile time: does the sub-pattern hold when there is nothing to descend into?
    holds_on_nothing = sub(_EMPTY)

    def test(event: Mapping[str, Any]) -> bool:
        raw = event.get(key, _MISSING)
        if isinstance(raw, Mapping):
            return sub(raw)
        found = False
        for element in _objects_in(raw):
            found = True
            if sub(element):
                return True
        return holds_on_nothing and not found

    return test


def _field(key: str, field_test: ValueTest) -> ObjectTest:
    return lambda event: field_test(event.get(key, _MISSING))


def _objects_in(raw: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, Mapping):
                yield item
            elif isinstance(item, list):
                yield from _objects_in(item)


def _leaf_values(raw: list[Any]) -> Iterator[Any]:
    for item in raw:
        if isinstance(item, list):
            yield from _leaf_values(item)
        elif not isinstance(item, Mapping):
            yield item


# --- leaves -------------------------------------------------------------------------


def _compile_leaf(spec: list[Any], path: Path, dialect: Dialect) -> ValueTest:
    if not spec:
        raise PatternError("Empty arrays are not allowed", path)
    strings: set[str] = set()
    numbers: set[int | float] = set()
    literals: set[bool | None] = set()
    tests: list[ValueTest] = []
    exists: set[bool] = set()
    for item in spec:
        if isinstance(item, str):
            strings.add(item)
        elif item is None or isinstance(item, bool):
            literals.add(item)
        elif isinstance(item, int | float):
            _check_number(item, False, path, dialect)
            numbers.add(item)
        elif isinstance(item, Mapping):
            flag, test = _compile_expression(item, path, dialect)
            if test is None:
                exists.add(flag)
            else:
                tests.append(test)
        else:
            raise PatternError("Match value must be String, number, true, false, or null", path)
    return _leaf_test(strings, numbers, literals, tuple(tests), exists)


def _leaf_test(
    strings: set[str],
    numbers: set[int | float],
    literals: set[bool | None],
    tests: tuple[ValueTest, ...],
    exists: set[bool],
) -> ValueTest:
    if_present, if_absent = True in exists, False in exists

    def hit(value: Any) -> bool:
        if isinstance(value, str):
            if value in strings:
                return True
        elif value is None or isinstance(value, bool):
            if value in literals:
                return True
        elif isinstance(value, int | float) and value in numbers:
            return True
        return any(test(value) for test in tests)

    def field_test(raw: Any) -> bool:
        if isinstance(raw, list):
            present = False
            for value in _leaf_values(raw):
                present = True
                if hit(value):
                    return True
        elif raw is _MISSING or isinstance(raw, Mapping):
            present = False
        else:
            present = True
            if hit(raw):
                return True
        return if_present if present else if_absent

    return field_test


def _compile_expression(
    expr: Mapping[str, Any], path: Path, dialect: Dialect
) -> tuple[bool, ValueTest | None]:
    """A match expression as (exists flag, None) for ``exists``, else (False, value test)."""
    if not expr:
        raise PatternError("Match expression name not found", path)
    if len(expr) > 1:
        raise PatternError("Only one key allowed in match expression", path)
    ((name, operand),) = expr.items()
    if name not in dialect.operators:
        raise PatternError(f"Unrecognized match type {name}", path)
    if name == "exists":
        if not isinstance(operand, bool):
            raise PatternError("exists match pattern must be either true or false.", path)
        return operand, None
    return False, _OPERATOR_COMPILERS[name](operand, path, dialect)


# --- operators ----------------------------------------------------------------------


def _prefix(operand: Any, path: Path, dialect: Dialect) -> ValueTest:
    if _is_case_insensitive(operand, dialect, "prefix", path):
        folded = operand["equals-ignore-case"].lower()
        return lambda v: isinstance(v, str) and v.lower().startswith(folded)
    text = _require_str(operand, "prefix match pattern must be a string", path)
    return lambda v: isinstance(v, str) and v.startswith(text)


def _suffix(operand: Any, path: Path, dialect: Dialect) -> ValueTest:
    if _is_case_insensitive(operand, dialect, "suffix", path):
        folded = operand["equals-ignore-case"].lower()
        return lambda v: isinstance(v, str) and v.lower().endswith(folded)
    text = _require_str(operand, "suffix match pattern must be a string", path)
    return lambda v: isinstance(v, str) and v.endswith(text)


def _is_case_insensitive(operand: Any, dialect: Dialect, op: str, path: Path) -> bool:
    if not isinstance(operand, Mapping) or not dialect.case_insensitive_affixes:
        return False
    if list(operand) != ["equals-ignore-case"] or not isinstance(
        operand["equals-ignore-case"], str
    ):
        raise PatternError(f'{op} must be a string or {{"equals-ignore-case": string}}', path)
    return True


def _equals_ignore_case(operand: Any, path: Path, dialect: Dialect) -> ValueTest:
    text = _require_str(operand, "equals-ignore-case match pattern must be a string", path)
    folded = text.lower()
    return lambda v: isinstance(v, str) and v.lower() == folded


def _wildcard(operand: Any, path: Path, dialect: Dialect) -> ValueTest:
    text = _require_str(operand, "wildcard match pattern must be a string", path)
    return glob(_wildcard_segments(text, path))


def _wildcard_segments(text: str, path: Path) -> list[str]:
    try:
        return wildcard_segments(text)
    except ValueError as err:
        raise PatternError(str(err), path) from None


def _anything_but(operand: Any, path: Path, dialect: Dialect) -> ValueTest:
    if isinstance(operand, Mapping):
        return _anything_but_nested(operand, path, dialect)
    values = operand if isinstance(operand, list) else [operand]
    if not values:
        raise PatternError("anything-but list must not be empty", path)
    if all(isinstance(v, str) for v in values):
        excluded_strings = frozenset(values)
        return lambda v: not (isinstance(v, str) and v in excluded_strings)
    if all(_is_number(v) for v in values):
        for number in values:
            _check_number(number, True, path, dialect)
        excluded_numbers = frozenset(values)
        return lambda v: not (_is_number(v) and v in excluded_numbers)
    if isinstance(operand, list):
        raise PatternError("Inside anything-but list, all values must be strings or numbers", path)
    raise PatternError("Value of anything-but must be an array or single string/number value", path)


def _anything_but_nested(operand: Mapping[str, Any], path: Path, dialect: Dialect) -> ValueTest:
    if not operand:
        raise PatternError("Anything-But expression name not found", path)
    if len(operand) > 1:
        raise PatternError("Only one key allowed in match expression", path)
    ((name, arg),) = operand.items()
    if name not in dialect.anything_but_operators:
        raise PatternError(f"Unsupported anything-but pattern: {name}", path)
    if name in ("prefix", "suffix"):
        return _anything_but_affix(name, arg, path, dialect)
    texts = arg if isinstance(arg, list) else [arg]
    if not texts or not all(isinstance(t, str) for t in texts):
        raise PatternError(f"anything-but {name} must be a string or a list of strings", path)
    if name == "equals-ignore-case":
        folded = frozenset(t.lower() for t in texts)
        return lambda v: not (isinstance(v, str) and v.lower() in folded)
    globs = tuple(glob(_wildcard_segments(t, path)) for t in texts)
    return lambda v: not any(glob(v) for glob in globs)


def _anything_but_affix(name: str, arg: Any, path: Path, dialect: Dialect) -> ValueTest:
    if isinstance(arg, list) and dialect.anything_but_affix_lists:
        affixes = arg
        if not affixes:
            raise PatternError(f"anything-but {name} list must not be empty", path)
    else:
        affixes = [arg]
    expected = "a string or a list of strings" if dialect.anything_but_affix_lists else "a string"
    for text in affixes:
        _require_str(text, f"prefix/suffix match pattern must be {expected}", path)
        if not text:
            raise PatternError("Null prefix/suffix not allowed", path)
    # str.startswith/endswith take a tuple: any of the affixes excludes the value.
    excluded = tuple(affixes)
    if name == "prefix":
        return lambda v: not (isinstance(v, str) and v.startswith(excluded))
    return lambda v: not (isinstance(v, str) and v.endswith(excluded))


_OPERATOR_COMPILERS: Final[dict[str, Callable[[Any, Path, Dialect], ValueTest]]] = {
    "prefix": _prefix,
    "suffix": _suffix,
    "equals-ignore-case": _equals_ignore_case,
    "wildcard": _wildcard,
    "anything-but": _anything_but,
    "numeric": _numeric,
    "cidr": _cidr,
}
