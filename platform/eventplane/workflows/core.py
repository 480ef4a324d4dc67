"""The Workflows API as plain Python: one method per Step Functions action.

Definitions live in the resource registry (kind ``statemachine``, keyed by the
machine's internal name: names are per account, ``workflows.arns``). A Standard
execution is started by its inbox partition's owner (``owner.py``): handed to it
directly when it runs in this replica and holds that partition, else through its start
record on ``eventplane.wf.inbox``; every replica's ``View`` answers reads. Express
executions run in memory on the replica that receives them (``express.py``) and are
journaled with their first and last event only. The gRPC servicer, the CLI and the SDK
are front doors onto this class and hold no behaviour.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import uuid
from typing import Any

from eventplane.errors import ValidationException
from eventplane.kafka import naming
from eventplane.runtime import ServerContext
from eventplane.workflows import arns, asl, metrics, records
from eventplane.workflows.accounts import check_role, mine, owned_machine, owner_of, token_of
from eventplane.workflows.activities import ActivityActions
from eventplane.workflows.clock import Clock
from eventplane.workflows.dispatch import send_inbox
from eventplane.workflows.errors import (
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionNotRedrivable,
    InvalidExecutionInput,
    InvalidOutput,
    InvalidToken,
    MissingRequiredParameter,
    StateMachineAlreadyExists,
    StateMachineDoesNotExist,
    StateMachineTypeNotSupported,
    TaskDoesNotExist,
    TaskTimedOut,
)
from eventplane.workflows.express import run_express
from eventplane.workflows.interpreter import Step
from eventplane.workflows.machine import Machine, parse_token
from eventplane.workflows.map_children import filter_children
from eventplane.workflows.map_run import MapRunActions
from eventplane.workflows.model import (
    Heartbeat,
    Redrive,
    Start,
    Stop,
    TaskResult,
)
from eventplane.workflows.nested import NestedActions
from eventplane.workflows.own_writes import OwnWrites
from eventplane.workflows.perform import Performer
from eventplane.workflows.redrive import REDRIVABLE, redrive_status
from eventplane.workflows.shapes import (
    Diagnostics,
    Execution,
    Page,
    StateMachine,
    check_status_filter,
    page,
    redrive_filter_keeps,
    require,
)
from eventplane.workflows.shapes import json_text as _json
from eventplane.workflows.starts import LocalStarts, StartsHere, execution_of, started
from eventplane.workflows.tags import TagActions, check_tags
from eventplane.workflows.teststate import TestStateActions
from eventplane.workflows.versioning import VersionActions, version_machine
from eventplane.workflows.versions import Target, Versions
from eventplane.workflows.view import ExecutionView, View

__all__ = ["Execution", "Page", "StateMachine", "WorkflowsCore"]

KIND = "statemachine"
TYPES = ("STANDARD", "EXPRESS")


START_WAIT_S = 30.0
LOG_LEVELS = ("ALL", "ERROR", "FATAL", "OFF")
_NO_LOGGING = {"level": "OFF", "includeExecutionData": False}


def _logging(config: dict[str, Any] | None) -> dict[str, Any]:
    """AWS's LoggingConfiguration with its defaults (level OFF, no execution data)."""
    out = {**_NO_LOGGING, **(config or {})}
    if out["level"] not in LOG_LEVELS:
        raise ValidationException(
            f"loggingConfiguration.level must be one of {', '.join(LOG_LEVELS)}"
        )
    return out


