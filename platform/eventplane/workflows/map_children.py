"""A Map Run's child executions across its redrives: which attempt of each is current,
its status, whether it waits to run again, and the counts DescribeMapRun shows.

Child ``i`` is named from the Map Run's ARN and ``i``, so a resumed run finds the
children it started. A redrive of the Map Run (``map_run.py``) runs again the children
whose latest attempt FAILED, TIMED_OUT or ABORTED and that can be redriven, and journals
their indices as the run's ``redrive.<n>`` field (``n``: the run's redrive count); the
children that never started are started as in the first attempt, those that succeeded
are left alone. As on AWS, a Standard child is itself redriven (RedriveExecution: its
redrive count goes up, it goes on from its failed state) with a client token derived
from the run and ``n``, so a run resumed after a restart does not redrive it twice; an
Express child cannot be redriven and runs again from its start as a new execution,
named from the run, ``i`` and ``n``.

From the Map Run's redrive until it runs again, a child *waits for redrive*
(``pendingRedrive``): a Standard child whose latest redrive is not that redrive's, an
Express child whose attempt of that redrive has not started. It keeps the status of its
last attempt meanwhile, so ``failed``/``timedOut``/``aborted`` count it too (AWS: the
status of these children is that of the original or a previous attempt), and so do
``failuresNotRedrivable`` the unsuccessful children a redrive cannot run again (a
Standard child past its history limit or redrive period).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventplane.workflows import arns
from eventplane.workflows.redrive import REDRIVABLE, redrive_status

if TYPE_CHECKING:
    from collections.abc import Callable

    from eventplane.workflows.view import ExecutionView, View

__all__ = [
    "MAX_REDRIVES",
    "Child",
    "Children",
    "MapRunCounts",
    "child_name",
    "counts",
    "redrive_token",
]

UNSUCCESSFUL = ("FAILED", "TIMED_OUT", "ABORTED")
MAX_REDRIVES = 1000  # AWS's hard limit of redrives of one Map Run


@dataclass(frozen=True, slots=True)
class MapRunCounts:
    pending: int = 0
    running: int = 0
    succeeded: int = 0
    failed: int = 0
    timed_out: int = 0
    aborted: int = 0
    total: int = 0
    results_written: int = 0
    failures_not_redrivable: int = 0
    pending_redrive: int = 0


def child_name(map_run_arn: str, index: int, attempt: int = 0) -> str:
    """Child ``index``'s execution name; ``attempt`` n > 0: an Express child's rerun in
    the Map Run's n-th redrive."""
    key = f"{map_run_arn}/{index}" if attempt == 0 else f"{map_run_arn}/{index}/r{attempt}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, key))


def redrive_token(map_run_arn: str, redrive: int) -> str:
    """The client token of the Map Run's ``redrive``-th redrive of a Standard child."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{map_run_arn}/redrive/{redrive}"))


@dataclass(frozen=True, slots=True)
class Child:
    """Where child ``i`` stands: the status of its latest attempt that ran (PENDING when
    none did), whether it waits to run again in the Map Run's redrive, its execution."""

    status: str
    waiting: bool = False
    view: ExecutionView | None = None

    @property
    def failed(self) -> bool:
        """Unsuccessful in the current attempt (a waiting child is not, yet)."""
        return self.status in UNSUCCESSFUL and not self.waiting


class Children:
    """The children of one Map Run, from its journaled record."""

    def __init__(self, rec: dict[str, Any]) -> None:
        self.arn = str(rec["mapRunArn"])
        self.machine = str(rec["childMachine"])
        self.express = rec.get("executionType") == "EXPRESS"
        self.size = len(rec.get("weights", []))
        self.redrives = int(rec.get("redriveCount") or 0)
        # child index -> the redrives that ran it again, in order
        self.reruns: dict[int, list[int]] = {}
        for n in range(1, self.redrives + 1):
            for i in rec.get(f"redrive.{n}", ()):
                self.reruns.setdefault(int(i), []).append(n)

    def attempt(self, i: int) -> int:
        """The redrive whose attempt of child ``i`` is the current one (0: the first)."""
        reruns = self.reruns.get(i)
        return reruns[-1] if reruns else 0

    def arn_of(self, i: int, attempt: int | None = None) -> str:
        """The execution ARN of child ``i`` (of an Express child's ``attempt``)."""
        if not self.express:
            return arns.execution_arn(self.machine, child_name(self.arn, i), False)
        at = self.attempt(i) if attempt is None else attempt
        return arns.execution_arn(self.machine, child_name(self.arn, i, at), True)

    def resolve(self, view: View, i: int) -> Child:
        reruns = self.reruns.get(i, [])
        if not self.express:
            v = view.get(self.arn_of(i))
            if v is None:
                return Child("PENDING")
            waiting = (
                bool(reruns)
                and v.status in UNSUCCESSFUL
                and v.redrive_token != redrive_token(self.arn, reruns[-1])
            )
            return Child(v.status, waiting, v)
        current = self.attempt(i)
        for at in reversed([0, *reruns]):
            v = view.get(self.arn_of(i, at))
            if v is not None:
                return Child(v.status, at != current, v)
        return Child("PENDING", current != 0)

    def redrivable(self, child: Child, now_ms: int) -> bool:
        """Whether a redrive of the Map Run can run this unsuccessful child again."""
        if child.status not in UNSUCCESSFUL:
            return False
        v = child.view
        if self.express or v is None:
            return True
        status, _ = redrive_status(v.status, False, v.stop_ms, len(v.events), now_ms)
        return status == REDRIVABLE


def counts(
    children: list[Child],
    weights: list[int],
    not_redrivable: list[bool],
    written: int,
    *,
    items: bool,
) -> MapRunCounts:
    """``itemCounts`` (each child weighs the items of its batch) or ``executionCounts``."""
    c = dict.fromkeys(("PENDING", "RUNNING", "SUCCEEDED", *UNSUCCESSFUL), 0)
    waiting = stuck = 0
    for child, weight, fixed in zip(children, weights, not_redrivable, strict=True):
        n = weight if items else 1
        c[child.status] = c.get(child.status, 0) + n
        waiting += n if child.waiting else 0
        stuck += n if fixed else 0
    return MapRunCounts(
        c["PENDING"],
        c["RUNNING"],
        c["SUCCEEDED"],
        c["FAILED"],
        c["TIMED_OUT"],
        c["ABORTED"],
        sum(weights) if items else len(children),
        written,
        stuck,
        waiting,
    )


def filter_children(
    children: list[Child], status_filter: str, keeps_redrives: Callable[[int], bool]
) -> list[ExecutionView]:
    """The views of a Map Run's children that ListExecutions(mapRunArn) keeps:
    PENDING_REDRIVE keeps those waiting to run again in the run's redrive (their status
    stays that of their last attempt); ``keeps_redrives`` is the checked redriveFilter
    (``shapes.redrive_filter_keeps``)."""
    kept = []
    for c in children:
        v = c.view
        assert v is not None
        if status_filter == "PENDING_REDRIVE" and not c.waiting:
            continue
        if status_filter not in ("", "PENDING_REDRIVE") and v.status != status_filter:
            continue
        if not keeps_redrives(v.redrive_count):
            continue
        kept.append(v)
    return kept
