"""Express executions: the same interpreter, run in memory to the end.

Nothing is journaled per transition; the caller records the start and the end.
Tasks run concurrently (Parallel branches, Map iterations); timers are asyncio
timers on the injected clock. An Express execution may run at most five minutes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from eventplane.workflows.clock import Clock
from eventplane.workflows.history import HistoryEvent
from eventplane.workflows.interpreter import EXECUTION_TIMER, new_execution, step
from eventplane.workflows.machine import Machine
from eventplane.workflows.model import (
    DispatchTask,
    ExecutionState,
    Inbox,
    Start,
    StartTimer,
    TimerFired,
)
from eventplane.workflows.perform import Outcome

EXPRESS_LIMIT_S = 300.0

Perform = Callable[[str, Any, bool], Awaitable[Outcome]]


async def run_express(
    machine: Machine,
    execution_arn: str,
    name: str,
    state_machine_arn: str,
    input_text: str,
    perform: Perform,
    clock: Clock,
    limit_s: float = EXPRESS_LIMIT_S,
    version_arn: str | None = None,
    alias_arn: str | None = None,
    role_arn: str | None = None,
) -> tuple[ExecutionState, list[HistoryEvent]]:
    """Run to the end; returns the final state and every history event."""
    state = new_execution(execution_arn, name, state_machine_arn)
    inbox: asyncio.Queue[Inbox] = asyncio.Queue()
    events: list[HistoryEvent] = []
    pending: set[asyncio.Future[Any]] = set()
    loop = asyncio.get_running_loop()

    async def run_task(cmd: DispatchTask) -> None:
        out = await perform(cmd.resource, cmd.payload, cmd.wait_for_callback)
        inbox.put_nowait(out.result(cmd.task_id))

    def fire(timer_id: str) -> None:
        inbox.put_nowait(TimerFired(timer_id))

    handles: list[asyncio.TimerHandle] = []
    # The five-minute limit is one more execution timeout: it ends as TIMED_OUT.
    limit = loop.call_later(limit_s, inbox.put_nowait, TimerFired(EXECUTION_TIMER))
    inbox.put_nowait(Start(input_text, version_arn, alias_arn, role_arn=role_arn))
    try:
        while not state.done:
            item = await inbox.get()
            result = step(machine, state, item, clock.now_ms())
            state = result.state
            if not state.done:
                state.timers.setdefault(EXECUTION_TIMER, "")
            events.extend(result.events)
            for cmd in result.commands:
                if isinstance(cmd, StartTimer):
                    delay = max(0.0, (cmd.due_ms - clock.now_ms()) / 1000)
                    handles.append(loop.call_later(delay, fire, cmd.timer_id))
                elif isinstance(cmd, DispatchTask):
                    task = asyncio.ensure_future(run_task(cmd))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
    finally:
        limit.cancel()
        for h in handles:
            h.cancel()
        for t in pending:
            t.cancel()
    return state, events
