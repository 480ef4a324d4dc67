"""Bad input of any shape ends in a ValidationException, never another exception: the
table server answers it and keeps serving."""

from __future__ import annotations

import contextlib
import copy
import random

import pytest

from eventplane.tables.expr import (
    ValidationException,
    apply_update,
    condition_holds,
    key_condition,
    parse_condition,
    parse_update,
    project,
)
from eventplane.tables.expr.parser import parse_projection

_TOKENS = [
    "a", "b.c", "l[1]", "l[99]", "#n", ":v", ":w", ":l", "=", "<>", "<", ">=", "AND", "OR",
    "NOT", "BETWEEN", "IN", "(", ")", ",", "+", "-", "SET", "REMOVE", "ADD", "DELETE",
    "size(a)", "attribute_exists(", "begins_with(", "contains(", "if_not_exists(",
    "list_append(", "status", "[", "]", ".", "$", "\u00e9", "#", ":", "0",
]  # fmt: skip
_NAMES = {"#n": "n"}
_VALUES = {":v": {"N": "1"}, ":w": {"S": "x"}, ":l": {"L": [{"N": "2"}]}}
_ITEM = {
    "pk": {"S": "k"},
    "a": {"N": "3"},
    "b": {"M": {"c": {"SS": ["x"]}}},
    "l": {"L": [{"S": "x"}, {"N": "2"}]},
    "n": {"S": "s"},
}


def _soup(rng: random.Random) -> str:
    return " ".join(rng.choice(_TOKENS) for _ in range(rng.randint(1, 9)))


def _operand(rng: random.Random) -> str:
    return rng.choice(["a", "b.c", "l[1]", "l[7]", "#n", ":v", ":w", ":l", "size(l)", "pk"])


def _condition(rng: random.Random, depth: int = 0) -> str:
    pick = rng.randrange(8 if depth < 3 else 5)
    x, y, z = _operand(rng), _operand(rng), _operand(rng)
    if pick == 0:
        return f"{x} {rng.choice(['=', '<>', '<', '<=', '>', '>='])} {y}"
    if pick == 1:
        return f"{x} BETWEEN {y} AND {z}"
    if pick == 2:
        return f"{x} IN ({y}, {z})"
    if pick == 3:
        fn = rng.choice(["attribute_exists", "attribute_not_exists"])
        return f"{fn}({rng.choice(['a', 'b.c', 'l[1]', '#n'])})"
    if pick == 4:
        fn = rng.choice(["begins_with", "contains"])
        return f"{fn}({x}, {y})"
    if pick == 5:
        return f"NOT {_condition(rng, depth + 1)}"
    if pick == 6:
        return f"({_condition(rng, depth + 1)})"
    op = rng.choice(["AND", "OR"])
    return f"{_condition(rng, depth + 1)} {op} {_condition(rng, depth + 1)}"


def _update(rng: random.Random) -> str:
    value = rng.choice(
        [":v", ":w", ":l", "a", "a + :v", "l[0] - :v", "if_not_exists(z, :v)", "list_append(l, :l)"]
    )
    target = rng.choice(["a", "z", "b.c", "b.d", "l[0]", "l[5]", "#n", "q.r", "n[0]"])
    clauses = [
        f"SET {target} = {value}",
        f"REMOVE {rng.choice(['a', 'b.c', 'l[0]', 'ghost.x', 'n.y'])}",
        f"ADD {rng.choice(['a', 'b.c', 'z', 'n'])} {rng.choice([':v', ':w', ':s'])}",
        f"DELETE {rng.choice(['b.c', 'z', 'a'])} {rng.choice([':s', ':v'])}",
    ]
    rng.shuffle(clauses)
    return " ".join(clauses[: rng.randint(1, 4)])


@pytest.mark.parametrize("seed", range(4))
def test_random_text_only_raises_validation_errors(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(400):
        text = _soup(rng)
        for parse in (parse_condition, parse_update, parse_projection):
            with contextlib.suppress(ValidationException):
                parse(text)


@pytest.mark.parametrize("seed", range(4))
def test_random_valid_expressions_evaluate_or_raise_validation_errors(seed: int) -> None:
    rng = random.Random(seed)
    names = {"#n": "n"}
    values = {**_VALUES, ":s": {"SS": ["x", "y"]}}
    evaluated = updated = 0
    for _ in range(300):
        try:
            tree = parse_condition(_condition(rng))
            condition_holds(tree, _ITEM, names, values)
            evaluated += 1
        except ValidationException:
            pass
        try:
            before = copy.deepcopy(_ITEM)
            apply_update(parse_update(_update(rng)), _ITEM, names, values)
            assert before == _ITEM
            updated += 1
        except ValidationException:
            pass
    # most generated expressions are valid: the evaluators really ran
    assert evaluated >= 100
    assert updated >= 50


def test_evaluating_without_prepare_names_the_missing_placeholder() -> None:
    with pytest.raises(ValidationException) as caught:
        condition_holds(parse_condition("a = :nope"), _ITEM, {}, {})
    assert caught.value.message.endswith("attribute value: :nope")
    with pytest.raises(ValidationException) as caught:
        project(parse_projection("#x"), _ITEM, {})
    assert caught.value.message.endswith("attribute name: #x")
    with pytest.raises(ValidationException):
        apply_update(parse_update("ADD a :nope"), _ITEM, {}, {})


def test_key_range_matches_whole_items() -> None:
    tree = parse_condition("pk = :p AND a BETWEEN :lo AND :hi", "KeyConditionExpression")
    values = {":p": {"S": "k"}, ":lo": {"N": "1"}, ":hi": {"N": "3"}}
    key_range = key_condition(tree, [("pk", "S"), ("a", "N")], {}, values)
    assert key_range.matches(_ITEM)
    assert not key_range.matches({**_ITEM, "a": {"N": "4"}})
    assert not key_range.matches({**_ITEM, "pk": {"S": "other"}})
    assert not key_range.matches({"a": {"N": "2"}})
