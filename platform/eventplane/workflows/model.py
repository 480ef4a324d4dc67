"""The state of one execution, folded from its history, and what flows in and out.

The interpreter is a pure function ``(definition, ExecutionState, Inbox) -> Step``.
``ExecutionState`` is plain data that serializes to JSON: the runtime journals a
snapshot of it with each step's history events (in the same Kafka transaction), so
folding a partition's history means keeping each execution's latest snapshot.

An execution is a tree of *frames*: the root frame runs the top-level ``States``;
each Parallel branch and each Map iteration runs in a child frame. A frame is at one
state at a time; ``Progress`` holds what that state is waiting for (a task, a timer,
child frames).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
TIMED_OUT = "TIMED_OUT"
ABORTED = "ABORTED"
PENDING_REDRIVE = "PENDING_REDRIVE"

# --- inbox: what arrives at an execution ---------------------------------------------


@dataclass(frozen=True, slots=True)
class Start:
    """Start the execution with ``input`` (JSON text); the version (and alias) ARN it
    was started through, if any."""

    input: str
    version_arn: str | None = None
    alias_arn: str | None = None
    # A child started by a parent's ``states:startExecution.sync`` task: the parent
    # task's token and ``sync`` or ``sync:2`` (how the parent wants the output).
    parent_token: str | None = None
    parent_mode: str | None = None
    role_arn: str | None = None  # the machine's, for the ExecutionStarted event


@dataclass(frozen=True, slots=True)
class TaskResult:
    """A task ended: ``output`` (JSON text) on success, else ``error``/``cause``.

    ``submitted`` reports that a ``.waitForTaskToken`` task's request was delivered
    (the task goes on waiting for its token).
    """

    task_id: str
    ok: bool
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    submitted: bool = False


@dataclass(frozen=True, slots=True)
class Heartbeat:
    task_id: str


@dataclass(frozen=True, slots=True)
class TimerFired:
    timer_id: str


@dataclass(frozen=True, slots=True)
class Stop:
    error: str | None = None
    cause: str | None = None


@dataclass(frozen=True, slots=True)
class Redrive:
    """Run a FAILED, TIMED_OUT or ABORTED execution again from the state that ended it.

    ``client_token`` makes the request idempotent: the same token again is the same
    redrive."""

    client_token: str | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """A worker's GetActivityTask asks for the scheduled activity task ``task_id``.

    The owner grants the first claim of a task (ActivityStarted names the worker) and
    ignores later ones; the replica that sent ``claim_id`` sees in the read view
    whether its claim won, so a task is handed out once across replicas."""

    task_id: str
    claim_id: str
    worker_name: str = ""
    sent_ms: int = 0  # when the poller sent it (the inbox record's time)


Inbox = Start | TaskResult | Heartbeat | TimerFired | Stop | Redrive | Claim

# --- commands: what a step asks the runtime to do ------------------------------------


@dataclass(frozen=True, slots=True)
class DispatchTask:
    """Run ``resource`` with ``payload`` (JSON-able) and report a ``TaskResult``."""

    task_id: str
    resource: str
    payload: Any
    token: str | None
    wait_for_callback: bool
    timeout_seconds: int | None
    heartbeat_seconds: int | None


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Deliver ``TimerFired(timer_id)`` at ``due_ms`` (epoch ms, the injected clock)."""

    timer_id: str
    due_ms: int


@dataclass(frozen=True, slots=True)
class NotifyParent:
    """A child of a ``.sync`` task ended: send its parent task this result."""

    parent_arn: str
    task_id: str
    ok: bool
    output: str | None = None
    error: str | None = None
    cause: str | None = None


@dataclass(frozen=True, slots=True)
class StopChild:
    """The task that waits for child ``execution_arn`` (``.sync``) was aborted: stop it."""

    execution_arn: str
    cause: str


Command = DispatchTask | StartTimer | NotifyParent | StopChild

