"""Versions and aliases over an in-memory registry: numbering, routing, refusals."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from eventplane.errors import ValidationException
from eventplane.workflows import arns
from eventplane.workflows.errors import (
    ConflictException,
    InvalidArn,
    InvalidName,
    StatesResourceNotFound,
)
from eventplane.workflows.versions import RoutingEntry, Versions, pick


@dataclass(frozen=True)
class _Resource:
    kind: str
    name: str
    spec: dict[str, Any]
    generation: int
    created_at: int
    updated_at: int


@dataclass
class FakeRegistry:
    """The registry's get/find/put/delete, in memory."""

    items: dict[tuple[str, str], _Resource] = field(default_factory=dict)
    now: int = 1_000

    def get(self, kind: str, name: str) -> _Resource | None:
        return self.items.get((kind, name))

    def find(self, kind: str, prefix: str = "") -> list[_Resource]:
        found = [r for (k, n), r in self.items.items() if k == kind and n.startswith(prefix)]
        return sorted(found, key=lambda r: r.name)

    def put(self, kind: str, name: str, spec: Any) -> _Resource:
        self.now += 1
        old = self.get(kind, name)
        r = _Resource(
            kind,
            name,
            dict(spec),
            old.generation + 1 if old else 1,
            old.created_at if old else self.now,
            self.now,
        )
        self.items[(kind, name)] = r
        return r

    def delete(self, kind: str, name: str) -> bool:
        return self.items.pop((kind, name), None) is not None


SPEC = {"definition": '{"StartAt":"A"}', "roleArn": "", "type": "STANDARD"}


def _versions(seed: int = 7) -> Versions:
    return Versions(SimpleNamespace(registry=FakeRegistry()), random.Random(seed))  # type: ignore[arg-type]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_publishing_numbers_from_one_and_an_unchanged_definition_returns_the_latest() -> None:
    v = _versions()
    first = run(v.publish("m", SPEC, "1", "first"))
    assert first.number == 1 and first.state_machine_version_arn == arns.version_arn("m", 1)
    assert run(v.publish("m", SPEC, "1", "again")) == first
    second = run(v.publish("m", {**SPEC, "definition": '{"StartAt":"B"}'}, "2"))
    assert second.number == 2
    assert [x.number for x in v.versions("m")] == [2, 1]  # newest first


def test_version_numbers_are_never_reused_after_a_delete() -> None:
    v = _versions()
    run(v.publish("m", SPEC, "1"))
    two = run(v.publish("m", {**SPEC, "definition": "{}"}, "2"))
    run(v.delete_version(two.state_machine_version_arn))
    three = run(v.publish("m", {**SPEC, "definition": "[]"}, "3"))
    assert three.number == 3


def test_a_stale_revision_id_and_a_long_description_are_refused() -> None:
    v = _versions()
    with pytest.raises(ConflictException, match="revisionId"):
        run(v.publish("m", SPEC, "5", expected_revision_id="4"))
    with pytest.raises(ValidationException, match="description"):
        run(v.publish("m", SPEC, "5", "x" * 257))


def test_a_version_an_alias_routes_to_cannot_be_deleted() -> None:
    v = _versions()
    one = run(v.publish("m", SPEC, "1")).state_machine_version_arn
    run(v.create_alias("PROD", [RoutingEntry(one, 100)]))
    with pytest.raises(ConflictException, match="PROD"):
        run(v.delete_version(one))
    run(v.delete_alias(arns.alias_arn("m", "PROD")))
    run(v.delete_version(one))
    with pytest.raises(StatesResourceNotFound):
        v.version(one)
    run(v.delete_version(one))  # deleting what is gone is no error, as AWS


@pytest.mark.parametrize(
    ("routing", "message"),
    [
        ([], "1 or 2 entries"),
        ([(1, 50)], "sum to 100"),
        ([(1, 60), (2, 60)], "sum to 100"),
        ([(1, 101)], "between 0 and 100"),
        ([(1, 50), (1, 50)], "each version once"),
        ([(1, 40), (2, 30), (3, 30)], "1 or 2 entries"),
    ],
)
def test_bad_routing_is_a_validation_error_naming_the_field(
    routing: list[tuple[int, int]], message: str
) -> None:
    v = _versions()
    for n in (1, 2, 3):
        run(v.publish("m", {**SPEC, "definition": str(n)}, str(n)))
    entries = [RoutingEntry(arns.version_arn("m", n), w) for n, w in routing]
    with pytest.raises(ValidationException, match=message) as err:
        run(v.create_alias("a", entries))
    assert "routingConfiguration" in str(err.value)


