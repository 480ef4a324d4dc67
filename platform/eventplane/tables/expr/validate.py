"""Check a request's expressions against its ExpressionAttributeNames/Values.

``prepare`` is what the table engine calls once per request: it parses every expression
the request carries (cached by text), checks each placeholder is defined, checks the
operand types DynamoDB checks before touching an item (begins_with on a number,
BETWEEN bounds out of order, ADD of a string, ...), rejects overlapping document paths,
and finally rejects names or values no expression used.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from eventplane.tables.expr.errors import ValidationException
from eventplane.tables.expr.parser import (
    parse_condition,
    parse_projection,
    parse_update,
    path_text,
)
from eventplane.tables.expr.tree import (
    Arith,
    Between,
    Call,
    Compare,
    Condition,
    In,
    Logical,
    Not,
    Path,
    PathElement,
    Projection,
    Update,
    Value,
)
from eventplane.tables.expr.values import AttributeValue, compare_values, type_of, validate_value

__all__ = [
    "LONG_TYPE_NAMES",
    "Expressions",
    "check_query_filter",
    "prepare",
    "resolve_path",
    "top_level_names",
]

LONG_TYPE_NAMES = {
    "S": "STRING",
    "N": "NUMBER",
    "B": "BINARY",
    "BOOL": "BOOLEAN",
    "NULL": "NULL",
    "M": "MAP",
    "L": "LIST",
    "SS": "STRING_SET",
    "NS": "NUMBER_SET",
    "BS": "BINARY_SET",
}
_VALID_TYPES = ("S", "N", "B", "NULL", "SS", "BOOL", "L", "BS", "NS", "M")


@dataclass(frozen=True)
class Expressions:
    """The parsed, checked expressions of one request, with its names and values."""

    names: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, AttributeValue] = field(default_factory=dict)
    condition: Condition | None = None
    filter: Condition | None = None
    key_condition: Condition | None = None
    update: Update | None = None
    projection: Projection | None = None


def resolve_path(path: Path, names: Mapping[str, str]) -> tuple[PathElement, ...]:
    """The path with ``#placeholders`` replaced by the names they stand for."""
    out: list[PathElement] = []
    for element in path.elements:
        if isinstance(element, str) and element.startswith("#"):
            if element not in names:
                raise ValidationException(
                    "An expression attribute name used in the document path is not defined; "
                    f"attribute name: {element}"
                )
            out.append(names[element])
        else:
            out.append(element)
    return tuple(out)


