"""The activity actions of the Workflows core (a part of ``WorkflowsCore``).

An activity is a registry record (kind ``activity``) on ``eventplane.resources``, like a
state machine definition, so every replica and a restarted one knows it. Its tasks are
not queued anywhere of their own: a scheduled task is part of its execution's journaled
state (``ExecutionState.activities``), and every replica's read view indexes the tasks
no worker has got yet. GetActivityTask takes the oldest one and *claims* it through
the execution's inbox; the owner grants the first claim (``ActivityStarted``), so a
task is handed out once even when workers poll different replicas.

A task handed to a worker stays with that worker: if the replica that answered the
poll dies, the worker still holds the token and answers on any replica; if the worker
dies, the task ends by its HeartbeatSeconds or TimeoutSeconds (States.HeartbeatTimeout,
States.Timeout), as on AWS. A task scheduled but not yet handed out survives any
restart and is handed out once afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eventplane.errors import ValidationException
from eventplane.workflows import arns, records
from eventplane.workflows.accounts import mine, owned, owner_of
from eventplane.workflows.dispatch import send_inbox
from eventplane.workflows.errors import ActivityDoesNotExist, ConflictException
from eventplane.workflows.model import Claim
from eventplane.workflows.shapes import Page, page, require

if TYPE_CHECKING:
    from eventplane.runtime import ServerContext
    from eventplane.workflows.clock import Clock
    from eventplane.workflows.view import View

ACTIVITY = "activity"
POLL_S = 60.0  # GetActivityTask's long poll, as AWS
# How long a claim may take to show in the view before we move on: longer than the
# owner accepts it (task_kinds.CLAIM_TTL_MS), so a claim given up on is never granted.
CLAIM_WAIT_S = 15.0
MAX_WORKER_NAME = 80


@dataclass(frozen=True, slots=True)
class Activity:
    activity_arn: str
    name: str
    creation_date: int


@dataclass(frozen=True, slots=True)
class ActivityTask:
    """GetActivityTask's answer: both empty when no task came within the poll."""

    task_token: str
    input: str


class ActivityActions:
    _ctx: ServerContext
    _view: View
    _clock: Clock

    def _activity(self, arn: str, field: str = "activityArn") -> Activity:
        name = arns.parse_activity_arn(arn, field)
        r = self._ctx.registry.get(ACTIVITY, name)
        if r is None:
            raise ActivityDoesNotExist(f"Activity Does Not Exist: '{arn}'")
        return Activity(arns.activity_arn(name), arns.plain(name), r.created_at)

    async def create_activity(self, name: str, tags: dict[str, str] | None = None) -> Activity:
        """Create an activity; the same name again returns the existing one (idempotent)."""
        arns.check_resource_name(require(name, "name"))
        name = arns.internal(ACTIVITY, name, "")  # names are per account: the caller's
        existing = self._ctx.registry.get(ACTIVITY, name)
        spec = owned({"tags": dict(tags or {})})
        if existing is None:
            await asyncio.to_thread(self._ctx.registry.put, ACTIVITY, name, spec)
        elif owner_of(existing.spec) != owner_of(spec):
            # Another account's, made before names were per account: it says no more.
            raise ConflictException(f"Activity Already Exists: '{arns.plain(name)}'")
        return self._activity(arns.activity_arn(name))

    async def describe_activity(self, activity_arn: str) -> Activity:
        return self._activity(require(activity_arn, "activityArn"))

    async def delete_activity(self, activity_arn: str) -> None:
        name = arns.parse_activity_arn(require(activity_arn, "activityArn"))
        await asyncio.to_thread(self._ctx.registry.delete, ACTIVITY, name)

    async def list_activities(self, max_results: int = 0, next_token: str = "") -> Page:
        p = page(mine(self._ctx.registry.find(ACTIVITY)), max_results, next_token)
        items = [
            Activity(arns.activity_arn(r.name), arns.plain(r.name), r.created_at) for r in p.items
        ]
        return Page(items, p.next_token)

    async def get_activity_task(
        self, activity_arn: str, worker_name: str = "", wait_seconds: float = POLL_S
    ) -> ActivityTask:
        """The oldest task of the activity no worker has got yet, waiting up to
        ``wait_seconds`` (AWS always waits 60 s; less is an eventplane extension for
        workers that want to look up without a long poll). Empty after the wait."""
        arn = self._activity(require(activity_arn, "activityArn")).activity_arn
        if len(worker_name) > MAX_WORKER_NAME:
            raise ValidationException(f"workerName must be at most {MAX_WORKER_NAME} characters")
        if not 0 <= wait_seconds <= POLL_S:
            raise ValidationException(f"waitSeconds must be between 0 and {POLL_S:g}")
        deadline = time.monotonic() + wait_seconds
        lost: set[tuple[str, str]] = set()  # tasks another worker's claim won
        with self._view.changes() as changed:
            while True:
                changed.clear()  # before looking: a change after the look wakes the wait
                found = self._view.pending_activity(arn, lost)
                if found is not None:
                    key, info = found
                    won = await self._claim(key, worker_name, changed)
                    if won:
                        return ActivityTask(info["token"], info["input"])
                    if won is False:
                        lost.add(key)
                    # undecided (a slow owner): claim it again while time is left
                    if won is False or time.monotonic() < deadline:
                        continue
                left = deadline - time.monotonic()
                if left <= 0:
                    return ActivityTask("", "")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), left)

    async def _claim(
        self, key: tuple[str, str], worker: str, changed: asyncio.Event
    ) -> bool | None:
        """Claim a task through its execution's owner: True when this claim won, False
        when another did (or the task ended), None when the owner did not answer in time
        (then it never will: it refuses claims older than task_kinds.CLAIM_TTL_MS)."""
        claim_id = uuid.uuid4().hex
        rec = records.InboxRecord(key[0], Claim(key[1], claim_id, worker))
        await send_inbox(self._ctx, self._clock, rec)
        deadline = time.monotonic() + CLAIM_WAIT_S
        while True:
            changed.clear()
            task = self._view.activity_task(key)
            if task is None or task.get("claim") is not None:
                return task is not None and task.get("claim") == claim_id
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                await asyncio.wait_for(changed.wait(), left)
            except TimeoutError:
                return None
