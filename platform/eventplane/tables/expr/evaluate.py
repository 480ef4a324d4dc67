"""Evaluate parsed expressions against items: conditions, updates, projections, key ranges.

Every function takes the request's ExpressionAttributeNames (``names``) and
ExpressionAttributeValues (``values``) and never mutates the item it is given. Run
``validate.prepare`` first: it raises DynamoDB's errors for undefined placeholders and bad
literal operands, so evaluation only meets problems that depend on the stored item
(an arithmetic operand that is a string, a path into a scalar, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from eventplane.tables.expr.errors import ValidationException
from eventplane.tables.expr.keys import KeyRange, key_condition
from eventplane.tables.expr.tree import (
    Arith,
    Between,
    Call,
    Compare,
    Condition,
    In,
    Logical,
    Not,
    Operand,
    Path,
    PathElement,
    Projection,
    SetValue,
    Update,
    Value,
)
from eventplane.tables.expr.validate import LONG_TYPE_NAMES, resolve_path
from eventplane.tables.expr.values import (
    MAX_ITEM_SIZE,
    AttributeValue,
    Item,
    compare_values,
    item_size,
    normalize_number,
    number_arith,
    type_of,
    values_equal,
)

__all__ = [
    "KeyRange",
    "UpdateResult",
    "apply_update",
    "condition_holds",
    "get_path",
    "key_condition",
    "project",
]

Names = Mapping[str, str]
Values = Mapping[str, AttributeValue]

_BAD_TYPE = "An operand in the update expression has an incorrect data type"
_BAD_PATH = "The document path provided in the update expression is invalid for update"
_MISSING = "The provided expression refers to an attribute that does not exist in the item"


def get_path(item: Mapping[str, AttributeValue], elements: Sequence[PathElement]) -> Any:
    """The value at a resolved path, or None when any step is missing or of the wrong type."""
    current: Any = {"M": item}
    for element in elements:
        current = _child(current, element)
        if current is None:
            return None
    return current


def _child(container: AttributeValue, element: PathElement) -> Any:
    if isinstance(element, int):
        members = container.get("L")
        return members[element] if members is not None and element < len(members) else None
    fields = container.get("M")
    return fields.get(element) if fields is not None else None


def _operand(
    operand: Operand, item: Mapping[str, AttributeValue], names: Names, values: Values
) -> Any:
    if isinstance(operand, Value):
        return _literal(values, operand.name)
    if isinstance(operand, Path):
        return get_path(item, resolve_path(operand, names))
    if operand.name == "size":
        target = _operand(operand.args[0], item, names, values)
        size = _size(target) if target is not None else None
        return None if size is None else {"N": str(size)}
    raise ValidationException(
        "The function is not allowed to be used this way in an expression; "
        f"function: {operand.name}"
    )


def _literal(values: Values, name: str) -> AttributeValue:
    if name not in values:
        raise ValidationException(
            "An expression attribute value used in expression is not defined; "
            f"attribute value: {name}"
        )
    return values[name]


def _size(value: AttributeValue) -> int | None:
    kind, raw = next(iter(value.items()))
    if kind == "S":
        return len(raw)
    if kind in ("B", "SS", "NS", "BS", "L", "M"):
        return len(raw)
    return None


# --- conditions ----------------------------------------------------------------------


def condition_holds(
    tree: Condition, item: Mapping[str, AttributeValue] | None, names: Names, values: Values
) -> bool:
    """Whether a ConditionExpression/FilterExpression holds for ``item`` (None: no item)."""
    return _holds(tree, item or {}, names, values)


def _holds(
    tree: Condition, item: Mapping[str, AttributeValue], names: Names, values: Values
) -> bool:
    if isinstance(tree, Logical):
        if tree.op == "AND":
            return _holds(tree.left, item, names, values) and _holds(
                tree.right, item, names, values
            )
        return _holds(tree.left, item, names, values) or _holds(tree.right, item, names, values)
    if isinstance(tree, Not):
        return not _holds(tree.operand, item, names, values)
    if isinstance(tree, Compare):
        left = _operand(tree.left, item, names, values)
        right = _operand(tree.right, item, names, values)
        return _compare(tree.op, left, right)
    if isinstance(tree, Between):
        value = _operand(tree.operand, item, names, values)
        low = _operand(tree.low, item, names, values)
        high = _operand(tree.high, item, names, values)
        return _compare(">=", value, low) and _compare("<=", value, high)
    if isinstance(tree, In):
        value = _operand(tree.operand, item, names, values)
        return value is not None and any(
            _compare("=", value, _operand(c, item, names, values)) for c in tree.choices
        )
    return _function(tree, item, names, values)


def _compare(op: str, left: Any, right: Any) -> bool:
    if left is None or right is None:
        # A missing attribute equals nothing, orders with nothing and is unequal to
        # everything, even to another missing attribute.
        return op == "<>"
    if op == "=":
        return values_equal(left, right)
    if op == "<>":
        return not values_equal(left, right)
    order = compare_values(left, right)
    if order is None:
        return False
    return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[op]


def _function(call: Call, item: Mapping[str, AttributeValue], names: Names, values: Values) -> bool:
    first = call.args[0]
    if call.name in ("attribute_exists", "attribute_not_exists"):
        assert isinstance(first, Path)
        exists = get_path(item, resolve_path(first, names)) is not None
        return exists if call.name == "attribute_exists" else not exists
    target = _operand(first, item, names, values)
    arg = _operand(call.args[1], item, names, values)
    if target is None or arg is None:
        return False
    if call.name == "attribute_type":
        return bool(type_of(target) == arg.get("S"))
    if call.name == "begins_with":
        kind = type_of(target)
        if kind != type_of(arg) or kind not in ("S", "B"):
            return False
        return bool(target[kind].startswith(arg[kind]))
    if call.name == "contains":
        return _contains(target, arg)
    raise ValidationException(f"Invalid function name; function: {call.name}")


def _contains(target: AttributeValue, arg: AttributeValue) -> bool:
    kind, other = type_of(target), type_of(arg)
    if kind in ("S", "B"):
        return kind == other and arg[other] in target[kind]
    if kind == "SS":
        return other == "S" and arg["S"] in target["SS"]
    if kind == "NS":
        return other == "N" and Decimal(arg["N"]) in {Decimal(m) for m in target["NS"]}
    if kind == "BS":
        return other == "B" and bytes(arg["B"]) in {bytes(m) for m in target["BS"]}
    if kind == "L":
        return any(values_equal(member, arg) for member in target["L"])
    return False


# --- updates -------------------------------------------------------------------------


@dataclass(frozen=True)
class UpdateResult:
    """The new item and, for ReturnValues UPDATED_OLD/UPDATED_NEW, the updated paths as
    they were before and are after the update (absent paths left out)."""

    item: Item
    updated_old: Item
    updated_new: Item
    size: int
    """``item_size(item)``, for the engine's bookkeeping."""


