"""The schema registry: versioned Avro schemas bound to a source and detail-type, and a
bus with schema validation on refusing the entries whose detail does not fit."""

from __future__ import annotations

import json

import pytest

from eventplane.client import Client
from eventplane.errors import ResourceAlreadyExists, ResourceNotFound, ValidationException

from .support import Resources, drain, events, unique

pytestmark = pytest.mark.integration

ORDER_V1 = {
    "type": "record",
    "name": "Order",
    "fields": [{"name": "id", "type": "int"}, {"name": "sku", "type": "string"}],
}
ORDER_V2 = {
    "type": "record",
    "name": "Order",
    "fields": [
        {"name": "id", "type": "int"},
        {"name": "sku", "type": "string"},
        {"name": "note", "type": "string"},
    ],
}


def _entry(
    bus: str, source: str, detail: object, detail_type: str = "OrderPlaced"
) -> dict[str, object]:
    return {"Source": source, "DetailType": detail_type, "Detail": detail, "EventBusName": bus}


def test_a_validating_bus_accepts_fitting_events_and_refuses_others(
    client: Client, res: Resources
) -> None:
    source = unique("shop")
    name = res.schema_name()
    schema = client.events.create_schema(
        name, "Avro", ORDER_V1, source=source, detail_type="OrderPlaced", description="orders"
    )
    assert schema.version == 1
    assert (schema.source, schema.detail_type) == (source, "OrderPlaced")
    bus = res.bus(schema_validation=True)
    assert client.events.describe_event_bus(bus).schema_validation is True
    q = res.queue()
    res.rule(bus, [{"Id": "q", "Arn": q.arn}], pattern={"source": [source]})

    result = client.events.put_events(
        [
            _entry(bus, source, {"id": 1, "sku": "A-1"}),
            _entry(bus, source, {"id": "one", "sku": "A-1"}),
            _entry(bus, source, {"sku": "A-1"}),
            # No schema is bound to this detail-type: not validated.
            _entry(bus, source, {"anything": True}, detail_type="OrderShipped"),
        ]
    )
    assert [e.error_code for e in result.entries] == [
        None,
        "InvalidArgument",
        "InvalidArgument",
        None,
    ]
    for refused in result.entries[1:3]:
        assert refused.error_message is not None and name in refused.error_message
    accepted = sorted(e.event_id for e in result.entries if e.event_id is not None)
    assert sorted(e["id"] for e in events(drain(client, q.url, 2))) == accepted

    # A bus without validation takes the same misfit.
    relaxed = res.bus()
    loose = client.events.put_events([_entry(relaxed, source, {"id": "one"})])
    assert loose.failed_entry_count == 0


def test_schema_versions_increase_and_the_latest_one_validates(
    client: Client, res: Resources
) -> None:
    source = unique("shop")
    name = res.schema_name()
    client.events.create_schema(name, "Avro", ORDER_V1, source=source, detail_type="OrderPlaced")
    bus = res.bus(schema_validation=True)
    without_note = _entry(bus, source, {"id": 1, "sku": "A-1"})
    assert client.events.put_events([without_note]).failed_entry_count == 0

    # Version 2 requires a note.
    v2 = client.events.update_schema(name, ORDER_V2, description="with a note")
    assert v2.version == 2
    assert json.loads(v2.content) == ORDER_V2
    assert client.events.describe_schema(name).version == 2
    v1 = client.events.describe_schema(name, version=1)
    assert (v1.version, json.loads(v1.content)) == (1, ORDER_V1)
    # The same content again is not a new version; a change is.
    assert client.events.update_schema(name, ORDER_V2).version == 2
    v3 = client.events.update_schema(name, {**ORDER_V2, "doc": "orders placed in the shop"})
    assert v3.version == 3
    assert [s.version for s in client.events.list_schemas(name_prefix=name)] == [3]

    # The latest version validates: the event version 1 took is refused now.
    result = client.events.put_events(
        [_entry(bus, source, {"id": 1, "sku": "A-1", "note": "fragile"}), without_note]
    )
    assert [e.error_code for e in result.entries] == [None, "InvalidArgument"]
    assert f"{name} version 3" in (result.entries[1].error_message or "")


def test_invalid_schemas_are_refused(client: Client, res: Resources) -> None:
    bad_type = {"type": "record", "name": "X", "fields": [{"name": "a", "type": "nope"}]}
    for content in (bad_type, "{not json", {"type": "string"}):
        with pytest.raises(ValidationException) as info:
            client.events.create_schema(res.schema_name(), "Avro", content)
        assert info.value.code == "ValidationException"
    with pytest.raises(ValidationException):
        client.events.create_schema(res.schema_name(), "Protobuf", ORDER_V1)

    name = res.schema_name()
    client.events.create_schema(name, "Avro", ORDER_V1)
    with pytest.raises(ResourceAlreadyExists):
        client.events.create_schema(name, "Avro", ORDER_V1)
    with pytest.raises(ValidationException):
        client.events.update_schema(name, bad_type)
    assert client.events.describe_schema(name).version == 1
    with pytest.raises(ResourceNotFound):
        client.events.describe_schema(name, version=7)
    with pytest.raises(ResourceNotFound):
        client.events.describe_schema(unique("no-schema"))
