"""Every replica's read view of executions: status, output and history, from the log.

The view reads every partition of ``eventplane.wf.history`` (read_committed, from the
beginning, then live) and keeps each execution's summary and history events, so any
replica answers DescribeExecution, ListExecutions and GetExecutionHistory without
asking the owner. Until it has read every partition up to where it ended when the view
started (after a restart: the whole history), it answers nothing: a read then gets a
retriable ServiceUnavailable, never a wrong "does not exist", and the component reports
SERVING only once the view has caught up. It holds every history event in memory:
fine for a development platform and modest production volumes; a retention-bounded
store is a known next step.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from eventplane.config import Settings
from eventplane.errors import ServiceUnavailable
from eventplane.kafka import naming
from eventplane.kafka.clients import consumer_config, take
from eventplane.observability.logging import get_logger
from eventplane.workflows import records
from eventplane.workflows.history import HistoryEvent
from eventplane.workflows.lang import dumps

_log = get_logger("eventplane.workflows.view")

T = TypeVar("T")


@dataclass(slots=True)
class ExecutionView:
    execution_arn: str
    state_machine_arn: str
    name: str
    status: str
    start_ms: int
    input: str
    stop_ms: int | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    transitions: int = 0
    express: bool = False
    live_tasks: frozenset[str] = frozenset()
    seq: int = 0  # the highest task/timer number the execution has handed out
    version_arn: str | None = None
    alias_arn: str | None = None
    redrive_count: int = 0
    redrive_ms: int | None = None
    redrive_token: str | None = None
    activities: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[HistoryEvent] = field(default_factory=list)


PendingKey = tuple[str, str]  # (execution ARN, task id)


class View:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._executions: dict[str, ExecutionView] = {}
        self._by_machine: dict[str, list[str]] = {}
        # Distributed Maps' Map Runs (their merged records), and their ARNs per execution.
        self._map_runs: dict[str, dict[str, Any]] = {}
        self._runs_of: dict[str, list[str]] = {}
        # Activity tasks no worker has got yet, by activity ARN, oldest first.
        self._pending: dict[str, dict[PendingKey, dict[str, Any]]] = {}
        # asyncio waiters (GetActivityTask long polls), woken on every change.
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._cond = threading.Condition()
        self._ready = threading.Event()  # read up to where the log ended at (re)start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wf-view", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def wait_ready(self, timeout: float) -> bool:
        """Block until the view has caught up with the log (True), or ``timeout`` passed."""
        return self._ready.wait(timeout)

    # --- reads ------------------------------------------------------------------------
    def _check_ready(self) -> None:
        if not self._ready.is_set():
            raise ServiceUnavailable(
                "Workflow executions are still loading on this replica; retry the request"
            )

    def get(self, arn: str) -> ExecutionView | None:
        self._check_ready()
        with self._cond:
            return self._executions.get(arn)

    def of_machine(self, state_machine_arn: str) -> list[ExecutionView]:
        """The machine's executions, newest first."""
        self._check_ready()
        with self._cond:
            arns = list(self._by_machine.get(state_machine_arn, ()))
            return [self._executions[a] for a in reversed(arns)]

    def map_run(self, arn: str) -> dict[str, Any] | None:
        """A Map Run's fields (``map_run.py`` names them), or None."""
        self._check_ready()
        with self._cond:
            found = self._map_runs.get(arn)
            return None if found is None else dict(found)

    def map_runs_of(self, execution_arn: str) -> list[dict[str, Any]]:
        """The Map Runs an execution started, newest first."""
        self._check_ready()
        with self._cond:
            arns = list(self._runs_of.get(execution_arn, ()))
            return [dict(self._map_runs[a]) for a in reversed(arns)]

    def wait_for(self, check: Callable[[], T | None], timeout: float) -> T | None:
        """Block until ``check()`` returns something (re-checked on every change)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = check()
                left = deadline - time.monotonic()
                if found is not None or left <= 0:
                    return found
                self._cond.wait(left)

    @contextlib.contextmanager
    def changes(self) -> Iterator[asyncio.Event]:
        """An asyncio event set whenever the view changes (set it back with ``clear``).

        Long polls wait on it instead of holding a thread each."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._cond:
            self._waiters.add(entry)
        try:
            yield entry[1]
        finally:
            with self._cond:
                self._waiters.discard(entry)

    def pending_activity(
        self, activity_arn: str, skip: set[PendingKey]
    ) -> tuple[PendingKey, dict[str, Any]] | None:
        """The oldest activity task of ``activity_arn`` that no worker has got yet."""
        self._check_ready()
        with self._cond:
            for key, info in self._pending.get(activity_arn, {}).items():
                if key not in skip:
                    return key, info
        return None

    def activity_task(self, key: PendingKey) -> dict[str, Any] | None:
        """A scheduled activity task as the execution's latest step shows it, or None."""
        with self._cond:
            v = self._executions.get(key[0])
            return None if v is None else v.activities.get(key[1])

    def task_live(self, arn: str, task_id: str, timeout: float) -> bool:
        """Whether the execution still waits for ``task_id``.

        A task record is written in the same transaction as the step that created it,
        but this view may not have read that step yet: wait until it has (the
        execution's sequence number reaches the task's), then answer. True when the
        view cannot tell in time: running a task twice beats never running it.
        """
        number = int(task_id[1:]) if (task_id[1:].isascii() and task_id[1:].isdigit()) else 0

        def known() -> bool | None:
            v = self._executions.get(arn)
            if v is None or v.seq < number:
                return None
            return task_id in v.live_tasks and v.status == "RUNNING"

        found = self.wait_for(known, timeout)
        return True if found is None else found

    # --- the follower -----------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow()
            except Exception:
                _log.exception("workflow view failed; restarting in 1 s")
                self._stop.wait(1.0)

    def _follow(self) -> None:
        consumer = Consumer(
            consumer_config(self._settings, f"{naming.PREFIX}.wf-view.{uuid.uuid4().hex}")
        )
        try:
            meta = consumer.list_topics(naming.WF_HISTORY, timeout=10)
            partitions = meta.topics[naming.WF_HISTORY].partitions
            assigned = [TopicPartition(naming.WF_HISTORY, p, OFFSET_BEGINNING) for p in partitions]
            self._ready.clear()
            with self._cond:
                self._executions.clear()
                self._by_machine.clear()
                self._pending.clear()
                self._map_runs.clear()
                self._runs_of.clear()
            ends = {tp.partition: self._end(consumer, tp) for tp in assigned}
            consumer.assign(assigned)
            started = time.monotonic()
            while not self._stop.is_set():
                if not self._ready.is_set() and self._caught_up(consumer, ends):
                    self._ready.set()
                    _log.info(
                        "workflow view caught up",
                        executions=len(self._executions),
                        seconds=round(time.monotonic() - started, 3),
                    )
                msgs: list[Any] = take(consumer, 500, 0.1)
                if msgs:
                    self._apply(msgs)
        finally:
            consumer.close()

    def _end(self, consumer: Any, tp: TopicPartition) -> int:
        """Where a partition ends now; retried while a new topic has no leader yet."""
        deadline = time.monotonic() + 30
        while True:
            try:
                return int(consumer.get_watermark_offsets(tp, timeout=10)[1])
            except KafkaException:
                if time.monotonic() > deadline or self._stop.is_set():
                    raise
                time.sleep(0.2)

    @staticmethod
    def _caught_up(consumer: Any, ends: dict[int, int]) -> bool:
        """Every partition read up to its end at start (positions pass transaction markers)."""
        waiting = [TopicPartition(naming.WF_HISTORY, p) for p, end in ends.items() if end > 0]
        if not waiting:
            return True
        return all(tp.offset >= ends[tp.partition] for tp in consumer.position(waiting))

    def _apply(self, msgs: list[Any]) -> None:
        steps: list[records.StepRecord | records.MapRunRecord] = []
        for m in msgs:
            err = m.error()
            if err is not None:
                if err.code() != KafkaError._PARTITION_EOF:
                    _log.warning("workflow view consumer", error=err.str())
                continue
            headers = m.headers() or []
            kind = records.record_kind(headers)
            if kind not in (records.STEP, records.MAP_RUN):
                continue
            try:
                if kind == records.MAP_RUN:
                    steps.append(records.decode_map_run(m.value(), headers))
                else:
                    steps.append(records.decode_step(m.value(), headers))
            except ValueError as exc:
                _log.error("unreadable workflow step", offset=m.offset(), error=str(exc))
        if not steps:
            return
        with self._cond:
            for s in steps:
                if isinstance(s, records.MapRunRecord):
                    self._apply_map_run(s)
                else:
                    self._apply_step(s)
            self._cond.notify_all()
            for loop, event in self._waiters:
                with contextlib.suppress(RuntimeError):  # a loop that closed meanwhile
                    loop.call_soon_threadsafe(event.set)

    def _apply_map_run(self, r: records.MapRunRecord) -> None:
        run = self._map_runs.get(r.map_run_arn)
        if run is None:
            run = self._map_runs[r.map_run_arn] = {
                "mapRunArn": r.map_run_arn,
                "executionArn": r.execution_arn,
            }
            self._runs_of.setdefault(r.execution_arn, []).append(r.map_run_arn)
        run.update(r.fields)

    def _apply_step(self, s: records.StepRecord) -> None:
        snap = s.snapshot
        view = self._executions.get(s.execution_arn)
        if view is None:
            started = next((e for e in s.events if e.type == "ExecutionStarted"), None)
            view = ExecutionView(
                execution_arn=s.execution_arn,
                state_machine_arn=s.state_machine_arn,
                name=snap.name,
                status=snap.status,
                start_ms=snap.start_ms,
                input=started.details["input"] if started is not None else dumps(snap.input),
                express=s.express,
            )
            self._executions[s.execution_arn] = view
            self._by_machine.setdefault(s.state_machine_arn, []).append(s.execution_arn)
        view.status = snap.status
        view.stop_ms = snap.stop_ms
        view.output = dumps(snap.output) if snap.status == "SUCCEEDED" else None
        view.error, view.cause = snap.error, snap.cause
        view.transitions = snap.transitions
        view.live_tasks = frozenset(snap.tasks)
        view.seq = snap.seq
        view.version_arn, view.alias_arn = snap.version_arn, snap.alias_arn
        view.redrive_count, view.redrive_ms = snap.redrive_count, snap.redrive_ms
        view.redrive_token = snap.redrive_token
        self._index_activities(view, snap.activities)
        view.events.extend(s.events)

    def _index_activities(self, view: ExecutionView, now: dict[str, dict[str, Any]]) -> None:
        """Keep the pending index in scheduling order: a task stays where it was queued."""
        for task_id, info in view.activities.items():
            if now.get(task_id, {}).get("claim", True) is not None:
                self._pending.get(info["resource"], {}).pop((view.execution_arn, task_id), None)
        view.activities = now
        for task_id, info in now.items():
            if info.get("claim") is None:
                queue = self._pending.setdefault(info["resource"], {})
                queue.setdefault((view.execution_arn, task_id), info)
