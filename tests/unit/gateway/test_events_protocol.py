"""EventBridge's JSON 1.1 both ways through the bus core's shapes, checked against
botocore's own serializer and parser (what boto3 sends and reads)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from botocore.parsers import JSONParser
from botocore.serialize import JSONSerializer

from eventplane.bus import shapes
from eventplane.bus.aws import EventsBinding
from eventplane.bus.operations import BusOperations
from eventplane.errors import InternalFailure, ResourceNotFound
from eventplane.gateway import json_protocol
from eventplane.gateway.shapes import from_result, operation, service_model, to_request

EVENTS = service_model("events")


def op(name: str):  # type: ignore[no-untyped-def]
    found = operation(EVENTS, name)
    assert found is not None
    return found


def as_boto3_sends(action: str, params: dict[str, Any]) -> bytes:
    body: bytes = JSONSerializer().serialize_to_request(params, op(action))["body"]
    return body


def as_boto3_reads(action: str, output: dict[str, Any]) -> dict[str, Any]:
    _, headers, body = json_protocol.serialize(EVENTS, output)
    parsed: dict[str, Any] = JSONParser().parse(
        {"body": body, "headers": headers, "status_code": 200}, op(action).output_shape
    )
    parsed.pop("ResponseMetadata", None)
    return parsed


TARGET = {
    "Id": "t",
    "Arn": "arn:aws:sqs:us-east-1:000000000000:q",
    "InputTransformer": {"InputPathsMap": {"s": "$.source"}, "InputTemplate": "<s>"},
    "RetryPolicy": {"MaximumRetryAttempts": 2},
    "SqsParameters": {"MessageGroupId": "g"},
}


def test_targets_round_trip_through_the_core_shapes() -> None:
    members = json_protocol.parse(
        op("PutTargets"),
        as_boto3_sends("PutTargets", {"Rule": "r", "EventBusName": "b", "Targets": [TARGET]}),
    )
    request = to_request(shapes.PutTargetsRequest, members)
    (target,) = request.targets
    assert target.input_transformer == shapes.InputTransformer({"s": "$.source"}, "<s>")
    assert target.retry_policy == shapes.RetryPolicy(2, None)
    assert target.sqs_parameters == shapes.SqsParameters("g")
    assert target.dead_letter_config is None

    listed = from_result(
        op("ListTargetsByRule").output_shape,
        shapes.ListTargetsByRuleResult([target]),
        keep_empty=True,
    )
    assert as_boto3_reads("ListTargetsByRule", listed) == {"Targets": [TARGET]}


def test_put_events_time_and_per_entry_results() -> None:
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    members = json_protocol.parse(
        op("PutEvents"),
        as_boto3_sends(
            "PutEvents",
            {"Entries": [{"Source": "s", "DetailType": "d", "Detail": "{}", "Time": when}]},
        ),
    )
    (entry,) = to_request(shapes.PutEventsRequest, members).entries
    assert (entry.source, entry.detail_type, entry.time) == ("s", "d", when)

    result = shapes.PutEventsResult(
        1,
        [
            shapes.PutEventsResultEntry(event_id="e1"),
            shapes.PutEventsResultEntry(error_code="MalformedDetail", error_message="bad"),
        ],
    )
    out = from_result(op("PutEvents").output_shape, result, keep_empty=True)
    assert as_boto3_reads("PutEvents", out) == {
        "FailedEntryCount": 1,
        "Entries": [{"EventId": "e1"}, {"ErrorCode": "MalformedDetail", "ErrorMessage": "bad"}],
    }


def test_bus_creation_time_reads_back_as_a_timestamp() -> None:
    created = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    bus = shapes.EventBus("b", "arn:aws:events:local:000000000000:event-bus/b", "", created)
    out = from_result(op("DescribeEventBus").output_shape, bus, keep_empty=True)
    parsed = as_boto3_reads("DescribeEventBus", out)
    assert parsed["CreationTime"] == created and "SchemaValidation" not in out


def test_every_served_action_has_a_shape_and_a_core_method() -> None:
    binding = EventsBinding(BusOperations(None, None))  # type: ignore[arg-type]
    served = [a for a in EVENTS.operation_names if binding.handler(a) is not None]
    assert sorted(served) == sorted(
        [
            "CreateEventBus",
            "DeleteEventBus",
            "DeleteRule",
            "DescribeEventBus",
            "DescribeRule",
            "DisableRule",
            "EnableRule",
            "ListEventBuses",
            "ListRuleNamesByTarget",
            "ListRules",
            "ListTagsForResource",
            "ListTargetsByRule",
            "PutEvents",
            "PutPermission",
            "PutRule",
            "PutTargets",
            "RemovePermission",
            "RemoveTargets",
            "TagResource",
            "TestEventPattern",
            "UntagResource",
            "UpdateEventBus",
            "CreateArchive",
            "DescribeArchive",
            "ListArchives",
            "UpdateArchive",
            "DeleteArchive",
            "StartReplay",
            "DescribeReplay",
            "ListReplays",
            "CancelReplay",
        ]
    )


def test_errors_take_eventbridges_status() -> None:
    status, headers, _ = json_protocol.serialize_error(
        EVENTS, ResourceNotFound("Rule r does not exist."), None
    )
    assert status == 400 and headers["x-amzn-errortype"] == "ResourceNotFoundException"
    assert "x-amzn-query-error" not in headers
    assert json_protocol.serialize_error(EVENTS, InternalFailure("x"), None)[0] == 500
