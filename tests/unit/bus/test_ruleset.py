"""RuleSet: the indexed matcher must give exactly what matching every pattern gives.

Checked on the pattern data files (one rule per set), on chosen edge cases, and on large
seeded sets of generated rules and events against the naive loop over CompiledPatterns.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from eventplane.bus import CompiledPattern, compile_pattern
from eventplane.bus.ruleset import RuleSet

DATA = Path(__file__).parents[2] / "data" / "patterns"


def _naive(rules: list[tuple[Any, CompiledPattern]], event: Any) -> list[Any]:
    return [value for value, pattern in rules if pattern.matches(event)]


def _ruleset(
    *patterns: Mapping[str, Any],
) -> tuple[RuleSet[int], list[tuple[int, CompiledPattern]]]:
    rules = [(i, compile_pattern(p)) for i, p in enumerate(patterns)]
    return RuleSet(rules), rules


def _cases() -> list[Any]:
    params = []
    for path in sorted(DATA.glob("*.json")):
        if path.name == "invalid.json":
            continue
        for case in json.loads(path.read_text(encoding="utf-8")):
            params.append(pytest.param(case, id=f"{path.stem}/{case['name']}"))
    return params


@pytest.mark.parametrize("case", _cases())
def test_data_file_case_as_a_single_rule_set(case: dict[str, Any]) -> None:
    ruleset, _ = _ruleset(case["pattern"])
    assert ruleset.matching(case["event"]) == ([0] if case["expected"] else [])


def test_all_data_file_patterns_in_one_set_agree_with_the_naive_loop() -> None:
    cases = [c.values[0] for c in _cases()]
    ruleset, rules = _ruleset(*(c["pattern"] for c in cases))
    for case in cases:
        assert ruleset.matching(case["event"]) == _naive(rules, case["event"]), case["name"]


# --- chosen edge cases --------------------------------------------------------------------


def test_empty_set_matches_nothing() -> None:
    ruleset: RuleSet[str] = RuleSet([])
    assert len(ruleset) == 0
    assert ruleset.matching({"source": "x"}) == []


def test_len_counts_rules_and_accepts_any_iterable() -> None:
    rules = ((f"r{i}", compile_pattern({"source": [f"s{i}"]})) for i in range(5))
    ruleset = RuleSet(rules)
    assert len(ruleset) == 5
    assert ruleset.matching({"source": "s3"}) == ["r3"]


def test_dotted_event_keys_are_expanded_where_any_rule_looks() -> None:
    """The set expands an event's "a.b" keys only when one lies on a path some rule
    descends; every rule still answers as it does alone (dotted on and off the path)."""
    rules = [
        ("flat", compile_pattern({"source": ["s"]})),
        ("nested", compile_pattern({"detail": {"state": {"name": ["on"]}}})),
        ("dotted", compile_pattern({"detail.kind": ["k"]})),
        ("exists", compile_pattern({"other": [{"exists": False}]})),
    ]
    ruleset = RuleSet(rules)
    events = [
        {"source": "s", "detail": {"state.name": "on", "kind": "k"}},
        {"source": "s", "detail.state": {"name": "on"}, "detail": {"kind": "x"}},
        {"source": "s", "other.x": 1, "detail.kind": "k"},
        {"source.y": "s", "detail": {"state": {"name": "off"}}},
        {"detail": {"state": [{"name.z": 1}, {"name": "on"}]}},
    ]
    for event in events:
        assert ruleset.matching(event) == _naive(rules, event), event
    assert ruleset.matching(events[0]) == ["flat", "nested", "dotted", "exists"]
    assert ruleset.matching(events[1]) == ["flat", "nested", "exists"]


def test_results_keep_insertion_order_and_repeated_values() -> None:
    pattern = compile_pattern({"source": ["s"]})
    other = compile_pattern({"detail-type": ["d"]})
    unanchored = compile_pattern({"source": [{"prefix": "s"}]})
    ruleset = RuleSet([("c", pattern), ("a", unanchored), ("b", other), ("c", pattern)])
    assert ruleset.matching({"source": "s", "detail-type": "d"}) == ["c", "a", "b", "c"]


def test_non_object_event_matches_nothing() -> None:
    ruleset, _ = _ruleset({"a": [{"exists": False}]}, {"source": ["x"]})
    assert ruleset.matching({}) == [0]
    assert ruleset.matching(["x"]) == []  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [
        ({"n": [5]}, {"n": 5.0}, True),
        ({"n": [5.0]}, {"n": 5}, True),
        ({"n": [5, 5.0]}, {"n": 5}, True),
        ({"n": [0]}, {"n": -0.0}, True),
        ({"n": [1]}, {"n": True}, False),
        ({"n": [0]}, {"n": False}, False),
        ({"b": [True]}, {"b": 1}, False),
        ({"b": [False]}, {"b": 0}, False),
        ({"b": [True]}, {"b": True}, True),
        ({"n": [3]}, {"n": "3"}, False),
        ({"n": ["3"]}, {"n": 3}, False),
        ({"x": [None]}, {"x": None}, True),
        ({"x": [None]}, {"x": ""}, False),
        ({"x": [None]}, {}, False),
        ({"x": [""]}, {"x": ""}, True),
        ({"x": [""]}, {"x": None}, False),
        ({"x": ["a"]}, {"x": [["b"], ["a"]]}, True),
        ({"x": ["a"]}, {"x": {"x": "a"}}, False),
        ({"x": ["a"]}, {"x": [{"x": "a"}]}, False),
        ({"x": [1]}, {"x": [True, 1.0]}, True),
        ({"x": [2**60]}, {"x": float(2**60) + 1}, True),
        ({"x": [2**60 + 1]}, {"x": float(2**60)}, False),
    ],
)
def test_exact_values_are_typed_and_numbers_compare_by_value(
    pattern: dict[str, Any], event: dict[str, Any], expected: bool
) -> None:
    ruleset, rules = _ruleset(pattern, {"source": ["other"]})
    assert ruleset.matching(event) == ([0] if expected else [])
    assert ruleset.matching(event) == _naive(rules, event)


def test_values_that_are_not_json_scalars_never_equal_an_exact_value() -> None:
    from decimal import Decimal

    ruleset, _ = _ruleset({"n": [5]}, {"n": [5], "m": ["x"]})
    assert ruleset.matching({"n": Decimal(5), "m": "x"}) == []
    assert ruleset.matching({"n": (5,)}) == []


def test_nested_anchor_needs_fields_from_one_array_element() -> None:
    ruleset, rules = _ruleset(
        {"employees": {"first": ["Anna"], "last": ["Jones"]}},
        {"employees": {"first": ["Anna"], "last": ["Smith"]}},
    )
    event = {"employees": [{"first": "Anna", "last": "Smith"}, [{"first": "P", "last": "Jones"}]]}
    assert ruleset.matching(event) == [1] == _naive(rules, event)


def test_nested_anchor_under_scalars_and_missing_parents() -> None:
    ruleset, _ = _ruleset({"detail": {"state": ["on"]}}, {"detail": {"x": {"y": [1]}}})
    assert ruleset.matching({"detail": "on"}) == []
    assert ruleset.matching({"detail": ["on"]}) == []
    assert ruleset.matching({"detail": None}) == []
    assert ruleset.matching({"detail": [{"state": "off"}, {"state": ["on"]}]}) == [0]
    assert ruleset.matching({"detail": [{"x": [{"y": 2}, {"y": [1.0]}]}]}) == [1]


def test_or_anchors_on_every_branch_and_returns_the_rule_once() -> None:
    ruleset, rules = _ruleset(
        {"$or": [{"source": ["a"]}, {"detail-type": ["b"]}, {"detail": {"k": ["c"]}}]},
        {"$or": [{"source": ["a"]}, {"source": [{"prefix": "z"}]}]},
    )
    cases: list[tuple[dict[str, Any], list[int]]] = [
        ({"source": "a", "detail-type": "b", "detail": {"k": "c"}}, [0, 1]),
        ({"detail-type": "b"}, [0]),
        ({"detail": {"k": ["c"]}}, [0]),
        ({"source": "zz"}, [1]),
        ({"source": "q"}, []),
    ]
    for event, expected in cases:
        assert ruleset.matching(event) == expected == _naive(rules, event)


def test_anchored_leaves_are_not_the_only_condition() -> None:
    ruleset, _ = _ruleset(
        {
            "source": ["s"],
            "detail-type": ["d"],
            "detail": {"n": [{"numeric": [">", 3]}]},
            "region": [{"anything-but": "eu-1"}],
        }
    )
    event: dict[str, Any] = {
        "source": "s",
        "detail-type": "d",
        "detail": {"n": 4},
        "region": "us-1",
    }
    assert ruleset.matching(event) == [0]
    assert ruleset.matching({**event, "detail": {"n": 3}}) == []
    assert ruleset.matching({**event, "region": "eu-1"}) == []
    del event["region"]  # anything-but needs a value
    assert ruleset.matching(event) == []


def test_prefix_leaves_are_indexed_by_every_prefix_length() -> None:
    ruleset, rules = _ruleset(
        {"source": [{"prefix": "aws."}, "custom"]},
        {"source": [{"prefix": "aws.ec"}], "detail": {"id": [{"prefix": "i-"}, 7]}},
        {"source": [{"prefix": ""}]},
        {"source": [{"prefix": {"equals-ignore-case": "AWS."}}]},
        {"detail": {"id": [{"prefix": "i-"}], "kind": ["vm"]}},
    )
    cases: list[tuple[dict[str, Any], list[int]]] = [
        ({"source": "aws.ec2", "detail": {"id": "i-1"}}, [0, 1, 2, 3]),
        ({"source": "AWS.ec2", "detail": {"id": 7}}, [2, 3]),
        ({"source": "aws.ec2", "detail": {"id": 7.0}}, [0, 1, 2, 3]),
        ({"source": "aws.", "detail": {"id": "i"}}, [0, 2, 3]),
        ({"source": "aws", "detail": [{"id": "i-"}, {"kind": "vm"}]}, [2]),
        ({"source": ["x", "custom"], "detail": [{"id": "i-", "kind": ["vm"]}]}, [0, 2, 4]),
        ({"source": "", "detail": {"id": "i-2", "kind": "vm"}}, [2, 4]),
        ({"source": 5}, []),
        ({"source": None}, []),
        ({"source": ["aws.ec2", "aws.s3"]}, [0, 2, 3]),
    ]
    for event, expected in cases:
        assert ruleset.matching(event) == expected == _naive(rules, event), event


def test_many_values_on_two_anchored_leaves() -> None:
    sources = [f"s{i}" for i in range(20)]
    types = [f"t{i}" for i in range(20)]
    ruleset, rules = _ruleset({"source": sources, "detail-type": types, "a": [1]})
    for event in ({"source": "s19", "detail-type": "t0", "a": 1}, {"source": "s1", "a": 1}):
        assert ruleset.matching(event) == _naive(rules, event)


def test_the_set_does_not_change_with_the_rules_list() -> None:
    rules = [("a", compile_pattern({"source": ["s"]}))]
    ruleset = RuleSet(rules)
    rules.append(("b", compile_pattern({"source": ["s"]})))
    assert ruleset.matching({"source": "s"}) == ["a"]


# --- seeded cross-check against the naive loop -------------------------------------------

FIELDS = ["source", "detail-type", "a", "b", "c"]
NESTED = ["detail", "items"]
SCALARS: list[Any] = [
    "", "x", "y", "X", "abc", "ab", "5", "aws.ec2", "aws.s3", "10.0.0.1",
    0, 1, 5, 5.0, -0.0, 2.5, 100, True, False, None,
]  # fmt: skip
EXACT: list[Any] = ["", "x", "y", "abc", "5", "aws.ec2", "aws.s3", 0, 1, 5, 5.0, 2.5, True, None]
PREFIXES = ["", "a", "ab", "abc", "abcd", "x", "aws.", "aws.e", "5"]


def _condition(rng: random.Random) -> Any:
    kind = rng.randrange(12)
    if kind < 6:
        return rng.choice(EXACT)
    if kind == 6:
        return {"prefix": rng.choice(["", "a", "x", "aws."])}
    if kind == 7:
        return {"numeric": rng.choice([[">", 1], ["<=", 5], [">=", 0, "<", 5], ["=", 5]])}
    if kind == 8:
        return {"exists": rng.random() < 0.5}
    if kind == 9:
        return {"anything-but": rng.choice(["x", ["x", "abc"], 5, [0, 1], {"prefix": "a"}])}
    if kind == 10:
        return {"suffix": rng.choice(["c", "3", ""])}
    return {"equals-ignore-case": rng.choice(["X", "ABC"])}


def _leaf(rng: random.Random) -> list[Any]:
    # Leaves of exact values and plain prefixes give the index something to anchor on.
    roll = rng.random()
    if roll < 0.45:
        return rng.sample(EXACT, rng.randint(1, 3))
    if roll < 0.6:
        prefixes = [{"prefix": p} for p in rng.sample(PREFIXES, rng.randint(1, 2))]
        return prefixes + rng.sample(EXACT, rng.randint(0, 2))
    return [_condition(rng) for _ in range(rng.randint(1, 3))]


def _pattern(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    pattern: dict[str, Any] = {}
    for name in rng.sample(FIELDS, rng.randint(1, 3)):
        pattern[name] = _leaf(rng)
    if depth < 2 and rng.random() < 0.35:
        pattern[rng.choice(NESTED)] = _pattern(rng, depth + 1)
    if depth < 2 and rng.random() < 0.15:
        pattern["$or"] = [_pattern(rng, depth + 1) for _ in range(rng.randint(2, 3))]
    if depth == 0 and rng.random() < 0.1:  # no leaf of its own: anchors come from below
        pattern = {k: v for k, v in pattern.items() if not isinstance(v, list)} or pattern
    return pattern


def _value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if roll < 0.65 or depth >= 3:
        return rng.choice(SCALARS)
    if roll < 0.85:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return _event(rng, depth + 1)


def _event(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    event = {name: _value(rng, depth) for name in FIELDS if rng.random() < 0.75}
    for name in NESTED:
        if depth < 2 and rng.random() < 0.5:
            event[name] = (
                _event(rng, depth + 1)
                if rng.random() < 0.6
                else [_event(rng, depth + 1) for _ in range(rng.randint(0, 3))]
            )
    return event


@pytest.mark.parametrize("seed", [1, 42, 2024, 99991])
def test_generated_rule_sets_agree_with_the_naive_loop(seed: int) -> None:
    rng = random.Random(seed)
    rules = [(f"rule-{i}", compile_pattern(_pattern(rng))) for i in range(300)]
    ruleset = RuleSet(rules)
    assert len(ruleset) == len(rules)
    # Most rules must go through the index, or this would only test the fallback.
    assert len(ruleset._root[0]) < len(rules) // 4
    matched = 0
    for _ in range(1500):
        event = _event(rng)
        expected = _naive(rules, event)
        assert ruleset.matching(event) == expected, (event, expected)
        matched += len(expected)
    # Several rules per event match and most do not: both outcomes are well exercised.
    assert 1500 * 3 < matched < 1500 * 300 // 10


def _dotted(rng: random.Random, event: dict[str, Any]) -> dict[str, Any]:
    """``event`` with some nested keys written flat: ``{"a": {"b": 1}}`` as ``{"a.b": 1}``
    (in place of the object, beside it, or beside a scalar at ``a``), at any depth."""
    out: dict[str, Any] = {}
    for key, value in event.items():
        if isinstance(value, dict) and value and rng.random() < 0.5:
            value = _dotted(rng, value)
            moved = rng.sample(sorted(value), rng.randint(1, len(value)))
            for inner in moved:
                out[f"{key}.{inner}"] = value.pop(inner)
            roll = rng.random()
            if value and roll < 0.7:
                out[key] = value
            elif roll < 0.85:
                out[key] = rng.choice(SCALARS)  # a leaf where dotted keys add an object
        elif isinstance(value, dict):
            out[key] = _dotted(rng, value)
        else:
            out[key] = value
    return out


@pytest.mark.parametrize("seed", [5, 314])
def test_generated_rule_sets_agree_with_the_naive_loop_on_dotted_events(seed: int) -> None:
    """Events that spell nested keys as "a.b": the set expands them only when a deeper path
    or a rule's own check reads the event, and must answer as each rule does alone."""
    rng = random.Random(seed)
    rules = [(f"rule-{i}", compile_pattern(_pattern(rng))) for i in range(300)]
    ruleset = RuleSet(rules)
    dotted = matched = 0
    for _ in range(1500):
        event = _dotted(rng, _event(rng))
        dotted += any("." in key for key in event)
        expected = _naive(rules, event)
        assert ruleset.matching(event) == expected, (event, expected)
        matched += len(expected)
    assert dotted > 300 and matched > 1500


