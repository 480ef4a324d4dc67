"""Nested executions: a Task with ``arn:aws:states:::states:startExecution`` (a part of
``WorkflowsCore``, which the dispatcher and Express runs call for every task).

- ``startExecution``: start the child and go on (output ``ExecutionArn``, ``StartDate``
  and the SDK's ``SdkHttpMetadata``/``SdkResponseMetadata``, as AWS records it);
- ``.sync`` / ``.sync:2``: start it with the parent task's token and wait; the child's
  owner reports its end to the parent (``task_kinds.notify_parent``), the output is
  DescribeExecution's shape with ``Output`` as JSON text (``.sync``) or JSON (``.sync:2``);
  a child that did not succeed fails the task with ``States.TaskFailed`` and that
  document as the cause;
- ``.waitForTaskToken``: start it and wait for SendTaskSuccess/Failure with the token
  the definition passed in the child's input.

The child's name, unless ``Name`` is given, derives from the parent's ARN and the task,
so a task run again after a crash finds the child it started (StartExecution's name
idempotency) instead of starting a second one. An Express child of a ``.sync`` task
runs to its end right here (Express runs in memory).
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from eventplane.errors import EventplaneError
from eventplane.workflows import arns
from eventplane.workflows.accounts import Owners, acting_role, check_child, task_role
from eventplane.workflows.distributed import MAP_RUN_RESOURCE
from eventplane.workflows.lang import dumps
from eventplane.workflows.machine import WAIT_FOR_TOKEN, resource_kind
from eventplane.workflows.perform import Outcome, Performer
from eventplane.workflows.service_calls import with_metadata
from eventplane.workflows.shapes import Execution
from eventplane.workflows.task_kinds import sync_mode

if TYPE_CHECKING:
    from eventplane.runtime import ServerContext
    from eventplane.workflows.express import Perform
    from eventplane.workflows.versions import Target


def _error(exc: EventplaneError) -> Outcome:
    code = exc.code if exc.code.endswith("Exception") else exc.code + "Exception"
    cause = (
        f"{exc.message} (Service: AWSStepFunctions; Status Code: 400; Error Code: {exc.code}; "
        f"Request ID: {uuid.uuid4()}; Proxy: null)"
    )
    return Outcome(False, error=f"StepFunctions.{code}", cause=cause)


def express_doc(e: Execution, mode: str) -> dict[str, Any]:
    """A finished Express child as a ``.sync`` task returns it."""
    as_json = mode == "sync:2"
    doc: dict[str, Any] = {
        "ExecutionArn": e.execution_arn,
        "Input": json.loads(e.input) if as_json else e.input,
        "InputDetails": {"Included": True},
        "Name": e.name,
        "StartDate": e.start_date,
        "StateMachineArn": e.state_machine_arn,
        "Status": e.status,
        "StopDate": e.stop_date,
    }
    if e.status == "SUCCEEDED":
        doc["Output"] = json.loads(e.output or "null") if as_json else e.output
        doc["OutputDetails"] = {"Included": True}
    else:
        doc.update({k: v for k, v in (("Error", e.error), ("Cause", e.cause)) if v is not None})
    return doc


class NestedActions:
    _performer: Performer
    _ctx: ServerContext

    def _target(self, arn: str) -> Target:  # WorkflowsCore's
        raise NotImplementedError

    async def _start(
        self, arn: str, name: str, input: str, parent: tuple[str, str] | None = None
    ) -> Execution:
        raise NotImplementedError

    async def _run_express(self, machine: Target, arn: str, text: str) -> Execution:
        raise NotImplementedError

    async def run_map(
        self, payload: Any, parent_arn: str | None, task_id: str | None
    ) -> Outcome:  # MapRunActions'
        raise NotImplementedError

    async def perform_task(
        self,
        resource: str,
        payload: Any,
        waits: bool,
        parent_arn: str | None = None,
        task_id: str | None = None,
        token: str | None = None,
    ) -> Outcome:
        """Run a task's resource: child executions and Map Runs here, the rest by the
        Performer; as the role of the execution's machine (``accounts``), the one
        ``parent_arn`` names, else the one the caller acts as."""
        role = Owners(self._ctx.registry).role_of(parent_arn) if parent_arn else task_role.get()
        with acting_role(role):
            return await self._perform_task(resource, payload, waits, parent_arn, task_id, token)

    def acting_for(self, execution_arn: str) -> Perform:
        """``perform_task`` for the tasks of an Express execution (they name no parent)."""
        role = Owners(self._ctx.registry).role_of(execution_arn)

        async def perform(resource: str, payload: Any, waits: bool) -> Outcome:
            with acting_role(role):
                return await self.perform_task(resource, payload, waits)

        return perform

    async def _perform_task(
        self,
        resource: str,
        payload: Any,
        waits: bool,
        parent_arn: str | None,
        task_id: str | None,
        token: str | None,
    ) -> Outcome:
        if resource == MAP_RUN_RESOURCE:
            return await self.run_map(payload, parent_arn, task_id)
        rtype, action, _ = resource_kind(resource)
        if rtype != "states" or not action.startswith("startExecution"):
            return await self._performer.perform(resource, payload, waits, parent_arn)
        try:
            return await self._start_child(action, payload, waits, parent_arn, task_id, token)
        except EventplaneError as exc:
            return _error(exc)

    async def _start_child(
        self,
        action: str,
        payload: Any,
        waits: bool,
        parent_arn: str | None,
        task_id: str | None,
        token: str | None,
    ) -> Outcome:
        if action.removesuffix(WAIT_FOR_TOKEN) not in (
            "startExecution",
            "startExecution.sync",
            "startExecution.sync:2",
        ):
            return Outcome(False, error="States.Runtime", cause=f"Unsupported action {action!r}")
        params = payload if isinstance(payload, dict) else {}
        arn = params.get("StateMachineArn")
        if not isinstance(arn, str) or not arn:
            return Outcome(
                False,
                error="States.Runtime",
                cause="The field 'StateMachineArn' is required by states:startExecution",
            )
        check_child(arn)
        raw = params.get("Input")
        if raw is None:  # AWS starts the child with "{}" when Input is absent or null
            raw = {}
        text = raw if isinstance(raw, str) else dumps(raw)
        name = params.get("Name")
        if not isinstance(name, str) or not name:
            seed = f"{parent_arn}/{task_id}" if parent_arn and task_id else None
            name = str(uuid.uuid5(uuid.NAMESPACE_URL, seed) if seed else uuid.uuid4())
        mode = sync_mode("states", action)
        if mode is not None and self._target(arn).type == "EXPRESS":
            e = await self._run_express_child(arn, name, text)
            doc = dumps(express_doc(e, mode))
            if e.status == "SUCCEEDED":
                return Outcome(True, output=doc)
            return Outcome(False, error="States.TaskFailed", cause=doc)
        parent = (token, mode) if mode is not None and token is not None else None
        e = await self._start(arn, name, text, parent)
        started = dumps(
            with_metadata("states", {"ExecutionArn": e.execution_arn, "StartDate": e.start_date})
        )
        return Outcome(True, output=started, submitted=waits or mode is not None)

    async def _run_express_child(self, arn: str, name: str, text: str) -> Execution:
        machine = self._target(arn)
        execution = arns.execution_arn(machine.machine, arns.check_name(name), True)
        return await self._run_express(machine, execution, text)
