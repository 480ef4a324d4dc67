"""Per-hop delivery latency: where a record's time goes between the API and the receiver.

A record crosses processes (API replica → Kafka → dispatcher replica → Kafka → queue
owner replica), so the hop boundaries travel with it as Kafka headers holding the wall
clock (seconds, as text) at which the record was produced and at which a dispatcher
consumed it. Each hop observes ``eventplane_stage_seconds{stage=...}`` against the
previous stamp. Wall clocks of different hosts differ, which skews cross-host stages by
the clock offset; on one host (and in `eventplane bench`) they are exact. The label is the
stage name only, so the series count stays fixed however many queues exist.

Stages, in path order:

- ``accept_to_produce_ack``: the API's write to Kafka until acks=all confirmed it
  (Publish, PutEvents, SendMessage);
- ``produce_to_dispatch_consume``: from that produce until a dispatcher (fan-out, rule
  engine) consumed the record;
- ``dispatch_consume_to_txn_commit``: from that consume until the dispatcher's
  transaction holding the output committed;
- ``dispatch_consume_to_owner_adopt``: from the dispatcher's consume until the queue
  owner had the output record in its partition state (includes the commit);
- ``produce_to_owner_adopt``: a queue send's produce until the owner had it;
- ``owner_adopt_to_receive_answer``: from adoption until a receive returned the message
  (first receives only; the long poll is answered then).

A table write on its way to a function its stream triggers (the stream record carries
``PRODUCED_AT``, stamped when the owner's writer encoded it):

- ``table_write_to_commit``: until the owner's transaction holding it committed (the
  write is answered then);
- ``table_write_to_stream_read``: until a stream read (a mapping's or GetRecords) returned
  it: the commit, then the wait for the record to be visible and for a reader to read;
- ``stream_read_to_invoke``: from that read until an event source mapping started an
  invocation carrying it (a retried batch counts again).

A Standard workflow's Task, around the loop owner → task → owner (``WF_STEP_AT`` on the
task record: when the owner took the step; ``WF_SENT_AT`` on an inbox record: when it was
produced):

- ``wf_inbox_to_owner_consume``: an inbox record (a start, a task's result) from its
  produce until the execution's owner read it;
- ``wf_owner_step``: the owner's own work on it (the interpreter's step, encoding, handing
  the records to the producer);
- ``wf_owner_consume_to_commit``: from that read until the transaction holding the step
  (history, task records) committed;
- ``wf_step_to_task_consume``: from the step until a dispatcher read the task record
  (includes the commit and the read_committed hop);
- ``wf_task_consume_to_invoke``: from that read until the task's resource was called (the
  dispatcher's wait for the read view to know the task);
- ``wf_commit_to_direct_invoke``: a Task the owner runs itself, from the commit of its
  step until its resource was called;
- ``wf_result_to_owner_step``: the result of such a Task, from its hand-over to the
  owner (no inbox) until the owner's transaction took it up;
- ``wf_task_invoke``: the call of the task's resource, until its outcome came back.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from eventplane.observability.metrics import STAGE_SECONDS

__all__ = [
    "DISPATCHED_AT",
    "PRODUCED_AT",
    "STAGES",
    "WF_SENT_AT",
    "WF_STEP_AT",
    "observe",
    "stamp",
    "stamp_of",
]

PRODUCED_AT = "x-eventplane-t-produced"
DISPATCHED_AT = "x-eventplane-t-dispatched"
WF_STEP_AT = "x-eventplane-t-wf-step"
WF_SENT_AT = "x-eventplane-t-wf-sent"

STAGES = (
    "accept_to_produce_ack",
    "produce_to_dispatch_consume",
    "dispatch_consume_to_txn_commit",
    "dispatch_consume_to_owner_adopt",
    "produce_to_owner_adopt",
    "owner_adopt_to_receive_answer",
    "table_write_to_commit",
    "table_write_to_stream_read",
    "stream_read_to_invoke",
    "wf_inbox_to_owner_consume",
    "wf_owner_step",
    "wf_owner_consume_to_commit",
    "wf_step_to_task_consume",
    "wf_task_consume_to_invoke",
    "wf_commit_to_direct_invoke",
    "wf_result_to_owner_step",
    "wf_task_invoke",
)

_children = {name: STAGE_SECONDS.labels(name) for name in STAGES}


def stamp(name: str, at: float | None = None) -> tuple[str, bytes]:
    """A header carrying the wall clock now (or ``at``)."""
    return name, b"%.6f" % (time.time() if at is None else at)


def stamp_of(headers: Sequence[tuple[str, bytes | str | None]] | None, name: str) -> float | None:
    """The wall clock a header of ``headers`` carries, if one is there and readable."""
    for key, value in headers or ():
        if key == name and value is not None:
            try:
                return float(value)
            except ValueError:
                return None
    return None


def observe(stage: str, since: float | None, now: float | None = None) -> None:
    """Record ``now - since`` for the stage; a missing stamp or a clock step is skipped."""
    if not since:  # None, or 0.0 for a record adopted before stamps existed
        return
    seconds = (time.time() if now is None else now) - since
    if seconds >= 0:
        _children[stage].observe(seconds)