def apply_update(
    tree: Update,
    item: Mapping[str, AttributeValue] | None,
    names: Names,
    values: Values,
    *,
    key_names: Sequence[str] = (),
    old_size: int | None = None,
) -> UpdateResult:
    """Apply SET, REMOVE, ADD and DELETE to a copy of ``item`` (None: a new item).

    Every SET value is computed from the item as it was before the update, as DynamoDB
    does; ``key_names`` are the table's key attributes, which an update may not touch.
    The new item shares unchanged parts with the old one (only the containers on updated
    paths are copied): treat items as immutable values. ``old_size`` (the stored item's
    ``item_size``, if the caller keeps it) spares re-measuring untouched attributes.
    """
    old: Item = dict(item or {})
    for path in tree.paths():
        top = resolve_path(path, names)[0]
        if top in key_names:
            raise ValidationException(
                f"One or more parameter values were invalid: Cannot update attribute {top}. "
                "This attribute is part of the key"
            )
    new_values = [
        (resolve_path(a.path, names), _set_value(a.value, old, names, values)) for a in tree.set
    ]
    new: Item = dict(old)
    for elements, value in new_values:
        _put(new, elements, value)
    removals = sorted(
        (resolve_path(p, names) for p in tree.remove),
        key=lambda els: [(1, e) if isinstance(e, int) else (0, e) for e in els],
        reverse=True,
    )
    for elements in removals:
        _remove(new, elements)
    for action in tree.add:
        elements = resolve_path(action.path, names)
        _put(
            new,
            elements,
            _add(get_path(new, elements), _literal(values, _value_name(action.value))),
        )
    for action in tree.delete:
        elements = resolve_path(action.path, names)
        remaining = _delete(get_path(new, elements), _literal(values, _value_name(action.value)))
        if remaining is None:
            _remove(new, elements)
        else:
            _put(new, elements, remaining)
    changed = [resolve_path(p, names) for p in tree.paths()]
    touched = {str(elements[0]) for elements in changed}
    untouched = (item_size(old) if old_size is None else old_size) - item_size(
        {k: v for k, v in old.items() if k in touched}
    )
    size = untouched + item_size({k: v for k, v in new.items() if k in touched})
    if size > MAX_ITEM_SIZE:
        raise ValidationException("Item size to update has exceeded the maximum allowed size")
    return UpdateResult(new, _select(old, changed), _select(new, changed), size)


def _value_name(operand: Operand) -> str:
    assert isinstance(operand, Value)
    return operand.name


def _set_value(value: SetValue, item: Item, names: Names, values: Values) -> AttributeValue:
    if isinstance(value, Arith):
        left = _set_value(value.left, item, names, values)
        right = _set_value(value.right, item, names, values)
        if type_of(left) != "N" or type_of(right) != "N":
            raise ValidationException(_BAD_TYPE)
        result = number_arith(value.op, Decimal(left["N"]), Decimal(right["N"]))
        return {"N": normalize_number(result)}
    if isinstance(value, Call):
        if value.name == "if_not_exists":
            assert isinstance(value.args[0], Path)
            current = get_path(item, resolve_path(value.args[0], names))
            if current is not None:
                return current
            return _set_value(value.args[1], item, names, values)
        if value.name == "list_append":
            first = _set_value(value.args[0], item, names, values)
            second = _set_value(value.args[1], item, names, values)
            if type_of(first) != "L" or type_of(second) != "L":
                raise ValidationException(_BAD_TYPE)
            return {"L": first["L"] + second["L"]}
        raise ValidationException(
            f"Invalid UpdateExpression: The function is not allowed in an update expression; "
            f"function: {value.name}"
        )
    found = _operand(value, item, names, values)
    if found is None:
        raise ValidationException(_MISSING)
    return found


