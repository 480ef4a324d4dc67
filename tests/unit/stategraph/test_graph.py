"""The execution graph from a definition and a history: shapes, status colours, the path
taken, and the picture Graphviz lays out (skipped without ``dot`` unless required)."""

from __future__ import annotations

import os
import re
import shutil
from typing import Any

import pytest

from eventplane.stategraph import GraphvizMissing, build, render, trace
from eventplane.stategraph.dot import COLOURS, NOT_TAKEN, TAKEN

DEFINITION: dict[str, Any] = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Next": "Route"},
        "Route": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.big", "BooleanEquals": True, "Next": "Fanout"}],
            "Default": "Small",
        },
        "Small": {"Type": "Pass", "End": True},
        "Fanout": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}},
                {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "End": True}}},
            ],
            "Next": "Risky",
        },
        "Risky": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover"}],
            "Next": "Done",
        },
        "Recover": {"Type": "Pass", "Next": "Items"},
        "Items": {
            "Type": "Map",
            "ItemProcessor": {"StartAt": "Each", "States": {"Each": {"Type": "Pass", "End": True}}},
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
    },
}


def _history(*steps: tuple[str, str | None]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for kind, name in steps:
        event: dict[str, Any] = {"id": len(events) + 1, "type": kind}
        if name is not None:
            key = "stateEnteredEventDetails" if kind.endswith("Entered") else "x"
            key = "stateExitedEventDetails" if kind.endswith("Exited") else key
            key = "mapIterationStartedEventDetails" if kind == "MapIterationStarted" else key
            event[key] = {"name": name}
        events.append(event)
    return events


def _through(name: str, kind: str) -> list[tuple[str, str | None]]:
    return [(f"{kind}StateEntered", name), (f"{kind}StateExited", name)]


# Prepare -> Route -> Fanout (both branches) -> Risky fails, caught -> Recover -> Items
# (two iterations, still running).
RUNNING_PATH = _history(
    ("ExecutionStarted", None),
    *_through("Prepare", "Pass"),
    *_through("Route", "Choice"),
    ("ParallelStateEntered", "Fanout"),
    ("ParallelStateStarted", None),
    *_through("Left", "Pass"),
    *_through("Right", "Pass"),
    ("ParallelStateSucceeded", None),
    ("ParallelStateExited", "Fanout"),
    ("TaskStateEntered", "Risky"),
    ("TaskScheduled", None),
    ("TaskFailed", None),
    ("TaskStateExited", "Risky"),
    *_through("Recover", "Pass"),
    ("MapStateEntered", "Items"),
    ("MapIterationStarted", "Items"),
    ("MapIterationStarted", "Items"),
)


def _node(dot: str, name: str) -> str:
    """The DOT line of node ``name``."""
    found = re.search(rf"^\s*{re.escape(name)} \[.*$", dot, re.M)
    assert found, f"no node {name} in\n{dot}"
    return found.group(0)


def _edge(dot: str, tail: str, head: str) -> str:
    found = re.search(rf"^\s*\"?{re.escape(tail)}\"? -> \"?{re.escape(head)}\"? .*$", dot, re.M)
    assert found, f"no edge {tail} -> {head} in\n{dot}"
    return found.group(0)


def test_the_trace_gives_each_state_its_status_and_the_edges_taken() -> None:
    t = trace(DEFINITION, RUNNING_PATH)
    assert t.execution == "RUNNING"
    assert t.states == {
        "Prepare": "succeeded",
        "Route": "succeeded",
        "Fanout": "succeeded",
        "Left": "succeeded",
        "Right": "succeeded",
        "Risky": "caught",
        "Recover": "succeeded",
        "Items": "running",
    }
    assert t.status("Done") == "not reached"
    assert ("Route", "Fanout") in t.taken and ("Route", "Small") not in t.taken
    assert ("Risky", "Recover") in t.taken and ("Risky", "Done") not in t.taken
    assert t.iterations == {"Items": 2}


def test_shapes_and_colours_follow_the_definition_and_the_statuses() -> None:
    dot = build(DEFINITION, RUNNING_PATH).source
    assert "shape=diamond" in _node(dot, "Route")
    assert f'fillcolor="{COLOURS["succeeded"][0]}"' in _node(dot, "Prepare")
    assert f'fillcolor="{COLOURS["caught"][0]}"' in _node(dot, "Risky")
    assert f'fillcolor="{COLOURS["running"][0]}"' in _node(dot, "Items")
    assert f'fillcolor="{COLOURS["not reached"][0]}"' in _node(dot, "Done")
    assert "2 iterations" in _node(dot, "Items")
    # Parallel branches and the Map's item processor are clusters inside the state's own.
    for cluster in ("cluster_Fanout", "cluster_Fanout/0/", "cluster_Fanout/1/", "cluster_Items"):
        assert f'subgraph "{cluster}"' in dot or f"subgraph {cluster} " in dot
    assert "branch 2" in dot and "item processor" in dot
    # Catch edges are dashed and say what they catch; taken edges stand out.
    catch = _edge(dot, "Risky", "Recover")
    assert "style=dashed" in catch and "Catch States.ALL" in catch and TAKEN in catch
    assert NOT_TAKEN in _edge(dot, "Risky", "Done")
    assert "Default" in _edge(dot, "Route", "Small") and NOT_TAKEN in _edge(dot, "Route", "Small")
    # Leaving a Parallel state is leaving its cluster, from the join of its branches.
    assert "ltail=cluster_Fanout" in _edge(dot, "Fanout(join)", "Risky")


def test_a_failed_execution_leaves_the_failing_state_red() -> None:
    events = _history(
        ("ExecutionStarted", None),
        *_through("Prepare", "Pass"),
        *_through("Route", "Choice"),
        ("ParallelStateEntered", "Fanout"),
        ("ParallelStateStarted", None),
        *_through("Left", "Pass"),
        ("PassStateEntered", "Right"),
        ("ParallelStateFailed", None),
        ("ExecutionFailed", None),
    )
    t = trace(DEFINITION, events)
    assert t.execution == "FAILED"
    assert t.states["Fanout"] == "failed"
    assert t.states["Right"] == "aborted"
    dot = build(DEFINITION, events).source
    assert f'fillcolor="{COLOURS["failed"][0]}"' in _node(dot, "Fanout")


def test_a_retried_task_that_then_succeeds_is_green() -> None:
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "x", "End": True}}}
    events = _history(
        ("TaskStateEntered", "T"),
        ("TaskFailed", None),
        ("TaskSucceeded", None),
        ("TaskStateExited", "T"),
        ("ExecutionSucceeded", None),
    )
    assert trace(definition, events).states == {"T": "succeeded"}


