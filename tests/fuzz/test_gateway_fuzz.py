"""Every action of the AWS-protocol gateway's services, fed generated requests.

The promise checked, as for gRPC: whatever a client sends, the answer is a success or
an AWS error with its code (JSON: ``__type``; query: ``<Error><Code>``), never a 5xx;
and the gateway keeps serving. Actions come from botocore's models, so every action of
SQS (JSON and query), SNS, EventBridge, Lambda (REST-JSON), Step Functions, DynamoDB and
DynamoDB Streams is tried, served or not.
Each action gets typed requests written by botocore's own serializer (with validation off) and, for
the JSON protocols, raw bodies: wrong types, any JSON, garbage. EVENTPLANE_FUZZ_EXAMPLES
raises the number of requests per action (``make fuzz``).
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore import serialize
from botocore.model import OperationModel
from botocore.session import get_session
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from eventplane.testing import EventplaneProcess
from integration.gateway.support import Reply, gateway_process, signed_request

from .aws_shapes import input_strategy, raw_json_strategy
from .strategies import TRIED

pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning"),
]

EXAMPLES = max(1, int(os.environ.get("EVENTPLANE_FUZZ_EXAMPLES", "10")) // 2)
_SESSION = get_session()
# (botocore model, the signing name); SQS's legacy query protocol is fuzzed too.
_SERVICES = {
    "sqs": "json",
    "sqs-query": "query",
    "sns": "query",
    "events": "json",
    "lambda": "rest-json",
    "stepfunctions": "json",
    "dynamodb": "json",
    "dynamodbstreams": "json",
}
# SigV4 signing names that differ from the model's name (DynamoDB Streams signs as
# dynamodb; the gateway routes it by X-Amz-Target).
_SIGNING = {"stepfunctions": "states", "dynamodbstreams": "dynamodb"}


def _operations() -> list[tuple[str, str]]:
    found = []
    for label in _SERVICES:
        model = _SESSION.get_service_model(label.split("-")[0])
        found += [(label, name) for name in model.operation_names]
    return found


@pytest.fixture(scope="module")
def gateway(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    server = gateway_process(eventplane_kafka, "api,queues,fanout,bus,runner,workflows,tables")
    try:
        yield server
    finally:
        server.stop()


def _tame(operation: str, params: dict[str, Any]) -> None:
    """Keep requests from parking or from reaching beyond this machine."""
    wait = params.get("WaitTimeSeconds")
    if isinstance(wait, int) and 0 < wait <= 20:
        params["WaitTimeSeconds"] = 0
    # An http(s) subscription makes the server POST a confirmation to its endpoint:
    # only ever to a closed port on loopback.
    if operation == "Subscribe" and str(params.get("Protocol", "")).lower().startswith("http"):
        params["Endpoint"] = "http://127.0.0.1:9/fuzz"


# What uvicorn (h11) answers to a request that is not valid HTTP, before the gateway sees it.
_UNPARSEABLE = b"Invalid HTTP request received."
# (method, path with its query string, body, headers, the request as shown on failure)
Raw = tuple[str, str, bytes, dict[str, str], str]


def _send(gateway: EventplaneProcess, service: str, raw: Raw) -> Reply:
    method, path, body, headers, _ = raw
    try:
        return signed_request(
            gateway.gateway_url + path, data=body, headers=headers, service=service, method=method
        )
    except (ValueError, UnicodeError):  # a header http.client itself will not send
        reject()
    except ConnectionResetError:  # the HTTP server dropped a request it could not parse
        return Reply(400, {}, _UNPARSEABLE)


def _typed_request(label: str, op: OperationModel, params: dict[str, Any]) -> Raw:
    protocol = _SERVICES[label]
    serializer = serialize.create_serializer(protocol, include_validation=False)
    try:
        request = serializer.serialize_to_request(params, op)
    except KeyError:  # a URI label left out: botocore cannot even build the path
        reject()
    body = request["body"]
    headers = {k: str(v) for k, v in request["headers"].items()}
    if isinstance(body, dict):  # query: a form
        body = urlencode(body).encode()
    headers.pop("x-amzn-query-mode", None)
    path = request["url_path"]
    if request["query_string"]:
        query = request["query_string"]
        path += "?" + (query if isinstance(query, str) else urlencode(query, doseq=True))
    return request["method"], path, body or b"", headers, repr(params)


def _check(label: str, op: OperationModel, reply: Reply, shown: str) -> None:
    where = (
        f"{label}.{op.name} answered {reply.status} {dict(reply.headers)}: {reply.body[:300]!r}"
        f"\nrequest: {shown[:300]}"
    )
    assert reply.status < 500, where
    if reply.status < 300:
        return
    if reply.status == 400 and reply.body == _UNPARSEABLE:
        return  # refused by the HTTP server itself (a header h11 will not take), not the app
    if _SERVICES[label] in ("json", "rest-json"):
        code = reply.headers.get("x-amzn-errortype") or _json_type(reply.body)
    else:
        code = _query_code(reply)
    assert code, where


def _json_type(body: bytes) -> str:
    try:
        doc = json.loads(body)
    except ValueError:
        return ""
    return str(doc.get("__type", "")) if isinstance(doc, dict) else ""


def _query_code(reply: Reply) -> str:
    root = ET.fromstring(reply.body)
    node = next((n for n in root.iter() if n.tag.endswith("Code")), None)
    return node.text if node is not None and node.text else ""


def _sfn(gateway: EventplaneProcess, action: str, body: dict[str, Any]) -> dict[str, Any]:
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": f"AWSStepFunctions.{action}",
    }
    reply = _send(gateway, "states", ("POST", "/", json.dumps(body).encode(), headers, ""))
    assert reply.status == 200, reply.body
    out: dict[str, Any] = json.loads(reply.body)
    return out


@pytest.fixture(scope="module")
def sfn_resources(gateway: EventplaneProcess) -> dict[str, list[str]]:
    """Real Step Functions resources by member name: half the typed requests name one, so
    they get past "does not exist" into the engine's own checks."""
    wait = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    passing = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    role = "arn:aws:iam::123456789012:role/fuzz"
    standard = _sfn(
        gateway,
        "CreateStateMachine",
        {"name": "fuzz-wait", "definition": json.dumps(wait), "roleArn": role, "publish": True},
    )
    express = _sfn(
        gateway,
        "CreateStateMachine",
        {
            "name": "fuzz-express",
            "definition": json.dumps(passing),
            "roleArn": role,
            "type": "EXPRESS",
        },
    )
    version = standard["stateMachineVersionArn"]
    alias = _sfn(
        gateway,
        "CreateStateMachineAlias",
        {
            "name": "live",
            "routingConfiguration": [{"stateMachineVersionArn": version, "weight": 100}],
        },
    )["stateMachineAliasArn"]
    execution = _sfn(gateway, "StartExecution", {"stateMachineArn": standard["stateMachineArn"]})
    machines = [standard["stateMachineArn"], express["stateMachineArn"], version, alias]
    return {
        "stateMachineArn": machines,
        "executionArn": [execution["executionArn"]],
        "stateMachineVersionArn": [version],
        "stateMachineAliasArn": [alias],
    }


