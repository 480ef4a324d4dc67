"""PutEvents entries: per-entry errors worded as EventBridge words them, the request-wide
limits (10 entries, 256 KiB by EventBridge's size rule) and the event envelope."""

from __future__ import annotations

import re
import uuid

import pytest

from eventplane.arn import DEFAULT_ACCOUNT as ACCOUNT
from eventplane.arn import DEFAULT_REGION as REGION
from eventplane.bus.entries import (
    MAX_ENTRIES,
    MAX_REQUEST_BYTES,
    EntryError,
    check_request,
    entry_size,
    envelope,
    parse_detail,
)
from eventplane.errors import ValidationException

RFC3339_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def entry_error(source: str, detail_type: str, detail: str) -> EntryError:
    with pytest.raises(EntryError) as caught:
        parse_detail(source, detail_type, detail)
    return caught.value


# --- parse_detail ----------------------------------------------------------------------


def test_a_valid_entry_gives_its_detail_object() -> None:
    detail = parse_detail("com.shop", "Order placed", '{"id": "o-1", "items": [1, 2]}')
    assert detail == {"id": "o-1", "items": [1, 2]}


@pytest.mark.parametrize(
    ("source", "detail_type", "detail", "field"),
    [
        ("", "Order placed", "{}", "Source"),
        ("com.shop", "", "{}", "DetailType"),
        ("com.shop", "Order placed", "", "Detail"),
        ("", "", "", "Source"),  # the first missing field is the one named
    ],
)
def test_a_missing_field_is_an_invalid_argument_naming_it(
    source: str, detail_type: str, detail: str, field: str
) -> None:
    err = entry_error(source, detail_type, detail)
    assert err.code == "InvalidArgument"
    assert err.message == f"Parameter {field} is not valid. Reason: {field} is a required argument."


@pytest.mark.parametrize("source", ["aws.ec2", "aws.events", "aws."])
def test_an_aws_source_is_not_authorized(source: str) -> None:
    err = entry_error(source, "EC2 Instance State-change Notification", "{}")
    assert err.code == "NotAuthorizedForSourceException"
    assert source in err.message


def test_a_source_that_only_contains_aws_is_allowed() -> None:
    assert parse_detail("com.aws.shop", "x", "{}") == {}
    assert parse_detail("awsome", "x", "{}") == {}


@pytest.mark.parametrize("detail", ["{not json", "{'a': 1}", '{"a": 1', "undefined"])
def test_detail_that_is_not_json_is_malformed(detail: str) -> None:
    err = entry_error("com.shop", "x", detail)
    assert err.code == "MalformedDetail"
    assert err.message.startswith("Detail is malformed")


@pytest.mark.parametrize("detail", ["[1, 2]", '"text"', "42", "null", "true"])
def test_detail_that_is_json_but_not_an_object_is_malformed(detail: str) -> None:
    err = entry_error("com.shop", "x", detail)
    assert err.code == "MalformedDetail"
    assert "object" in err.message


@pytest.mark.parametrize("detail", ['{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}'])
def test_detail_with_non_standard_numbers_is_malformed(detail: str) -> None:
    assert entry_error("com.shop", "x", detail).code == "MalformedDetail"


def test_the_source_check_comes_before_the_detail_check() -> None:
    assert entry_error("aws.s3", "x", "not json").code == "NotAuthorizedForSourceException"


# --- entry_size and check_request -------------------------------------------------------


def test_entry_size_counts_utf8_bytes_of_every_field() -> None:
    # "é" and "ü" are two bytes each in UTF-8, "€" three.
    assert entry_size("é", "ab", '{"k":"€"}', ["r1", "ü"], has_time=False) == 2 + 2 + 11 + 2 + 2


def test_entry_size_counts_a_set_time_as_14_bytes() -> None:
    without = entry_size("src", "type", "{}", [], has_time=False)
    assert without == 3 + 4 + 2
    assert entry_size("src", "type", "{}", [], has_time=True) == without + 14


def test_check_request_accepts_one_to_ten_entries() -> None:
    check_request([10])
    check_request([10] * MAX_ENTRIES)


def test_check_request_refuses_no_entries() -> None:
    with pytest.raises(ValidationException) as caught:
        check_request([])
    assert "'entries'" in caught.value.message
    assert "greater than or equal to 1" in caught.value.message


def test_check_request_refuses_eleven_entries() -> None:
    with pytest.raises(ValidationException) as caught:
        check_request([10] * (MAX_ENTRIES + 1))
    assert "'entries'" in caught.value.message
    assert "less than or equal to 10" in caught.value.message


def test_check_request_accepts_exactly_256_kib() -> None:
    assert MAX_REQUEST_BYTES == 256 * 1024
    check_request([MAX_REQUEST_BYTES])
    check_request([MAX_REQUEST_BYTES - 100, 100])


def test_check_request_refuses_one_byte_over_256_kib_in_total() -> None:
    with pytest.raises(ValidationException) as caught:
        check_request([MAX_REQUEST_BYTES - 100, 101])
    assert caught.value.message.startswith(
        "Total size of the entries in the request is over the limit"
    )


def test_the_time_bytes_count_towards_the_request_limit() -> None:
    # A detail that fits exactly without a Time goes over with one.
    detail = "x" * (MAX_REQUEST_BYTES - len("s") - len("t"))
    check_request([entry_size("s", "t", detail, [], has_time=False)])
    with pytest.raises(ValidationException):
        check_request([entry_size("s", "t", detail, [], has_time=True)])


# --- envelope ---------------------------------------------------------------------------


def test_envelope_has_eventbridge_shape() -> None:
    detail = {"id": "o-1"}
    event = envelope(
        source="com.shop",
        detail_type="Order placed",
        detail=detail,
        resources=("arn:r1", "arn:r2"),
        time_ms=1_700_000_000_123,
    )
    assert set(event) == {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    }
    assert event["version"] == "0"
    assert str(uuid.UUID(event["id"])) == event["id"]
    assert event["detail-type"] == "Order placed"
    assert event["source"] == "com.shop"
    assert event["account"] == ACCOUNT
    assert event["region"] == REGION
    assert event["time"] == "2023-11-14T22:13:20Z"
    assert RFC3339_UTC.fullmatch(event["time"])
    assert event["resources"] == ["arn:r1", "arn:r2"]
    assert isinstance(event["resources"], list)
    assert event["detail"] == {"id": "o-1"}


def test_envelope_ids_are_unique_unless_given() -> None:
    first = envelope(source="s", detail_type="t", detail={}, resources=[], time_ms=0)
    second = envelope(source="s", detail_type="t", detail={}, resources=[], time_ms=0)
    assert first["id"] != second["id"]
    given = envelope(source="s", detail_type="t", detail={}, resources=[], time_ms=0, event_id="e")
    assert given["id"] == "e"


def test_envelope_time_is_utc_at_the_epoch() -> None:
    event = envelope(source="s", detail_type="t", detail={}, resources=[], time_ms=0)
    assert event["time"] == "1970-01-01T00:00:00Z"
    assert event["resources"] == []


def test_envelope_copies_detail_and_resources() -> None:
    detail = {"a": 1}
    resources = ["r"]
    event = envelope(source="s", detail_type="t", detail=detail, resources=resources, time_ms=0)
    detail["a"] = 2
    resources.append("other")
    assert event["detail"] == {"a": 1}
    assert event["resources"] == ["r"]
