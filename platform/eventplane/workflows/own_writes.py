"""Reading one's own writes ahead of the view.

An Express execution ends with one history record (its first and last events), for
DescribeExecution and ListExecutions; the execution's result does not depend on it, so
StartSyncExecution answers without waiting for Kafka to acknowledge it (about a
millisecond of every sync execution). A Standard start the owner in this replica took
(``owner.HandedStart``) is answered once its transaction committed, before this
replica's view has read it back. The view those reads use follows the log a moment
later still: the caller was told "does not exist" for the execution it had just been
handed. So this replica remembers the executions it wrote, and a read of one that its
view has not caught up with waits for it (up to WAIT_S). An execution never written
here, or whose record Kafka refused (logged), is unknown at once.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Future
from typing import Any

from eventplane.observability.logging import get_logger
from eventplane.workflows.errors import ExecutionDoesNotExist
from eventplane.workflows.view import ExecutionView, View

_log = get_logger("eventplane.workflows.express")

# How long a read waits for an Express execution this replica wrote to reach its view.
WAIT_S = 10.0
# Executions remembered at most; past it, those older than WAIT_S are forgotten.
MAX_REMEMBERED = 4096


class OwnWrites:
    def __init__(self, view: View) -> None:
        self._view = view
        self._written: dict[str, float] = {}

    def wrote(self, arn: str, written: Future[Any] | None = None) -> None:
        """This replica wrote (``written``: is writing) the execution's record."""
        now = time.monotonic()
        if len(self._written) >= MAX_REMEMBERED:
            self._written = {a: t for a, t in self._written.items() if now - t < WAIT_S}
        self._written[arn] = now
        if written is not None:
            written.add_done_callback(lambda f: self._settled(arn, f))

    def _settled(self, arn: str, written: Future[Any]) -> None:
        error = written.exception()
        if error is not None:  # on the producer's thread: a dict pop is atomic
            self._written.pop(arn, None)
            _log.warning("express execution record not written", execution=arn, error=str(error))

    async def existing(self, arn: str) -> ExecutionView:
        """The execution as the view has it (waiting for one written here), or
        ExecutionDoesNotExist."""
        found = self._view.get(arn)
        if found is None and arn in self._written:
            found = await asyncio.to_thread(
                self._view.wait_for, lambda: self._view.get(arn), WAIT_S
            )
        if found is None:
            raise ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")
        self._written.pop(arn, None)
        return found
