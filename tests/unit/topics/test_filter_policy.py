"""SNS filter policies: behaviour from data files, cross-checked against the naive
reference interpreter (SNS filtering shares EventBridge's matching rules)."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import grpc
import pytest

from eventplane.bus.patterns import compile_pattern
from eventplane.errors.rpc import status_of
from eventplane.matching._reference import reference_matches
from eventplane.topics import CompiledFilterPolicy, InvalidFilterPolicy, compile_filter_policy

DATA = Path(__file__).parents[2] / "data" / "filter_policies"


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


def _naive_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Message attributes as plain JSON values, written independently of the module."""
    out: dict[str, Any] = {}
    for name, attribute in attributes.items():
        kind, text = attribute["DataType"], attribute.get("StringValue")
        if text is None or kind.startswith("Binary"):
            continue
        if kind in ("String.Array", "Number.Array"):
            try:
                parsed = json.loads(text)
            except ValueError:
                continue
            if isinstance(parsed, list):
                out[name] = parsed
        elif kind.startswith("Number"):
            try:
                out[name] = float(text) if any(c in text for c in ".eE") else int(text)
            except ValueError:
                continue
        else:
            out[name] = text
    return out


def _reference(case: dict[str, Any]) -> bool:
    if case["scope"] == "MessageAttributes":
        return reference_matches(
            case["policy"], _naive_attributes(case["attributes"]), dotted=False
        )
    if not case["policy"]:
        return True
    try:
        body = json.loads(case["body"])
    except ValueError:
        return False
    return isinstance(body, dict) and reference_matches(case["policy"], body)


def test_data_files_cover_enough_cases() -> None:
    assert len(VALID) >= 80
    assert len(INVALID) >= 20
    ids = [p.id for p in VALID + INVALID]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", VALID)
def test_policy_matches_as_documented(case: dict[str, Any]) -> None:
    policy = compile_filter_policy(case["policy"], case["scope"])
    if case["scope"] == "MessageAttributes":
        assert policy.matches_attributes(case["attributes"]) is case["expected"]
    else:
        assert policy.matches_body(case["body"]) is case["expected"]
        assert policy.matches_body(case["body"].encode()) is case["expected"]


@pytest.mark.parametrize("case", VALID)
def test_reference_agrees_with_documented_result(case: dict[str, Any]) -> None:
    assert _reference(case) is case["expected"]


@pytest.mark.parametrize("case", INVALID)
def test_invalid_policy_is_rejected_with_reason(case: dict[str, Any]) -> None:
    with pytest.raises(InvalidFilterPolicy) as caught:
        compile_filter_policy(case["policy"], case["scope"])
    assert caught.value.message.startswith("Invalid parameter: ")
    assert case["error_contains"] in caught.value.message


def test_error_carries_sns_code_and_grpc_status() -> None:
    with pytest.raises(InvalidFilterPolicy) as caught:
        compile_filter_policy({"store": {"city": ["Boston"]}})
    err = caught.value
    assert err.code == "InvalidParameter"
    assert status_of(err) is grpc.StatusCode.INVALID_ARGUMENT
    assert err.message == (
        "Invalid parameter: FilterPolicy: "
        "Filter policy scope MessageAttributes does not support nested filter policy at store"
    )


def test_same_policy_is_valid_in_body_scope() -> None:
    policy = compile_filter_policy('{"store": {"city": ["Boston"]}}', "MessageBody")
    assert isinstance(policy, CompiledFilterPolicy)
    assert policy.scope == "MessageBody"
    assert policy.matches_body('{"store": {"city": "Boston"}}')


def test_matches_uses_the_scope() -> None:
    attrs = {"store": {"DataType": "String", "StringValue": "a"}}
    by_attributes = compile_filter_policy({"store": ["a"]})
    by_body = compile_filter_policy({"store": ["a"]}, "MessageBody")
    assert by_attributes.matches(body='{"store": "b"}', attributes=attrs)
    assert not by_body.matches(body='{"store": "b"}', attributes=attrs)
    assert by_body.matches(body='{"store": "a"}', attributes={})


def test_body_that_is_not_utf8_does_not_match() -> None:
    policy = compile_filter_policy({"a": ["x"]}, "MessageBody")
    assert not policy.matches_body(b"\xff\xfe\xfa")


def test_policy_is_isolated_from_later_changes_to_its_source() -> None:
    source: dict[str, Any] = {"a": ["x"]}
    policy = compile_filter_policy(source)
    source["a"] = ["y"]
    assert policy.matches_attributes({"a": {"DataType": "String", "StringValue": "x"}})
    assert policy.policy == {"a": ["x"]}


# --- anything-but: where SNS's rule set and EventBridge's differ -----------------------

EVENTBRIDGE_ONLY_ANYTHING_BUT = [
    {"prefix": ["init", "test"]},
    {"suffix": ["ing", "ed"]},
    {"equals-ignore-case": "Rugby"},
    {"equals-ignore-case": ["Rugby", "Tennis"]},
    {"wildcard": "rug*"},
    {"wildcard": ["rug*", "*ball"]},
]
SHARED_ANYTHING_BUT: list[Any] = [
    "rugby",
    ["rugby", "tennis"],
    100,
    [100, 500],
    {"prefix": "rug"},
    {"suffix": "ball"},
]


@pytest.mark.parametrize("scope", ["MessageAttributes", "MessageBody"])
@pytest.mark.parametrize("operand", EVENTBRIDGE_ONLY_ANYTHING_BUT, ids=json.dumps)
def test_eventbridge_only_anything_but_forms_are_refused_by_sns(operand: Any, scope: str) -> None:
    pattern = {"sport": [{"anything-but": operand}]}
    assert compile_pattern(pattern).matches({"sport": "hockey"})
    with pytest.raises(InvalidFilterPolicy):
        compile_filter_policy(pattern, scope)