def _parent(item: Item, elements: Sequence[PathElement]) -> Any:
    """The container holding the path's last element, made writable by copying each
    container on the way down (path copying: the old item is never touched); DynamoDB's
    error when a step is missing or not a map/list."""
    container: Any = {"M": item}
    for element in elements[:-1]:
        child = _child(container, element)
        if child is None or ("M" not in child and "L" not in child):
            raise ValidationException(_BAD_PATH)
        copied = {"M": dict(child["M"])} if "M" in child else {"L": list(child["L"])}
        if isinstance(element, int):
            container["L"][element] = copied
        else:
            container["M"][element] = copied
        container = copied
    if ("L" if isinstance(elements[-1], int) else "M") not in container:
        raise ValidationException(_BAD_PATH)
    return container


def _put(item: Item, elements: Sequence[PathElement], value: AttributeValue) -> None:
    container = _parent(item, elements)
    last = elements[-1]
    if isinstance(last, int):
        members = container["L"]
        if last < len(members):
            members[last] = value
        else:
            members.append(value)
    else:
        container["M"][last] = value


def _remove(item: Item, elements: Sequence[PathElement]) -> None:
    container = _parent(item, elements)
    last = elements[-1]
    if isinstance(last, int):
        if last < len(container["L"]):
            del container["L"][last]
    else:
        container["M"].pop(last, None)


def _operand_type(op: str, value: AttributeValue, allowed: tuple[str, ...]) -> str:
    kind = type_of(value)
    if kind not in allowed:
        raise ValidationException(
            "Invalid UpdateExpression: Incorrect operand type for operator or function; "
            f"operator: {op}, operand type: {LONG_TYPE_NAMES[kind]}, "
            f"typeSet: ALLOWED_FOR_{op}_OPERAND"
        )
    return kind


def _add(current: AttributeValue | None, value: AttributeValue) -> AttributeValue:
    kind = _operand_type("ADD", value, ("N", "SS", "NS", "BS"))
    if current is None:
        return value
    if type_of(current) != kind:
        raise ValidationException(_BAD_TYPE)
    if kind == "N":
        total = number_arith("+", Decimal(current["N"]), Decimal(value["N"]))
        return {"N": normalize_number(total)}
    if kind == "NS":
        have = {Decimal(m) for m in current["NS"]}
        extra = [m for m in value["NS"] if Decimal(m) not in have]
        return {"NS": [*current["NS"], *extra]}
    extra = [m for m in value[kind] if m not in current[kind]]
    return {kind: [*current[kind], *extra]}


def _delete(current: AttributeValue | None, value: AttributeValue) -> AttributeValue | None:
    kind = _operand_type("DELETE", value, ("SS", "NS", "BS"))
    if current is None:
        return None
    if type_of(current) != kind:
        raise ValidationException(_BAD_TYPE)
    if kind == "NS":
        gone = {Decimal(m) for m in value["NS"]}
        kept = [m for m in current["NS"] if Decimal(m) not in gone]
    else:
        kept = [m for m in current[kind] if m not in value[kind]]
    return {kind: kept} if kept else None


# --- projection ----------------------------------------------------------------------


def project(
    tree: Projection, item: Mapping[str, AttributeValue], names: Names | None = None
) -> Item:
    """The parts of ``item`` a ProjectionExpression names; list elements keep their order."""
    return _select(item, [resolve_path(p, names or {}) for p in tree.paths])


def _select(item: Mapping[str, AttributeValue], paths: Sequence[Sequence[PathElement]]) -> Item:
    wanted: dict[PathElement, Any] = {}
    for elements in paths:
        node = wanted
        for element in elements[:-1]:
            child = node.setdefault(element, {})
            if child is True:
                break
            node = child
        else:
            node[elements[-1]] = True
    picked = _pick({"M": item}, wanted)
    return picked["M"] if picked else {}


def _pick(value: AttributeValue, wanted: dict[PathElement, Any]) -> AttributeValue | None:
    if "M" in value:
        out: dict[str, Any] = {}
        for key, sub in wanted.items():
            if isinstance(key, str) and key in value["M"]:
                got = value["M"][key] if sub is True else _pick(value["M"][key], sub)
                if got is not None:
                    out[key] = got
        return {"M": out} if out else None
    if "L" in value:
        members = []
        for index in sorted(k for k in wanted if isinstance(k, int)):
            if index < len(value["L"]):
                sub = wanted[index]
                got = value["L"][index] if sub is True else _pick(value["L"][index], sub)
                if got is not None:
                    members.append(got)
        return {"L": members} if members else None
    return None
