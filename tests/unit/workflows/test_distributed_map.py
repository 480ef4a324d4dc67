"""Distributed Map without a broker: what the interpreter hands to the Map Run, the
definition rules, and how a Map Run counts its items and executions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eventplane.workflows import Machine, asl, map_run, new_execution, step
from eventplane.workflows.distributed import MAP_RUN_RESOURCE
from eventplane.workflows.map_run import _chunked, _chunks, _counts, child_name
from eventplane.workflows.model import DispatchTask, Start

from .driver import ARN, SM_ARN, T0


def _map(**fields: Any) -> dict[str, Any]:
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "End": True}},
    }
    return {
        "StartAt": "M",
        "States": {"M": {"Type": "Map", "End": True, "ItemProcessor": processor, **fields}},
    }


def _payload(definition: dict[str, Any], input: Any) -> dict[str, Any]:
    asl.parse_definition(json.dumps(definition))  # a definition the API would accept
    result = step(
        Machine(definition), new_execution(ARN, "e1", SM_ARN), Start(json.dumps(input)), T0
    )
    (task,) = [c for c in result.commands if isinstance(c, DispatchTask)]
    assert task.resource == MAP_RUN_RESOURCE
    payload: dict[str, Any] = task.payload
    return payload


def test_the_map_run_gets_the_items_limits_and_processor_resolved() -> None:
    definition = _map(
        ItemsPath="$.things",
        ItemSelector={"x.$": "$$.Map.Item.Value"},
        MaxConcurrencyPath="$.limit",
        ToleratedFailureCount=3,
        ToleratedFailurePercentage=20,
        Label="batch",
    )
    p = _payload(definition, {"things": [1, 2, 3], "limit": 2})
    assert p["Items"] == [1, 2, 3]
    assert (p["MaxConcurrency"], p["ToleratedFailureCount"]) == (2, 3)
    assert p["ToleratedFailurePercentage"] == 20
    assert p["ExecutionType"] == "EXPRESS" and p["ChildMachine"] == "m/batch"
    assert p["MapRunArn"].startswith("arn:aws:states:") and ":mapRun:m/batch:" in p["MapRunArn"]
    child = json.loads(p["Definition"])
    assert "ProcessorConfig" not in child and child["StartAt"] == "P"
    # the same step again (a retried transaction) names the same run
    assert _payload(definition, {"things": [1, 2, 3], "limit": 2})["MapRunArn"] == p["MapRunArn"]


def test_reader_and_writer_parameters_are_resolved_against_the_input() -> None:
    definition = _map(
        ItemReader={
            "Resource": "arn:aws:states:::sqs:receiveMessage",
            "Parameters": {"QueueUrl.$": "$.queue"},
            "ReaderConfig": {"MaxItemsPath": "$.max"},
        },
        ResultWriter={
            "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {"TopicArn": "arn:aws:sns:local:000000000000:out"},
        },
    )
    p = _payload(definition, {"queue": "http://q/1", "max": 5})
    assert p["Items"] is None
    assert p["Reader"] == {
        "Resource": "arn:aws:states:::sqs:receiveMessage",
        "Parameters": {"QueueUrl": "http://q/1"},
        "MaxItems": 5,
    }
    assert p["Writer"]["Parameters"] == {"TopicArn": "arn:aws:sns:local:000000000000:out"}


@pytest.mark.parametrize(
    ("fields", "mode", "message"),
    [
        (
            {"ItemReader": {"Resource": "arn:aws:states:::sqs:receiveMessage"}},
            "INLINE",
            "ItemReader is only supported in DISTRIBUTED mode",
        ),
        (
            {"ResultWriter": {"Resource": "arn:aws:states:::sqs:sendMessage"}},
            "INLINE",
            "ResultWriter is only supported in DISTRIBUTED mode",
        ),
        (
            {"ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2"}},
            "DISTRIBUTED",
            "is not supported",
        ),
        (
            {"ItemReader": {"Resource": "arn:aws:states:::dynamodb:scan", "Parameters": {}}},
            "DISTRIBUTED",
            "requires the parameter 'TableName'",
        ),
        (
            {"ResultWriter": {"Resource": "arn:aws:states:::lambda:invoke"}},
            "DISTRIBUTED",
            "is not supported",
        ),
        ({"Label": "has space"}, "DISTRIBUTED", "Label must be"),
        (
            {
                "ItemsPath": "$.x",
                "ItemReader": {
                    "Resource": "arn:aws:states:::sqs:receiveMessage",
                    "Parameters": {"QueueUrl": "q"},
                },
            },
            "DISTRIBUTED",
            "cannot be used with an ItemReader",
        ),
    ],
)
def test_definitions_aws_rejects(fields: dict[str, Any], mode: str, message: str) -> None:
    definition = _map(**fields)
    definition["States"]["M"]["ItemProcessor"]["ProcessorConfig"]["Mode"] = mode
    diagnostics = asl.validate_definition(json.dumps(definition))
    assert any(message in d.message for d in diagnostics), diagnostics


def test_a_distributed_map_needs_an_execution_type() -> None:
    definition = _map()
    del definition["States"]["M"]["ItemProcessor"]["ProcessorConfig"]["ExecutionType"]
    (d,) = asl.validate_definition(json.dumps(definition))
    assert "ExecutionType" in d.message and d.location.endswith("ProcessorConfig")


def test_a_valid_distributed_map_has_no_diagnostics() -> None:
    definition = _map(
        ItemReader={
            "Resource": "arn:aws:states:::dynamodb:scan",
            "Parameters": {"TableName": "t"},
            "ReaderConfig": {"MaxItems": 10},
        },
        ResultWriter={
            "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {"QueueUrl.$": "$.out"},
        },
        Label="scan",
    )
    assert asl.validate_definition(json.dumps(definition)) == []


def test_counts_weigh_items_by_their_batch() -> None:
    statuses = ["SUCCEEDED", "FAILED", "RUNNING", "PENDING"]
    weights = [2, 2, 2, 1]
    items = _counts(statuses, weights, 0, items=True)
    executions = _counts(statuses, weights, 0, items=False)
    assert (items.succeeded, items.failed, items.running, items.pending, items.total) == (
        2,
        2,
        2,
        1,
        7,
    )
    assert (executions.succeeded, executions.pending, executions.total) == (1, 1, 4)


def test_children_are_named_from_the_run_and_their_index() -> None:
    assert child_name("arn:x", 0) == child_name("arn:x", 0) != child_name("arn:x", 1)


def test_inputs_are_journaled_in_chunks_below_the_message_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(map_run, "CHUNK_BYTES", 100)
    inputs = [{"n": i, "pad": "x" * 40} for i in range(10)]
    receipts = [[f"r{i}"] for i in range(10)]
    chunks = _chunks(inputs, receipts)
    assert len(chunks) > 1
    assert all(len(json.dumps(c)) < 400 for c in chunks)
    rec = {"chunks": len(chunks), **{f"chunk.{n}": c for n, c in enumerate(chunks)}}
    assert _chunked(rec) == (inputs, receipts)
    assert _chunked({"chunks": 1, "chunk.0": _chunks([], [])[0]}) == ([], [])


def test_jsonata_items_and_reader_arguments_are_evaluated() -> None:
    definition = _map(Items="{% $states.input.xs %}", MaxConcurrency=3)
    definition["QueryLanguage"] = "JSONata"
    p = _payload(definition, {"xs": [7, 8]})
    assert (p["Items"], p["MaxConcurrency"], p["QueryLanguage"]) == ([7, 8], 3, "JSONata")
    assert json.loads(p["Definition"])["QueryLanguage"] == "JSONata"

    reader = _map(
        ItemReader={
            "Resource": "arn:aws:states:::dynamodb:scan",
            "Arguments": {"TableName": "{% $states.input.table %}"},
        }
    )
    reader["QueryLanguage"] = "JSONata"
    p = _payload(reader, {"table": "orders"})
    assert p["Reader"]["Parameters"] == {"TableName": "orders"}
