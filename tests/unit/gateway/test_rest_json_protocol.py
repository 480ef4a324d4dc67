"""The REST-JSON protocol without a server: routing by URI template, binding members from
the URI, query string, headers and body, and writing responses and errors as Lambda does."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.model import ServiceModel

from eventplane.errors.functions import (
    InvalidParameterValueException,
    RequestTooLargeException,
    ResourceNotFoundException,
    TooManyRequestsException,
)
from eventplane.gateway import rest_json_protocol as rest
from eventplane.gateway.errors import SerializationException
from eventplane.gateway.shapes import service_model

LAMBDA = service_model("lambda")
ROUTER = rest.Router(LAMBDA)

# A small REST-JSON model with the template features Lambda's model does not use.
TOY = ServiceModel(
    {
        "metadata": {
            "protocol": "rest-json",
            "apiVersion": "2020-01-01",
            "endpointPrefix": "toy",
            "serviceId": "Toy",
        },
        "operations": {
            "GetObject": {
                "name": "GetObject",
                "http": {"method": "GET", "requestUri": "/buckets/{Bucket}/{Key+}"},
                "input": {"shape": "GetObjectInput"},
            },
            "ListTagged": {
                "name": "ListTagged",
                "http": {"method": "GET", "requestUri": "/buckets/{Bucket}?tagging"},
                "input": {"shape": "ListInput"},
            },
            "ListPlain": {
                "name": "ListPlain",
                "http": {"method": "GET", "requestUri": "/buckets/{Bucket}"},
                "input": {"shape": "ListInput"},
            },
        },
        "shapes": {
            "GetObjectInput": {
                "type": "structure",
                "members": {
                    "Bucket": {"shape": "S", "location": "uri", "locationName": "Bucket"},
                    "Key": {"shape": "S", "location": "uri", "locationName": "Key"},
                    "Ids": {"shape": "SList", "location": "querystring", "locationName": "id"},
                    "Limit": {"shape": "I", "location": "querystring", "locationName": "limit"},
                    "Trace": {"shape": "S", "location": "header", "locationName": "X-Toy-Trace"},
                    "Flag": {"shape": "B", "location": "header", "locationName": "X-Toy-Flag"},
                },
            },
            "ListInput": {
                "type": "structure",
                "members": {
                    "Bucket": {"shape": "S", "location": "uri", "locationName": "Bucket"},
                },
            },
            "S": {"type": "string"},
            "I": {"type": "integer"},
            "B": {"type": "boolean"},
            "SList": {"type": "list", "member": {"shape": "S"}},
        },
    },
    service_name="toy",
)
TOY_ROUTER = rest.Router(TOY)


def _match(router: rest.Router, method: str, path: str, query: Any = None) -> Any:
    found = router.match(method, path, query or {})
    assert found is not None, f"{method} {path} matched nothing"
    return found


def test_routes_by_method_and_template() -> None:
    op, labels = _match(ROUTER, "POST", "/2015-03-31/functions/my-fn/invocations")
    assert op.name == "Invoke"
    assert labels == {"FunctionName": "my-fn"}
    assert _match(ROUTER, "GET", "/2015-03-31/functions/my-fn")[0].name == "GetFunction"
    assert _match(ROUTER, "DELETE", "/2015-03-31/functions/my-fn")[0].name == "DeleteFunction"
    assert _match(ROUTER, "GET", "/2015-03-31/functions/")[0].name == "ListFunctions"
    assert _match(ROUTER, "POST", "/2015-03-31/functions")[0].name == "CreateFunction"
    op, labels = _match(ROUTER, "GET", "/2015-03-31/functions/f/aliases/live")
    assert (op.name, labels) == ("GetAlias", {"FunctionName": "f", "Name": "live"})
    assert ROUTER.match("PATCH", "/2015-03-31/functions/f", {}) is None
    assert ROUTER.match("GET", "/nowhere", {}) is None


def test_uri_labels_are_percent_decoded() -> None:
    arn = "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af"
    _, labels = _match(ROUTER, "GET", f"/2015-03-31/functions/{arn}")
    assert labels["FunctionName"] == "arn:aws:lambda:us-east-1:000000000000:function:f"


def test_greedy_label_spans_slashes() -> None:
    op, labels = _match(TOY_ROUTER, "GET", "/buckets/b1/a/b%20c/d.txt")
    assert op.name == "GetObject"
    assert labels == {"Bucket": "b1", "Key": "a/b c/d.txt"}


def test_template_with_a_fixed_query_key_wins_only_when_the_key_is_there() -> None:
    assert _match(TOY_ROUTER, "GET", "/buckets/b1", {"tagging": [""]})[0].name == "ListTagged"
    assert _match(TOY_ROUTER, "GET", "/buckets/b1")[0].name == "ListPlain"


def test_query_lists_scalars_and_headers_bind_to_members() -> None:
    op, labels = _match(TOY_ROUTER, "GET", "/buckets/b1/k")
    members = rest.parse(
        op,
        labels,
        {"id": ["a", "b"], "limit": ["7"]},
        {"x-toy-trace": "t-1", "x-toy-flag": "true"},
        b"",
    )
    assert members == {
        "Bucket": "b1",
        "Key": "k",
        "Ids": ["a", "b"],
        "Limit": 7,
        "Trace": "t-1",
        "Flag": True,
    }


def test_a_query_value_of_the_wrong_type_is_a_serialization_error_naming_it() -> None:
    op, labels = _match(TOY_ROUTER, "GET", "/buckets/b1/k")
    with pytest.raises(SerializationException, match="Limit"):
        rest.parse(op, labels, {"limit": ["many"]}, {}, b"")


def test_invoke_binds_headers_qualifier_and_the_raw_payload() -> None:
    op, labels = _match(ROUTER, "POST", "/2015-03-31/functions/f/invocations")
    members = rest.parse(
        op,
        labels,
        {"Qualifier": ["live"]},
        {
            "x-amz-invocation-type": "Event",
            "x-amz-log-type": "Tail",
            "x-amz-client-context": "e30=",
        },
        b'{"not": "parsed"}',
    )
    assert members == {
        "FunctionName": "f",
        "Qualifier": "live",
        "InvocationType": "Event",
        "LogType": "Tail",
        "ClientContext": "e30=",
        "Payload": b'{"not": "parsed"}',
    }


def test_json_body_members_are_type_checked_and_blobs_decoded() -> None:
    op, labels = _match(ROUTER, "POST", "/2015-03-31/functions")
    body = json.dumps(
        {"FunctionName": "f", "Code": {"ZipFile": "UEsFBg=="}, "Timeout": 5, "Role": "r"}
    ).encode()
    members = rest.parse(op, labels, {}, {}, body)
    assert members["Code"] == {"ZipFile": b"PK\x05\x06"}
    assert members["Timeout"] == 5
    with pytest.raises(SerializationException, match="Timeout"):
        rest.parse(op, labels, {}, {}, json.dumps({"Timeout": "five"}).encode())
    with pytest.raises(SerializationException):
        rest.parse(op, labels, {}, {}, b"{not json")


def test_invoke_response_puts_the_payload_raw_and_the_rest_in_headers() -> None:
    op = LAMBDA.operation_model("Invoke")
    status, headers, body = rest.serialize(
        op,
        {
            "StatusCode": 200,
            "FunctionError": "Unhandled",
            "LogResult": "bG9n",
            "ExecutedVersion": "$LATEST",
            "Payload": b'{"errorType": "ValueError"}',
        },
    )
    assert status == 200
    assert body == b'{"errorType": "ValueError"}'
    assert headers["x-amz-function-error"] == "Unhandled"
    assert headers["x-amz-log-result"] == "bG9n"
    assert headers["x-amz-executed-version"] == "$LATEST"


def test_status_code_member_and_empty_204_bodies() -> None:
    op = LAMBDA.operation_model("Invoke")
    assert rest.serialize(op, {"StatusCode": 202, "Payload": b""})[0] == 202
    assert rest.serialize(op, {"StatusCode": 204, "Payload": b""})[::2] == (204, b"")
    delete = LAMBDA.operation_model("DeleteAlias")
    assert rest.serialize(delete, {})[::2] == (204, b"")


def test_json_response_writes_timestamps_as_epoch_seconds() -> None:
    op = LAMBDA.operation_model("GetFunctionEventInvokeConfig")
    status, _, body = rest.serialize(
        op, {"FunctionArn": "arn", "LastModified": "2026-01-01T00:00:00+00:00"}
    )
    assert status == 200
    assert json.loads(body) == {"FunctionArn": "arn", "LastModified": 1767225600.0}


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ResourceNotFoundException("Function not found: f"), 404),
        (InvalidParameterValueException("Timeout bad"), 400),
        (TooManyRequestsException("Rate Exceeded."), 429),
        (RequestTooLargeException("Request must be smaller than 6291456 bytes"), 413),
    ],
)
def test_errors_carry_the_modeled_status_type_and_error_header(error: Any, status: int) -> None:
    got, headers, body = rest.serialize_error(LAMBDA, error)
    assert got == status
    assert headers["x-amzn-errortype"] == error.code
    doc = json.loads(body)
    assert doc["Type"] == "User"
    assert doc["message"] == error.message


def test_a_throttle_says_why() -> None:
    _, _, body = rest.serialize_error(LAMBDA, TooManyRequestsException("Rate Exceeded."))
    assert json.loads(body)["Reason"] == TooManyRequestsException.RESERVED_LIMIT


def test_a_timestamp_no_calendar_holds_is_a_serialization_error() -> None:
    from botocore.model import Shape

    when = Shape("When", {"type": "timestamp"})
    assert rest._scalar(when, "2026-12-03T10:00:00Z", "After").year == 2026
    with pytest.raises(SerializationException, match="After"):
        rest._scalar(when, "999-01-01T00:00:00Z", "After")
