"""Parallel and Map: states that run child frames and combine their results.

A Parallel state starts one frame per branch and succeeds when all have; the first
branch that fails stops the others and the state fails with that branch's error. An
inline Map starts one frame per item (at most ``MaxConcurrency`` at a time) and
collects the results in item order; an iteration's failure fails the Map unless
``ToleratedFailureCount``/``ToleratedFailurePercentage`` allow it, in which case its
result is the error object.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from eventplane.workflows import lang
from eventplane.workflows.lang import StatesError
from eventplane.workflows.model import FAILED, RUNNING, SUCCEEDED, Frame

if TYPE_CHECKING:
    from eventplane.workflows.interpreter import _Run


def _child(run: _Run, parent: Frame, scope: list[Any], index: int, data: Any) -> Frame:
    child = Frame(
        fid=f"{parent.fid}/{run.next_id('f')}",
        scope=scope,
        state=run.m.start_at(scope),
        input=data,
        index=index,
        variables=dict(parent.variables),
    )
    parent.progress.children.append(child)
    run.ready(child)
    return child


def start_parallel(run: _Run, frame: Frame, sdef: dict[str, Any]) -> None:
    data = lang.effective_input(sdef, frame.input, run.context(frame), frame.variables)
    p = frame.progress
    p.children = []
    p.results = [None] * len(sdef["Branches"])
    p.next_index = len(sdef["Branches"])  # branches still running
    run.emit("ParallelStateStarted")
    for i in range(len(sdef["Branches"])):
        _child(run, frame, [*frame.scope, frame.state, i], i, data)


def start_map(run: _Run, frame: Frame, sdef: dict[str, Any]) -> None:
    ctx = run.context(frame)
    data = lang.effective_input({"InputPath": sdef.get("InputPath", "$")}, frame.input, ctx, {})
    raw_items = lang.map_items(sdef, data, ctx)
    items = [
        lang.item_input(sdef, data, run.context(frame, item={"Index": i, "Value": v}), v)
        for i, v in enumerate(raw_items)
    ]
    batcher = sdef.get("ItemBatcher")
    if batcher is not None:
        size = int(batcher.get("MaxItemsPerBatch", len(items) or 1))
        extra = batcher.get("BatchInput", {})
        items = [
            {**extra, "Items": items[i : i + size]} for i in range(0, len(items), max(size, 1))
        ]
    p = frame.progress
    p.children = []
    p.items = items
    p.results = [None] * len(items)
    p.next_index = 0
    p.failures = 0
    run.emit("MapStateStarted", {"length": len(items)})
    if not items:
        _map_succeeded(run, frame, sdef)
        return
    _fill(run, frame, sdef)


def _fill(run: _Run, frame: Frame, sdef: dict[str, Any]) -> None:
    p = frame.progress
    limit = int(sdef.get("MaxConcurrency", 0)) or len(p.items)
    while p.next_index < len(p.items) and len(p.children) < limit:
        i = p.next_index
        p.next_index += 1
        run.emit("MapIterationStarted", {"name": frame.state, "index": i})
        _child(run, frame, [*frame.scope, frame.state, -1], i, p.items[i])


def _tolerated(sdef: dict[str, Any], failures: int, total: int) -> bool:
    count = sdef.get("ToleratedFailureCount")
    percent = sdef.get("ToleratedFailurePercentage")
    if count is None and percent is None:
        return False
    if count is not None and failures > int(count):
        return False
    return not (percent is not None and failures * 100 > math.floor(float(percent) * total))


def child_done(run: _Run, parent: Frame, child: Frame) -> None:
    """A branch or iteration ended; advance, fail or finish its parent state."""
    sdef = run.sdef(parent)
    p = parent.progress
    p.children = [c for c in p.children if c is not child]
    if sdef["Type"] == "Parallel":
        if child.status == SUCCEEDED:
            p.results[child.index] = child.output
            p.next_index -= 1
            if p.next_index == 0:
                run.emit("ParallelStateSucceeded")
                run.finish(parent, sdef, p.results)
            return
        for other in p.children:
            run.abort_frame(other)
        p.children = []
        run.emit("ParallelStateFailed")
        run.handle_error(parent, sdef, child.error or "States.BranchFailed", child.cause or "")
        return
    # Map
    name = {"name": parent.state, "index": child.index}
    if child.status == SUCCEEDED:
        run.emit("MapIterationSucceeded", name)
        p.results[child.index] = child.output
    else:
        run.emit("MapIterationFailed", name)
        p.failures += 1
        p.results[child.index] = {"Error": child.error, "Cause": child.cause}
        if not _tolerated(sdef, p.failures, len(p.items)):
            for other in p.children:
                run.emit("MapIterationAborted", {"name": parent.state, "index": other.index})
                run.abort_frame(other)
            p.children = []
            run.emit("MapStateFailed")
            error, cause = child.error or "States.TaskFailed", child.cause or ""
            if "ToleratedFailureCount" in sdef or "ToleratedFailurePercentage" in sdef:
                error = "States.ExceedToleratedFailureThreshold"
                cause = "The specified tolerated failure threshold was exceeded"
            run.handle_error(parent, sdef, error, cause)
            return
    _fill(run, parent, sdef)
    if not p.children and p.next_index >= len(p.items) and parent.status == RUNNING:
        _map_succeeded(run, parent, sdef)


def _map_succeeded(run: _Run, frame: Frame, sdef: dict[str, Any]) -> None:
    run.emit("MapStateSucceeded")
    run.finish(frame, sdef, frame.progress.results)


__all__ = ["FAILED", "StatesError", "child_done", "start_map", "start_parallel"]
