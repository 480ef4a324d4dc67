"""Bus and rule tags (eventplane.bus.tagging) over an in-memory registry, and the tags
kept in bus and rule definitions."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from eventplane import arn as arns
from eventplane.bus.models import BUS, RULE, BusDef, RuleDef
from eventplane.bus.tagging import BusTags, check_tags
from eventplane.errors import ResourceNotFound, ValidationException
from eventplane.registry import Resource


class MemoryRegistry:
    def __init__(self) -> None:
        self.resources: dict[tuple[str, str], Resource] = {}

    def get(self, kind: str, name: str) -> Resource | None:
        return self.resources.get((kind, name))

    def put(self, kind: str, name: str, spec: Mapping[str, Any]) -> Resource:
        old = self.resources.get((kind, name))
        generation = old.generation + 1 if old else 1
        r = Resource(kind, name, dict(spec), generation, 1, 2)
        self.resources[(kind, name)] = r
        return r


@pytest.fixture
def registry() -> MemoryRegistry:
    r = MemoryRegistry()
    r.put(BUS, "orders", BusDef("orders", "shop").to_spec())
    r.put(RULE, "orders:big", RuleDef.build("orders", "big", '{"source": ["s"]}', None).to_spec())
    r.put(
        RULE, "default:tick", RuleDef.build("default", "tick", '{"source": ["s"]}', None).to_spec()
    )
    return r


def test_tags_are_added_overwritten_and_removed_in_the_definition(
    registry: MemoryRegistry,
) -> None:
    tags = BusTags(registry)  # type: ignore[arg-type]
    bus = arns.bus_arn("orders")
    asyncio.run(tags.tag(bus, {"team": "a", "env": "dev"}))
    asyncio.run(tags.tag(bus, {"team": "b"}))
    assert tags.tags(bus) == {"team": "b", "env": "dev"}
    stored = BusDef.from_resource(registry.resources[(BUS, "orders")])
    assert (stored.description, dict(stored.tags)) == ("shop", {"team": "b", "env": "dev"})
    asyncio.run(tags.untag(bus, ["team", "missing"]))
    asyncio.run(tags.untag(bus, ["env"]))
    assert tags.tags(bus) == {}
    assert "tags" not in registry.resources[(BUS, "orders")].spec


@pytest.mark.parametrize(("bus", "rule"), [("orders", "big"), ("default", "tick")])
def test_rules_are_found_by_their_arn_on_any_bus(
    registry: MemoryRegistry, bus: str, rule: str
) -> None:
    tags = BusTags(registry)  # type: ignore[arg-type]
    arn = arns.rule_arn(bus, rule)
    asyncio.run(tags.tag(arn, {"cost": "42"}))
    stored = RuleDef.from_resource(registry.resources[(RULE, f"{bus}:{rule}")])
    assert (dict(stored.tags), stored.event_pattern) == ({"cost": "42"}, '{"source": ["s"]}')


@pytest.mark.parametrize(
    "arn",
    [
        arns.bus_arn("nope"),
        arns.rule_arn("orders", "nope"),
        arns.rule_arn("default", "big"),  # big is on orders, not on default
        "arn:aws:sqs:us-east-1:000000000000:orders",
        "not an arn",
    ],
)
def test_an_unknown_resource_is_not_found(registry: MemoryRegistry, arn: str) -> None:
    tags = BusTags(registry)  # type: ignore[arg-type]
    with pytest.raises(ResourceNotFound):
        tags.tags(arn)
    with pytest.raises(ResourceNotFound):
        asyncio.run(tags.tag(arn, {"k": "v"}))


@pytest.mark.parametrize(
    ("tags", "reason"),
    [
        ({f"k{i}": "" for i in range(51)}, "at most 50 tags"),
        ({"": "v"}, "1 to 128"),
        ({"k" * 129: "v"}, "1 to 128"),
        ({"aws:x": "v"}, "aws: prefix"),
        ({"k": "v" * 257}, "at most 256"),
    ],
)
def test_limits(tags: dict[str, str], reason: str) -> None:
    with pytest.raises(ValidationException, match=reason):
        check_tags(tags)


def test_limits_hold_for_the_resulting_set(registry: MemoryRegistry) -> None:
    tags = BusTags(registry)  # type: ignore[arg-type]
    bus = arns.bus_arn("orders")
    asyncio.run(tags.tag(bus, {f"k{i}": "v" for i in range(50)}))
    with pytest.raises(ValidationException, match="would make 51"):
        asyncio.run(tags.tag(bus, {"more": "v"}))
    assert len(tags.tags(bus)) == 50


def test_definitions_round_trip_their_tags() -> None:
    bus = BusDef("b", tags={"t": "1"})
    assert BusDef.from_resource(Resource(BUS, "b", bus.to_spec(), 1, 1, 1)).tags == {"t": "1"}
    rule = RuleDef.build("b", "r", '{"source": ["s"]}', None, tags={"t": ""})
    again = RuleDef.from_resource(Resource(RULE, "b:r", rule.to_spec(), 1, 1, 1))
    assert again.tags == {"t": ""}
    assert "tags" not in RuleDef.build("b", "r", '{"source": ["s"]}', None).to_spec()
