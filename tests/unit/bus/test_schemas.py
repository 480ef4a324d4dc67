"""The schema registry's rules: Avro record schemas compiled when written, versions, and
event details checked against the latest version (an EntryError per refused entry)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eventplane.arn import DEFAULT_ACCOUNT as ACCOUNT
from eventplane.arn import DEFAULT_REGION as REGION
from eventplane.bus.entries import EntryError
from eventplane.bus.models import SCHEMA
from eventplane.bus.schemas import (
    AVRO,
    MAX_CONTENT,
    SchemaDef,
    SchemaVersion,
    compile_schema,
    validate_name,
)
from eventplane.errors import ValidationException
from eventplane.registry import Resource

V1 = {
    "type": "record",
    "name": "Order",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "quantity", "type": "int"},
        {"name": "note", "type": ["null", "string"], "default": None},
        {
            "name": "customer",
            "type": {
                "type": "record",
                "name": "Customer",
                "fields": [{"name": "email", "type": "string"}],
            },
        },
        {"name": "tags", "type": {"type": "array", "items": "string"}, "default": []},
    ],
}
V2 = {
    "type": "record",
    "name": "Order",
    "fields": [{"name": "id", "type": "string"}, {"name": "total", "type": "double"}],
}
FITS_V1 = {"id": "o-1", "quantity": 2, "customer": {"email": "a@example.com"}, "tags": ["x"]}


def schema(*contents: dict[str, Any], name: str = "shop.Order") -> SchemaDef:
    versions = tuple(
        SchemaVersion(n, json.dumps(c), 1_000 * n) for n, c in enumerate(contents, start=1)
    )
    return SchemaDef(
        name,
        AVRO,
        "com.shop",
        "Order placed",
        "orders",
        versions,
        compile_schema(AVRO, versions[-1].content),
    )


def refused(s: SchemaDef, detail: dict[str, Any]) -> str:
    with pytest.raises(EntryError) as caught:
        s.check(detail)
    assert caught.value.code == "InvalidArgument"
    return caught.value.message


def invalid_content(schema_type: str, content: str) -> str:
    with pytest.raises(ValidationException) as caught:
        compile_schema(schema_type, content)
    return caught.value.message


# --- compile_schema ---------------------------------------------------------------------


def test_an_avro_record_schema_compiles() -> None:
    assert compile_schema(AVRO, json.dumps(V1)) is not None


@pytest.mark.parametrize("schema_type", ["OpenApi3", "JSONSchemaDraft4", "avro", ""])
def test_a_type_other_than_avro_is_refused_naming_type(schema_type: str) -> None:
    message = invalid_content(schema_type, json.dumps(V1))
    assert message.startswith(f"Type {schema_type!r} is not supported")
    assert "Avro" in message


@pytest.mark.parametrize("content", ["{", "", "not json", "{'type': 'record'}"])
def test_content_that_is_not_json_is_refused(content: str) -> None:
    assert invalid_content(AVRO, content).startswith("Content is not valid JSON")


@pytest.mark.parametrize(
    "content",
    ['"string"', '["null", "string"]', '{"type": "enum", "name": "E", "symbols": ["A"]}'],
)
def test_a_schema_that_is_not_a_record_is_refused(content: str) -> None:
    assert invalid_content(AVRO, content).startswith("Content must be an Avro record schema")


@pytest.mark.parametrize(
    "document",
    [
        {"type": "record", "name": "X", "fields": [{"name": "a", "type": "no-such-type"}]},
        {"type": "record", "name": "X", "fields": [{"name": "a"}]},
        {"type": "record", "fields": [{"name": "a", "type": "int"}]},
    ],
)
def test_an_invalid_avro_record_is_refused(document: dict[str, Any]) -> None:
    assert invalid_content(AVRO, json.dumps(document)).startswith(
        "Content is not a valid Avro schema"
    )


def test_content_over_the_limit_is_refused() -> None:
    padded = {**V2, "doc": "x" * MAX_CONTENT}
    assert "longer than" in invalid_content(AVRO, json.dumps(padded))


def test_schema_names() -> None:
    assert validate_name("shop.Order@v-1_x") == "shop.Order@v-1_x"
    for bad in ["", "a b", "a/b", "x" * 386]:
        with pytest.raises(ValidationException, match="SchemaName"):
            validate_name(bad)


# --- check ------------------------------------------------------------------------------


def test_a_fitting_detail_passes() -> None:
    s = schema(V1)
    s.check(FITS_V1)
    s.check({**FITS_V1, "note": "gift"})
    s.check({**FITS_V1, "note": None})


def test_optional_union_and_defaulted_fields_may_be_left_out() -> None:
    detail = {k: v for k, v in FITS_V1.items() if k != "tags"}
    schema(V1).check(detail)


@pytest.mark.parametrize(
    ("detail", "field"),
    [
        ({k: v for k, v in FITS_V1.items() if k != "quantity"}, "quantity"),
        ({k: v for k, v in FITS_V1.items() if k != "id"}, "id"),
        ({**FITS_V1, "quantity": "two"}, "quantity"),
        ({**FITS_V1, "quantity": 2.5}, "quantity"),
        ({**FITS_V1, "id": 7}, "id"),
        ({**FITS_V1, "note": 5}, "note"),
        ({**FITS_V1, "customer": {}}, "email"),
        ({**FITS_V1, "customer": "a@example.com"}, "customer"),
        ({**FITS_V1, "tags": [1]}, "tags"),
    ],
)
def test_a_detail_that_does_not_fit_names_schema_version_and_field(
    detail: dict[str, Any], field: str
) -> None:
    message = refused(schema(V1), detail)
    assert message.startswith("Detail does not match schema shop.Order version 1: ")
    assert field in message


def test_check_is_against_the_latest_version() -> None:
    s = schema(V1, V2)
    assert s.latest.version == 2
    s.check({"id": "o-1", "total": 12.5})
    s.check({"id": "o-1", "total": 12})  # a JSON integer is a valid double
    message = refused(s, FITS_V1)
    assert message.startswith("Detail does not match schema shop.Order version 2: ")


def test_the_reason_is_bounded() -> None:
    many = {
        "type": "record",
        "name": "Wide",
        "fields": [{"name": f"field_{n}", "type": "string"} for n in range(200)],
    }
    message = refused(schema(many), {})
    assert len(message) <= len("Detail does not match schema shop.Order version 1: ") + 500


# --- versions and the registry ----------------------------------------------------------


def test_versions_latest_and_version_n() -> None:
    s = schema(V1, V2, V1)
    assert [v.version for v in s.versions] == [1, 2, 3]
    assert s.latest == s.versions[-1]
    assert s.version(2) == SchemaVersion(2, json.dumps(V2), 2_000)
    assert s.version(4) is None
    assert s.version(0) is None
    assert s.arn == f"arn:aws:schemas:{REGION}:{ACCOUNT}:schema/eventplane/shop.Order"


def test_schema_round_trips_through_the_registry() -> None:
    s = schema(V1, V2)
    spec = json.loads(json.dumps(s.to_spec(), sort_keys=True))
    back = SchemaDef.from_resource(Resource(SCHEMA, s.name, spec, 2, 1_000, 2_000))
    assert back == s
    assert back.latest.version == 2
    back.check({"id": "o-1", "total": 1.0})  # compiled from the latest version
    with pytest.raises(EntryError):
        back.check(FITS_V1)