def test_routing_to_a_missing_version_or_another_machine_is_refused() -> None:
    v = _versions()
    run(v.publish("m", SPEC, "1"))
    run(v.publish("n", SPEC, "1"))
    with pytest.raises(StatesResourceNotFound):
        run(v.create_alias("a", [RoutingEntry(arns.version_arn("m", 9), 100)]))
    mixed = [RoutingEntry(arns.version_arn("m", 1), 50), RoutingEntry(arns.version_arn("n", 1), 50)]
    with pytest.raises(ValidationException, match="one state machine"):
        run(v.create_alias("a", mixed))
    with pytest.raises(InvalidArn):
        run(v.create_alias("a", [RoutingEntry(arns.state_machine_arn("m"), 100)]))


def test_alias_names_and_idempotent_create() -> None:
    v = _versions()
    one = run(v.publish("m", SPEC, "1")).state_machine_version_arn
    for bad in ("123", "", "has space", "x" * 81):
        with pytest.raises(InvalidName):
            run(v.create_alias(bad, [RoutingEntry(one, 100)]))
    a = run(v.create_alias("PROD", [RoutingEntry(one, 100)], "live"))
    assert run(v.create_alias("PROD", [RoutingEntry(one, 100)], "live")) == a
    with pytest.raises(ConflictException):
        run(v.create_alias("PROD", [RoutingEntry(one, 100)], "other"))


def test_update_alias_replaces_routing_and_keeps_the_creation_date() -> None:
    v = _versions()
    one = run(v.publish("m", SPEC, "1")).state_machine_version_arn
    two = run(v.publish("m", {**SPEC, "definition": "2"}, "2")).state_machine_version_arn
    a = run(v.create_alias("PROD", [RoutingEntry(one, 100)]))
    b = run(v.update_alias(a.state_machine_alias_arn, routing=[RoutingEntry(two, 100)]))
    assert b.routing_configuration == [RoutingEntry(two, 100)]
    assert b.creation_date == a.creation_date and b.update_date > a.update_date
    with pytest.raises(ValidationException):
        run(v.update_alias(a.state_machine_alias_arn))
    with pytest.raises(StatesResourceNotFound):
        run(v.update_alias(arns.alias_arn("m", "nope"), description="x"))


def test_an_alias_splits_starts_between_two_versions_by_weight() -> None:
    v = _versions(seed=20261203)
    one = run(v.publish("m", SPEC, "1")).state_machine_version_arn
    two = run(v.publish("m", {**SPEC, "definition": "2"}, "2")).state_machine_version_arn
    alias = run(v.create_alias("CANARY", [RoutingEntry(one, 80), RoutingEntry(two, 20)]))
    picks = Counter(
        v.resolve_alias(alias.state_machine_alias_arn).state_machine_version_arn for _ in range(200)
    )
    # 200 draws at 20%: mean 40, standard deviation about 5.7; +-4 sd bounds.
    assert 17 <= picks[two] <= 63
    assert picks[one] + picks[two] == 200


def test_weights_of_zero_and_one_hundred_always_pick_the_same_version() -> None:
    rng = random.Random(1)
    routing = [RoutingEntry("a", 0), RoutingEntry("b", 100)]
    assert {pick(routing, rng) for _ in range(200)} == {"b"}


def test_qualified_arns_parse_as_machine_version_or_alias() -> None:
    base = arns.state_machine_arn("m")
    assert arns.parse_qualified_arn(base) == ("m", None)
    assert arns.parse_version_arn(base + ":3") == ("m", 3)
    assert arns.parse_alias_arn(base + ":PROD") == ("m", "PROD")
    for bad in (base + ":", base + ":a:b", "arn:aws:states:local:1:execution:m:e"):
        with pytest.raises(InvalidArn):
            arns.parse_qualified_arn(bad)
    with pytest.raises(InvalidArn):
        arns.parse_version_arn(base + ":PROD")
    with pytest.raises(InvalidArn):
        arns.parse_alias_arn(base + ":3")


def test_concurrent_publishes_of_new_definitions_take_distinct_numbers() -> None:
    v = _versions()

    async def both() -> list[int]:
        done = await asyncio.gather(
            v.publish("m", {**SPEC, "definition": "a"}, "1"),
            v.publish("m", {**SPEC, "definition": "b"}, "2"),
        )
        return sorted(x.number for x in done)

    assert run(both()) == [1, 2]
