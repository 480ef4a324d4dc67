"""A replica reads back the Express executions it wrote, even before its view has.

StartSyncExecution answers without waiting for the history record's acknowledgement;
the view that DescribeExecution and GetExecutionHistory read follows the log a moment
later. The caller must still find the execution it was just told about.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest

from eventplane.workflows import arns
from eventplane.workflows.clock import Clock
from eventplane.workflows.core import WorkflowsCore
from eventplane.workflows.errors import ExecutionDoesNotExist
from eventplane.workflows.view import ExecutionView

T = TypeVar("T")
MACHINE = "arn:aws:states:local:000000000000:stateMachine:m"


class LateView:
    """A view that learns of an execution only when ``arrive`` is called."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._executions: dict[str, ExecutionView] = {}

    def get(self, arn: str) -> ExecutionView | None:
        with self._cond:
            return self._executions.get(arn)

    def wait_for(self, check: Callable[[], T | None], timeout: float) -> T | None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while (found := check()) is None and (left := deadline - time.monotonic()) > 0:
                self._cond.wait(left)
            return found

    def arrive(self, arn: str) -> None:
        with self._cond:
            self._executions[arn] = ExecutionView(arn, MACHINE, "e", "SUCCEEDED", 1, "{}")
            self._cond.notify_all()


def _core(view: Any) -> WorkflowsCore:
    return WorkflowsCore(SimpleNamespace(registry=None), view, Clock(), performer=None)  # type: ignore[arg-type]


def test_an_execution_written_here_is_found_before_the_view_reads_it() -> None:
    view = LateView()
    core = _core(view)
    arn = arns.execution_arn("m", "written-here", express=True)
    core._own_writes.wrote(arn)
    threading.Timer(0.05, view.arrive, (arn,)).start()
    found = asyncio.run(core.describe_execution(arn))
    assert (found.execution_arn, found.status) == (arn, "SUCCEEDED")


def test_an_execution_never_written_here_is_unknown_at_once() -> None:
    view = LateView()
    core = _core(view)
    arn = arns.execution_arn("m", "elsewhere", express=True)
    threading.Timer(0.5, view.arrive, (arn,)).start()
    with pytest.raises(ExecutionDoesNotExist):
        asyncio.run(core.describe_execution(arn))


def test_an_execution_whose_record_is_still_being_written_is_waited_for() -> None:
    view = LateView()
    core = _core(view)
    arn = arns.execution_arn("m", "in-flight", express=True)
    written: Future[Any] = Future()
    core._own_writes.wrote(arn, written)
    threading.Timer(0.05, view.arrive, (arn,)).start()
    found = asyncio.run(core.describe_execution(arn))
    written.set_result(None)
    assert found.execution_arn == arn


def test_an_execution_whose_record_kafka_refused_is_unknown_at_once() -> None:
    view = LateView()
    core = _core(view)
    arn = arns.execution_arn("m", "refused", express=True)
    written: Future[Any] = Future()
    core._own_writes.wrote(arn, written)
    written.set_exception(RuntimeError("delivery to eventplane.wf.history failed"))
    waits: list[Any] = []
    view.wait_for = lambda check, timeout: waits.append(timeout)  # type: ignore[method-assign]
    with pytest.raises(ExecutionDoesNotExist):
        asyncio.run(core.describe_execution(arn))
    assert waits == []  # no wait for a record that will never come
