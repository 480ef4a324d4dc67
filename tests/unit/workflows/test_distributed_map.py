"""Distributed Map without a broker: what the interpreter hands to the Map Run, the
definition rules, and how a Map Run counts its items and executions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eventplane.workflows import Machine, asl, map_run, new_execution, step
from eventplane.workflows.distributed import MAP_RUN_RESOURCE
from eventplane.workflows.map_children import Child, Children, child_name, counts, redrive_token
from eventplane.workflows.map_run import _chunked, _chunks
from eventplane.workflows.model import DispatchTask, Redrive, Start, TaskResult
from eventplane.workflows.view import ExecutionView

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
    children = [Child(s) for s in ("SUCCEEDED", "FAILED", "RUNNING", "PENDING")]
    weights = [2, 2, 2, 1]
    fixed = [False] * 4
    items = counts(children, weights, fixed, 0, items=True)
    executions = counts(children, weights, fixed, 0, items=False)
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
    # an Express child's rerun in a redrive of the run is an execution of its own
    assert child_name("arn:x", 1, 1) not in (child_name("arn:x", 1), child_name("arn:x", 1, 2))


def test_redrive_counts_break_down_the_unsuccessful_children() -> None:
    children = [
        Child("SUCCEEDED"),
        Child("FAILED", waiting=True),
        Child("TIMED_OUT", waiting=True),
        Child("FAILED"),
        Child("PENDING"),
    ]
    fixed = [False, False, False, True, False]
    items = counts(children, [1, 2, 1, 3, 1], fixed, 0, items=True)
    assert (items.failed, items.timed_out, items.pending_redrive) == (5, 1, 3)
    assert (items.failures_not_redrivable, items.total) == (3, 8)
    executions = counts(children, [1, 2, 1, 3, 1], fixed, 0, items=False)
    assert (executions.pending_redrive, executions.failures_not_redrivable) == (2, 1)


class _View:
    """The read view's ``get``, over a dict."""

    def __init__(self, found: dict[str, ExecutionView]) -> None:
        self.found = found

    def get(self, arn: str) -> ExecutionView | None:
        return self.found.get(arn)


def _child(arn: str, status: str, token: str | None = None) -> ExecutionView:
    v = ExecutionView(arn, "sm", arn.rsplit(":", 1)[-1], status, T0, "{}")
    v.redrive_token = token
    return v


RUN = "arn:aws:states:local:000000000000:mapRun:m/l:r1"


def _record(kind: str, **more: Any) -> dict[str, Any]:
    return {
        "mapRunArn": RUN,
        "childMachine": "m/l",
        "executionType": kind,
        "weights": [1, 1, 1],
        **more,
    }


def test_a_standard_child_waits_until_the_runs_redrive_redrove_it() -> None:
    rec = _record("STANDARD", redriveCount=1, **{"redrive.1": [1]})
    kids = Children(rec)
    view = _View(
        {
            kids.arn_of(0): _child(kids.arn_of(0), "SUCCEEDED"),
            kids.arn_of(1): _child(kids.arn_of(1), "FAILED"),
        }
    )
    got = [kids.resolve(view, i) for i in range(3)]  # type: ignore[arg-type]
    assert [(c.status, c.waiting) for c in got] == [
        ("SUCCEEDED", False),
        ("FAILED", True),
        ("PENDING", False),
    ]
    assert not got[1].failed
    # Redriven with this redrive's token: it runs again, then fails for this attempt.
    view.found[kids.arn_of(1)] = _child(kids.arn_of(1), "FAILED", redrive_token(RUN, 1))
    again = kids.resolve(view, 1)  # type: ignore[arg-type]
    assert (again.status, again.waiting, again.failed) == ("FAILED", False, True)


def test_an_express_child_reruns_under_a_new_name_per_redrive() -> None:
    kids = Children(_record("EXPRESS", redriveCount=2, **{"redrive.1": [0], "redrive.2": [0]}))
    first, second = kids.arn_of(0, 0), kids.arn_of(0, 1)
    assert kids.arn_of(0) == kids.arn_of(0, 2) not in (first, second)
    view = _View({first: _child(first, "FAILED"), second: _child(second, "ABORTED")})
    waiting = kids.resolve(view, 0)  # type: ignore[arg-type]
    assert (waiting.status, waiting.waiting) == ("ABORTED", True)
    view.found[kids.arn_of(0)] = _child(kids.arn_of(0), "SUCCEEDED")
    assert kids.resolve(view, 0).status == "SUCCEEDED"  # type: ignore[arg-type]


def test_redriving_the_execution_redrives_its_map_run() -> None:
    definition = _map()
    machine = Machine(definition)
    first = step(machine, new_execution(ARN, "e1", SM_ARN), Start("[1, 2]"), T0)
    (task,) = [c for c in first.commands if isinstance(c, DispatchTask)]
    failed = step(
        machine, first.state, TaskResult(task.task_id, False, error="E", cause="c"), T0 + 1
    )
    assert failed.state.status == "FAILED"
    redriven = step(machine, failed.state, Redrive(), T0 + 2)
    (again,) = [c for c in redriven.commands if isinstance(c, DispatchTask)]
    assert again.task_id != task.task_id
    assert again.payload["MapRunArn"] == task.payload["MapRunArn"]
    assert (task.payload["RedriveCount"], again.payload["RedriveCount"]) == (0, 1)
    types = [e.type for e in redriven.events]
    assert types == ["ExecutionRedriven", "MapStateEntered", "MapRunRedriven"]
    assert redriven.events[-1].details == {
        "mapRunArn": task.payload["MapRunArn"],
        "redriveCount": 1,
    }
    # A second redrive is the run's second.
    (t2,) = [c for c in redriven.commands if isinstance(c, DispatchTask)]
    failed = step(machine, redriven.state, TaskResult(t2.task_id, False, error="E"), T0 + 3)
    twice = step(machine, failed.state, Redrive(), T0 + 4)
    (third,) = [c for c in twice.commands if isinstance(c, DispatchTask)]
    assert (third.payload["MapRunArn"], third.payload["RedriveCount"]) == (
        again.payload["MapRunArn"],
        2,
    )


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