@pytest.mark.parametrize("seed", [3, 77])
def test_generated_envelope_rules_agree_with_the_naive_loop(seed: int) -> None:
    # Many rules sharing source/detail-type values, as a bus's rules do.
    rng = random.Random(seed)
    sources = [f"app.{n}" for n in range(8)]
    types = [f"Thing {n}" for n in range(5)]
    patterns: list[dict[str, Any]] = []
    for _ in range(400):
        pattern: dict[str, Any] = {}
        if rng.random() < 0.9:
            pattern["source"] = rng.sample(sources, rng.randint(1, 2))
        if rng.random() < 0.7:
            pattern["detail-type"] = rng.sample(types, rng.randint(1, 2))
        pattern["detail"] = _pattern(rng, 1)
        patterns.append(pattern)
    rules = [(i, compile_pattern(p)) for i, p in enumerate(patterns)]
    ruleset = RuleSet(rules)
    hits = 0
    for _ in range(1500):
        event: dict[str, Any] = {
            "source": rng.choice([*sources, "unknown", ["app.1", "app.2"]]),
            "detail-type": rng.choice([*types, 5]),
            "detail": _event(rng, 1),
        }
        expected = _naive(rules, event)
        assert ruleset.matching(event) == expected, event
        hits += len(expected)
    assert hits > 300
