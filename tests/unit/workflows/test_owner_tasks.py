"""Function Tasks an execution's owner runs itself (``dispatch.Dispatcher.claim``).

The dispatcher here has no Kafka: its producer stands in for ``eventplane.wf.inbox`` and
its read view for the history, so what is checked is the bookkeeping between the owner's
run and the dispatcher's reading of the same task record.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from types import SimpleNamespace
from typing import Any

import pytest

from eventplane.config import load_settings
from eventplane.workflows import records
from eventplane.workflows.clock import Clock
from eventplane.workflows.dispatch import Dispatcher, _Task, runs_in_owner
from eventplane.workflows.model import DispatchTask
from eventplane.workflows.perform import Outcome

ARN = "arn:aws:states:local:000000000000:execution:m:e"
FN = "arn:aws:lambda:local:000000000000:function:f"


def task(task_id: str = "k1", resource: str = FN, waits: bool = False) -> DispatchTask:
    return DispatchTask(task_id, resource, {"a": 1}, None, waits, None, None)


class Inbox:
    """The producer's part ``send_inbox`` uses: every record is acknowledged at once."""

    def __init__(self) -> None:
        self.sent: list[records.InboxRecord] = []

    def produce(self, topic: str, value: bytes, **kwargs: Any) -> concurrent.futures.Future[None]:
        self.sent.append(records.decode_inbox(value, kwargs["headers"]))
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        done.set_result(None)
        return done


class Harness:
    def __init__(self, live: bool = True) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.inbox = Inbox()
        ctx = SimpleNamespace(settings=load_settings(), producer=self.inbox, instance_id="i")
        view = SimpleNamespace(task_live=lambda arn, task_id, timeout: live)
        self.dispatcher = Dispatcher(ctx, Clock(), self.perform, view)  # type: ignore[arg-type]

    async def perform(self, resource: str, payload: Any, waits: bool, *args: Any) -> Outcome:
        self.calls.append((resource, payload))
        await asyncio.sleep(0)
        return Outcome(True, output='{"ok":true}')

    def hold(self, *partitions: int) -> None:
        self.dispatcher.tasks.loop = asyncio.get_running_loop()
        self.dispatcher.tasks.assigned = frozenset(partitions)

    def record(self, cmd: DispatchTask) -> _Task:
        payload = '{"a": 1}'
        return _Task(records.CommandRecord(ARN, cmd.task_id, 0, cmd.resource, payload), None)


@pytest.mark.parametrize(
    ("cmd", "owner_runs"),
    [
        (task(), True),
        (task(resource="arn:aws:states:::lambda:invoke"), True),
        (task(resource="arn:aws:states:::lambda:invoke.waitForTaskToken", waits=True), False),
        (task(resource="arn:aws:states:::sqs:sendMessage"), False),
        (task(resource="arn:aws:states:::states:startExecution.sync"), False),
    ],
)
def test_only_function_invokes_that_answer_with_their_result_run_in_the_owner(
    cmd: DispatchTask, owner_runs: bool
) -> None:
    assert runs_in_owner(cmd) is owner_runs


def test_no_claim_where_another_replica_reads_the_task_record() -> None:
    async def go() -> None:
        h = Harness()
        assert not h.dispatcher.claim(ARN, task(), 0)  # no task consumer loop yet
        h.hold(1)
        assert not h.dispatcher.claim(ARN, task(), 0)  # partition 0 is read elsewhere
        assert h.dispatcher.claim(ARN, task(), 1)

    asyncio.run(go())


def test_a_claimed_task_runs_once_and_its_record_waits_for_the_result() -> None:
    async def go() -> None:
        h = Harness()
        h.hold(0)
        cmd = task()
        assert h.dispatcher.claim(ARN, cmd, 0)
        # The record is read before the owner started its run (the commit came first).
        reading = asyncio.create_task(h.dispatcher._run_task(h.record(cmd)))
        await asyncio.sleep(0)
        assert not reading.done() and h.calls == []
        h.dispatcher.run_claimed(ARN, cmd, '{"a": 1}', 0.0)
        await asyncio.wait_for(reading, 5)
        assert h.calls == [(FN, {"a": 1})]
        assert [(r.execution_arn, r.inbox) for r in h.inbox.sent] == [
            (ARN, records.TaskResult("k1", True, '{"ok":true}'))
        ]
        # A record read again later (a rebalance) runs as if never claimed: the view says.
        await h.dispatcher._run_task(h.record(cmd))
        assert len(h.calls) == 2

    asyncio.run(go())


def test_a_claim_whose_step_aborted_leaves_the_record_to_the_dispatcher() -> None:
    async def go() -> None:
        h = Harness()
        h.hold(0)
        cmd = task()
        assert h.dispatcher.claim(ARN, cmd, 0)
        h.dispatcher.unclaim([(ARN, cmd.task_id)])
        h.dispatcher.run_claimed(ARN, cmd, '{"a": 1}', 0.0)  # nothing: no claim left
        await h.dispatcher._run_task(h.record(cmd))
        assert h.calls == [(FN, {"a": 1})] and len(h.inbox.sent) == 1

    asyncio.run(go())


def test_a_record_whose_task_no_longer_waits_is_not_run() -> None:
    async def go() -> None:
        h = Harness(live=False)
        await h.dispatcher._run_task(h.record(task()))
        assert h.calls == []

    asyncio.run(go())
