"""The Kafka records of workflows, over the Avro schemas in schemas/workflow_*.avsc.

Inbox records (what happens to an execution) go to ``eventplane.wf.inbox``; step
records (what the owner made of it) to ``eventplane.wf.history``. Both topics have the
same partitions and key (the execution ARN), so an execution's inbox and history share
a partition number. The ``ep-wf`` header names the kind, so a reader can tell them
apart without decoding.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventplane.kafka import codec
from eventplane.workflows.history import HistoryEvent
from eventplane.workflows.model import (
    Claim,
    ExecutionState,
    Heartbeat,
    Inbox,
    Redrive,
    Start,
    Stop,
    TaskResult,
    TimerFired,
)

KIND_HEADER = "ep-wf"
# A start through a version or alias names them in headers, not in the Avro record:
# records written before versions existed (and by replicas that predate them) stay
# readable with the one WorkflowInbox schema.
VERSION_HEADER = "ep-wf-version"
ALIAS_HEADER = "ep-wf-alias"
TOKEN_HEADER = "ep-wf-token"  # a redrive's client token
PARENT_HEADER = "ep-wf-parent"  # a .sync child's start: the parent task's token
PARENT_MODE_HEADER = "ep-wf-parent-mode"  # sync or sync:2
CLAIM_HEADER = "ep-wf-claim"  # an activity claim's id
WORKER_HEADER = "ep-wf-worker"  # an activity claim's workerName
ROLE_HEADER = "ep-wf-role"  # a start's machine roleArn
INBOX = b"inbox"
STEP = b"step"
MAP_RUN = b"maprun"

Headers = list[tuple[str, bytes]]


def record_kind(headers: Sequence[tuple[str, bytes | None]] | None) -> bytes | None:
    return _header(headers, KIND_HEADER)


def _header(headers: Sequence[tuple[str, bytes | None]] | None, name: str) -> bytes | None:
    return next((v for k, v in headers or () if k == name), None)


def _text(value: bytes | None) -> str | None:
    return value.decode() if value else None


# --- inbox -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InboxRecord:
    execution_arn: str
    inbox: Inbox
    state_machine_arn: str | None = None
    definition: str | None = None


def encode_inbox(rec: InboxRecord, at_ms: int) -> tuple[bytes, Headers]:
    body: dict[str, Any] = {
        "execution_arn": rec.execution_arn,
        "state_machine_arn": rec.state_machine_arn,
        "definition": rec.definition,
        "at_ms": at_ms,
    }
    i = rec.inbox
    extra: Headers = []
    if isinstance(i, Start):
        body.update(kind="start", input=i.input)
        if i.version_arn is not None:
            extra.append((VERSION_HEADER, i.version_arn.encode()))
        if i.alias_arn is not None:
            extra.append((ALIAS_HEADER, i.alias_arn.encode()))
        if i.parent_token is not None:
            extra.append((PARENT_HEADER, i.parent_token.encode()))
            extra.append((PARENT_MODE_HEADER, (i.parent_mode or "sync").encode()))
        if i.role_arn:
            extra.append((ROLE_HEADER, i.role_arn.encode()))
    elif isinstance(i, Claim):
        body.update(kind="claim", task_id=i.task_id)
        extra.append((CLAIM_HEADER, i.claim_id.encode()))
        extra.append((WORKER_HEADER, i.worker_name.encode()))
    elif isinstance(i, TaskResult):
        body.update(
            kind="result",
            task_id=i.task_id,
            ok=i.ok,
            submitted=i.submitted,
            output=i.output,
            error=i.error,
            cause=i.cause,
        )
    elif isinstance(i, Heartbeat):
        body.update(kind="heartbeat", task_id=i.task_id)
    elif isinstance(i, TimerFired):
        body.update(kind="timer", timer_id=i.timer_id)
    elif isinstance(i, Redrive):
        body.update(kind="redrive")
        if i.client_token:
            extra.append((TOKEN_HEADER, i.client_token.encode()))
    else:
        body.update(kind="stop", error=i.error, cause=i.cause)
    value, headers = codec.encode("eventplane.v1.WorkflowInbox", body)
    return value, [*headers, (KIND_HEADER, INBOX), *extra]


def decode_inbox(value: bytes, headers: Sequence[tuple[str, bytes | None]]) -> InboxRecord:
    _, r = codec.decode(value, headers)
    kind = r["kind"]
    inbox: Inbox
    if kind == "start":
        inbox = Start(
            r["input"] or "{}",
            _text(_header(headers, VERSION_HEADER)),
            _text(_header(headers, ALIAS_HEADER)),
            _text(_header(headers, PARENT_HEADER)),
            _text(_header(headers, PARENT_MODE_HEADER)),
            _text(_header(headers, ROLE_HEADER)),
        )
    elif kind == "claim":
        inbox = Claim(
            r["task_id"],
            _text(_header(headers, CLAIM_HEADER)) or "",
            _text(_header(headers, WORKER_HEADER)) or "",
            r["at_ms"],
        )
    elif kind == "result":
        inbox = TaskResult(
            r["task_id"], r["ok"], r["output"], r["error"], r["cause"], r["submitted"]
        )
    elif kind == "heartbeat":
        inbox = Heartbeat(r["task_id"])
    elif kind == "timer":
        inbox = TimerFired(r["timer_id"])
    elif kind == "redrive":
        inbox = Redrive(_text(_header(headers, TOKEN_HEADER)))
    else:
        inbox = Stop(r["error"], r["cause"])
    return InboxRecord(r["execution_arn"], inbox, r["state_machine_arn"], r["definition"])


# --- steps -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepRecord:
    execution_arn: str
    state_machine_arn: str
    events: list[HistoryEvent]
    snapshot: ExecutionState
    express: bool = False
    definition: str | None = None


def encode_step(rec: StepRecord, at_ms: int) -> tuple[bytes, Headers]:
    value, headers = codec.encode(
        "eventplane.v1.WorkflowStep",
        {
            "execution_arn": rec.execution_arn,
            "state_machine_arn": rec.state_machine_arn,
            "events": json.dumps([e.to_json() for e in rec.events], separators=(",", ":")),
            "snapshot": json.dumps(rec.snapshot.to_json(), separators=(",", ":")),
            "express": rec.express,
            "definition": rec.definition,
            "at_ms": at_ms,
        },
    )
    return value, [*headers, (KIND_HEADER, STEP)]


def decode_step(value: bytes, headers: Sequence[tuple[str, bytes | None]]) -> StepRecord:
    _, r = codec.decode(value, headers)
    return StepRecord(
        r["execution_arn"],
        r["state_machine_arn"],
        [HistoryEvent.from_json(e) for e in json.loads(r["events"])],
        ExecutionState.from_json(json.loads(r["snapshot"])),
        r["express"],
        r["definition"],
    )


# --- commands --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommandRecord:
    execution_arn: str
    id: str
    due_ms: int
    resource: str | None = None
    payload: str | None = None
    token: str | None = None
    wait_for_callback: bool = False


def encode_command(rec: CommandRecord) -> tuple[bytes, Headers]:
    return codec.encode(
        "eventplane.v1.WorkflowCommand",
        {
            "execution_arn": rec.execution_arn,
            "id": rec.id,
            "due_ms": rec.due_ms,
            "resource": rec.resource,
            "payload": rec.payload,
            "token": rec.token,
            "wait_for_callback": rec.wait_for_callback,
        },
    )


def decode_command(value: bytes, headers: Sequence[tuple[str, bytes | None]]) -> CommandRecord:
    _, r = codec.decode(value, headers)
    return CommandRecord(
        r["execution_arn"],
        r["id"],
        r["due_ms"],
        r["resource"],
        r["payload"],
        r["token"],
        r["wait_for_callback"],
    )


# --- map runs --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MapRunRecord:
    """Fields of a Distributed Map's Map Run (see ``map_run.py``); readers merge them."""

    map_run_arn: str
    execution_arn: str
    fields: dict[str, Any]


def encode_map_run(rec: MapRunRecord, at_ms: int) -> tuple[bytes, Headers]:
    value, headers = codec.encode(
        "eventplane.v1.WorkflowMapRun",
        {
            "map_run_arn": rec.map_run_arn,
            "execution_arn": rec.execution_arn,
            "fields": json.dumps(rec.fields, separators=(",", ":")),
            "at_ms": at_ms,
        },
    )
    return value, [*headers, (KIND_HEADER, MAP_RUN)]


def decode_map_run(value: bytes, headers: Sequence[tuple[str, bytes | None]]) -> MapRunRecord:
    _, r = codec.decode(value, headers)
    return MapRunRecord(r["map_run_arn"], r["execution_arn"], json.loads(r["fields"]))
