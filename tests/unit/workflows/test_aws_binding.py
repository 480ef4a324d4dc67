"""The Step Functions binding: which actions the gateway serves, and the nesting guards the
gateway fuzzer asked for (a definition, input or token nested past the JSON decoder's
recursion is the client's error, never a 500)."""

from __future__ import annotations

import base64

import pytest

from eventplane.errors import ValidationException
from eventplane.gateway.shapes import service_model
from eventplane.workflows import asl
from eventplane.workflows.aws import StepFunctionsBinding
from eventplane.workflows.errors import InvalidExecutionInput, TooManyTags
from eventplane.workflows.machine import parse_token
from eventplane.workflows.operations import WorkflowsOperations
from eventplane.workflows.shapes import json_text
from eventplane.workflows.tags import check_tags


def test_every_action_is_served() -> None:
    binding = StepFunctionsBinding(WorkflowsOperations(core=None))  # type: ignore[arg-type]
    model = service_model("stepfunctions")
    served = {a for a in model.operation_names if binding.handler(a) is not None}
    assert served == set(model.operation_names)
    assert model.metadata["targetPrefix"] == "AWSStepFunctions"


def test_a_deeply_nested_definition_is_a_diagnostic() -> None:
    (diagnostic,) = asl.validate_definition("[" * 100_000)
    assert (diagnostic.severity, diagnostic.code) == ("ERROR", "INVALID_JSON_DESCRIPTION")


def test_deeply_nested_input_is_invalid_execution_input() -> None:
    with pytest.raises(InvalidExecutionInput, match="nests too deeply"):
        json_text("[" * 100_000, "input", InvalidExecutionInput)


def test_a_deeply_nested_token_is_no_token() -> None:
    assert parse_token(base64.urlsafe_b64encode(b"[" * 100_000).decode()) is None


def test_tag_rules() -> None:
    assert check_tags({"team": "orders", "empty": "", "path": "a/b:c=d+e-f@g.h_i j"}) == {
        "team": "orders",
        "empty": "",
        "path": "a/b:c=d+e-f@g.h_i j",
    }
    for bad in ({"": "v"}, {"k" * 129: "v"}, {"k": "v" * 257}, {"aws:x": "v"}, {"k": "a#b"}):
        with pytest.raises(ValidationException):
            check_tags(bad)
    check_tags({f"k{i}": "" for i in range(50)})
    with pytest.raises(TooManyTags) as too_many:
        check_tags({f"k{i}": "" for i in range(51)}, "arn:x")
    assert too_many.value.resource_name == "arn:x"
