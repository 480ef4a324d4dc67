"""What an execution's history says about each state: its status and the edges taken.

Works on the definition's JSON and ``GetExecutionHistory``'s events as AWS shapes them,
so the SDK's answers and the service's own results read alike. State names are unique in
a state machine (ASL requires it), so statuses are keyed by name alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

SUCCEEDED = "succeeded"
FAILED = "failed"
CAUGHT = "caught"
RUNNING = "running"
ABORTED = "aborted"
NOT_REACHED = "not reached"

# Edge kinds, as the picture labels them.
NEXT, CHOICE, DEFAULT, CATCH = "Next", "Choice", "Default", "Catch"

_TERMINAL = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionAborted": "ABORTED",
    "ExecutionTimedOut": "TIMED_OUT",
}
# Event-type prefixes of the steps a state type runs; a *Failed/*TimedOut among them
# marks the open state of that type as failed (until it exits or a retry succeeds).
_STEP_PREFIXES = {
    "Task": ("Task", "LambdaFunction", "Activity"),
    "Parallel": ("ParallelState",),
    "Map": ("MapState",),
}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str
    label: str = ""


@dataclass
class Trace:
    """Statuses by state name, the (source, target) pairs taken, the execution's status."""

    states: dict[str, str] = field(default_factory=dict)
    taken: set[tuple[str, str]] = field(default_factory=set)
    iterations: dict[str, int] = field(default_factory=dict)
    execution: str = "RUNNING"

    def status(self, name: str) -> str:
        return self.states.get(name, NOT_REACHED)


def scopes(machine: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(name, state) of every state, nested branches and item processors included."""
    for name, state in (machine.get("States") or {}).items():
        yield name, state
        for sub in children(state):
            yield from scopes(sub)


def children(state: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A Parallel state's branches, a Map state's item processor (or older Iterator)."""
    if state.get("Type") == "Parallel":
        return list(state.get("Branches") or [])
    if state.get("Type") == "Map":
        processor = state.get("ItemProcessor") or state.get("Iterator")
        return [processor] if processor else []
    return []


def edges(name: str, state: Mapping[str, Any]) -> list[Edge]:
    """The transitions a state names (all inside its own scope)."""
    out: list[Edge] = []
    if state.get("Next"):
        out.append(Edge(name, state["Next"], NEXT))
    for i, rule in enumerate(state.get("Choices") or []):
        if isinstance(rule, Mapping) and rule.get("Next"):
            out.append(Edge(name, rule["Next"], CHOICE, f"#{i + 1}"))
    if state.get("Default"):
        out.append(Edge(name, state["Default"], DEFAULT, "Default"))
    for catcher in state.get("Catch") or []:
        if isinstance(catcher, Mapping) and catcher.get("Next"):
            errors = ", ".join(str(e) for e in catcher.get("ErrorEquals") or [])
            out.append(Edge(name, catcher["Next"], CATCH, f"Catch {errors}".strip()))
    return out


def _details(event: Mapping[str, Any]) -> Mapping[str, Any]:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, Mapping):
            return value
    return {}


def trace(definition: Mapping[str, Any], events: Iterable[Mapping[str, Any]]) -> Trace:
    """Replays ``events`` (any order; sorted by id) over the definition's transitions."""
    types = {name: str(state.get("Type", "")) for name, state in scopes(definition)}
    kinds: dict[tuple[str, str], set[str]] = {}
    for name, state in scopes(definition):
        for e in edges(name, state):
            kinds.setdefault((e.source, e.target), set()).add(e.kind)
    out = Trace()
    open_states: list[str] = []  # entered, not exited; newest last
    exited: list[str] = []  # newest last
    for event in sorted(events, key=lambda e: int(e.get("id", 0))):
        kind = str(event.get("type", ""))
        name = str(_details(event).get("name", ""))
        if kind in _TERMINAL:
            out.execution = _TERMINAL[kind]
        elif kind.endswith("StateEntered") and name:
            _enter(out, name, kind, kinds, open_states, exited)
        elif kind.endswith("StateExited") and name:
            if name in open_states:
                open_states.reverse()
                open_states.remove(name)
                open_states.reverse()
            exited.append(name)
            out.states[name] = SUCCEEDED
        elif kind == "MapIterationStarted" and name:
            out.iterations[name] = out.iterations.get(name, 0) + 1
        else:
            _step(out, kind, types, open_states)
    if out.execution != "RUNNING":
        for name in open_states:
            if out.states.get(name) == RUNNING:
                failed = out.execution != "SUCCEEDED"
                out.states[name] = ABORTED if failed else SUCCEEDED
    return out


def _enter(
    out: Trace,
    name: str,
    kind: str,
    kinds: Mapping[tuple[str, str], set[str]],
    open_states: list[str],
    exited: list[str],
) -> None:
    # The source is the newest exited state with an edge here, or a failed open one
    # (a caught error may leave its state without an Exited event).
    failed_open = [s for s in open_states if out.states.get(s) == FAILED]
    for source in reversed(exited + failed_open):
        found = kinds.get((source, name))
        if found:
            out.taken.add((source, name))
            if found == {CATCH}:
                out.states[source] = CAUGHT
            if source in open_states:
                open_states.remove(source)
            break
    open_states.append(name)
    out.states[name] = FAILED if kind == "FailStateEntered" else RUNNING


def _step(out: Trace, kind: str, types: Mapping[str, str], open_states: list[str]) -> None:
    failed = kind.endswith(("Failed", "TimedOut"))
    succeeded = kind.endswith("Succeeded")
    if not (failed or succeeded) or kind.startswith(("Execution", "MapIteration")):
        return
    for state_type, prefixes in _STEP_PREFIXES.items():
        if not kind.startswith(prefixes):
            continue
        for name in reversed(open_states):
            if types.get(name) == state_type:
                out.states[name] = FAILED if failed else RUNNING
                return
