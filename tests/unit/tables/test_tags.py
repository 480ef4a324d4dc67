"""Table tags in the core (``tables/tags.py``): DynamoDB's limits and messages, the ARN a
tag action names, ListTagsOfResource's pages, and the actions over a table definition."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from eventplane.errors import ResourceNotFound, ValidationException
from eventplane.tables import tags as t
from eventplane.tables.indexes import KeySchemaElement
from eventplane.tables.model import AttributeDefinition, CreateTableInput, TableDef, new_table

ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/things"


def test_tags_within_the_limits() -> None:
    fifty = [(f"k{i}", "v") for i in range(50)]
    assert t.check_count(t.check_tags(fifty)) == dict(fifty)
    longest = [("k" * 128, "v" * 256), ("empty", ""), ("a b_.:/=+-@", "é ü")]
    assert t.check_tags(longest) == dict(longest)


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ([("", "v")], "The Tag Key provided is invalid, Key: "),
        ([("k" * 129, "v")], "The Tag Key provided is invalid, Key: " + "k" * 129),
        ([("k#", "v")], "The Tag Key provided is invalid, Key: k#"),
        ([("AWS:team", "v")], "Tag Key cannot be prefixed with aws:, Key: AWS:team"),
        ([("k", "v" * 257)], "The Tag Value provided is invalid, Value: " + "v" * 257),
        ([("k", "v!")], "The Tag Value provided is invalid, Value: v!"),
        (
            [("k", "1"), ("k", "2")],
            "Duplicate Tag Keys provided as input: Duplicate Tag Key found k",
        ),
    ],
)
def test_tags_breaking_a_rule(tags: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(ValidationException) as caught:
        t.check_tags(tags)
    assert caught.value.message == message


def test_more_than_fifty_tags() -> None:
    with pytest.raises(ValidationException) as caught:
        t.check_count({f"k{i}": "v" for i in range(51)})
    assert caught.value.message == (
        "Number of Tags exceed the current limit for the provided ResourceArn"
    )


def test_the_arn_names_a_table() -> None:
    assert t.table_of(ARN) == "things"
    assert t.table_of("arn:aws:dynamodb:eu-west-1:123456789012:table/things") == "things"
    for bad in (
        "things",
        f"{ARN}/index/byg",
        f"{ARN}/stream/2026-01-01T00:00:00.000",
        "arn:aws:sqs:us-east-1:000000000000:things",
    ):
        with pytest.raises(ValidationException) as caught:
            t.table_of(bad)
        assert (
            caught.value.message == f"Invalid TableArn: Invalid ResourceArn provided as input {bad}"
        )


def test_pages_follow_the_key_order() -> None:
    tags = {f"k{i:02d}": str(i) for i in range(25)}
    first, token = t.tags_page(tags, size=10)
    assert [k for k, _ in first] == [f"k{i:02d}" for i in range(10)] and token == "k09"
    second, token = t.tags_page(tags, token, size=10)
    third, last = t.tags_page(tags, token, size=10)
    assert len(second) == 10 and [k for k, _ in third] == [f"k{i}" for i in range(20, 25)]
    assert last == ""
    # One page holds every tag a table may have.
    assert t.tags_page({f"k{i}": "" for i in range(50)})[1] == ""


def _table(**tags: str) -> TableDef:
    return new_table(
        CreateTableInput(
            "things",
            [KeySchemaElement("pk", "HASH")],
            [AttributeDefinition("pk", "S")],
            tags=list(tags.items()),
        ),
        0,
    )


def test_create_table_checks_and_keeps_tags() -> None:
    table = _table(team="a", empty="")
    assert table.tags == {"team": "a", "empty": ""}
    assert TableDef.from_spec("things", table.to_spec()).tags == table.tags
    # A definition stored before tags existed has none.
    spec = table.to_spec()
    del spec["tags"]
    assert TableDef.from_spec("things", spec).tags == {}
    with pytest.raises(ValidationException, match="prefixed with aws:"):
        _table(**{"aws:x": "v"})
    with pytest.raises(ValidationException, match="exceed the current limit"):
        _table(**{f"k{i}": "v" for i in range(51)})


class _Tables(t.TableTags):
    def __init__(self, table: TableDef | None) -> None:
        self.table = table

    def lookup(self, name: str) -> TableDef | None:
        return self.table if self.table is not None and self.table.name == name else None

    async def put_def(self, table: TableDef) -> None:
        self.table = table

    def table_owner(self, name: str) -> str | None:
        found = self.lookup(name)
        return found.account if found is not None else None


def test_tag_untag_and_list() -> None:
    tables = _Tables(_table(team="a"))
    asyncio.run(tables.tag_resource(ARN, [("team", "b"), ("stage", "")]))
    assert tables.list_tags_of_resource(ARN) == ([("stage", ""), ("team", "b")], "")
    asyncio.run(tables.untag_resource(ARN, ["team", "absent"]))
    assert tables.list_tags_of_resource(ARN) == ([("stage", "")], "")
    # 50 at most in all: a refusal keeps nothing of the request.
    with pytest.raises(ValidationException, match="exceed the current limit"):
        asyncio.run(tables.tag_resource(ARN, [(f"k{i}", "v") for i in range(50)]))
    assert tables.table is not None and dict(tables.table.tags) == {"stage": ""}


def test_tag_actions_refuse_before_looking_up_the_table() -> None:
    tables = _Tables(None)
    with pytest.raises(ValidationException, match="Atleast one Tag needs to be provided"):
        asyncio.run(tables.tag_resource(ARN, []))
    with pytest.raises(ValidationException, match="Atleast one Tag Key needs to be provided"):
        asyncio.run(tables.untag_resource(ARN, []))
    with pytest.raises(ValidationException, match="prefixed with aws:"):
        asyncio.run(tables.untag_resource(ARN, ["aws:x"]))
    with pytest.raises(ResourceNotFound) as caught:
        asyncio.run(tables.tag_resource(ARN, [("k", "v")]))
    assert caught.value.message == f"Requested resource not found: ResourcArn: {ARN} not found"
    with pytest.raises(ResourceNotFound):
        tables.list_tags_of_resource(ARN)
    other = dataclasses.replace(_table(), name="others")
    with pytest.raises(ResourceNotFound):
        _Tables(other).list_tags_of_resource(ARN)
