"""Starting Standard executions where their owner runs, and the answers starts give.

A Standard execution is started by the owner of its inbox partition (``owner.py``). When
that owner runs in this replica, ``LocalStarts`` hands it the Start directly
(``Owner.offer_start``): its step runs in the owner's next transaction and the call is
answered once that committed, without the Start record's trip through
``eventplane.wf.inbox`` and the wait for the view to read the step back. Otherwise (the
partition is another replica's, or moved meanwhile) the caller writes the Start to the
inbox, as before.

The inbox partition of an execution is the one Kafka's producers put its records in
(librdkafka's default partitioner: CRC-32 of the key, modulo the partition count): the
owner holding it also gets every later record of the execution (task results, timers).
"""

from __future__ import annotations

import asyncio
import json
import zlib
from concurrent.futures import Future
from typing import Protocol

from eventplane.workflows import arns, records
from eventplane.workflows.errors import ExecutionDoesNotExist
from eventplane.workflows.model import ExecutionState
from eventplane.workflows.redrive import redrive_status
from eventplane.workflows.shapes import Execution
from eventplane.workflows.versions import Target
from eventplane.workflows.view import ExecutionView

__all__ = ["LocalStarts", "StartsHere", "execution_of", "inbox_partition", "started"]


class StartsHere(Protocol):
    """This replica's owner of executions (``owner.Owner``), which may start one itself."""

    def offer_start(
        self, rec: records.InboxRecord, partition: int
    ) -> Future[ExecutionState | None] | None: ...


def inbox_partition(execution_arn: str, partitions: int) -> int:
    """The inbox partition Kafka's producers put an execution's records in."""
    return zlib.crc32(execution_arn.encode()) % partitions


class LocalStarts:
    """Hands Standard starts to this replica's owner when it holds their partition."""

    def __init__(self) -> None:
        self._owner: StartsHere | None = None
        self._partitions = 0

    def use(self, owner: StartsHere, inbox_partitions: int) -> None:
        self._owner, self._partitions = owner, inbox_partitions

    async def start(self, rec: records.InboxRecord, timeout: float) -> ExecutionState | None:
        """The started execution's state, once its start committed, if the owner here took
        it; None: write the Start to the inbox."""
        if self._owner is None:
            return None
        arn = rec.execution_arn
        done = self._owner.offer_start(rec, inbox_partition(arn, self._partitions))
        if done is None:
            return None
        try:
            return await asyncio.wait_for(asyncio.wrap_future(done), timeout)
        except TimeoutError:
            raise ExecutionDoesNotExist(
                f"Execution {arn} did not start within {timeout:g}s"
            ) from None


def started(state: ExecutionState, text: str, machine: Target) -> Execution:
    """A run's answer, from its state (an Express run's end; a Standard start's first step)."""
    output = json.dumps(state.output) if state.status == "SUCCEEDED" else None
    return Execution(
        state.execution_arn,
        arns.state_machine_arn(machine.machine),
        state.name,
        state.status,
        state.start_ms,
        state.stop_ms,
        text,
        output,
        state.error,
        state.cause,
        state.transitions,
        machine.version_arn,
        machine.alias_arn,
    )


def execution_of(v: ExecutionView, now_ms: int) -> Execution:
    """An execution as the view has it (DescribeExecution, ListExecutions, a repeated start)."""
    status, reason = redrive_status(v.status, v.express, v.stop_ms, len(v.events), now_ms)
    return Execution(
        v.execution_arn,
        v.state_machine_arn,
        v.name,
        v.status,
        v.start_ms,
        v.stop_ms,
        v.input,
        v.output,
        v.error,
        v.cause,
        v.transitions,
        v.version_arn,
        v.alias_arn,
        v.redrive_count,
        v.redrive_ms,
        None if v.express else status,
        None if v.express else reason,
    )
