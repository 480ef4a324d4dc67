"""The owner of Standard executions: one per partition of ``eventplane.wf.inbox``.

The owners form one consumer group over the inbox topic, so each execution (keyed by
its ARN) has one owner at a time. For each inbox record the owner runs one
interpreter step and writes, in one Kafka transaction with the consumed offset: the
step record on ``eventplane.wf.history`` (new history events + the state after them)
and the commands they cause (task records on ``eventplane.wf.tasks``, timer records on
``eventplane.wf.timers``). A step is therefore taken exactly once: a crash before the
commit leaves nothing visible and the next owner takes the step again from the same
state.

On assignment of inbox partition N the owner folds history partition N (the topics
are co-partitioned by key): it reads it from the beginning up to the last stable
offset and keeps, per execution, the definition (from its first step) and the latest
state snapshot. Every snapshot it finds reflects exactly the inbox records below the
committed offset, because both were written in the same transaction.

The result of a function Task the owner ran itself (``dispatch.Dispatcher.run_claimed``)
does not go through the inbox: the run hands it to the owner's pump (``offer``), whose
next transaction applies it exactly as an inbox TaskResult (the same step: interpreter,
history, commands, claims) and journals it in that step's history record. The task's
claim is settled (its task record finished) only once that transaction committed. A
result this owner cannot apply (its execution's partition went elsewhere, or the owner
stopped) goes to the execution's inbox instead; a transaction that aborts is taken
again with the result in it. A replica that dies before the commit loses the result,
but not the task: its task record was never finished, so the next reader of that
record runs the task again (at least once, as for a task running at a crash).

A StartExecution that reaches the replica whose owner holds the execution's inbox
partition is handed to the owner the same way (``offer_start``): its step runs in the
owner's next transaction, and the call is answered once that committed, without the
Start record's trip through the inbox or the wait for the view. Nothing is promised
before the commit: a crash before it fails the call, and a retry with the same name
starts the execution once.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from typing import Any, Protocol

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from eventplane.delivery import Router, TargetUnavailable
from eventplane.kafka import naming
from eventplane.kafka.clients import consumer_config, take
from eventplane.kafka.transactional import AfterCommit, TransactionalPump
from eventplane.observability import stages
from eventplane.observability.logging import get_logger
from eventplane.runtime import ServerContext
from eventplane.workflows import records, status_events
from eventplane.workflows.clock import Clock
from eventplane.workflows.interpreter import Step, fail_execution, new_execution, step
from eventplane.workflows.lang import dumps
from eventplane.workflows.machine import Machine
from eventplane.workflows.model import (
    DispatchTask,
    ExecutionState,
    NotifyParent,
    Start,
    StartTimer,
    Stop,
    StopChild,
    TaskResult,
)

_log = get_logger("eventplane.workflows.owner")

FOLD_TIMEOUT_S = 30.0


@dataclass(slots=True)
class Owned:
    machine: Machine
    state: ExecutionState
    partition: int


OnStep = Callable[[Step, int], None]


@dataclass(slots=True)
class HandedResult:
    """A function Task's result, handed by the owner's run of it to the owner's next step."""

    execution_arn: str
    result: TaskResult
    settle: Callable[[], None]  # journaled: the task record is done
    fall_back: Callable[[], None]  # not applied here: to the execution's inbox
    offered_at: float = field(default_factory=time.time)
    gone: bool = False  # fell back (a later transaction must not apply it too)

    def to_inbox(self) -> None:
        if not self.gone:
            self.gone = True
            self.fall_back()


@dataclass(slots=True)
class HandedStart:
    """A StartExecution taken by this replica for an inbox partition its owner holds: the
    owner's next transaction applies it as it would the inbox's Start record (the same
    step, journaled in its history record), without the record's trip through Kafka.

    ``done`` gets the execution's state once that transaction committed, or None when
    the owner did not start it (its partition moved, the owner stopped, or an execution
    of that name exists): the caller then writes the Start to the inbox, as before.
    """

    record: records.InboxRecord
    partition: int
    done: Future[ExecutionState | None] = field(default_factory=Future)
    offered_at: float = field(default_factory=time.time)

    def to_inbox(self) -> None:
        self.answer(None)

    def answer(self, state: ExecutionState | None) -> None:
        # The caller may have given up (cancelled) meanwhile: nothing to answer then.
        with contextlib.suppress(InvalidStateError):
            self.done.set_result(state)


