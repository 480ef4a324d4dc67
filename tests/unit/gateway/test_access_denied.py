"""An authorization denial leaves the gateway as each protocol's client error, never a 500."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from eventplane.errors import AccessDeniedError, PreconditionError
from eventplane.errors.security import AccessDeniedException
from eventplane.gateway import json_protocol, query_protocol, rest_json_protocol
from eventplane.gateway.errors import http_status
from eventplane.gateway.shapes import service_model

DENIED = AccessDeniedException("User anonymous is not authorized to perform sqs:SendMessage")


def test_sqs_json_answers_a_denial_with_400_and_its_code() -> None:
    status, headers, body = json_protocol.serialize_error(
        service_model("sqs"), DENIED, "AccessDenied"
    )
    assert status == 400
    assert headers["x-amzn-errortype"] == "AccessDeniedException"
    assert headers["x-amzn-query-error"] == "AccessDenied;Sender"
    assert json.loads(body)["message"] == DENIED.message


def test_sqs_query_answers_a_denial_with_400_as_a_sender_fault() -> None:
    status, _, body = query_protocol.serialize_error(
        service_model("sqs"), DENIED, "AccessDenied", "rid"
    )
    assert status == 400
    xml = ET.fromstring(body)
    ns = "{" + xml.tag[1:].split("}")[0] + "}"
    assert xml.findtext(f"{ns}Error/{ns}Code") == "AccessDenied"
    assert xml.findtext(f"{ns}Error/{ns}Type") == "Sender"


def test_sns_query_answers_a_denial_with_403() -> None:
    status, _, _ = query_protocol.serialize_error(service_model("sns"), DENIED, DENIED.code, "rid")
    assert status == 403


def test_eventbridge_json_answers_a_denial_as_a_client_fault() -> None:
    status, headers, _ = json_protocol.serialize_error(service_model("events"), DENIED, None)
    assert 400 <= status < 500
    assert headers["x-amzn-errortype"] == "AccessDeniedException"


def test_lambda_rest_json_answers_a_denial_with_403() -> None:
    status, headers, body = rest_json_protocol.serialize_error(service_model("lambda"), DENIED)
    assert status == 403
    assert headers["x-amzn-errortype"] == "AccessDeniedException"
    assert json.loads(body) == {"Type": "User", "message": DENIED.message}


def test_every_error_category_has_a_status_below_500_unless_a_server_fault() -> None:
    assert http_status(AccessDeniedError("no")) == 403
    assert http_status(PreconditionError("no")) == 400


def test_the_sqs_binding_words_a_denial_as_sqs_query_does() -> None:
    from eventplane.queues.aws import SqsBinding

    assert SqsBinding.query_error_codes["AccessDeniedException"] == "AccessDenied"
