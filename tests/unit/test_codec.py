from __future__ import annotations

import pytest

from eventplane.kafka import codec


def _resource() -> dict[str, object]:
    return {
        "kind": "queue",
        "name": "orders",
        "spec": '{"a":1}',
        "generation": 3,
        "created_at": 1,
        "updated_at": 2,
    }


def test_round_trip_with_fingerprint_header() -> None:
    value, headers = codec.encode("eventplane.v1.Resource", _resource())
    assert headers[0][0] == codec.SCHEMA_HEADER
    name, record = codec.decode(value, headers)
    assert name == "eventplane.v1.Resource"
    assert record == _resource()


def test_every_schema_file_parses() -> None:
    assert "eventplane.v1.Resource" in codec.schema_names()


def test_record_that_does_not_fit_is_refused() -> None:
    bad = _resource() | {"generation": "three"}
    with pytest.raises(codec.CodecError, match="does not fit"):
        codec.encode("eventplane.v1.Resource", bad)


def test_unknown_fingerprint_and_missing_header_are_refused() -> None:
    value, _ = codec.encode("eventplane.v1.Resource", _resource())
    with pytest.raises(codec.CodecError, match="no ep-schema header"):
        codec.decode(value, [])
    with pytest.raises(codec.CodecError, match="unknown schema"):
        codec.decode(value, [(codec.SCHEMA_HEADER, b"deadbeef")])