class ResultHandOver(Protocol):
    """Where a run of a claimed task hands its result (``Owner``)."""

    def offer_result(self, handed: HandedResult) -> None: ...
    def withdraw_result(self) -> None: ...  # the run ended without a result


class RunsTasks(Protocol):
    """Where the owner runs a Task itself (``dispatch.Dispatcher``)."""

    def claim(self, arn: str, cmd: DispatchTask, partition: int) -> bool: ...
    def unclaim(self, keys: Sequence[tuple[str, str]]) -> None: ...
    def run_claimed(
        self,
        arn: str,
        cmd: DispatchTask,
        payload: str,
        committed_at: float,
        hand_over: ResultHandOver | None = None,
    ) -> None: ...


class Owner:
    def __init__(
        self,
        ctx: ServerContext,
        clock: Clock,
        on_step: OnStep | None = None,
        tasks: RunsTasks | None = None,
    ) -> None:
        self._ctx = ctx
        self._clock = clock
        self._on_step = on_step
        self._tasks = tasks
        self._owned: dict[str, Owned] = {}
        self._batch: dict[str, Owned] = {}  # this transaction's changes, applied on commit
        self._claimed: list[tuple[str, str]] = []  # tasks this transaction's steps claimed
        # The inbox partitions this owner holds (replaced whole, read from other threads).
        self._held: frozenset[int] = frozenset()
        self._router = Router(ctx.registry)
        self._closing = False
        self._closing_lock = threading.Lock()
        self._pump = TransactionalPump(
            ctx.settings,
            group=naming.WF_OWNERS_GROUP,
            name="wf-owner",
            instance_id=ctx.instance_id,
            handle=self._handle,
            batch_size=200,
            on_assign=self._assigned,
            on_revoke=self._revoked,
            on_commit=self._committed,
            on_abort=self._aborted,
            handle_local=self._handle_local,
        )

    def start(self) -> None:
        self._pump.subscribe([naming.WF_INBOX])
        self._pump.start()

    def close(self) -> None:
        with self._closing_lock:
            self._closing = True  # results offered from now on go to the inbox
        for handed in self._pump.close():
            handed.to_inbox()

    # --- results of the tasks it runs itself ------------------------------------------
    def offer_result(self, handed: HandedResult) -> None:
        with self._closing_lock:
            if not self._closing:
                self._pump.offer(handed)
                return
        handed.to_inbox()

    def withdraw_result(self) -> None:
        self._pump.unexpect()

    # --- starts taken here --------------------------------------------------------------
    def offer_start(
        self, rec: records.InboxRecord, partition: int
    ) -> Future[ExecutionState | None] | None:
        """Start ``rec``'s execution in the next transaction if this owner holds its inbox
        ``partition``; None when it does not (write the Start to the inbox instead)."""
        if partition not in self._held:
            return None
        handed = HandedStart(rec, partition)
        with self._closing_lock:
            if self._closing:
                return None
            self._pump.offer(handed)
        return handed.done

    def _start_local(self, producer: Any, handed: HandedStart) -> list[AfterCommit]:
        arn = handed.record.execution_arn
        if (
            handed.done.done()
            or handed.partition not in self._held
            or (self._batch.get(arn) or self._owned.get(arn)) is not None
        ):
            # Moved on, or the same name again: the inbox path (and the view) answer it.
            handed.to_inbox()
            return []
        offered_ms = int(handed.offered_at * 1000)
        after = self._step(producer, handed.record, handed.partition, time.time(), offered_ms)
        started = self._batch.get(arn)
        if started is None:
            handed.to_inbox()
            return after
        state = started.state

        return [*after, lambda: handed.answer(state)]

    def _handle_local(self, producer: Any, handed: HandedResult | HandedStart) -> list[AfterCommit]:
        if isinstance(handed, HandedStart):
            return self._start_local(producer, handed)
        if handed.gone:
            return []  # an aborted transaction's item that fell back meanwhile
        now = time.time()
        stages.observe("wf_result_to_owner_step", handed.offered_at, now)
        arn = handed.execution_arn
        owned = self._batch.get(arn) or self._owned.get(arn)
        if owned is None:
            # Its partition went to another owner (or the execution is unknown here).
            handed.to_inbox()
            return []
        rec = records.InboxRecord(arn, handed.result)
        after = self._step(producer, rec, owned.partition, now, int(handed.offered_at * 1000))

        def settle() -> None:
            handed.gone = True
            handed.settle()

        return [*after, settle]

    # --- the step ---------------------------------------------------------------------
    def _handle(self, producer: Any, msg: Any) -> list[AfterCommit]:
        headers = msg.headers() or []
        if records.record_kind(headers) != records.INBOX:
            return []
        consumed_at = time.time()
        stages.observe(
            "wf_inbox_to_owner_consume", stages.stamp_of(headers, stages.WF_SENT_AT), consumed_at
        )
        try:
            rec = records.decode_inbox(msg.value(), headers)
        except ValueError as exc:
            _log.error("unreadable workflow inbox record", offset=msg.offset(), error=str(exc))
            return []
        return self._step(producer, rec, msg.partition(), consumed_at, msg.timestamp()[1])

    def _step(
        self,
        producer: Any,
        rec: records.InboxRecord,
        partition: int,
        consumed_at: float,
        received: int,
    ) -> list[AfterCommit]:
        """One interpreter step on an inbox record (consumed, or handed by a task's run)."""
        arn = rec.execution_arn
        owned = self._batch.get(arn) or self._owned.get(arn)
        before = owned.state if owned is not None else None
        if isinstance(rec.inbox, Start):
            if owned is not None or rec.definition is None or rec.state_machine_arn is None:
                return []  # a repeated start (same name) is the same execution
            name = arn.rsplit(":", 1)[-1]
            owned = Owned(
                Machine(rec.definition),
                new_execution(arn, name, rec.state_machine_arn),
                partition,
            )
        elif owned is None:
            return []  # for an execution this partition does not know
        now = self._clock.now_ms()
        try:
            result = step(owned.machine, owned.state, rec.inbox, now)
        except Exception as exc:
            # A bug must not block the partition by failing the same record forever:
            # the execution fails with States.Runtime and the owner moves on.
            _log.exception("workflow step failed", execution=arn)
            result = fail_execution(owned.state, "States.Runtime", f"Internal error: {exc}", now)
        if not result.events and not result.commands:
            return []
        value, hdrs = records.encode_step(
            records.StepRecord(
                arn,
                owned.state.state_machine_arn,
                result.events,
                result.state,
                definition=rec.definition if isinstance(rec.inbox, Start) else None,
            ),
            now,
        )
        producer.produce(naming.WF_HISTORY, value, key=arn.encode(), headers=hdrs)
        for reported in status_events.changes(before, result.state):
            self._status_event(producer, reported, rec)
        direct: list[tuple[DispatchTask, str]] = []
        for cmd in result.commands:
            if isinstance(cmd, NotifyParent | StopChild):
                # to another execution's inbox, in this step's transaction: exactly once
                to = cmd.parent_arn if isinstance(cmd, NotifyParent) else cmd.execution_arn
                v, h = records.encode_inbox(records.InboxRecord(to, _inbox_of(cmd)), now)
                producer.produce(naming.WF_INBOX, v, key=to.encode(), headers=h)
                continue
            if isinstance(cmd, StartTimer):
                topic = naming.WF_TIMERS
                command = records.CommandRecord(arn, cmd.timer_id, cmd.due_ms)
            else:
                assert isinstance(cmd, DispatchTask)
                topic = naming.WF_TASKS
                payload = dumps(cmd.payload)
                command = records.CommandRecord(
                    arn, cmd.task_id, now, cmd.resource, payload, cmd.token, cmd.wait_for_callback
                )
                # Claimed before the commit: the dispatcher reading the record once it
                # committed must find the claim.
                if self._tasks is not None and self._tasks.claim(arn, cmd, owned.partition):
                    self._claimed.append((arn, cmd.task_id))
                    direct.append((cmd, payload))
            v, h = records.encode_command(command)
            if topic == naming.WF_TASKS:
                h = [*h, stages.stamp(stages.WF_STEP_AT, consumed_at)]
            producer.produce(topic, v, key=arn.encode(), headers=h)
        self._batch[arn] = Owned(owned.machine, result.state, owned.partition)
        stages.observe("wf_owner_step", consumed_at)
        on_step = self._on_step
        tasks = self._tasks
        pump = self._pump

        def committed() -> None:
            committed_at = time.time()
            if tasks is not None:
                for cmd, payload in direct:
                    pump.expect()  # its result comes back through offer_result
                    tasks.run_claimed(arn, cmd, payload, committed_at, self)
            stages.observe("wf_owner_consume_to_commit", consumed_at, committed_at)
            if on_step is not None:
                # A failing metric must not keep the batch's later steps from running
                # their claimed tasks (their records wait for those runs).
                try:
                    on_step(result, received)
                except Exception:
                    _log.exception("workflow step callback failed", execution=arn)

        return [committed]

    def _status_event(self, producer: Any, state: ExecutionState, rec: records.InboxRecord) -> None:
        """A status-change event, in this step's transaction (exactly once)."""
        input_text = rec.inbox.input if isinstance(rec.inbox, Start) else None
        payload = status_events.payload(state, input_text, state.last_event_id)
        try:
            self._router.produce(status_events.target(state), payload, producer)
        except TargetUnavailable as exc:
            # No default bus (no bus role in this installation, or the account has not
            # used its default bus yet): nobody can listen.
            _log.debug(
                "status change event not written", execution=state.execution_arn, reason=exc.message
            )

    def _committed(self) -> None:
        self._owned.update(self._batch)
        self._batch.clear()
        self._claimed.clear()  # each step's after-commit callback runs its claimed tasks

    def _aborted(self) -> None:
        self._batch.clear()
        if self._tasks is not None and self._claimed:
            self._tasks.unclaim(self._claimed)
        self._claimed.clear()

    # --- assignment -------------------------------------------------------------------
    def _assigned(self, partitions: list[tuple[str, int]]) -> None:
        for _, partition in partitions:
            started = time.monotonic()
            folded = fold_partition(self._ctx, naming.WF_HISTORY, partition)
            self._owned.update(folded)
            _log.info(
                "workflow partition folded",
                partition=partition,
                executions=len(folded),
                running=sum(1 for o in folded.values() if not o.state.done),
                seconds=round(time.monotonic() - started, 3),
            )
            self._held = self._held | {partition}  # folded: starts may be taken here

    def _revoked(self, partitions: list[tuple[str, int]]) -> None:
        lost = {p for _, p in partitions}
        self._held = self._held - lost
        for arn in [a for a, o in self._owned.items() if o.partition in lost]:
            del self._owned[arn]