@pytest.mark.parametrize("operand", SHARED_ANYTHING_BUT, ids=json.dumps)
def test_shared_anything_but_forms_match_alike_on_arrays(operand: Any) -> None:
    pattern = {"sport": [{"anything-but": operand}]}
    eventbridge = compile_pattern(pattern)
    by_attributes = compile_filter_policy(pattern)
    by_body = compile_filter_policy(pattern, "MessageBody")
    for values in (["rugby", "hockey"], ["rugby", "tennis"], [100, 50], [100, 500], []):
        expected = eventbridge.matches({"sport": values})
        attribute = {"sport": {"DataType": "String.Array", "StringValue": json.dumps(values)}}
        assert by_attributes.matches_attributes(attribute) is expected, values
        assert by_body.matches_body(json.dumps({"sport": values})) is expected, values


# --- seeded cross-check against the reference interpreter ----------------------------

NAMES = ["store", "price", "tags"]
STRINGS = ["", "rugby", "Rugby", "baseball", "football", "10.0.0.7", "2001:db8::9"]
NUMBERS = [-1, 0, 1, 2.5, 100]


def _condition(rng: random.Random) -> Any:
    kind = rng.randrange(11)
    if kind < 3:
        return rng.choice([*STRINGS, *NUMBERS, True, None])
    if kind == 3:
        return {rng.choice(["prefix", "suffix"]): rng.choice(["", "r", "ball", "base"])}
    if kind == 4:
        return {"equals-ignore-case": rng.choice(["RUGBY", "baseball"])}
    if kind == 5:
        return {"anything-but": rng.choice(["rugby", ["rugby", "football"], 1, [0, 100]])}
    if kind == 6:
        return {"anything-but": {rng.choice(["prefix", "suffix"]): rng.choice(["r", "ball"])}}
    if kind == 7:
        if rng.random() < 0.5:
            return {"numeric": [rng.choice(["=", "<", "<=", ">", ">="]), rng.choice(NUMBERS)]}
        low, high = sorted(rng.sample(NUMBERS, 2))
        return {"numeric": [rng.choice([">", ">="]), low, rng.choice(["<", "<="]), high]}
    if kind == 8:
        return {"cidr": rng.choice(["10.0.0.0/24", "2001:db8::/32"])}
    return {"exists": rng.random() < 0.5}


def _policy(rng: random.Random, nested: bool, depth: int = 0) -> dict[str, Any]:
    policy: dict[str, Any] = {}
    for name in rng.sample(NAMES, rng.randint(1, 2)):
        if nested and depth < 1 and rng.random() < 0.3:
            policy[name] = _policy(rng, nested, depth + 1)
        else:
            policy[name] = [_condition(rng) for _ in range(rng.randint(1, 3))]
    if depth == 0 and rng.random() < 0.2:
        policy["$or"] = [{rng.choice(NAMES): [_condition(rng)]} for _ in range(2)]
    return policy


def _compiled(rng: random.Random, scope: str) -> tuple[dict[str, Any], CompiledFilterPolicy]:
    while True:
        source = _policy(rng, nested=scope == "MessageBody")
        try:
            return source, compile_filter_policy(source, scope)
        except InvalidFilterPolicy as err:
            # The generator can exceed SNS's limits; nothing else may be rejected.
            assert "too complex" in err.message or "more than 5 keys" in err.message, err


def _attribute(rng: random.Random) -> dict[str, str]:
    kind = rng.randrange(4)
    if kind == 0:
        return {"DataType": "String", "StringValue": rng.choice(STRINGS)}
    if kind == 1:
        return {"DataType": "Number", "StringValue": str(rng.choice(NUMBERS))}
    if kind == 2:
        values = rng.sample([*STRINGS, *NUMBERS, True, None], rng.randint(0, 3))
        return {"DataType": "String.Array", "StringValue": json.dumps(values)}
    return {"DataType": "Binary", "BinaryValue": "AA=="}


def _body_value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if roll < 0.6 or depth >= 2:
        return rng.choice([*STRINGS, *NUMBERS, True, None])
    if roll < 0.8:
        return [_body_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {name: _body_value(rng, depth + 1) for name in NAMES if rng.random() < 0.6}


@pytest.mark.parametrize("seed", [3, 99])
def test_attribute_scope_agrees_with_reference_on_generated_cases(seed: int) -> None:
    rng = random.Random(seed)
    outcomes = {True: 0, False: 0}
    for _ in range(500):
        source, policy = _compiled(rng, "MessageAttributes")
        for _ in range(3):
            attributes = {name: _attribute(rng) for name in NAMES if rng.random() < 0.7}
            expected = reference_matches(source, _naive_attributes(attributes), dotted=False)
            assert policy.matches_attributes(attributes) is expected, (source, attributes)
            outcomes[expected] += 1
    assert min(outcomes.values()) > 150, outcomes


@pytest.mark.parametrize("seed", [5, 77])
def test_body_scope_agrees_with_reference_on_generated_cases(seed: int) -> None:
    rng = random.Random(seed)
    outcomes = {True: 0, False: 0}
    for _ in range(500):
        source, policy = _compiled(rng, "MessageBody")
        for _ in range(3):
            body = {name: _body_value(rng, 0) for name in NAMES if rng.random() < 0.7}
            expected = reference_matches(source, body)
            assert policy.matches_body(json.dumps(body)) is expected, (source, body)
            outcomes[expected] += 1
    assert min(outcomes.values()) > 150, outcomes
