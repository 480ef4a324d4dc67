"""The state machine as a Graphviz graph, coloured by a ``Trace``, laid out by ``dot``.

Shapes follow the console's: a Choice is a diamond, a Parallel or Map state a cluster
holding its branches (or item processor) under a node of its own name, with a join
point its outgoing edges leave from; each scope starts at a dot and ends in a ringed
dot. Catch edges are dashed and labelled with the errors they catch; edges the
execution took are drawn thick in blue, the others thin grey.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import graphviz

from eventplane.stategraph.trace import (
    ABORTED,
    CATCH,
    CAUGHT,
    FAILED,
    NOT_REACHED,
    RUNNING,
    SUCCEEDED,
    Trace,
    children,
    edges,
    trace,
)

# status -> (fill, outline)
COLOURS = {
    SUCCEEDED: ("#c8e6c9", "#2e7d32"),
    FAILED: ("#ffcdd2", "#c62828"),
    CAUGHT: ("#ffe0b2", "#ef6c00"),
    RUNNING: ("#bbdefb", "#1565c0"),
    ABORTED: ("#e1bee7", "#6a1b9a"),
    NOT_REACHED: ("#eeeeee", "#9e9e9e"),
}
TAKEN, NOT_TAKEN = "#1565c0", "#9e9e9e"
_SHAPES = {
    "Choice": ("diamond", "filled"),
    "Task": ("box", "filled,rounded"),
    "Wait": ("box", "filled,rounded,diagonals"),
    "Succeed": ("box", "filled,bold"),
    "Fail": ("octagon", "filled"),
}
FORMATS = ("svg", "png")


class GraphvizMissing(RuntimeError):
    """Graphviz's ``dot`` binary is not on PATH."""

    def __init__(self) -> None:
        super().__init__(
            "Graphviz's `dot` program was not found on PATH; install Graphviz "
            "(Debian/Ubuntu: apt-get install graphviz, or run tools/install_viewer_deps.sh)."
        )


def build(
    definition: str | Mapping[str, Any],
    events: Sequence[Mapping[str, Any]] | None = None,
    *,
    title: str = "",
) -> graphviz.Digraph:
    """The graph of ``definition`` (JSON text or parsed) coloured by ``events``."""
    machine = json.loads(definition) if isinstance(definition, str) else definition
    path = trace(machine, events or [])
    g = graphviz.Digraph("execution", format="svg")
    g.attr(compound="true", rankdir="TB", fontname="DejaVu Sans", fontsize="11")
    g.attr("node", fontname="DejaVu Sans", fontsize="11", penwidth="1.5")
    g.attr("edge", fontname="DejaVu Sans", fontsize="9", arrowsize="0.7")
    if title:
        g.attr(label=title, labelloc="t", fontsize="13")
    _scope(g, machine, "", path)
    return g


def render(
    definition: str | Mapping[str, Any],
    events: Sequence[Mapping[str, Any]] | None = None,
    fmt: str = "svg",
    *,
    title: str = "",
) -> bytes:
    """The image (``svg`` or ``png``); raises GraphvizMissing without ``dot``."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    try:
        return build(definition, events, title=title).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise GraphvizMissing() from None


def _id(prefix: str, name: str) -> str:
    return f"{prefix}{name}"


def _scope(g: graphviz.Digraph, machine: Mapping[str, Any], prefix: str, path: Trace) -> None:
    """One scope's states and edges, with its start and end markers (ids under ``prefix``)."""
    states: Mapping[str, Mapping[str, Any]] = machine.get("States") or {}
    start, end = f"{prefix}(start)", f"{prefix}(end)"
    g.node(start, "", shape="circle", style="filled", fillcolor="#424242", width="0.2")
    g.node(end, "", shape="doublecircle", style="filled", fillcolor="#424242", width="0.15")
    first = str(machine.get("StartAt", ""))
    if first in states:
        _edge(g, start, _id(prefix, first), path.status(first) != NOT_REACHED)
    for name, state in states.items():
        _state(g, name, state, prefix, path)
    for name, state in states.items():
        tail = _exit(prefix, name, state)
        for e in edges(name, state):
            if e.target not in states:
                continue
            _edge(
                g,
                tail,
                _id(prefix, e.target),
                (name, e.target) in path.taken,
                label=e.label,
                dashed=e.kind == CATCH,
                ltail=_cluster(prefix, name, state),
                lhead=_cluster(prefix, e.target, states[e.target]),
            )
        if state.get("End") or state.get("Type") in ("Succeed", "Fail"):
            _edge(g, tail, end, path.status(name) == SUCCEEDED, ltail=_cluster(prefix, name, state))


def _cluster(prefix: str, name: str, state: Mapping[str, Any]) -> str:
    return f"cluster_{prefix}{name}" if children(state) else ""


def _exit(prefix: str, name: str, state: Mapping[str, Any]) -> str:
    return f"{prefix}{name}(join)" if children(state) else _id(prefix, name)


def _state(
    g: graphviz.Digraph, name: str, state: Mapping[str, Any], prefix: str, path: Trace
) -> None:
    kind = str(state.get("Type", ""))
    status = path.status(name)
    fill, line = COLOURS[status]
    label = f"{name}\\n{kind}"
    if kind == "Map" and name in path.iterations:
        label += f", {path.iterations[name]} iterations"
    shape, style = _SHAPES.get(kind, ("box", "filled"))
    attrs = {
        "shape": shape,
        "style": style,
        "fillcolor": fill,
        "color": line,
        "tooltip": f"{name}: {status}",
        "id": f"state-{prefix}{name}",
    }
    subs = children(state)
    if not subs:
        g.node(_id(prefix, name), label, **attrs)
        return
    with g.subgraph(name=f"cluster_{prefix}{name}") as c:
        c.attr(label="", style="rounded,dashed", color=line, bgcolor="#fafafa")
        c.node(_id(prefix, name), label, **attrs)
        join = f"{prefix}{name}(join)"
        c.node(join, "", shape="point", width="0.12", color=line)
        for i, sub in enumerate(subs):
            inner = f"{prefix}{name}/{i}/"
            with c.subgraph(name=f"cluster_{inner}") as b:
                what = "item processor" if kind == "Map" else f"branch {i + 1}"
                b.attr(label=what, style="rounded", color="#bdbdbd", bgcolor="white")
                _scope(b, sub, inner, path)
            reached = status != NOT_REACHED
            _edge(c, _id(prefix, name), f"{inner}(start)", reached)
            _edge(c, f"{inner}(end)", join, status == SUCCEEDED)


def _edge(
    g: graphviz.Digraph,
    tail: str,
    head: str,
    taken: bool,
    *,
    label: str = "",
    dashed: bool = False,
    ltail: str = "",
    lhead: str = "",
) -> None:
    attrs = {
        "color": TAKEN if taken else NOT_TAKEN,
        "penwidth": "2.5" if taken else "1",
        "fontcolor": TAKEN if taken else "#616161",
    }
    if label:
        attrs["label"] = label
    if dashed:
        attrs["style"] = "dashed"
    if ltail:
        attrs["ltail"] = ltail
    if lhead:
        attrs["lhead"] = lhead
    g.edge(tail, head, **attrs)
