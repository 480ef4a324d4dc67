"""`eventplane function create-mapping/update-mapping` with a table stream's options, and
the SDK's stream settings, against a fake Functions service."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from cli_harness import cli_runner
from test_client_functions import UUID, FakeFunctions, pb_mapping, serve_fake

from eventplane._gen.v1 import functions_pb2 as pb
from eventplane.client import Client

STREAM = "arn:aws:dynamodb:local:000000000000:table/t/stream/2026-01-01T00:00:00.000"
DLQ = "arn:aws:sqs:local:000000000000:dlq"
PATTERN = json.dumps({"eventName": ["INSERT"]})


@pytest.fixture
def served() -> Iterator[tuple[FakeFunctions, str]]:
    with serve_fake() as pair:
        yield pair


@pytest.fixture
def run(served: tuple[FakeFunctions, str], capsys: pytest.CaptureFixture[str]) -> Any:
    return cli_runner("function", served[1], capsys)


def test_create_mapping_with_stream_options(served: tuple[FakeFunctions, str], run: Any) -> None:
    fake = served[0]
    fake.responses["CreateEventSourceMapping"] = pb_mapping()
    result = run(
        "create-mapping", "--source", STREAM, "--function", "index",
        "--starting-position", "AT_TIMESTAMP", "--starting-timestamp", "1700000000.5",
        "--max-retries", "3", "--max-record-age", "3600", "--bisect", "--parallelization", "2",
        "--on-failure", DLQ, "--filter", PATTERN, "--filter", "{}",
        "--tumbling-window-seconds", "60",
    )  # fmt: skip
    assert result == (0, UUID + "\n", "")
    req = fake.only("CreateEventSourceMapping")
    assert (req.starting_position, req.starting_position_timestamp_ms) == (
        "AT_TIMESTAMP",
        1_700_000_000_500,
    )
    assert (req.maximum_retry_attempts, req.maximum_record_age_in_seconds) == (3, 3600)
    assert req.bisect_batch_on_function_error and req.parallelization_factor == 2
    assert req.on_failure_destination == DLQ
    assert list(req.filter_patterns) == [PATTERN, "{}"]
    assert req.HasField("tumbling_window_in_seconds") and req.tumbling_window_in_seconds == 60


def test_update_mapping_with_stream_options(served: tuple[FakeFunctions, str], run: Any) -> None:
    fake = served[0]
    fake.responses["UpdateEventSourceMapping"] = pb_mapping()
    assert run("update-mapping", UUID, "--no-bisect", "--on-failure", "")[0] == 0
    req = fake.only("UpdateEventSourceMapping")
    assert req.HasField("bisect_batch_on_function_error")
    assert req.bisect_batch_on_function_error is False
    assert req.HasField("on_failure_destination") and req.on_failure_destination == ""
    assert not req.set_filter_patterns and not req.HasField("maximum_retry_attempts")
    run("update-mapping", UUID, "--filter", PATTERN)
    req = fake.calls[-1][1]
    assert req.set_filter_patterns and list(req.filter_patterns) == [PATTERN]
    assert not req.HasField("tumbling_window_in_seconds")
    run("update-mapping", UUID, "--tumbling-window-seconds", "0")
    req = fake.calls[-1][1]
    assert req.HasField("tumbling_window_in_seconds") and req.tumbling_window_in_seconds == 0


def test_sdk_shows_a_stream_mappings_settings(served: tuple[FakeFunctions, str]) -> None:
    fake, endpoint = served
    m = pb_mapping()
    m.MergeFrom(
        pb.EventSourceMapping(
            event_source_arn=STREAM,
            starting_position="TRIM_HORIZON",
            maximum_retry_attempts=-1,
            maximum_record_age_in_seconds=-1,
            parallelization_factor=1,
            on_failure_destination=DLQ,
            filter_patterns=[PATTERN],
            tumbling_window_in_seconds=300,
        )
    )
    fake.responses["GetEventSourceMapping"] = m
    with Client(endpoint) as ep:
        got = ep.functions.get_event_source_mapping(UUID)
    assert got.stream is not None
    assert got.stream.starting_position == "TRIM_HORIZON"
    assert got.stream.on_failure_destination == DLQ
    assert got.stream.filter_patterns == (PATTERN,)
    assert got.stream.tumbling_window_in_seconds == 300
    fake.responses["GetEventSourceMapping"] = pb_mapping()
    with Client(endpoint) as ep:
        assert ep.functions.get_event_source_mapping(UUID).stream is None


def test_sdk_refuses_a_malformed_destination_before_sending(
    served: tuple[FakeFunctions, str],
) -> None:
    fake, endpoint = served
    with Client(endpoint) as ep, pytest.raises(ValueError):
        ep.functions.create_event_source_mapping(
            STREAM, "f", starting_position="LATEST", destination_config={"OnFailur": {}}
        )
    assert fake.calls == []