def _naming_real(
    op: OperationModel, real: dict[str, list[str]]
) -> st.SearchStrategy[dict[str, Any]]:
    return input_strategy(op.input_shape).flatmap(
        lambda params: st.fixed_dictionaries(
            {}, optional={k: st.sampled_from(v) for k, v in real.items()}
        ).map(lambda swapped: {**params, **swapped})
    )


def _serving(gateway: EventplaneProcess) -> None:
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.ListQueues"}
    reply = _send(gateway, "sqs", ("POST", "/", b"{}", headers, ""))
    assert reply.status == 200, reply.body


@pytest.mark.parametrize(("label", "operation"), _operations(), ids=lambda v: v)
def test_any_request_gets_success_or_aws_error(
    gateway: EventplaneProcess, label: str, operation: str, request: pytest.FixtureRequest
) -> None:
    model_name = label.split("-")[0]
    service = _SIGNING.get(model_name, model_name)
    op = _SESSION.get_service_model(model_name).operation_model(operation)
    counter = f"gateway {label}.{operation}"
    bodies: list[st.SearchStrategy[Raw]] = [
        input_strategy(op.input_shape).map(
            lambda p: _typed_request(label, op, _tamed(operation, p))
        )
    ]
    # Deletes stay on made-up names: the real resources must outlive the module.
    if model_name == "stepfunctions" and not operation.startswith("Delete"):
        real = request.getfixturevalue("sfn_resources")
        members = set(op.input_shape.members) if op.input_shape else set()
        named = {k: v for k, v in real.items() if k in members}
        if named:
            bodies.append(
                _naming_real(op, named).map(
                    lambda p: _typed_request(label, op, _tamed(operation, p))
                )
            )
    if _SERVICES[label] == "json":
        headers = {
            "Content-Type": f"application/x-amz-json-{op.metadata['jsonVersion']}",
            "X-Amz-Target": f"{op.metadata['targetPrefix']}.{operation}",
        }
        bodies.append(
            raw_json_strategy(op.input_shape).map(lambda b: ("POST", "/", b, headers, repr(b)))
        )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(request=st.one_of(bodies))
    def one(request: Raw) -> None:
        TRIED[counter] += 1
        _check(label, op, _send(gateway, _SIGNING.get(service, service), request), request[4])

    one()
    _serving(gateway)


def _tamed(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    _tame(operation, params)
    return params