# --- the folded state ----------------------------------------------------------------


@dataclass(slots=True)
class Progress:
    """What the current state of a frame waits for; fields unused by a type stay empty."""

    retry_counts: list[int] = field(default_factory=list)
    task_id: str | None = None
    task_payload: Any = None
    timer_id: str | None = None  # wait, retry back-off
    timeout_timer: str | None = None
    heartbeat_timer: str | None = None
    children: list[Frame] = field(default_factory=list)
    # Map: the items (after ItemSelector/ItemBatcher), the next one to start, the results.
    items: list[Any] = field(default_factory=list)
    next_index: int = 0
    results: list[Any] = field(default_factory=list)
    failures: int = 0
    entered_ms: int = 0
    entered_event: int = 0
    # Map: MaxConcurrency (0: all at once) and the tolerated failures, resolved on entry.
    limit: int = 0
    tolerated_count: float | None = None
    tolerated_percent: float | None = None
    # Parallel/Map: the branches or items that succeeded, kept when a redrive re-enters
    # the state so that only the failed ones run again.
    succeeded: list[int] = field(default_factory=list)
    # A ``states:startExecution.sync`` task: the child it waits for (stopped with it).
    child_arn: str | None = None
    # A Distributed Map: the Map Run its task runs, and how often a redrive of the
    # execution redrove that Map Run.
    map_run_arn: str | None = None
    map_run_redrives: int = 0

    @staticmethod
    def from_json(raw: dict[str, Any]) -> Progress:
        p = Progress(**{k: v for k, v in raw.items() if k != "children"})
        p.children = [Frame.from_json(c) for c in raw.get("children", [])]
        return p


@dataclass(slots=True)
class Frame:
    """One running (sub-)state machine: the root, a Parallel branch or a Map iteration.

    ``scope`` locates its ``States`` in the definition: ``[]`` for the root, then
    ``[state, branch index]`` per Parallel and ``[state, -1]`` per Map on the way down.
    """

    fid: str
    scope: list[Any]
    state: str
    input: Any
    status: str = RUNNING
    output: Any = None
    error: str | None = None
    cause: str | None = None
    index: int = 0  # branch or item index in the parent
    map_item: Any = None
    progress: Progress = field(default_factory=Progress)
    variables: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(raw: dict[str, Any]) -> Frame:
        f = Frame(**{k: v for k, v in raw.items() if k != "progress"})
        f.progress = Progress.from_json(raw["progress"])
        return f


@dataclass(slots=True)
class ExecutionState:
    """Everything the interpreter knows about one execution between two steps."""

    execution_arn: str
    name: str
    state_machine_arn: str
    start_ms: int = 0
    status: str = RUNNING
    input: Any = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    stop_ms: int | None = None
    last_event_id: int = 0
    seq: int = 0  # ids of tasks and timers
    root: Frame | None = None
    # live task id -> fid of the frame that waits for it; the same for timers.
    tasks: dict[str, str] = field(default_factory=dict)
    timers: dict[str, str] = field(default_factory=dict)
    transitions: int = 0
    version_arn: str | None = None
    alias_arn: str | None = None
    redrive_count: int = 0
    redrive_ms: int | None = None
    redrive_token: str | None = None
    # Scheduled activity tasks by task id: resource (the activity ARN), input (JSON
    # text), token, heartbeat seconds, and once a worker got it its claim and worker.
    activities: dict[str, dict[str, Any]] = field(default_factory=dict)
    # A child of a ``.sync`` task: its parent task's token and the output mode.
    parent_token: str | None = None
    parent_mode: str | None = None

    @property
    def done(self) -> bool:
        return self.status != RUNNING

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(raw: dict[str, Any]) -> ExecutionState:
        s = ExecutionState(**{k: v for k, v in raw.items() if k != "root"})
        s.root = Frame.from_json(raw["root"]) if raw.get("root") else None
        return s