# NestedActions before TestStateActions: its perform_task is the one that runs.
# MapRunActions before NestedActions: its run_map is the one that runs.
class WorkflowsCore(
    VersionActions, ActivityActions, TagActions, MapRunActions, NestedActions, TestStateActions
):
    def __init__(
        self,
        ctx: ServerContext,
        view: View,
        clock: Clock,
        performer: Performer,
        rng: random.Random | None = None,
    ) -> None:
        self._ctx = ctx
        self._view = view
        self._clock = clock
        self._performer = performer
        self._versions = Versions(ctx, rng)  # rng: an alias's weighted choice
        self._express: set[asyncio.Task[Any]] = set()
        self._own_writes = OwnWrites(view)  # executions written here, ahead of the view
        self._local = LocalStarts()  # Standard starts handed to this replica's owner
        self._runs_here = {}

    def start_here(self, owner: StartsHere, inbox_partitions: int) -> None:
        """Hand Standard starts whose inbox partition ``owner`` holds to it directly."""
        self._local.use(owner, inbox_partitions)

    # --- state machines ----------------------------------------------------------------
    def _machine(self, arn: str) -> StateMachine:
        name = arns.parse_state_machine_arn(arn)
        r = self._ctx.registry.get(KIND, name)
        if r is None:
            raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")
        s = r.spec
        # A tag leaves the revision (and its date) as it was: tags.TagActions keeps them.
        return StateMachine(
            arns.state_machine_arn(name),
            arns.plain(name),
            "ACTIVE",
            s["definition"],
            s.get("roleArn", ""),
            s.get("type", "STANDARD"),
            r.created_at,
            int(s.get("revisionAt", r.updated_at)),
            str(s.get("revision", r.generation)),
            logging_configuration=s.get("loggingConfiguration") or dict(_NO_LOGGING),
            tracing_configuration=s.get("tracingConfiguration") or {"enabled": False},
        )

    async def create_state_machine(
        self,
        name: str,
        definition: str,
        role_arn: str = "",
        type: str = "",
        tags: Any = None,
        publish: bool = False,
        version_description: str = "",
        *,
        logging_configuration: dict[str, Any] | None = None,
        tracing_configuration: dict[str, Any] | None = None,
    ) -> StateMachine:
        """Create (or find the identical) machine; ``publish`` also publishes a version.

        Identical, as AWS's idempotency check: same definition, type, logging and tracing
        configuration; another roleArn or other tags are ignored (and not applied)."""
        name = arns.internal(KIND, arns.check_resource_name(require(name, "name")), "")  # caller's
        require(definition, "definition")
        spec = {
            "roleArn": role_arn,
            "tags": check_tags(tags or {}, arns.state_machine_arn(name)),
            "loggingConfiguration": _logging(logging_configuration),
            "tracingConfiguration": {"enabled": bool((tracing_configuration or {}).get("enabled"))},
        }
        machine = await self._create(name, definition, type, owned_machine(spec))
        return await self._published(machine, publish, version_description)

    async def _published(self, m: StateMachine, publish: bool, description: str) -> StateMachine:
        if not publish:
            if description:
                raise ValidationException("versionDescription requires publish=true")
            return m
        v = await self.publish_state_machine_version(m.state_machine_arn, description)
        return dataclasses.replace(m, state_machine_version_arn=v.state_machine_version_arn)

    async def _create(
        self, name: str, definition: str, type: str, spec: dict[str, Any]
    ) -> StateMachine:
        kind = type or "STANDARD"
        if kind not in TYPES:
            raise ValidationException(f"type must be STANDARD or EXPRESS, got {kind!r}")
        asl.parse_definition(definition, machine_type=kind)  # type: ignore[arg-type]
        spec = {**spec, "definition": definition, "type": kind}
        existing = self._ctx.registry.get(KIND, name)
        if existing is not None:
            found = self._machine(arns.state_machine_arn(name))
            same = (found.definition, found.type, found.logging_configuration) == (
                definition,
                kind,
                spec["loggingConfiguration"],
            ) and found.tracing_configuration == spec["tracingConfiguration"]
            if not same or owner_of(existing.spec) != owner_of(spec):  # owner: an old record's
                arn = arns.state_machine_arn(name)
                raise StateMachineAlreadyExists(f"State Machine Already Exists: '{arn}'")
            return self._machine(arns.state_machine_arn(name))
        await asyncio.to_thread(self._ctx.registry.put, KIND, name, spec)
        return self._machine(arns.state_machine_arn(name))

    async def describe_state_machine(self, arn: str) -> StateMachine:
        """A machine, or given a version ARN that version."""
        require(arn, "stateMachineArn")
        _, qualifier = arns.parse_qualified_arn(arn)
        if qualifier is None:
            return self._machine(arn)
        version = self._versions.version(arn)
        return version_machine(version, version.creation_date)

    async def list_state_machines(self, max_results: int = 0, next_token: str = "") -> Page:
        p = page(mine(self._ctx.registry.find(KIND)), max_results, next_token)
        return Page([self._machine(arns.state_machine_arn(r.name)) for r in p.items], p.next_token)

    async def update_state_machine(
        self,
        arn: str,
        definition: str | None = None,
        role_arn: str | None = None,
        publish: bool = False,
        version_description: str = "",
        *,
        logging_configuration: dict[str, Any] | None = None,
        tracing_configuration: dict[str, Any] | None = None,
    ) -> StateMachine:
        """Replace definition, role, logging or tracing; ``publish`` also publishes a version."""
        require(arn, "stateMachineArn")
        config = {"loggingConfiguration": logging_configuration and _logging(logging_configuration)}
        if tracing_configuration is not None:
            config["tracingConfiguration"] = {"enabled": bool(tracing_configuration.get("enabled"))}
        updated = await self._update(arn, definition, role_arn, config)
        return await self._published(updated, publish, version_description)

    async def _update(
        self, arn: str, definition: str | None, role_arn: str | None, config: dict[str, Any]
    ) -> StateMachine:
        current = self._machine(arn)
        config = {k: v for k, v in config.items() if v}
        if definition is None and role_arn is None and not config:
            raise MissingRequiredParameter(
                "Either the definition, the roleArn, the loggingConfiguration or the "
                "tracingConfiguration must be specified"
            )
        if definition is not None:
            asl.parse_definition(definition, machine_type=current.type)  # type: ignore[arg-type]
        name = arns.parse_state_machine_arn(arn)
        r = self._ctx.registry.get(KIND, name)
        assert r is not None
        spec = dict(r.spec)
        spec.pop("revision", None)  # a new revision: the record's generation again
        spec.pop("revisionAt", None)
        if definition is not None:
            spec["definition"] = definition
        if role_arn is not None:
            spec["roleArn"] = check_role(role_arn, owner_of(spec))
        spec.update(config)
        await asyncio.to_thread(self._ctx.registry.put, KIND, name, spec)
        return self._machine(arn)

    async def delete_state_machine(self, arn: str) -> None:
        require(arn, "stateMachineArn")
        name = arns.parse_state_machine_arn(arn)
        await asyncio.to_thread(self._ctx.registry.delete, KIND, name)
        await self._versions.delete_machine(name)

    async def validate_state_machine_definition(
        self, definition: str, type: str = "", severity: str = "", max_results: int = 0
    ) -> tuple[str, Diagnostics]:
        """OK or FAIL, with the diagnostics of ``severity`` and worse (all without one),
        at most ``max_results`` of them (AWS: 1-100, default 100)."""
        require(definition, "definition")
        kind = type or "STANDARD"
        if kind not in TYPES:
            raise ValidationException(f"type must be STANDARD or EXPRESS, got {kind!r}")
        if severity not in ("", "ERROR", "WARNING"):
            raise ValidationException(f"severity must be ERROR or WARNING, got {severity!r}")
        if not 0 <= max_results <= 100:
            raise ValidationException(f"maxResults must be between 1 and 100, got {max_results}")
        diagnostics = asl.validate_definition(definition, machine_type=kind)  # type: ignore[arg-type]
        failed = any(d.severity == "ERROR" for d in diagnostics)
        shown = [d for d in diagnostics if severity != "ERROR" or d.severity == "ERROR"]
        limit = max_results or 100
        return ("FAIL" if failed else "OK"), Diagnostics(shown[:limit], len(shown) > limit)

    # --- executions --------------------------------------------------------------------
    def _target(self, arn: str) -> Target:
        """What StartExecution runs: the machine, a version, or an alias's pick."""
        name, qualifier = arns.parse_qualified_arn(arn)
        if qualifier is None:
            m = self._machine(arn)
            return Target(name, m.definition, m.type, role_arn=m.role_arn)
        self._machine(arns.state_machine_arn(name))
        if qualifier.isascii() and qualifier.isdigit():
            v = self._versions.version(arn)
            return Target(name, v.definition, v.type, v.state_machine_version_arn, None, v.role_arn)
        v = self._versions.resolve_alias(arn)
        return Target(name, v.definition, v.type, v.state_machine_version_arn, arn, v.role_arn)

    async def start_execution(
        self, state_machine_arn: str, name: str = "", input: str = ""
    ) -> Execution:
        """Start an execution of a machine, a version (ARN ``...:N``) or an alias."""
        require(state_machine_arn, "stateMachineArn")
        return await self._start(state_machine_arn, name, input)

    async def _start(
        self,
        state_machine_arn: str,
        name: str,
        input: str,
        parent: tuple[str, str] | None = None,
    ) -> Execution:
        """``parent``: a ``.sync`` parent task's (token, mode), told when the child ends."""
        return await self._start_target(self._target(state_machine_arn), name, input, parent)

    async def _start_target(
        self,
        machine: Target,
        name: str,
        input: str,
        parent: tuple[str, str] | None = None,
    ) -> Execution:
        """Start ``machine`` (a stored machine's, or a Distributed Map's item processor)."""
        machine_arn = arns.state_machine_arn(machine.machine)
        name = arns.check_name(name) if name else str(uuid.uuid4())
        text = _json(input, "input", InvalidExecutionInput)
        if machine.type == "EXPRESS":
            arn = arns.execution_arn(machine.machine, name, express=True)
            task = asyncio.get_running_loop().create_task(self._run_express(machine, arn, text))
            self._express.add(task)
            task.add_done_callback(self._express.discard)
            return Execution(
                arn,
                machine_arn,
                name,
                "RUNNING",
                self._clock.now_ms(),
                None,
                text,
                None,
                None,
                None,
                0,
                machine.version_arn,
                machine.alias_arn,
            )
        arn = arns.execution_arn(machine.machine, name)
        existing = self._view.get(arn)
        if existing is not None and existing.status != "RUNNING":
            # AWS: the same name again is the same execution only while it runs.
            raise ExecutionAlreadyExists(f"Execution Already Exists: '{arn}'")
        if existing is None:
            token, mode = parent or (None, None)
            role = machine.role_arn or None
            start = Start(text, machine.version_arn, machine.alias_arn, token, mode, role)
            rec = records.InboxRecord(arn, start, machine_arn, machine.definition)
            state = await self._local.start(rec, START_WAIT_S)
            if state is not None:
                self._own_writes.wrote(arn)  # reads here wait for the view to have it
                return started(state, text, machine)
            await send_inbox(self._ctx, self._clock, rec)
            existing = await asyncio.to_thread(
                self._view.wait_for, lambda: self._view.get(arn), START_WAIT_S
            )
            if existing is None:
                raise ExecutionDoesNotExist(
                    f"Execution {arn} did not start within {START_WAIT_S:g}s"
                )
        if json.loads(existing.input) != json.loads(text):
            raise ExecutionAlreadyExists(f"Execution Already Exists: '{arn}'")
        return execution_of(existing, self._clock.now_ms())

    async def _run_express(self, machine: Target, arn: str, text: str) -> Execution:
        name = arn.rsplit(":", 1)[-1]
        machine_arn = arns.state_machine_arn(machine.machine)
        state, events = await run_express(
            Machine(machine.definition),
            arn,
            name,
            machine_arn,
            text,
            self.acting_for(arn),
            self._clock,
            version_arn=machine.version_arn,
            alias_arn=machine.alias_arn,
            role_arn=machine.role_arn or None,
        )
        journal = [events[0], events[-1]] if len(events) > 1 else events
        state.root = None
        value, headers = records.encode_step(
            records.StepRecord(arn, machine_arn, journal, state, express=True),
            self._clock.now_ms(),
        )
        self._own_writes.wrote(
            arn,
            self._ctx.producer.produce(naming.WF_HISTORY, value, key=arn.encode(), headers=headers),
        )
        metrics.record_step(Step(state, events), 0, 0, "EXPRESS")
        return started(state, text, machine)

    async def start_sync_execution(
        self, state_machine_arn: str, name: str = "", input: str = ""
    ) -> Execution:
        require(state_machine_arn, "stateMachineArn")
        machine = self._target(state_machine_arn)
        if machine.type != "EXPRESS":
            raise StateMachineTypeNotSupported(
                "This operation is not supported by this type of state machine (STANDARD)"
            )
        name = arns.check_name(name) if name else str(uuid.uuid4())
        text = _json(input, "input", InvalidExecutionInput)
        arn = arns.execution_arn(machine.machine, name, True)
        return await self._run_express(machine, arn, text)

    async def _existing(self, arn: str) -> ExecutionView:
        require(arn, "executionArn")
        arns.parse_execution_arn(arn)
        return await self._own_writes.existing(arn)

    async def stop_execution(self, arn: str, error: str = "", cause: str = "") -> int:
        found = await self._existing(arn)
        if found.status == "RUNNING":
            await send_inbox(
                self._ctx, self._clock, records.InboxRecord(arn, Stop(error or None, cause or None))
            )
            done = await asyncio.to_thread(
                self._view.wait_for,
                lambda: v if (v := self._view.get(arn)) and v.stop_ms else None,
                10.0,
            )
            if done is not None and done.stop_ms:
                return done.stop_ms
        return found.stop_ms or self._clock.now_ms()

    async def describe_execution(self, arn: str) -> Execution:
        return execution_of(await self._existing(arn), self._clock.now_ms())

    async def describe_state_machine_for_execution(self, arn: str) -> StateMachine:
        """The machine (or version) an execution runs; ``update_date`` is its revision's."""
        found = await self._existing(arn)
        if found.version_arn:
            v = self._versions.version(found.version_arn)
            return version_machine(v, v.creation_date)
        return self._machine(found.state_machine_arn)

    async def redrive_execution(self, arn: str, client_token: str = "") -> int:
        """Restart a FAILED, TIMED_OUT or ABORTED Standard execution from the state that
        ended it (see redrive.py); returns the redrive date. The same ``client_token`` as
        the latest redrive's is that redrive again (its date), not a new one.
        """
        if len(client_token) > 64:
            raise ValidationException("clientToken must be at most 64 characters")
        found = await self._existing(arn)
        if client_token and found.redrive_token == client_token and found.redrive_ms:
            return found.redrive_ms
        status, reason = redrive_status(
            found.status, found.express, found.stop_ms, len(found.events), self._clock.now_ms()
        )
        if status != REDRIVABLE:
            raise ExecutionNotRedrivable(f"Execution '{arn}' cannot be redriven: {reason}")
        count = found.redrive_count
        redrive = Redrive(client_token or None)
        await send_inbox(self._ctx, self._clock, records.InboxRecord(arn, redrive))
        done = await asyncio.to_thread(
            self._view.wait_for,
            lambda: v if (v := self._view.get(arn)) and v.redrive_count > count else None,
            START_WAIT_S,
        )
        if done is None or done.redrive_ms is None:
            raise ExecutionNotRedrivable(
                f"Execution '{arn}' was not redriven within {START_WAIT_S:g}s"
            )
        return done.redrive_ms

    async def list_executions(
        self,
        state_machine_arn: str,
        status_filter: str = "",
        max_results: int = 0,
        next_token: str = "",
        *,
        map_run_arn: str = "",
        redrive_filter: str = "",
    ) -> Page:
        """Executions newest first; given a version or alias ARN, those started through it.

        ``redrive_filter`` keeps those redriven (REDRIVEN) or not (NOT_REDRIVEN). Given a
        ``map_run_arn`` (and no machine), the child executions of that Map Run.
        """
        if map_run_arn and state_machine_arn:
            raise ValidationException("Specify either stateMachineArn or mapRunArn, not both")
        if map_run_arn:
            children = self._map_run_children(map_run_arn)
            kept = filter_children(
                children, check_status_filter(status_filter), redrive_filter_keeps(redrive_filter)
            )
            p = page(kept, max_results, next_token)
            return Page([execution_of(v, self._clock.now_ms()) for v in p.items], p.next_token)
        require(state_machine_arn, "stateMachineArn")
        keeps = redrive_filter_keeps(redrive_filter)
        machine, qualifier = arns.parse_qualified_arn(state_machine_arn)
        base = arns.state_machine_arn(machine)
        if self._machine(base).type == "EXPRESS":  # AWS lists Standard executions only
            raise StateMachineTypeNotSupported(
                "This operation is not supported by this type of state machine (EXPRESS)"
            )
        if check_status_filter(status_filter) == "PENDING_REDRIVE":
            raise ValidationException("statusFilter PENDING_REDRIVE is for a mapRunArn's children")
        found = [
            v
            for v in self._view.of_machine(base)
            if (not status_filter or v.status == status_filter)
            and (qualifier is None or state_machine_arn in (v.version_arn, v.alias_arn))
            and keeps(v.redrive_count)
        ]
        now = self._clock.now_ms()
        p = page(found, max_results, next_token)
        return Page([execution_of(v, now) for v in p.items], p.next_token)

    async def get_execution_history(
        self,
        arn: str,
        max_results: int = 0,
        next_token: str = "",
        reverse_order: bool = False,
        include_execution_data: bool | None = None,
    ) -> Page:
        events = list((await self._existing(arn)).events)
        if reverse_order:
            events.reverse()
        p = page(events, max_results, next_token)
        items = [e.to_aws() for e in p.items]
        if include_execution_data is False:  # absent (None) means AWS's default, true
            for e in items:
                for key, details in e.items():
                    if isinstance(details, dict):
                        e[key] = {
                            k: v
                            for k, v in details.items()
                            if k not in ("input", "output", "inputDetails", "outputDetails")
                        }
        return Page(items, p.next_token)

    # --- callbacks ---------------------------------------------------------------------
    def _task(self, token: str) -> tuple[str, str]:
        require(token, "taskToken")
        parsed = parse_token(token)
        if parsed is None:
            raise InvalidToken(f"Invalid Token: '{token[:40]}'")
        arn, task_id = parsed
        found = self._view.get(arn) if token_of(arn) else None
        if found is None:
            raise TaskDoesNotExist("Task Does Not Exist: the token names no execution")
        if task_id not in found.live_tasks:
            raise TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'")
        return arn, task_id

    async def send_task_success(self, token: str, output: str) -> None:
        arn, task_id = self._task(token)
        text = _json(output, "output", InvalidOutput, default="")
        await send_inbox(
            self._ctx, self._clock, records.InboxRecord(arn, TaskResult(task_id, True, text))
        )

    async def send_task_failure(self, token: str, error: str = "", cause: str = "") -> None:
        arn, task_id = self._task(token)
        inbox = TaskResult(task_id, False, error=error or "States.TaskFailed", cause=cause)
        await send_inbox(self._ctx, self._clock, records.InboxRecord(arn, inbox))

    async def send_task_heartbeat(self, token: str) -> None:
        arn, task_id = self._task(token)
        await send_inbox(self._ctx, self._clock, records.InboxRecord(arn, Heartbeat(task_id)))

    async def close(self) -> None:
        for task in list(self._express):
            task.cancel()
        await asyncio.gather(*self._express, return_exceptions=True)