def _inbox_of(cmd: NotifyParent | StopChild) -> TaskResult | Stop:
    if isinstance(cmd, NotifyParent):
        return TaskResult(cmd.task_id, cmd.ok, cmd.output, cmd.error, cmd.cause)
    return Stop(None, cmd.cause)


def fold_partition(ctx: ServerContext, topic: str, partition: int) -> dict[str, Owned]:
    """Every execution of a partition with its definition and latest state."""
    consumer = Consumer(
        consumer_config(
            ctx.settings,
            f"{naming.PREFIX}.wf-fold.{ctx.instance_id}",
            **{
                "enable.auto.commit": False,
            },
        )
    )
    definitions: dict[str, str] = {}
    states: dict[str, ExecutionState] = {}
    try:
        tp = TopicPartition(topic, partition, OFFSET_BEGINNING)
        consumer.assign([tp])
        deadline = time.monotonic() + FOLD_TIMEOUT_S
        while True:
            try:
                _, high = consumer.get_watermark_offsets(tp, timeout=10)
                break
            except KafkaException:
                # A topic just created may not have a partition leader yet.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        while high > 0:
            msgs: list[Any] = take(consumer, 500, 0.2)
            for m in msgs:
                if m.error() is not None:
                    if m.error().code() != KafkaError._PARTITION_EOF:
                        _log.warning("folding workflow history", error=m.error().str())
                    continue
                headers = m.headers() or []
                kind = records.record_kind(headers)
                try:
                    if kind == records.STEP:
                        s = records.decode_step(m.value(), headers)
                        if not s.express:
                            states[s.execution_arn] = s.snapshot
                        if s.definition is not None:
                            definitions.setdefault(s.execution_arn, s.definition)
                except ValueError as exc:
                    _log.error("unreadable workflow record", offset=m.offset(), error=str(exc))
            position = consumer.position([TopicPartition(topic, partition)])[0].offset
            if position >= high or (not msgs and time.monotonic() > deadline):
                break
    finally:
        consumer.close()
    return {
        arn: Owned(Machine(definitions[arn]), state, partition)
        for arn, state in states.items()
        if arn in definitions
    }
