"""Workflow metrics (eventplane_workflow_*), fed by each committed step."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from eventplane import arn, names
from eventplane.observability.metrics import LATENCY_BUCKETS
from eventplane.workflows.history import TERMINAL
from eventplane.workflows.interpreter import Step

DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 86400, 604800)

# The state_machine label is the machine's internal name (``label``): one per account.
EXECUTIONS = Counter(
    "eventplane_workflow_executions_total",
    "Execution starts and ends, by state machine and outcome "
    "(started, redriven, succeeded, failed, timed_out, aborted).",
    ("state_machine", "outcome", "type"),
)
TRANSITIONS = Counter(
    "eventplane_workflow_state_transitions_total",
    "States entered, by state machine.",
    ("state_machine", "type"),
)
TRANSITION_LATENCY = Histogram(
    "eventplane_workflow_transition_latency_seconds",
    "From an inbox record (start, task result, timer) being written to the step it caused "
    "being committed (Standard executions).",
    buckets=LATENCY_BUCKETS,
)
EXECUTION_DURATION = Histogram(
    "eventplane_workflow_execution_duration_seconds",
    "Start to end of executions, by type.",
    ("type",),
    buckets=DURATION_BUCKETS,
)


def label(state_machine_arn: str) -> str:
    """A machine's label: its name qualified by its ARN's account as internal names are
    (``eventplane.names``), one per account; from the ARN alone, so no step waits on
    the registry (a machine deleted while its executions run is not there)."""
    name = state_machine_arn.rsplit(":", 1)[-1]
    return names.qualify(name, arn.account_of(state_machine_arn) or None)


def record_step(result: Step, received_ms: int, now_ms: int, kind: str = "STANDARD") -> None:
    """Count what one step did; ``received_ms`` is when its inbox record was written."""
    machine = label(result.state.state_machine_arn)
    entered = 0
    for e in result.events:
        if e.type == "ExecutionStarted":
            EXECUTIONS.labels(machine, "started", kind).inc()
        elif e.type == "ExecutionRedriven":
            EXECUTIONS.labels(machine, "redriven", kind).inc()
        elif e.type in TERMINAL:
            EXECUTIONS.labels(machine, TERMINAL[e.type].lower(), kind).inc()
            EXECUTION_DURATION.labels(kind).observe(
                max(0, e.timestamp_ms - result.state.start_ms) / 1000
            )
        elif e.type.endswith("StateEntered"):
            entered += 1
    if entered:
        TRANSITIONS.labels(machine, kind).inc(entered)
    if received_ms > 0 and kind == "STANDARD":
        TRANSITION_LATENCY.observe(max(0, now_ms - received_ms) / 1000)
