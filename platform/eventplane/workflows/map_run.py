"""Map Runs: a Distributed Map's child executions, run by whichever replica runs its task
(a part of ``WorkflowsCore``; ``distributed.py`` is the interpreter's side).

The run is journaled on ``eventplane.wf.history`` as ``WorkflowMapRun`` records (keyed
by the parent execution, merged field by field by every replica's ``View``): the first
ones hold what the run processes (each child's input and its queue receipts, in chunks
below Kafka's message size, so a restart reads no queue twice), the next its settings,
UpdateMapRun's set new limits, the last its end. The children are
named from the Map Run's ARN and their index, so a run resumed after a restart (its task
runs again: the dispatcher's at-least-once) finds the Standard children it started
instead of starting them again, and starts only those that never started. Express
children run in memory (``express.py``); one that was running at a crash runs again.

Counts (DescribeMapRun) come from the children's executions in the view, weighted by
the items of their batch for ``itemCounts``.

A redrive of the parent execution that re-enters the Distributed Map state hands over
the same Map Run again with its redrive count: once the previous attempt has ended, the
run journals the redrive (``redriveCount``, ``redriveDate``, the children it runs again)
and goes on with the items it journaled at its start, under its current limits. Which
children run again, and how, is ``map_children.py``'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eventplane.errors import ValidationException
from eventplane.errors.workflows import ExecutionNotRedrivable
from eventplane.kafka import naming
from eventplane.observability.logging import get_logger
from eventplane.workflows import arns, lang, map_io, records
from eventplane.workflows.asl import MapState
from eventplane.workflows.asl.definition import build_machine
from eventplane.workflows.asl.map_state import batch_items, exceeds_tolerance
from eventplane.workflows.dispatch import send_inbox
from eventplane.workflows.errors import StatesResourceNotFound
from eventplane.workflows.interpreter import iso
from eventplane.workflows.lang import StatesError
from eventplane.workflows.map_children import (
    MAX_REDRIVES,
    UNSUCCESSFUL,
    Child,
    Children,
    MapRunCounts,
    child_name,
    counts,
    redrive_token,
)
from eventplane.workflows.model import Stop
from eventplane.workflows.perform import Outcome
from eventplane.workflows.shapes import Page, page, require
from eventplane.workflows.versions import Target

if TYPE_CHECKING:
    from eventplane.runtime import ServerContext
    from eventplane.workflows.clock import Clock
    from eventplane.workflows.perform import Performer
    from eventplane.workflows.shapes import Execution
    from eventplane.workflows.view import ExecutionView, View

__all__ = ["MapRun", "MapRunActions", "MapRunCounts", "MapRunListItem"]

_log = get_logger("eventplane.workflows.map_run")

MAX_CONCURRENCY = 10_000  # a Distributed Map's MaxConcurrency 0 means up to this many
THRESHOLD = "States.ExceedToleratedFailureThreshold"
THRESHOLD_CAUSE = "The specified tolerated failure threshold was exceeded"
_WAKE_S = 1.0  # a run re-checks at least this often (a change it was not woken for)
_STARTS_AT_ONCE = 50  # children started concurrently (each waits for its start's record)


@dataclass(frozen=True, slots=True)
class MapRun:
    map_run_arn: str
    execution_arn: str
    status: str
    start_date: int
    stop_date: int | None
    max_concurrency: int
    tolerated_failure_percentage: float
    tolerated_failure_count: int
    item_counts: MapRunCounts
    execution_counts: MapRunCounts
    redrive_count: int = 0
    redrive_date: int | None = None


@dataclass(frozen=True, slots=True)
class MapRunListItem:
    execution_arn: str
    map_run_arn: str
    state_machine_arn: str
    start_date: int
    stop_date: int | None


@dataclass(slots=True)
class _Run:
    """One Map Run being run here."""

    arn: str
    parent: str
    machine: Target
    children: Children
    inputs: list[Any]
    receipts: list[list[str]]
    weights: list[int]
    queue: str | None
    writer: dict[str, Any] | None
    express: dict[int, asyncio.Task[Any]] = field(default_factory=dict)
    ended: dict[int, Child] = field(default_factory=dict)  # children that ended here
    deleted: set[int] = field(default_factory=set)
    # Standard children this redrive could not redrive after all: failed for good.
    unredrivable: set[int] = field(default_factory=set)

    def child_arn(self, i: int) -> str:
        return self.children.arn_of(i)


class MapRunActions:
    _ctx: ServerContext
    _view: View
    _clock: Clock
    _performer: Performer
    # The Map Runs this replica runs: their running Express children are known only here.
    _runs_here: dict[str, _Run]

    async def _start_target(
        self, machine: Target, name: str, text: str, parent: tuple[str, str] | None = None
    ) -> Execution:  # WorkflowsCore's
        raise NotImplementedError

    async def _run_express(self, machine: Target, arn: str, text: str) -> Execution:
        raise NotImplementedError

    async def redrive_execution(self, arn: str, client_token: str = "") -> int:
        raise NotImplementedError

    # --- the API -------------------------------------------------------------------------
    def _map_run(self, arn: str) -> dict[str, Any]:
        require(arn, "mapRunArn")
        found = self._view.map_run(arn)
        if found is None or "chunks" not in found:  # not (fully) begun
            raise StatesResourceNotFound(f"Map Run Does Not Exist: '{arn}'")
        return found

    def _children_of(self, rec: dict[str, Any]) -> tuple[Children, list[Child]]:
        here = self._runs_here.get(rec["mapRunArn"])
        if here is not None:
            return here.children, [self._status(here, i) for i in range(len(here.inputs))]
        children = Children(rec)
        return children, [children.resolve(self._view, i) for i in range(children.size)]

    async def describe_map_run(self, arn: str) -> MapRun:
        rec = self._map_run(arn)
        children, states = self._children_of(rec)
        now = self._clock.now_ms()
        stuck = [c.failed and not children.redrivable(c, now) for c in states]
        weights = [int(w) for w in rec.get("weights", [])]
        written = int(rec.get("resultsWritten", 0))
        return MapRun(
            arn,
            rec["executionArn"],
            rec.get("status", "RUNNING"),
            int(rec.get("startDate", 0)),
            rec.get("stopDate"),
            int(rec.get("maxConcurrency", 0)),
            float(rec.get("toleratedFailurePercentage") or 0.0),
            int(rec.get("toleratedFailureCount") or 0),
            counts(states, weights, stuck, written, items=True),
            counts(states, weights, stuck, written, items=False),
            int(rec.get("redriveCount") or 0),
            rec.get("redriveDate"),
        )

    async def list_map_runs(
        self, execution_arn: str, max_results: int = 0, next_token: str = ""
    ) -> Page:
        """The Map Runs an execution started, newest first."""
        require(execution_arn, "executionArn")
        arns.parse_execution_arn(execution_arn)
        runs = [r for r in self._view.map_runs_of(execution_arn) if "chunks" in r]
        p = page(runs, max_results, next_token)
        items = [
            MapRunListItem(
                r["executionArn"],
                r["mapRunArn"],
                arns.state_machine_arn(str(r["childMachine"])),
                int(r.get("startDate", 0)),
                r.get("stopDate"),
            )
            for r in p.items
        ]
        return Page(items, p.next_token)

    async def update_map_run(
        self,
        arn: str,
        max_concurrency: int | None = None,
        tolerated_failure_percentage: float | None = None,
        tolerated_failure_count: int | None = None,
    ) -> None:
        """New limits for a running Map Run (the run applies them as they arrive)."""
        rec = self._map_run(arn)
        fields: dict[str, Any] = {}
        if max_concurrency is not None:
            if not 0 <= max_concurrency <= MAX_CONCURRENCY:
                raise ValidationException(
                    f"maxConcurrency must be between 0 and {MAX_CONCURRENCY}, got {max_concurrency}"
                )
            fields["maxConcurrency"] = max_concurrency
        if tolerated_failure_percentage is not None:
            if not 0 <= tolerated_failure_percentage <= 100:
                raise ValidationException(
                    "toleratedFailurePercentage must be between 0 and 100, "
                    f"got {tolerated_failure_percentage}"
                )
            fields["toleratedFailurePercentage"] = tolerated_failure_percentage
        if tolerated_failure_count is not None:
            if tolerated_failure_count < 0:
                raise ValidationException(
                    f"toleratedFailureCount must be 0 or more, got {tolerated_failure_count}"
                )
            fields["toleratedFailureCount"] = tolerated_failure_count
        if not fields:
            raise ValidationException(
                "At least one of maxConcurrency, toleratedFailurePercentage or "
                "toleratedFailureCount must be specified"
            )
        await self._put_map_run(arn, rec["executionArn"], fields)
        # Read your write: a DescribeMapRun right after shows the new limits.
        await self._settled(arn, lambda r: all(r.get(k) == v for k, v in fields.items()))

    def _map_run_children(self, arn: str) -> list[Child]:
        """ListExecutions(mapRunArn): the children started so far, newest first (an
        Express child run again by a redrive: each of its executions)."""
        children = Children(self._map_run(arn))
        found = []
        for i in range(children.size):
            child = children.resolve(self._view, i)
            if child.view is not None:
                found.append(child)
            if children.express:  # its earlier attempts, each an execution of its own
                for at in [0, *children.reruns.get(i, [])]:
                    v = self._view.get(children.arn_of(i, at))
                    if v is not None and v is not child.view:
                        found.append(Child(v.status, False, v))
        found.sort(key=lambda c: c.view.start_ms if c.view else 0, reverse=True)
        return found

    # --- the run -------------------------------------------------------------------------
    async def _put_map_run(self, arn: str, execution_arn: str, fields: dict[str, Any]) -> None:
        value, headers = records.encode_map_run(
            records.MapRunRecord(arn, execution_arn, fields), self._clock.now_ms()
        )
        fut = self._ctx.producer.produce(
            naming.WF_HISTORY, value, key=execution_arn.encode(), headers=headers
        )
        await asyncio.wrap_future(fut)

    async def _settled(self, arn: str, check: Any) -> dict[str, Any]:
        """The Map Run once the view shows what was just written (``check`` says)."""
        found = await asyncio.to_thread(
            self._view.wait_for,
            lambda: r if (r := self._view.map_run(arn)) is not None and check(r) else None,
            30.0,
        )
        if found is None:
            raise StatesError("States.Runtime", f"Map Run {arn} was not recorded in time")
        return found

    async def run_map(
        self, payload: dict[str, Any], parent_arn: str | None, task_id: str | None
    ) -> Outcome:
        """Run (or resume) the Map Run of a Distributed Map state's task to its end."""
        arn = str(payload["MapRunArn"])
        try:
            rec = self._view.map_run(arn)
            redrive = int(payload.get("RedriveCount") or 0)
            if rec is None or "chunks" not in rec:  # never begun, or stopped while beginning
                rec = await self._begin(payload)
            elif redrive > int(rec.get("redriveCount") or 0):  # not a resumed redrive
                rec = await self._redrive(rec, redrive)
            run = _Run(
                arn,
                str(payload["ExecutionArn"]),
                Target(str(rec["childMachine"]), str(payload["Definition"]), rec["executionType"]),
                Children(rec),
                *_chunked(rec),
                [int(w) for w in rec["weights"]],
                rec.get("queue"),
                payload.get("Writer"),
            )
            self._runs_here[arn] = run
            try:
                return await self._drive(run, parent_arn, task_id)
            finally:
                self._runs_here.pop(arn, None)
        except StatesError as exc:
            if self._view.map_run(arn) is not None:
                await self._end(arn, str(payload["ExecutionArn"]), "FAILED")
            return Outcome(False, error=exc.error, cause=exc.cause)

    async def _begin(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Read and prepare the items, and journal the run with them."""
        arn = str(payload["MapRunArn"])
        language = payload.get("QueryLanguage", "JSONPath")
        name = str(payload["StateName"])
        raw_state = {**payload["State"], "End": True}
        raw_state.pop("Next", None)
        sdef = build_machine({"StartAt": name, "States": {name: raw_state}}, language).states[name]
        assert isinstance(sdef, MapState)
        receipts: list[str | None]
        queue = None
        if payload.get("Reader") is not None:
            read, queue = await map_io.read_items(self._performer.client(), payload["Reader"])
            raw = [r.value for r in read]
            receipts = [r.receipt for r in read]
        else:
            raw = list(payload.get("Items") or [])
            receipts = [None] * len(raw)
        data, ctx, variables = payload.get("Input"), payload.get("Context"), payload["Variables"]
        selected = [
            lang.item_input(sdef, data, _item_context(ctx, i, x), variables, x)
            for i, x in enumerate(raw)
        ]
        batches = batch_items(sdef, selected, data, ctx, variables)
        weights, grouped, at = [], [], 0
        for b in batches:
            n = len(b["Items"]) if sdef.item_batcher else 1
            weights.append(n)
            grouped.append([h for h in receipts[at : at + n] if h])
            at += n
        parent = str(payload["ExecutionArn"])
        chunks = _chunks(batches, grouped)
        for n, chunk in enumerate(chunks):
            await self._put_map_run(arn, parent, {f"chunk.{n}": chunk})
        fields = {
            "chunks": len(chunks),
            "childMachine": payload["ChildMachine"],
            "executionType": payload["ExecutionType"],
            "status": "RUNNING",
            "startDate": self._clock.now_ms(),
            "maxConcurrency": int(payload.get("MaxConcurrency") or 0),
            "toleratedFailureCount": payload.get("ToleratedFailureCount"),
            "toleratedFailurePercentage": payload.get("ToleratedFailurePercentage"),
            "weights": weights,
            "queue": queue,
        }
        await self._put_map_run(arn, parent, fields)
        return await self._settled(arn, lambda r: "chunks" in r)

    async def _redrive(self, rec: dict[str, Any], redrive: int) -> dict[str, Any]:
        """Journal the Map Run's ``redrive``-th redrive: which children run again."""
        arn, parent = str(rec["mapRunArn"]), str(rec["executionArn"])
        if redrive > MAX_REDRIVES:
            raise StatesError(
                "States.Runtime", f"The Map Run {arn} was redriven more than {MAX_REDRIVES} times"
            )
        if rec.get("status") == "SUCCEEDED":
            return rec  # the state failed after its run succeeded: nothing to run again
        # A run goes on a moment after its parent stopped (it stops its children first).
        rec = await self._settled(arn, lambda r: r.get("status") != "RUNNING")
        children = Children(rec)

        def current() -> list[Child] | None:
            found = [children.resolve(self._view, i) for i in range(children.size)]
            return None if any(c.status == "RUNNING" for c in found) else found

        states = await asyncio.to_thread(self._view.wait_for, current, 30.0)
        if states is None:
            raise StatesError("States.Runtime", f"Children of Map Run {arn} are still running")
        now = self._clock.now_ms()
        again = [
            i
            for i, c in enumerate(states)
            if c.status in UNSUCCESSFUL and children.redrivable(c, now)
        ]
        fields = {
            "status": "RUNNING",
            "stopDate": None,
            "redriveCount": redrive,
            "redriveDate": now,
            f"redrive.{redrive}": again,
        }
        await self._put_map_run(arn, parent, fields)
        _log.info("map run redriven", map_run=arn, redrive=redrive, children=len(again))
        return await self._settled(arn, lambda r: int(r.get("redriveCount") or 0) >= redrive)

    async def _end(self, arn: str, parent: str, status: str, written: int | None = None) -> None:
        fields: dict[str, Any] = {"status": status, "stopDate": self._clock.now_ms()}
        if written is not None:
            fields["resultsWritten"] = written
        await self._put_map_run(arn, parent, fields)
        # Read back before the Map state goes on: once the parent has moved past it (a
        # StartSyncExecution answered), DescribeMapRun here must not still say RUNNING.
        await self._settled(arn, lambda r: r.get("status") == status)

    def _parent_waits(self, parent_arn: str | None, task_id: str | None) -> bool:
        if parent_arn is None or task_id is None or ":express:" in parent_arn:
            return True  # an Express parent runs here: its cancellation stops us
        v = self._view.get(parent_arn)
        return v is None or (v.status == "RUNNING" and task_id in v.live_tasks)

    def _status(self, run: _Run, i: int) -> Child:
        if i in run.ended:
            return run.ended[i]
        child = run.children.resolve(self._view, i)
        if child.waiting and i in run.unredrivable:
            child = Child(child.status, False, child.view)
        if child.view is not None and not child.waiting:
            if child.status != "RUNNING":
                run.ended[i] = child
            return child
        task = run.express.get(i)
        if task is None:
            return child  # not started (again) yet
        if task.done() and (task.cancelled() or task.exception() is not None):
            del run.express[i]  # it never journaled its end: run it again
            return child
        return Child("RUNNING")  # running, or ended and not in the view yet

    async def _drive(self, run: _Run, parent_arn: str | None, task_id: str | None) -> Outcome:
        with self._view.changes() as changed:
            try:
                while True:
                    changed.clear()
                    outcome = await self._advance(run, parent_arn, task_id)
                    if outcome is not None:
                        return outcome
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(changed.wait(), _WAKE_S)
            finally:
                for task in run.express.values():
                    task.cancel()

    async def _advance(
        self, run: _Run, parent_arn: str | None, task_id: str | None
    ) -> Outcome | None:
        rec = self._view.map_run(run.arn) or {}
        if int(rec.get("redriveCount") or 0) > run.children.redrives:
            # A redrive of the Map Run took over (this run's parent task is gone).
            return Outcome(False, error="States.Aborted", cause="The Map Run was redriven")
        states = [self._status(run, i) for i in range(len(run.inputs))]
        await self._delete_processed(run, states)
        if not self._parent_waits(parent_arn, task_id):
            await self._stop_children(run, states, "The parent execution stopped")
            await self._end(run.arn, run.parent, "ABORTED")
            return Outcome(False, error="States.Aborted", cause="The parent execution stopped")
        failed = sum(w for c, w in zip(states, run.weights, strict=True) if c.failed)
        count, percent = rec.get("toleratedFailureCount"), rec.get("toleratedFailurePercentage")
        limit_count = None if count is None else int(count)
        limit_percent = None if percent is None else float(percent)
        if exceeds_tolerance(failed, sum(run.weights), limit_count, limit_percent):
            await self._stop_children(run, states, THRESHOLD_CAUSE)
            await self._end(run.arn, run.parent, "FAILED")
            return Outcome(False, error=THRESHOLD, cause=THRESHOLD_CAUSE)
        to_run = [i for i, c in enumerate(states) if c.status == "PENDING" or c.waiting]
        if not to_run and all(c.status != "RUNNING" for c in states):
            return await self._finish(run, rec)
        limit = int(rec.get("maxConcurrency") or 0) or MAX_CONCURRENCY
        free = max(limit - sum(c.status == "RUNNING" for c in states), 0)
        starting = to_run[:free]
        for at in range(0, len(starting), _STARTS_AT_ONCE):
            group = starting[at : at + _STARTS_AT_ONCE]
            await asyncio.gather(*(self._start_map_child(run, i, states[i]) for i in group))
        return None

    async def _start_map_child(self, run: _Run, i: int, child: Child) -> None:
        text = lang.dumps(run.inputs[i])
        if run.machine.type == "EXPRESS":  # an Express child runs again from its start
            arn = run.child_arn(i)
            coro = self._run_express(run.machine, arn, text)
            run.express[i] = asyncio.get_running_loop().create_task(coro)
        elif not child.waiting:
            await self._start_target(run.machine, child_name(run.arn, i), text)
        else:  # a Standard child is redriven: on from its failed state, same ARN
            token = redrive_token(run.arn, run.children.attempt(i))
            try:
                await self.redrive_execution(run.child_arn(i), token)
            except ExecutionNotRedrivable as exc:
                _log.warning("map run child not redrivable", child=run.child_arn(i), error=str(exc))
                run.unredrivable.add(i)

    async def _stop_children(self, run: _Run, states: list[Child], cause: str) -> None:
        for i, child in enumerate(states):
            if child.status != "RUNNING":
                continue
            task = run.express.get(i)
            if task is not None:
                task.cancel()
                continue
            inbox = records.InboxRecord(run.child_arn(i), Stop(None, cause))
            await send_inbox(self._ctx, self._clock, inbox)

    async def _delete_processed(self, run: _Run, states: list[Child]) -> None:
        if run.queue is None:
            return
        client = self._performer.client()
        for i, child in enumerate(states):
            if child.status == "SUCCEEDED" and i not in run.deleted and i < len(run.receipts):
                for receipt in run.receipts[i]:
                    await map_io.delete_read(client, run.queue, receipt)
                run.deleted.add(i)

    async def _finish(self, run: _Run, rec: dict[str, Any]) -> Outcome:
        children = [self._view.get(run.child_arn(i)) for i in range(len(run.inputs))]
        if run.writer is None:
            results = [_result(v) for v in children]
            await self._end(run.arn, run.parent, "SUCCEEDED", 0)
            return Outcome(True, output=lang.dumps(results))
        client = self._performer.client()
        written = int(rec.get("resultsWritten", 0))  # written before a restart
        for v in children[written:]:
            if v is not None:
                await map_io.write_result(client, run.writer, _result_doc(v))
        await self._end(run.arn, run.parent, "SUCCEEDED", len(children))
        output = {
            "MapRunArn": run.arn,
            "ResultWriterDetails": map_io.writer_details(run.writer, len(children)),
        }
        return Outcome(True, output=lang.dumps(output))


# A journaled record stays well below Kafka's 1 MB message limit: the children's inputs
# (and queue receipts) are written in chunks of about this many bytes of JSON.
CHUNK_BYTES = 256 * 1024


def _chunks(inputs: list[Any], receipts: list[list[str]]) -> list[dict[str, Any]]:
    chunks: list[dict[str, Any]] = []
    current: dict[str, Any] = {"inputs": [], "receipts": []}
    size = 0
    for value, handles in zip(inputs, receipts, strict=True):
        n = len(lang.dumps(value)) + sum(len(h) for h in handles)
        if current["inputs"] and size + n > CHUNK_BYTES:
            chunks.append(current)
            current, size = {"inputs": [], "receipts": []}, 0
        current["inputs"].append(value)
        current["receipts"].append(handles)
        size += n
    if current["inputs"] or not chunks:
        chunks.append(current)
    return chunks


def _chunked(rec: dict[str, Any]) -> tuple[list[Any], list[list[str]]]:
    """(children's inputs, their queue receipts) from a journaled Map Run's chunks."""
    inputs: list[Any] = []
    receipts: list[list[str]] = []
    for n in range(int(rec["chunks"])):
        chunk = rec[f"chunk.{n}"]
        inputs += chunk["inputs"]
        receipts += [list(r) for r in chunk["receipts"]]
    return inputs, receipts


def _item_context(ctx: Any, index: int, value: Any) -> dict[str, Any]:
    return {**(ctx or {}), "Map": {"Item": {"Index": index, "Value": value}}}


def _result(v: ExecutionView | None) -> Any:
    if v is None:
        return None
    if v.status == "SUCCEEDED":
        return json.loads(v.output or "null")
    return {"Error": v.error, "Cause": v.cause}


def _result_doc(v: ExecutionView) -> dict[str, Any]:
    """A child's entry as AWS's ResultWriter files list them."""
    doc: dict[str, Any] = {
        "ExecutionArn": v.execution_arn,
        "Input": v.input,
        "InputDetails": {"Included": True},
        "Name": v.name,
        "StartDate": iso(v.start_ms),
        "StateMachineArn": v.state_machine_arn,
        "Status": v.status,
        "StopDate": iso(v.stop_ms) if v.stop_ms else None,
    }
    if v.status == "SUCCEEDED":
        doc["Output"] = v.output
        doc["OutputDetails"] = {"Included": True}
    else:
        doc.update({"Error": v.error, "Cause": v.cause})
    return doc
