"""Lambda's binding against botocore's model, and the functions core's shared validation,
without a server: every field of a request or result shape is a member Lambda's model
has (so nothing a client sends is dropped by a misspelt name), and the rules both front
doors rely on hold in the core."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from botocore import xform_name

from eventplane.errors import MissingParameter, ValidationException
from eventplane.functions import shapes as s
from eventplane.functions.aws import LambdaBinding
from eventplane.functions.models import FunctionConfig
from eventplane.functions.models.functions import CodeRef, FunctionDef
from eventplane.functions.operations import FunctionOperations, configuration
from eventplane.gateway.shapes import from_result, service_model, to_request

LAMBDA = service_model("lambda")
# eventplane's own extensions, which Lambda's model does not have.
EXTENSIONS = {"directory", "request_id"}
ACTIONS = [
    a
    for a in LAMBDA.operation_names
    if LambdaBinding(ops=FunctionOperations(None)).handler(a)  # type: ignore[arg-type]
]


def test_the_binding_serves_the_actions_the_grpc_api_has() -> None:
    assert set(ACTIONS) >= {
        "CreateFunction",
        "GetFunction",
        "ListFunctions",
        "DeleteFunction",
        "UpdateFunctionCode",
        "UpdateFunctionConfiguration",
        "Invoke",
        "PublishVersion",
        "ListVersionsByFunction",
        "CreateAlias",
        "GetAlias",
        "UpdateAlias",
        "DeleteAlias",
        "ListAliases",
        "PutFunctionConcurrency",
        "GetFunctionConcurrency",
        "DeleteFunctionConcurrency",
        "PutFunctionEventInvokeConfig",
        "GetFunctionEventInvokeConfig",
        "DeleteFunctionEventInvokeConfig",
        "AddPermission",
        "RemovePermission",
        "GetPolicy",
        "CreateEventSourceMapping",
        "GetEventSourceMapping",
        "UpdateEventSourceMapping",
        "DeleteEventSourceMapping",
        "ListEventSourceMappings",
    }


def _fields_match(cls: type[Any], shape: Any, where: str) -> None:
    members = {xform_name(m): m for m in shape.members}
    for f in dataclasses.fields(cls):
        if f.name in EXTENSIONS:
            continue
        assert f.name in members, f"{where}: {cls.__name__}.{f.name} is not in {shape.name}"


@pytest.mark.parametrize("action", ACTIONS)
def test_request_fields_are_members_of_the_input_shape(action: str) -> None:
    cls = getattr(s, f"{action}Request")
    _fields_match(cls, LAMBDA.operation_model(action).input_shape, action)


def test_nested_shapes_match_too() -> None:
    create = LAMBDA.operation_model("CreateFunction").input_shape
    _fields_match(s.FunctionCode, create.members["Code"], "Code")
    _fields_match(s.Environment, create.members["Environment"], "Environment")
    _fields_match(s.DeadLetterConfig, create.members["DeadLetterConfig"], "DeadLetterConfig")
    config = LAMBDA.operation_model("GetFunction").output_shape.members["Configuration"]
    _fields_match(s.FunctionConfiguration, config, "FunctionConfiguration")
    invoke = LAMBDA.operation_model("Invoke").output_shape
    _fields_match(s.InvokeResult, invoke, "Invoke")
    mapping = LAMBDA.operation_model("GetEventSourceMapping").output_shape
    _fields_match(s.EventSourceMappingConfiguration, mapping, "EventSourceMapping")
    invoke_config = LAMBDA.operation_model("GetFunctionEventInvokeConfig").output_shape
    _fields_match(s.FunctionEventInvokeConfig, invoke_config, "FunctionEventInvokeConfig")


def test_a_parsed_create_request_keeps_code_environment_and_dead_letter() -> None:
    req = to_request(
        s.CreateFunctionRequest,
        {
            "FunctionName": "f",
            "Handler": "app.h",
            "Code": {"ZipFile": b"PK"},
            "Environment": {"Variables": {"A": "1"}},
            "DeadLetterConfig": {"TargetArn": "arn:q"},
            "Timeout": 9,
        },
    )
    assert req.code.zip_file == b"PK"
    assert req.environment == s.Environment({"A": "1"})
    assert req.dead_letter_config == s.DeadLetterConfig("arn:q")
    assert req.timeout == 9 and req.memory_size is None


def test_a_configuration_is_shown_with_lambdas_member_names() -> None:
    config = FunctionConfig(
        handler="app.h",
        code=CodeRef("c2hh", 12),
        environment={"A": "1"},
        dead_letter_arn="arn:q",
        revision_id="r",
        last_modified="2026-01-01T00:00:00.000+0000",
    )
    shape = LAMBDA.operation_model("GetFunctionConfiguration").output_shape
    out = from_result(shape, configuration("f", "2", config), keep_empty=True)
    assert out["FunctionName"] == "f"
    assert out["FunctionArn"].endswith(":function:f:2")
    assert out["Version"] == "2"
    assert out["Environment"] == {"Variables": {"A": "1"}}
    assert out["DeadLetterConfig"] == {"TargetArn": "arn:q"}
    assert out["CodeSha256"] == "c2hh" and out["CodeSize"] == 12
    assert out["PackageType"] == "Zip" and out["State"] == "Active"


class _OneFunction:
    """Just enough engine for the core's own rules (the real one needs Kafka)."""

    def __init__(self) -> None:
        self.fn = FunctionDef("f", FunctionConfig(handler="app.h", code=CodeRef("x", 1)))
        self.registry = self  # references look the function up here: "f" is the only one

    def get(self, kind: str, name: str) -> object | None:
        return self.fn if name == "f" else None

    def functions(self) -> list[FunctionDef]:
        return [self.fn] * 3

    def function(self, name: str) -> FunctionDef:
        return self.fn


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_the_core_requires_members_and_checks_log_type_and_paging() -> None:
    ops = FunctionOperations(_OneFunction())  # type: ignore[arg-type]
    with pytest.raises(MissingParameter, match="FunctionName"):
        _run(ops.invoke(s.InvokeRequest()))
    with pytest.raises(ValidationException, match="logType"):
        _run(ops.invoke(s.InvokeRequest(function_name="f", log_type="Everything")))
    with pytest.raises(MissingParameter, match="Code"):
        _run(ops.create_function(s.CreateFunctionRequest(function_name="f", handler="a.b")))
    with pytest.raises(ValidationException, match="MaxItems"):
        _run(ops.list_functions(s.ListFunctionsRequest(max_items=10_001)))
    page = _run(ops.list_functions(s.ListFunctionsRequest(max_items=2)))
    assert (len(page.functions), page.next_marker) == (2, "2")
    rest = _run(ops.list_functions(s.ListFunctionsRequest(marker=page.next_marker)))
    assert (len(rest.functions), rest.next_marker) == (1, "")
    assert _run(ops.get_function_concurrency(s.GetFunctionConcurrencyRequest("f"))) == (
        s.Concurrency(None)
    )