def prepare(
    *,
    condition: str | None = None,
    filter: str | None = None,
    key_condition: str | None = None,
    update: str | None = None,
    projection: str | None = None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> Expressions:
    """Parse and check every expression of a request; raise DynamoDB's ValidationException.

    ``names`` and ``values`` are None when the request has none; given, they may not be
    empty (``{}``), nor come without an expression to use them.
    """
    used = (condition, filter, key_condition, update, projection)
    for member, given in (
        ("ExpressionAttributeNames", names),
        ("ExpressionAttributeValues", values),
    ):
        if given is None:
            continue
        if all(text is None for text in used):
            raise ValidationException(f"{member} can only be specified when using expressions")
        if not given:
            raise ValidationException(f"{member} must not be empty")
    for key, name in (names or {}).items():
        if not isinstance(key, str) or not key.startswith("#") or len(key) < 2:
            raise ValidationException(
                f'ExpressionAttributeNames contains invalid key: Syntax error; token: "{key}", '
                f'near: "{key}"'
            )
        if not isinstance(name, str) or not name:
            raise ValidationException(
                "ExpressionAttributeNames contains invalid value: "
                f"Empty attribute name for key {key}"
            )
    checked_values: dict[str, AttributeValue] = {}
    for key, raw in (values or {}).items():
        if not isinstance(key, str) or not key.startswith(":") or len(key) < 2:
            raise ValidationException(
                f'ExpressionAttributeValues contains invalid key: Syntax error; token: "{key}", '
                f'near: "{key}"'
            )
        try:
            checked_values[key] = validate_value(raw)
        except ValidationException as err:
            raise ValidationException(
                f"ExpressionAttributeValues contains invalid value: {err.message} for key {key}"
            ) from None
    ctx = _Context(dict(names or {}), checked_values)
    trees: dict[str, Any] = {}
    for label, text in (
        ("KeyConditionExpression", key_condition),
        ("ConditionExpression", condition),
        ("FilterExpression", filter),
    ):
        if text is not None:
            tree = parse_condition(text, label)
            ctx.check_condition(label, tree)
            trees[label] = tree
    if update is not None:
        upd = parse_update(update)
        ctx.check_update(upd)
        trees["UpdateExpression"] = upd
    if projection is not None:
        proj = parse_projection(projection)
        ctx.check_projection(proj)
        trees["ProjectionExpression"] = proj
    ctx.check_unused()
    return Expressions(
        names=ctx.names,
        values=ctx.values,
        condition=trees.get("ConditionExpression"),
        filter=trees.get("FilterExpression"),
        key_condition=trees.get("KeyConditionExpression"),
        update=trees.get("UpdateExpression"),
        projection=trees.get("ProjectionExpression"),
    )


def top_level_names(tree: Condition, names: Mapping[str, str]) -> set[str]:
    """The top-level attribute names a condition or filter reads."""
    found: set[str] = set()

    def visit(operand: Any) -> None:
        if isinstance(operand, Path):
            found.add(str(resolve_path(operand, names)[0]))
        elif isinstance(operand, Call):
            for arg in operand.args:
                visit(arg)

    for node in _walk(tree):
        if isinstance(node, Compare):
            visit(node.left)
            visit(node.right)
        elif isinstance(node, Between):
            for operand in (node.operand, node.low, node.high):
                visit(operand)
        elif isinstance(node, In):
            for operand in (node.operand, *node.choices):
                visit(operand)
        elif isinstance(node, Call):
            visit(node)
    return found


def check_query_filter(tree: Condition, names: Mapping[str, str], key_names: Any) -> None:
    """A Query's FilterExpression may not test the key attributes of the table or index
    being queried (those belong in the KeyConditionExpression)."""
    for name in sorted(top_level_names(tree, names)):
        if name in key_names:
            raise ValidationException(
                "Filter Expression can only contain non-primary key attributes: "
                f"Primary key attribute: {name}"
            )


class _Context:
    def __init__(self, names: dict[str, str], values: dict[str, AttributeValue]) -> None:
        self.names = names
        self.values = values
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()

    # placeholders ---------------------------------------------------------------------
    def _path(self, label: str, path: Path) -> None:
        for element in path.elements:
            if isinstance(element, str) and element.startswith("#"):
                if element not in self.names:
                    raise ValidationException(
                        f"Invalid {label}: An expression attribute name used in the document "
                        f"path is not defined; attribute name: {element}"
                    )
                self.used_names.add(element)

    def _value(self, label: str, value: Value) -> AttributeValue:
        if value.name not in self.values:
            raise ValidationException(
                f"Invalid {label}: An expression attribute value used in expression is not "
                f"defined; attribute value: {value.name}"
            )
        self.used_values.add(value.name)
        return self.values[value.name]

    def _operand(self, label: str, operand: Any) -> None:
        if isinstance(operand, Path):
            self._path(label, operand)
        elif isinstance(operand, Value):
            self._value(label, operand)
        elif isinstance(operand, Call):
            for arg in operand.args:
                self._operand(label, arg)
            self._call_types(label, operand)
        elif isinstance(operand, Arith):
            self._operand(label, operand.left)
            self._operand(label, operand.right)

    def _literal(self, operand: Any) -> AttributeValue | None:
        return self.values.get(operand.name) if isinstance(operand, Value) else None

    # conditions -----------------------------------------------------------------------
    def check_condition(self, label: str, tree: Condition) -> None:
        for node in _walk(tree):
            if isinstance(node, Compare):
                self._operand(label, node.left)
                self._operand(label, node.right)
                if node.op not in ("=", "<>"):
                    self._orderable(label, node.op, node.left, node.right)
            elif isinstance(node, Between):
                for operand in (node.operand, node.low, node.high):
                    self._operand(label, operand)
                self._orderable(label, "BETWEEN", node.operand, node.low, node.high)
                self._between_types(label, node)
            elif isinstance(node, In):
                for operand in (node.operand, *node.choices):
                    self._operand(label, operand)
            elif isinstance(node, Call):
                self._operand(label, node)

    def _call_types(self, label: str, call: Call) -> None:
        def wrong(kind: str) -> ValidationException:
            return ValidationException(
                f"Invalid {label}: Incorrect operand type for operator or function; "
                f"operator or function: {call.name}, operand type: {kind}"
            )

        literals = [self._literal(a) for a in call.args]
        if call.name == "begins_with":
            for lit in literals:
                if lit is not None and type_of(lit) not in ("S", "B"):
                    raise wrong(type_of(lit))
        elif call.name == "attribute_type":
            lit = literals[1]
            if lit is None or type_of(lit) != "S":
                raise wrong(type_of(lit) if lit is not None else "PATH")
            if lit["S"] not in _VALID_TYPES:
                raise ValidationException(
                    f"Invalid {label}: Invalid attribute type name found; type: {lit['S']}, "
                    "valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"
                )
        elif call.name == "size":
            lit = literals[0]
            if lit is not None and type_of(lit) in ("N", "BOOL", "NULL"):
                raise wrong(type_of(lit))
        elif call.name == "list_append":
            for lit in literals:
                if lit is not None and type_of(lit) != "L":
                    raise ValidationException(
                        "Invalid UpdateExpression: Incorrect operand type for operator or "
                        f"function; operator or function: list_append, operand type: "
                        f"{LONG_TYPE_NAMES[type_of(lit)]}"
                    )

    def _orderable(self, label: str, op: str, *operands: Any) -> None:
        """Order comparisons take N, S or B; a literal of another type is a request error
        (an item attribute of another type just makes the comparison false)."""
        for operand in operands:
            lit = self._literal(operand)
            if lit is not None and type_of(lit) not in ("N", "S", "B"):
                raise ValidationException(
                    f"Invalid {label}: Incorrect operand type for operator or function; "
                    f"operator or function: {op}, operand type: {type_of(lit)}"
                )

    def _between_types(self, label: str, node: Between) -> None:
        low, high = self._literal(node.low), self._literal(node.high)
        if low is None or high is None:
            return
        lt, ht = type_of(low), type_of(high)
        bounds = (
            f"lower bound operand: AttributeValue: {{{lt}:{_show(low)}}}, "
            f"upper bound operand: AttributeValue: {{{ht}:{_show(high)}}}"
        )
        if lt != ht:
            raise ValidationException(
                f"Invalid {label}: The BETWEEN operator requires same data type for lower and "
                f"upper bounds; {bounds}"
            )
        order = compare_values(low, high)
        if order is not None and order > 0:
            raise ValidationException(
                f"Invalid {label}: The BETWEEN operator requires upper bound to be greater than "
                f"or equal to lower bound; {bounds}"
            )

    # updates and projections ----------------------------------------------------------
    def check_update(self, update: Update) -> None:
        label = "UpdateExpression"
        for path in update.paths():
            self._path(label, path)
        for action in update.set:
            self._operand(label, action.value)
            if isinstance(action.value, Arith):
                for side in (action.value.left, action.value.right):
                    lit = self._literal(side)
                    if lit is not None and type_of(lit) != "N":
                        raise ValidationException(
                            "Invalid UpdateExpression: Incorrect operand type for operator or "
                            f"function; operator or function: {action.value.op}, operand type: "
                            f"{LONG_TYPE_NAMES[type_of(lit)]}"
                        )
        for op, actions, allowed in (
            ("ADD", update.add, ("N", "SS", "NS", "BS")),
            ("DELETE", update.delete, ("SS", "NS", "BS")),
        ):
            for change in actions:
                assert isinstance(change.value, Value)
                lit = self._value(label, change.value)
                if type_of(lit) not in allowed:
                    raise ValidationException(
                        "Invalid UpdateExpression: Incorrect operand type for operator or "
                        f"function; operator: {op}, operand type: {LONG_TYPE_NAMES[type_of(lit)]}"
                        f", typeSet: ALLOWED_FOR_{op}_OPERAND"
                    )
        _no_overlaps(label, [resolve_path(p, self.names) for p in update.paths()])

    def check_projection(self, projection: Projection) -> None:
        label = "ProjectionExpression"
        for path in projection.paths:
            self._path(label, path)
        _no_overlaps(label, [resolve_path(p, self.names) for p in projection.paths])

    def check_unused(self) -> None:
        unused_names = [n for n in self.names if n not in self.used_names]
        if unused_names:
            raise ValidationException(
                "Value provided in ExpressionAttributeNames unused in expressions: "
                f"keys: {{{', '.join(unused_names)}}}"
            )
        unused_values = [v for v in self.values if v not in self.used_values]
        if unused_values:
            raise ValidationException(
                "Value provided in ExpressionAttributeValues unused in expressions: "
                f"keys: {{{', '.join(unused_values)}}}"
            )


def _walk(tree: Condition) -> Iterator[Condition]:
    yield tree
    if isinstance(tree, Logical):
        yield from _walk(tree.left)
        yield from _walk(tree.right)
    elif isinstance(tree, Not):
        yield from _walk(tree.operand)


def _show(value: AttributeValue) -> str:
    raw = next(iter(value.values()))
    return str(raw)


def _no_overlaps(label: str, paths: list[tuple[PathElement, ...]]) -> None:
    for i, first in enumerate(paths):
        for second in paths[i + 1 :]:
            for a, b in zip(first, second, strict=False):
                if a == b and type(a) is type(b):
                    continue
                if type(a) is not type(b):
                    raise ValidationException(
                        f"Invalid {label}: Two document paths conflict with each other; must "
                        f"remove or rewrite one of these paths; path one: {path_text(first)}, "
                        f"path two: {path_text(second)}"
                    )
                break
            else:
                raise ValidationException(
                    f"Invalid {label}: Two document paths overlap with each other; must remove "
                    f"or rewrite one of these paths; path one: {path_text(first)}, "
                    f"path two: {path_text(second)}"
                )
