"""EventBridge event patterns: behaviour from data files, cross-checked against a naive
reference interpreter on every case and on thousands of generated ones."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import grpc
import pytest

from eventplane.bus import CompiledPattern, InvalidEventPattern, compile_pattern
from eventplane.errors.rpc import status_of
from eventplane.matching._reference import reference_matches

DATA = Path(__file__).parents[2] / "data" / "patterns"


def _load(*, invalid: bool) -> list[Any]:
    params = []
    for path in sorted(DATA.glob("*.json")):
        if (path.name == "invalid.json") != invalid:
            continue
        for case in json.loads(path.read_text(encoding="utf-8")):
            params.append(pytest.param(case, id=f"{path.stem}/{case['name']}"))
    return params


VALID = _load(invalid=False)
INVALID = _load(invalid=True)


def test_data_files_cover_enough_cases() -> None:
    assert len(VALID) >= 120
    assert len(INVALID) >= 25
    ids = [p.id for p in VALID + INVALID]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", VALID)
def test_pattern_matches_as_documented(case: dict[str, Any]) -> None:
    compiled = compile_pattern(case["pattern"])
    assert compiled.matches(case["event"]) is case["expected"]


@pytest.mark.parametrize("case", VALID)
def test_reference_agrees_with_documented_result(case: dict[str, Any]) -> None:
    assert reference_matches(case["pattern"], case["event"]) is case["expected"]


@pytest.mark.parametrize("case", INVALID)
def test_invalid_pattern_is_rejected_with_reason(case: dict[str, Any]) -> None:
    with pytest.raises(InvalidEventPattern) as caught:
        compile_pattern(case["pattern"])
    assert caught.value.message.startswith("Event pattern is not valid. Reason: ")
    assert case["error_contains"] in caught.value.message


def test_error_carries_aws_code_and_grpc_status() -> None:
    with pytest.raises(InvalidEventPattern) as caught:
        compile_pattern({"detail": {"price": [{"numeric": [">", "1"]}]}})
    err = caught.value
    assert err.code == "InvalidEventPatternException"
    assert status_of(err) is grpc.StatusCode.INVALID_ARGUMENT
    assert not err.retriable
    assert err.message == (
        "Event pattern is not valid. Reason: Value of > must be numeric at detail.price"
    )


def test_text_and_object_forms_compile_the_same() -> None:
    pattern = {"detail": {"n": [{"numeric": [">", 1]}], "s": [{"prefix": "a"}]}}
    event = {"detail": {"n": 2, "s": "abc"}}
    assert compile_pattern(json.dumps(pattern)).matches(event)
    assert compile_pattern(json.dumps(pattern).encode()).matches(event)
    assert compile_pattern(pattern).matches(event)


def test_compiled_pattern_is_isolated_from_later_changes_to_its_source() -> None:
    pattern: dict[str, Any] = {"source": ["a"]}
    compiled = compile_pattern(pattern)
    pattern["source"].append("b")
    assert not compiled.matches({"source": "b"})
    assert compiled.source == {"source": ["a"]}


def test_non_object_event_never_matches() -> None:
    compiled = compile_pattern({"a": [{"exists": False}]})
    assert compiled.matches({})
    assert not compiled.matches(["a"])  # type: ignore[arg-type]


def test_repr_shows_the_pattern() -> None:
    compiled = compile_pattern('{"b": [1], "a": ["x"]}')
    assert isinstance(compiled, CompiledPattern)
    assert repr(compiled) == 'CompiledPattern({"a": ["x"], "b": [1]})'


# --- seeded cross-check against the reference interpreter ----------------------------

KEYS = ["a", "b", "c"]
SCALARS: list[Any] = [
    "", "x", "X", "xy", "abc", "ABC", "a*c", "a.c", "cab", "a\\c", "10.0.0.1", "10.0.1.9", "::1",
    "2001:db8::5", 0, 1, 1.0, 2.5, -3, 100, True, False, None,
]  # fmt: skip
TEXTS = ["", "a", "x", "A", "c", "1", "10."]
WILDCARDS = ["*", "a*", "*c", "a*c", "x*y", "a\\*c", "*b*", "A*", "a\\\\c", "a.c", "*.c"]
NUMBERS = [-3, 0, 1, 2.5, 100]
CIDRS = ["10.0.0.0/24", "10.0.0.0/8", "::/0", "2001:db8::/32", "0.0.0.0/0", "10.0.1.0/30"]


def _condition(rng: random.Random) -> Any:
    kind = rng.randrange(14)
    if kind < 3:
        return rng.choice(SCALARS)
    if kind == 3:
        return {"prefix": rng.choice(TEXTS)}
    if kind == 4:
        return {"suffix": rng.choice(TEXTS)}
    if kind == 5:
        op = rng.choice(["prefix", "suffix"])
        return {op: {"equals-ignore-case": rng.choice(TEXTS)}}
    if kind == 6:
        return {"equals-ignore-case": rng.choice(["x", "ABC", "abc", ""])}
    if kind == 7:
        return {"wildcard": rng.choice(WILDCARDS)}
    if kind == 8:
        return {"anything-but": _anything_but(rng)}
    if kind == 9:
        return {"numeric": _numeric(rng)}
    if kind == 10:
        return {"cidr": rng.choice(CIDRS)}
    return {"exists": rng.random() < 0.5}


def _anything_but(rng: random.Random) -> Any:
    kind = rng.randrange(8)
    if kind == 0:
        return rng.choice(TEXTS)
    if kind == 1:
        return rng.choice(NUMBERS)
    if kind == 2:
        return rng.sample(["x", "abc", "", "ABC"], rng.randint(1, 3))
    if kind == 3:
        return rng.sample(NUMBERS, rng.randint(1, 3))
    if kind in (4, 7):
        return {rng.choice(["prefix", "suffix"]): rng.choice(["a", "x", "c", "1"])}
    if kind == 5:
        return {"equals-ignore-case": rng.choice(["abc", ["x", "ABC"]])}
    return {"wildcard": rng.choice([rng.choice(WILDCARDS), ["a*", "*y"]])}


def _numeric(rng: random.Random) -> list[Any]:
    if rng.random() < 0.5:
        return [rng.choice(["=", "<", "<=", ">", ">="]), rng.choice(NUMBERS)]
    low, high = sorted(rng.sample(NUMBERS, 2))
    return [rng.choice([">", ">="]), low, rng.choice(["<", "<="]), high]


def _pattern(rng: random.Random, depth: int) -> dict[str, Any]:
    pattern: dict[str, Any] = {}
    for key in rng.sample(KEYS, rng.randint(1, 2)):
        if depth < 2 and rng.random() < 0.25:
            pattern[key] = _pattern(rng, depth + 1)
        else:
            pattern[key] = [_condition(rng) for _ in range(rng.randint(1, 3))]
    if depth < 2 and rng.random() < 0.15:
        pattern["$or"] = [_pattern(rng, depth + 1) for _ in range(rng.randint(2, 3))]
    return pattern


def _value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if roll < 0.6 or depth >= 2:
        return rng.choice(SCALARS)
    if roll < 0.8:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return _event(rng, depth + 1)


def _event(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    return {key: _value(rng, depth) for key in KEYS if rng.random() < 0.7}


@pytest.mark.parametrize("seed", [7, 1234, 20240601])
def test_compiled_matcher_agrees_with_reference_on_generated_cases(seed: int) -> None:
    rng = random.Random(seed)
    outcomes = {True: 0, False: 0}
    for _ in range(1000):
        pattern = _pattern(rng, 0)
        compiled = compile_pattern(pattern)
        for _ in range(3):
            event = _event(rng)
            expected = reference_matches(pattern, event)
            assert compiled.matches(event) is expected, (pattern, event)
            outcomes[expected] += 1
    # A generator that only produces misses (or hits) would prove nothing.
    assert min(outcomes.values()) > 300, outcomes


def _flatten_some(obj: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Rewrite some nested objects {"a": {"b": x}} as dotted keys {"a.b": x}."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if key == "$or" and isinstance(value, list):
            out[key] = [_flatten_some(b, rng) if isinstance(b, dict) else b for b in value]
        elif isinstance(value, dict) and "$or" not in value and value and rng.random() < 0.6:
            for sub, item in _flatten_some(value, rng).items():
                out[f"{key}.{sub}"] = item
        elif isinstance(value, dict):
            out[key] = _flatten_some(value, rng)
        else:
            out[key] = value
    return out


@pytest.mark.parametrize("seed", [11, 2027])
def test_dotted_keys_name_the_same_fields_as_nesting(seed: int) -> None:
    # Writing a path with dots, in the pattern or in the event, never changes the answer;
    # the compiled matcher, the reference and the indexed rule set all agree on it.
    from eventplane.bus.ruleset import RuleSet

    rng = random.Random(seed)
    dotted_seen = 0
    for _ in range(600):
        pattern = _pattern(rng, 0)
        flat_pattern = _flatten_some(pattern, rng)
        compiled = compile_pattern(flat_pattern)
        ruleset = RuleSet([(0, compiled)])
        for _ in range(3):
            event = _event(rng)
            flat_event = _flatten_some(event, rng)
            dotted_seen += any("." in k for k in flat_event)
            expected = compile_pattern(pattern).matches(event)
            assert compiled.matches(flat_event) is expected, (flat_pattern, flat_event)
            assert reference_matches(flat_pattern, flat_event) is expected
            assert ruleset.matching(flat_event) == ([0] if expected else [])
    assert dotted_seen > 100


def test_a_dotted_key_is_seen_after_many_events_without_one() -> None:
    # Keys seen without a dot are remembered so that the usual event costs one set test;
    # an event that repeats them and adds "detail.state" must still match as nested.
    from eventplane.bus.ruleset import RuleSet

    pattern = compile_pattern({"source": ["app"], "detail": {"state": ["on"]}})
    ruleset = RuleSet([("r", pattern)])
    plain = {"source": "app", "detail-type": "x", "detail": {"state": "off"}}
    for _ in range(3):
        assert not pattern.matches(plain)
        assert ruleset.matching(plain) == []
    dotted = {"source": "app", "detail-type": "x", "detail": {}, "detail.state": "on"}
    assert pattern.matches(dotted)
    assert ruleset.matching(dotted) == ["r"]
    assert compile_pattern({"detail.state": ["on"]}).matches(dotted)
