"""ARN parsing and formatting, from the cases in tests/data/arns/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eventplane import arn

DATA = Path(__file__).parent.parent / "data" / "arns"


def _cases(name: str) -> list[Any]:
    cases: list[Any] = json.loads((DATA / name).read_text())
    return [pytest.param(c, id=c["arn"] or "empty") for c in cases]


@pytest.mark.parametrize("case", _cases("parse.json"))
def test_resource(case: dict[str, Any]) -> None:
    if case.get("error"):
        with pytest.raises(arn.InvalidArn):
            arn.resource(case["arn"])
        return
    found = arn.resource(case["arn"])
    assert found.kind == case["kind"]
    assert found.name == case["name"]
    assert found.parent == case.get("parent")
    assert found.qualifier == case.get("qualifier")
    assert found.arn.partition == case.get("partition", "aws")
    assert str(found.arn) == case["arn"]


@pytest.mark.parametrize("case", _cases("targets.json"))
def test_target(case: dict[str, Any]) -> None:
    found = arn.target(case["arn"])
    if case["kind"] is None:
        assert found is None
        return
    assert found is not None
    assert (found.kind, found.endpoint) == (case["kind"], case["endpoint"])


@pytest.mark.parametrize(
    ("made", "kind", "name"),
    [
        (arn.queue_arn("q"), arn.Kind.QUEUE, "q"),
        (arn.topic_arn("t"), arn.Kind.TOPIC, "t"),
        (arn.subscription_arn("t", "id-1"), arn.Kind.SUBSCRIPTION, "t"),
        (arn.bus_arn("b"), arn.Kind.BUS, "b"),
        (arn.rule_arn("default", "r"), arn.Kind.RULE, "r"),
        (arn.rule_arn("b", "r"), arn.Kind.RULE, "r"),
        (arn.archive_arn("a"), arn.Kind.ARCHIVE, "a"),
        (arn.replay_arn("r"), arn.Kind.REPLAY, "r"),
        (arn.schema_arn("s"), arn.Kind.SCHEMA, "s"),
        (arn.function_arn("f"), arn.Kind.FUNCTION, "f"),
        (arn.function_arn("f", "prod"), arn.Kind.FUNCTION, "f"),
        (arn.mapping_arn("u-1"), arn.Kind.MAPPING, "u-1"),
        (arn.state_machine_arn("m"), arn.Kind.STATE_MACHINE, "m"),
        (arn.execution_arn("m", "e"), arn.Kind.EXECUTION, "e"),
        (arn.execution_arn("m", "e", express=True), arn.Kind.EXECUTION, "e"),
        (arn.activity_arn("a"), arn.Kind.ACTIVITY, "a"),
        (arn.table_arn("t"), arn.Kind.TABLE, "t"),
        (arn.stream_arn("t", "label"), arn.Kind.STREAM, "t"),
    ],
)
def test_what_is_formatted_parses_back(made: str, kind: arn.Kind, name: str) -> None:
    found = arn.resource(made)
    assert (found.kind, found.name) == (kind, name)
    assert (found.arn.partition, found.arn.region, found.arn.account) == (
        arn.PARTITION,
        arn.DEFAULT_REGION,
        arn.DEFAULT_ACCOUNT,
    )


def test_parse_as_answers_none_for_other_kinds() -> None:
    assert arn.parse_as(arn.topic_arn("t"), arn.Kind.QUEUE) is None
    assert arn.parse_as("not an arn", arn.Kind.QUEUE) is None
    found = arn.parse_as(arn.queue_arn("q"), arn.Kind.QUEUE, arn.Kind.TOPIC)
    assert found is not None and found.name == "q"


@pytest.mark.parametrize(
    ("ref", "name"),
    [
        ("orders", "orders"),
        ("orders.fifo", "orders.fifo"),
        (arn.queue_url("orders"), "orders"),
        ("https://sqs.eu-west-1.amazonaws.com/123456789012/orders", "orders"),
        ("arn:aws:sqs:eu-west-1:123456789012:orders.fifo", "orders.fifo"),
        (arn.queue_arn("q_1-2"), "q_1-2"),
        ("q" * 80, "q" * 80),
        # not a queue: no name, a bad character, too long, another kind of ARN, no account
        ("", None),
        ("ord ers", None),
        ("q" * 81, None),
        ("q" * 76 + ".fifo", None),
        (arn.topic_arn("orders"), None),
        ("https://sqs.eu-west-1.amazonaws.com/orders", None),
        ("orders.fifo.fifo", None),
    ],
)
def test_a_queue_is_named_by_its_name_url_or_arn(ref: str, name: str | None) -> None:
    # SQS's QueueUrl, SNS's sqs Endpoint and redrive policies all take these references.
    assert arn.queue_name(ref) == name
