"""The runtime's pure parts: record codecs, ARNs and names, tokens, the clock, Express."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from eventplane.workflows import arns, records
from eventplane.workflows.clock import Clock
from eventplane.workflows.errors import InvalidArn, InvalidName
from eventplane.workflows.express import run_express
from eventplane.workflows.history import HistoryEvent
from eventplane.workflows.machine import Machine, parse_token, task_token
from eventplane.workflows.model import (
    ExecutionState,
    Heartbeat,
    Redrive,
    Start,
    Stop,
    TaskResult,
    TimerFired,
)
from eventplane.workflows.perform import Outcome

ARN = "arn:aws:states:local:000000000000:execution:m:e"


@pytest.mark.parametrize(
    "inbox",
    [
        Start('{"a":1}'),
        TaskResult("k1", True, output="2"),
        TaskResult("k2", False, None, "E", "c"),
        TaskResult("k3", True, "{}", submitted=True),
        Heartbeat("k4"),
        TimerFired("t5"),
        Stop("E", "c"),
        Start("{}", "arn:sm:2", "arn:sm:PROD"),
        Redrive(),
        Redrive("token-1"),
    ],
)
def test_inbox_records_round_trip(inbox: Any) -> None:
    rec = records.InboxRecord(ARN, inbox, "arn:sm", "{}")
    value, headers = records.encode_inbox(rec, 5)
    assert records.record_kind(headers) == records.INBOX
    assert records.decode_inbox(value, headers) == rec


def test_step_and_command_records_round_trip() -> None:
    state = ExecutionState(ARN, "e", "arn:sm", seq=3, tasks={"k1": "0"})
    events = [HistoryEvent(1, 0, 7, "ExecutionStarted", {"input": "{}"})]
    value, headers = records.encode_step(records.StepRecord(ARN, "arn:sm", events, state), 9)
    assert records.record_kind(headers) == records.STEP
    back = records.decode_step(value, headers)
    assert (back.events, back.snapshot) == (events, state)
    cmd = records.CommandRecord(ARN, "k1", 10, "arn:res", '{"x":1}', "tok", True)
    assert records.decode_command(*records.encode_command(cmd)) == cmd


def test_tokens_name_their_execution_and_task() -> None:
    assert parse_token(task_token(ARN, "k7")) == (ARN, "k7")
    assert parse_token("not a token") is None
    assert parse_token(task_token(ARN, "k7")[:-3]) is None


@pytest.mark.parametrize("name", ["", "a b", "x" * 81, "a/b", "semi;colon", "tab\t", "brace{"])
def test_bad_names_are_invalid_name(name: str) -> None:
    with pytest.raises(InvalidName):
        arns.check_name(name)


def test_arns_parse_and_refuse_others() -> None:
    assert arns.parse_state_machine_arn(arns.state_machine_arn("m")) == "m"
    assert arns.parse_execution_arn(arns.execution_arn("m", "e")) == ("m", "e")
    assert arns.parse_execution_arn(arns.execution_arn("m", "e", express=True)) == ("m", "e")
    for bad in ("m", "arn:aws:sqs:local:000000000000:q", arns.execution_arn("m", "e")):
        with pytest.raises(InvalidArn):
            arns.parse_state_machine_arn(bad)


def test_the_clock_offset_moves_due_times_to_wall_time() -> None:
    clock = Clock(offset_ms=1000)
    assert clock.wall_ms(5000) == 4000
    before = Clock().now_ms()
    assert clock.now_ms() >= before + 1000


def test_express_runs_parallel_tasks_concurrently_to_the_end() -> None:
    machine = Machine(
        {
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Parallel",
                    "End": True,
                    "Branches": [
                        {
                            "StartAt": "T",
                            "States": {
                                "T": {
                                    "Type": "Task",
                                    "Resource": "arn:aws:lambda:local:000000000000:function:f",
                                    "End": True,
                                }
                            },
                        }
                    ]
                    * 3,
                }
            },
        }
    )
    running = 0
    peak = 0

    async def perform(resource: str, payload: Any, waits: bool) -> Outcome:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        return Outcome(True, output=json.dumps(payload))

    state, events = asyncio.run(
        run_express(machine, ARN, "e", "arn:sm", '{"v":1}', perform, Clock())
    )
    assert (state.status, state.output) == ("SUCCEEDED", [{"v": 1}] * 3)
    assert peak == 3
    assert events[0].type == "ExecutionStarted" and events[-1].type == "ExecutionSucceeded"


def test_express_stops_at_its_time_limit() -> None:
    machine = Machine(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}
    )

    async def perform(resource: str, payload: Any, waits: bool) -> Outcome:
        raise AssertionError("no task here")

    state, _ = asyncio.run(
        run_express(machine, ARN, "e", "arn:sm", "{}", perform, Clock(), limit_s=0.05)
    )
    assert (state.status, state.error) == ("TIMED_OUT", "States.Timeout")


def test_fail_execution_ends_a_running_execution_once() -> None:
    from eventplane.workflows.interpreter import fail_execution

    state = ExecutionState(ARN, "e", "arn:sm", last_event_id=4, tasks={"k1": "0"})
    step = fail_execution(state, "States.Runtime", "Internal error: boom", 9)
    assert (step.state.status, step.state.error, step.state.tasks) == (
        "FAILED",
        "States.Runtime",
        {},
    )
    assert [(e.id, e.type) for e in step.events] == [(5, "ExecutionFailed")]
    assert fail_execution(step.state, "X", "y", 10).events == []
    assert state.status == "RUNNING"  # the input state is left as it was
