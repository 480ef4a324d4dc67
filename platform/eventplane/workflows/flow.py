"""Parallel and Map: states that run child frames and combine their results.

A Parallel state starts one frame per branch and succeeds when all have; the first
branch that fails stops the others and the state fails with that branch's error. An
inline Map starts one frame per item (at most ``MaxConcurrency`` at a time) and
collects the results in item order; an iteration's failure fails the Map unless
``ToleratedFailureCount``/``ToleratedFailurePercentage`` allow it, in which case its
result is the error object.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventplane.workflows import distributed, lang
from eventplane.workflows.asl import MapState, ParallelState, StateDef
from eventplane.workflows.model import RUNNING, SUCCEEDED, Frame, Progress

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


def start_parallel(run: _Run, frame: Frame, sdef: ParallelState) -> None:
    data = lang.effective_input(sdef, frame.input, run.context(frame), frame.variables)
    keep = run.keep.pop(frame.fid, {})
    p = frame.progress
    p.children = []
    p.results = [keep.get(i) for i in range(len(sdef.branches))]
    p.succeeded = sorted(i for i in keep if i < len(sdef.branches))
    p.next_index = len(sdef.branches) - len(p.succeeded)  # branches still running
    run.emit("ParallelStateStarted")
    for i in range(len(sdef.branches)):
        if i not in keep:
            _child(run, frame, [*frame.scope, frame.state, i], i, data)
    if p.next_index == 0:
        run.emit("ParallelStateSucceeded")
        run.finish(frame, sdef, p.results)


def start_map(run: _Run, frame: Frame, sdef: MapState) -> None:
    if sdef.processor_mode == "DISTRIBUTED":
        distributed.start(run, frame, sdef)
        return
    ctx = run.context(frame)
    v = frame.variables
    data = lang.map_input(sdef, frame.input, v)
    raw_items = lang.map_items(sdef, data, ctx, v)
    items = [
        lang.item_input(sdef, data, run.context(frame, item={"Index": i, "Value": x}), v, x)
        for i, x in enumerate(raw_items)
    ]
    batcher = sdef.item_batcher
    if batcher is not None:
        size = max(int(batcher.get("MaxItemsPerBatch", len(items) or 1)), 1)
        extra = batcher.get("BatchInput", {})
        items = [{**extra, "Items": items[i : i + size]} for i in range(0, len(items), size)]
    keep = run.keep.pop(frame.fid, {})
    p = frame.progress
    p.children = []
    p.items = items
    p.results = [keep.get(i) for i in range(len(items))]
    p.succeeded = sorted(i for i in keep if i < len(items))
    p.next_index = 0
    p.failures = 0
    p.limit = int(lang.map_number(sdef, "max_concurrency", data, ctx, v) or 0)
    p.tolerated_count = lang.map_number(sdef, "tolerated_failure_count", data, ctx, v)
    p.tolerated_percent = lang.map_number(sdef, "tolerated_failure_percentage", data, ctx, v)
    run.emit("MapStateStarted", {"length": len(items)})
    _fill(run, frame)
    if not p.children and p.next_index >= len(items):
        _map_succeeded(run, frame, sdef)


def _fill(run: _Run, frame: Frame) -> None:
    p = frame.progress
    limit = p.limit or len(p.items)
    while p.next_index < len(p.items) and len(p.children) < limit:
        i = p.next_index
        p.next_index += 1
        if i in p.succeeded:
            continue  # a redrive keeps what an item produced before
        run.emit("MapIterationStarted", {"name": frame.state, "index": i})
        _child(run, frame, [*frame.scope, frame.state, -1], i, p.items[i])


def _tolerated(p: Progress) -> bool:
    count, percent = p.tolerated_count, p.tolerated_percent
    if count is None and percent is None:
        return False
    if count is not None and p.failures > count:
        return False
    return not (percent is not None and p.failures * 100 > percent * len(p.items))


def child_done(run: _Run, parent: Frame, child: Frame) -> None:
    """A branch or iteration ended; advance, fail or finish its parent state."""
    sdef = run.sdef(parent)
    p = parent.progress
    p.children = [c for c in p.children if c is not child]
    if isinstance(sdef, ParallelState):
        if child.status == SUCCEEDED:
            p.results[child.index] = child.output
            p.succeeded.append(child.index)
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
        p.succeeded.append(child.index)
    else:
        run.emit("MapIterationFailed", name)
        p.failures += 1
        p.results[child.index] = {"Error": child.error, "Cause": child.cause}
        if not _tolerated(p):
            for other in p.children:
                run.emit("MapIterationAborted", {"name": parent.state, "index": other.index})
                run.abort_frame(other)
            p.children = []
            run.emit("MapStateFailed")
            error, cause = child.error or "States.TaskFailed", child.cause or ""
            if p.tolerated_count is not None or p.tolerated_percent is not None:
                error = "States.ExceedToleratedFailureThreshold"
                cause = "The specified tolerated failure threshold was exceeded"
            run.handle_error(parent, sdef, error, cause)
            return
    _fill(run, parent)
    if not p.children and p.next_index >= len(p.items) and parent.status == RUNNING:
        _map_succeeded(run, parent, sdef)


def _map_succeeded(run: _Run, frame: Frame, sdef: StateDef) -> None:
    run.emit("MapStateSucceeded")
    run.finish(frame, sdef, frame.progress.results)