def test_a_fail_state_is_failed_as_soon_as_it_is_entered() -> None:
    definition = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}
    assert trace(definition, _history(("FailStateEntered", "F"))).states == {"F": "failed"}
    assert "shape=octagon" in _node(build(definition).source, "F")


needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None and os.environ.get("EVENTPLANE_REQUIRE_BROWSER") != "1",
    reason="Graphviz's dot is not installed (tools/install_viewer_deps.sh)",
)


@needs_dot
def test_dot_lays_it_out_as_svg_and_png() -> None:
    svg = render(DEFINITION, RUNNING_PATH, "svg").decode()
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    for name in DEFINITION["States"]:
        assert f">{name}</text>" in svg
    assert COLOURS["caught"][0] in svg
    png = render(DEFINITION, RUNNING_PATH, "png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_without_dot_the_error_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(GraphvizMissing, match="apt-get install graphviz"):
        render(DEFINITION, RUNNING_PATH, "svg")


def test_only_svg_and_png() -> None:
    with pytest.raises(ValueError, match="svg, png"):
        render(DEFINITION, [], "pdf")


def test_a_caught_parallel_state_is_orange_and_its_branch_did_not_reach_the_join() -> None:
    definition = {
        "StartAt": "Risky",
        "States": {
            "Risky": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "Boom", "States": {"Boom": {"Type": "Fail"}}}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover"}],
                "End": True,
            },
            "Recover": {"Type": "Pass", "End": True},
        },
    }
    events = _history(
        ("ParallelStateEntered", "Risky"),
        ("FailStateEntered", "Boom"),
        ("ParallelStateFailed", None),
        *_through("Recover", "Pass"),
        ("ExecutionSucceeded", None),
    )
    assert trace(definition, events).states == {
        "Risky": "caught",
        "Boom": "failed",
        "Recover": "succeeded",
    }
    dot = build(definition, events).source
    assert NOT_TAKEN in _edge(dot, "Risky/0/(end)", "Risky(join)")
    assert TAKEN in _edge(dot, "Risky(join)", "Recover")
