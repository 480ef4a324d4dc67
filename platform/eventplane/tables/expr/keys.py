"""KeyConditionExpression → the key range a Query reads.

A key condition is an equality on the partition (hash) key, optionally ANDed with one
condition on the sort (range) key: = < <= > >= BETWEEN or begins_with. Anything else is
rejected with DynamoDB's message before the engine reads a single item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from eventplane.tables.expr.errors import ValidationException
from eventplane.tables.expr.tree import (
    Between,
    Call,
    Compare,
    Condition,
    In,
    Logical,
    Not,
    Path,
    Value,
)
from eventplane.tables.expr.validate import resolve_path
from eventplane.tables.expr.values import AttributeValue, compare_values, type_of

__all__ = ["KeyRange", "key_condition"]

_FLIP = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


@dataclass(frozen=True)
class KeyRange:
    """The partition to read and the predicate on its sort key.

    ``op`` is None (the whole partition), one of = < <= > >=, ``BETWEEN`` (two operands)
    or ``begins_with``.
    """

    hash_name: str
    hash_value: AttributeValue
    range_name: str | None = None
    op: str | None = None
    operands: tuple[AttributeValue, ...] = ()

    def matches(self, item: Mapping[str, AttributeValue]) -> bool:
        """Whether an item (or its key) is in the partition and the sort-key range."""
        hash_value = item.get(self.hash_name)
        if hash_value is None or compare_values(hash_value, self.hash_value) != 0:
            return False
        return self.range_name is None or self.range_matches(item.get(self.range_name))

    def range_matches(self, value: AttributeValue | None) -> bool:
        """Whether an item's sort key value lies in the range."""
        if self.op is None:
            return True
        if value is None:
            return False
        first = self.operands[0]
        if self.op == "begins_with":
            kind = type_of(value)
            return kind == type_of(first) and bool(value[kind].startswith(first[kind]))
        order = compare_values(value, first)
        if order is None:
            return False
        if self.op == "BETWEEN":
            upper = compare_values(value, self.operands[1])
            return order >= 0 and upper is not None and upper <= 0
        return {
            "=": order == 0,
            "<": order < 0,
            "<=": order <= 0,
            ">": order > 0,
            ">=": order >= 0,
        }[self.op]


def _value(values: Mapping[str, AttributeValue], operand: Value) -> AttributeValue:
    if operand.name not in values:
        raise ValidationException(
            "Invalid KeyConditionExpression: An expression attribute value used in expression "
            f"is not defined; attribute value: {operand.name}"
        )
    return values[operand.name]


def _parts(tree: Condition, out: list[Condition]) -> None:
    if isinstance(tree, Logical):
        if tree.op == "OR":
            raise ValidationException("Invalid operator used in KeyConditionExpression: OR")
        _parts(tree.left, out)
        _parts(tree.right, out)
    elif isinstance(tree, Not):
        raise ValidationException("Invalid operator used in KeyConditionExpression: NOT")
    elif isinstance(tree, In):
        raise ValidationException("Invalid operator used in KeyConditionExpression: IN")
    else:
        out.append(tree)


def _key_name(operand: object, names: Mapping[str, str]) -> str | None:
    if isinstance(operand, Call):
        raise ValidationException("KeyConditionExpressions cannot contain nested operations")
    if not isinstance(operand, Path):
        return None
    elements = resolve_path(operand, names)
    if len(elements) != 1:
        raise ValidationException(
            "KeyConditionExpressions cannot have conditions on nested attributes"
        )
    return str(elements[0])


def _term(
    part: Condition, names: Mapping[str, str], values: Mapping[str, AttributeValue]
) -> tuple[str, str, tuple[AttributeValue, ...]]:
    """(attribute, operator, operand values) of one key condition."""
    if isinstance(part, Compare):
        if part.op == "<>":
            raise ValidationException("Invalid operator used in KeyConditionExpression: <>")
        left, right = _key_name(part.left, names), _key_name(part.right, names)
        if left is not None and isinstance(part.right, Value):
            return left, part.op, (_value(values, part.right),)
        if right is not None and isinstance(part.left, Value):
            return right, _FLIP[part.op], (_value(values, part.left),)
        raise ValidationException(
            "Invalid KeyConditionExpression: Query key condition not supported"
        )
    if isinstance(part, Between):
        name = _key_name(part.operand, names)
        if name is None:
            raise ValidationException(
                "Invalid condition in KeyConditionExpression: BETWEEN operator must have the "
                "key attribute as its first operand"
            )
        if not isinstance(part.low, Value) or not isinstance(part.high, Value):
            raise ValidationException("Query key condition not supported")
        return name, "BETWEEN", (_value(values, part.low), _value(values, part.high))
    assert isinstance(part, Call)
    if part.name != "begins_with":
        raise ValidationException(f"Invalid operator used in KeyConditionExpression: {part.name}")
    name = _key_name(part.args[0], names)
    if name is None:
        raise ValidationException(
            "Invalid condition in KeyConditionExpression: begins_with operator must have the "
            "key attribute as its first operand"
        )
    if not isinstance(part.args[1], Value):
        raise ValidationException("Query key condition not supported")
    return name, "begins_with", (_value(values, part.args[1]),)


def key_condition(
    tree: Condition,
    key_schema: Sequence[tuple[str, str]],
    names: Mapping[str, str] | None = None,
    values: Mapping[str, AttributeValue] | None = None,
) -> KeyRange:
    """The KeyRange of a parsed KeyConditionExpression on a table or index whose
    ``key_schema`` is (name, type) pairs, hash key first."""
    names, values = names or {}, values or {}
    parts: list[Condition] = []
    _parts(tree, parts)
    terms = [_term(part, names, values) for part in parts]
    seen: set[str] = set()
    for name, _, _ in terms:
        if name in seen:
            raise ValidationException(
                "KeyConditionExpressions must only contain one condition per key"
            )
        seen.add(name)
    types = dict(key_schema)
    hash_name = key_schema[0][0]
    range_name = key_schema[1][0] if len(key_schema) > 1 else None
    if hash_name not in seen:
        raise ValidationException(f"Query condition missed key schema element: {hash_name}")
    if len(terms) > 2 or any(name not in types for name in seen):
        raise ValidationException("Query key condition not supported")
    hash_value: AttributeValue | None = None
    op: str | None = None
    operands: tuple[AttributeValue, ...] = ()
    for name, term_op, term_values in terms:
        for value in term_values:
            if type_of(value) != types[name]:
                raise ValidationException(
                    "One or more parameter values were invalid: Condition parameter type does "
                    "not match schema type"
                )
        if name == hash_name:
            if term_op != "=":
                raise ValidationException("Query key condition not supported")
            hash_value = term_values[0]
        else:
            op, operands = term_op, term_values
    assert hash_value is not None
    return KeyRange(hash_name, hash_value, range_name if op else None, op, operands)
