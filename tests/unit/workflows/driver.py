"""Runs an execution to its end with scripted task outcomes and simulated time.

Task outcomes are scripted per resource, in order: ``{"output": X}``,
``{"error": E, "cause": C}``, ``{"hang": true}`` (no answer: timeouts fire),
``{"callback": {...outcome...}, "after": S}`` for ``.waitForTaskToken`` tasks (the
request is delivered, the token is answered S seconds later) and ``"after": S`` on any
outcome to answer later. Timers fire in due order; time only moves when nothing else
is pending.
"""

from __future__ import annotations

import heapq
import json
from dataclasses import dataclass, field
from typing import Any

from eventplane.workflows import Machine, new_execution, step
from eventplane.workflows.history import HistoryEvent
from eventplane.workflows.model import (
    DispatchTask,
    ExecutionState,
    Heartbeat,
    Inbox,
    Start,
    StartTimer,
    Stop,
    TaskResult,
    TimerFired,
)

T0 = 1_700_000_000_000
ARN = "arn:aws:states:local:000000000000:execution:m:e1"
SM_ARN = "arn:aws:states:local:000000000000:stateMachine:m"


@dataclass
class Outcome:
    state: ExecutionState
    events: list[HistoryEvent] = field(default_factory=list)
    dispatched: list[DispatchTask] = field(default_factory=list)

    @property
    def types(self) -> list[str]:
        return [e.type for e in self.events]


def _result(task: DispatchTask, outcome: dict[str, Any]) -> TaskResult:
    if "error" in outcome:
        return TaskResult(task.task_id, False, error=outcome["error"], cause=outcome.get("cause"))
    return TaskResult(task.task_id, True, output=json.dumps(outcome.get("output")))


def run(
    definition: dict[str, Any],
    input_: Any,
    tasks: dict[str, list[dict[str, Any]]] | None = None,
    *,
    stop_at_ms: int | None = None,
    heartbeats: dict[str, list[float]] | None = None,
    max_steps: int = 10_000,
) -> Outcome:
    machine = Machine(definition)
    scripts = {k: list(v) for k, v in (tasks or {}).items()}
    state = new_execution(ARN, "e1", SM_ARN)
    out = Outcome(state)
    now = T0
    queue: list[tuple[int, int, Inbox]] = []  # (due, seq, inbox)
    seq = 0

    def push(due: int, inbox: Inbox) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(queue, (due, seq, inbox))

    push(now, Start(json.dumps(input_)))
    if stop_at_ms is not None:
        push(T0 + stop_at_ms, Stop("Stopped", "by the test"))
    for _ in range(max_steps):
        if not queue or state.done:
            break
        due, _, inbox = heapq.heappop(queue)
        now = max(now, due)
        result = step(machine, state, inbox, now)
        state = result.state
        out.events.extend(result.events)
        for cmd in result.commands:
            if isinstance(cmd, StartTimer):
                push(cmd.due_ms, TimerFired(cmd.timer_id))
                continue
            assert isinstance(cmd, DispatchTask)
            out.dispatched.append(cmd)
            script = scripts.get(cmd.resource) or [{"output": cmd.payload}]
            outcome = script.pop(0) if len(script) > 1 else script[0]
            for beat in (heartbeats or {}).get(cmd.resource, []):
                push(now + int(beat * 1000), Heartbeat(cmd.task_id))
            if outcome.get("hang"):
                continue
            later = now + int(float(outcome.get("after", 0)) * 1000)
            if "callback" in outcome:
                push(now, TaskResult(cmd.task_id, True, output="{}", submitted=True))
                push(later, _result(cmd, outcome["callback"]))
            else:
                push(later, _result(cmd, outcome))
    out.state = state
    return out
