"""client.workflows: Step Functions state machines; method names follow boto3's sfn client.

    with Client() as ep:
        sm = ep.workflows.create_state_machine("orders", definition)   # dict or JSON text
        run = ep.workflows.start_execution(sm.state_machine_arn, {"id": 7}, name="order-7")
        print(ep.workflows.describe_execution(run.execution_arn).status)
        for event in ep.workflows.get_execution_history(run.execution_arn):
            print(event["type"])

Definitions, inputs and outputs may be given as JSON text or as Python values (sent as
``json.dumps`` of them). ``list_*`` and ``get_execution_history`` follow every page.
Errors carry Step Functions' codes (``StateMachineDoesNotExist``,
``ExecutionAlreadyExists``, ``InvalidDefinition``, ``TaskTimedOut``...; classes in
``eventplane.errors.workflows``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from eventplane._gen.v1 import workflows_pb2 as pb
from eventplane._gen.v1 import workflows_pb2_grpc
from eventplane.client import _workflow_types as t
from eventplane.client._channel import Page, every_page
from eventplane.client._facade import BlockingFacade, ServiceCore, blocking
from eventplane.client._workflow_types import (
    Activity,
    ActivityTask,
    Execution,
    RoutingEntry,
    StateMachine,
    StateMachineAlias,
    StateMachineAliasListItem,
    StateMachineListItem,
    StateMachineVersion,
    TestStateResult,
    ValidationResult,
)

Routing = Iterable[RoutingEntry | tuple[str, int] | Mapping[str, Any]]

_PAGE = 100


def _create(
    name: str, definition: Any, role_arn: str, type: str, tags: Any, publish: bool, desc: str
) -> Any:
    return pb.CreateStateMachineRequest(
        name=name,
        definition=t.json_text(definition, "definition"),
        role_arn=role_arn,
        type=type,
        tags=dict(tags or {}),
        publish=publish,
        version_description=desc,
    )


def _update(arn: str, definition: Any, role_arn: str | None, publish: bool, desc: str) -> Any:
    req = pb.UpdateStateMachineRequest(
        state_machine_arn=arn, publish=publish, version_description=desc
    )
    if definition is not None:
        req.definition = t.json_text(definition, "definition")
    if role_arn is not None:
        req.role_arn = role_arn
    return req


def _start(arn: str, input: Any, name: str | None) -> Any:
    return pb.StartExecutionRequest(
        state_machine_arn=arn,
        name=name or "",
        input=t.json_text(input if input is not None else {}, "input"),
    )


def _history(arn: str, reverse_order: bool, include_execution_data: bool, token: str | None) -> Any:
    return pb.GetExecutionHistoryRequest(
        execution_arn=arn,
        max_results=_PAGE,
        next_token=token or "",
        reverse_order=reverse_order,
        include_execution_data=include_execution_data,
    )


class AsyncWorkflowsClient(ServiceCore):
    """asyncio Workflows API; reach it as ``AsyncClient().workflows``.

    The one implementation of every call: ``WorkflowsClient`` runs these same
    methods over a blocking channel (see ``eventplane.client._facade``).
    """

    _stub_class = workflows_pb2_grpc.WorkflowsStub

    async def _call(self, method: Any, request: Any, timeout: float | None = None) -> Any:
        """A Workflows call by method name, with the client's default deadline."""
        rpc = getattr(self._stub, method) if isinstance(method, str) else method
        return await super()._call(rpc, request, timeout or self._timeout)

    async def create_state_machine(
        self,
        name: str,
        definition: str | Mapping[str, Any],
        *,
        role_arn: str = "",
        type: str = "STANDARD",
        tags: Mapping[str, str] | None = None,
        publish: bool = False,
        version_description: str = "",
    ) -> StateMachine:
        """Create a state machine (validated first: ``InvalidDefinition`` names each problem).

        Args:
            name: 1-80 characters without whitespace or ``<>{}[]?*"#%\\^|~`$&,;:/``.
            definition: the Amazon States Language document (dict or JSON text).
            role_arn: a role of the machine's account; the tasks of a machine of
                another account than the installation's act as it.
            type: ``STANDARD`` (durable, exactly-once steps) or ``EXPRESS`` (in memory).
            tags: free key/value tags.
            publish: also publish version 1 (its ARN in ``state_machine_version_arn``).
            version_description: the published version's description.

        Returns:
            The new (or identical existing) state machine.
        """
        req = _create(name, definition, role_arn, type, tags, publish, version_description)
        r = await self._call("CreateStateMachine", req)
        m = await self.describe_state_machine(r.state_machine_arn)
        return dataclasses.replace(m, state_machine_version_arn=r.state_machine_version_arn or None)

    async def describe_state_machine(self, state_machine_arn: str) -> StateMachine:
        req = pb.DescribeStateMachineRequest(state_machine_arn=state_machine_arn)
        return t.machine(await self._call("DescribeStateMachine", req))

    async def list_state_machines(self) -> list[StateMachineListItem]:
        """Every state machine: arn, name, type and creation date (one call per page)."""

        async def page(token: str | None) -> Page[StateMachineListItem]:
            req = pb.ListStateMachinesRequest(max_results=_PAGE, next_token=token or "")
            r = await self._call("ListStateMachines", req)
            items = [StateMachineListItem.from_pb(m) for m in r.state_machines]
            return items, r.next_token or None

        return await every_page(page)

    async def update_state_machine(
        self,
        state_machine_arn: str,
        *,
        definition: str | Mapping[str, Any] | None = None,
        role_arn: str | None = None,
        publish: bool = False,
        version_description: str = "",
    ) -> StateMachine:
        """Replace the definition and/or role; running executions keep their definition.

        ``publish`` also publishes a version (its ARN in ``state_machine_version_arn``).
        """
        req = _update(state_machine_arn, definition, role_arn, publish, version_description)
        r = await self._call("UpdateStateMachine", req)
        m = await self.describe_state_machine(state_machine_arn)
        return dataclasses.replace(m, state_machine_version_arn=r.state_machine_version_arn or None)

    async def delete_state_machine(self, state_machine_arn: str) -> None:
        req = pb.DeleteStateMachineRequest(state_machine_arn=state_machine_arn)
        await self._call("DeleteStateMachine", req)

    async def validate_state_machine_definition(
        self, definition: str | Mapping[str, Any], *, type: str = "STANDARD"
    ) -> ValidationResult:
        req = pb.ValidateStateMachineDefinitionRequest(
            definition=t.json_text(definition, "definition"), type=type
        )
        return t.validation(await self._call("ValidateStateMachineDefinition", req))

    # --- tags -------------------------------------------------------------------------
    async def tag_resource(self, resource_arn: str, tags: Mapping[str, str]) -> None:
        """Add tags to a state machine or an activity, or overwrite a key's value.

        At most 50 tags a resource (TooManyTags); keys 1-128 characters, values 0-256;
        keys beginning ``aws:`` are reserved. An unknown resource: ResourceNotFound.
        """
        req = pb.WorkflowTagResourceRequest(resource_arn=resource_arn, tags=dict(tags))
        await self._call("TagResource", req)

    async def untag_resource(self, resource_arn: str, tag_keys: Iterable[str]) -> None:
        """Remove tags by key; a key the resource does not have is ignored."""
        req = pb.WorkflowUntagResourceRequest(resource_arn=resource_arn, tag_keys=list(tag_keys))
        await self._call("UntagResource", req)

    async def list_tags_for_resource(self, resource_arn: str) -> dict[str, str]:
        req = pb.WorkflowListTagsForResourceRequest(resource_arn=resource_arn)
        return dict((await self._call("ListTagsForResource", req)).tags)

    async def publish_state_machine_version(
        self,
        state_machine_arn: str,
        *,
        description: str | None = None,
        revision_id: str | None = None,
    ) -> StateMachineVersion:
        """Publish the machine's current definition as a numbered, immutable version.

        An unchanged definition returns the latest version rather than a new one;
        ``revision_id`` publishes only if it is still the machine's revision
        (else ``ConflictException``).
        """
        req = pb.PublishStateMachineVersionRequest(
            state_machine_arn=state_machine_arn,
            description=description or "",
            revision_id=revision_id or "",
        )
        r = await self._call("PublishStateMachineVersion", req)
        return StateMachineVersion(r.state_machine_version_arn, r.creation_date)

    async def list_state_machine_versions(
        self, state_machine_arn: str
    ) -> list[StateMachineVersion]:
        """Every version of a machine, newest first."""

        async def page(token: str | None) -> Page[StateMachineVersion]:
            req = pb.ListStateMachineVersionsRequest(
                state_machine_arn=state_machine_arn, max_results=_PAGE, next_token=token or ""
            )
            r = await self._call("ListStateMachineVersions", req)
            items = [
                StateMachineVersion(v.state_machine_version_arn, v.creation_date)
                for v in r.state_machine_versions
            ]
            return items, r.next_token or None

        return await every_page(page)

    async def delete_state_machine_version(self, state_machine_version_arn: str) -> None:
        """Delete a version (``ConflictException`` while an alias routes to it)."""
        req = pb.DeleteStateMachineVersionRequest(
            state_machine_version_arn=state_machine_version_arn
        )
        await self._call("DeleteStateMachineVersion", req)

    async def create_state_machine_alias(
        self, name: str, routing_configuration: Routing, *, description: str = ""
    ) -> StateMachineAlias:
        """Create an alias routing to one version, or two by weight (summing to 100).

        Entries are ``RoutingEntry``, ``(version_arn, weight)`` or AWS-shaped dicts.
        """
        req = pb.CreateStateMachineAliasRequest(
            name=name,
            description=description,
            routing_configuration=t.routing(routing_configuration),
        )
        r = await self._call("CreateStateMachineAlias", req)
        return await self.describe_state_machine_alias(r.state_machine_alias_arn)

    async def describe_state_machine_alias(self, state_machine_alias_arn: str) -> StateMachineAlias:
        req = pb.DescribeStateMachineAliasRequest(state_machine_alias_arn=state_machine_alias_arn)
        return t.alias(await self._call("DescribeStateMachineAlias", req))

    async def update_state_machine_alias(
        self,
        state_machine_alias_arn: str,
        *,
        description: str | None = None,
        routing_configuration: Routing | None = None,
    ) -> StateMachineAlias:
        req = pb.UpdateStateMachineAliasRequest(state_machine_alias_arn=state_machine_alias_arn)
        if description is not None:
            req.description = description
        if routing_configuration is not None:
            req.routing_configuration.extend(t.routing(routing_configuration))
        await self._call("UpdateStateMachineAlias", req)
        return await self.describe_state_machine_alias(state_machine_alias_arn)

    async def delete_state_machine_alias(self, state_machine_alias_arn: str) -> None:
        req = pb.DeleteStateMachineAliasRequest(state_machine_alias_arn=state_machine_alias_arn)
        await self._call("DeleteStateMachineAlias", req)

    async def list_state_machine_aliases(
        self, state_machine_arn: str
    ) -> list[StateMachineAliasListItem]:
        """A machine's aliases; given a version ARN, the aliases that route to it."""

        async def page(token: str | None) -> Page[StateMachineAliasListItem]:
            req = pb.ListStateMachineAliasesRequest(
                state_machine_arn=state_machine_arn, max_results=_PAGE, next_token=token or ""
            )
            r = await self._call("ListStateMachineAliases", req)
            items = [
                StateMachineAliasListItem(a.state_machine_alias_arn, a.creation_date)
                for a in r.state_machine_aliases
            ]
            return items, r.next_token or None

        return await every_page(page)

    async def start_execution(
        self, state_machine_arn: str, input: Any = None, *, name: str | None = None
    ) -> Execution:
        """Start a Standard (or asynchronous Express) execution of a machine, a version
        (``<machine ARN>:<number>``) or an alias (``<machine ARN>:<alias>``).

        The same ``name`` with the same input returns the existing execution; with
        another input it raises ``ExecutionAlreadyExists``. Returns the execution as
        it is right after its start (``status`` RUNNING or already ended).
        """
        r = await self._call("StartExecution", _start(state_machine_arn, input, name))
        if ":express:" in r.execution_arn:
            return Execution(
                r.execution_arn,
                state_machine_arn,
                r.execution_arn.rsplit(":", 1)[-1],
                "RUNNING",
                r.start_date,
                None,
                "",
                None,
                None,
                None,
                0,
            )
        return await self.describe_execution(r.execution_arn)

    async def start_sync_execution(
        self, state_machine_arn: str, input: Any = None, *, name: str | None = None
    ) -> Execution:
        """Run an Express execution to its end and return it (output, or error and cause)."""
        req = _start(state_machine_arn, input, name)
        return t.execution(
            await self._call("StartSyncExecution", req, max(self._timeout or 0, 330))
        )

    async def stop_execution(
        self, execution_arn: str, *, error: str | None = None, cause: str | None = None
    ) -> int:
        """Abort a running execution; returns its stop date (epoch ms)."""
        req = pb.StopExecutionRequest(
            execution_arn=execution_arn, error=error or "", cause=cause or ""
        )
        return int((await self._call("StopExecution", req)).stop_date)

    async def redrive_execution(
        self, execution_arn: str, *, client_token: str | None = None
    ) -> int:
        """Restart a FAILED, TIMED_OUT or ABORTED Standard execution from the state that
        ended it; returns the redrive date (epoch ms). ``ExecutionNotRedrivable`` for a
        succeeded or Express execution, or one that stopped more than 14 days ago."""
        req = pb.RedriveExecutionRequest(
            execution_arn=execution_arn, client_token=client_token or ""
        )
        return int((await self._call("RedriveExecution", req)).redrive_date)

    async def describe_execution(self, execution_arn: str) -> Execution:
        req = pb.DescribeExecutionRequest(execution_arn=execution_arn)
        return t.execution(await self._call("DescribeExecution", req))

    async def list_executions(
        self,
        state_machine_arn: str = "",
        *,
        status_filter: str | None = None,
        map_run_arn: str = "",
    ) -> list[Execution]:
        """Every execution of a machine, or given ``map_run_arn`` (and no machine) the
        child executions of a Distributed Map's run, newest first (input/output left
        empty)."""

        async def page(token: str | None) -> Page[Execution]:
            req = pb.ListExecutionsRequest(
                state_machine_arn=state_machine_arn,
                map_run_arn=map_run_arn,
                status_filter=status_filter or "",
                max_results=_PAGE,
                next_token=token or "",
            )
            r = await self._call("ListExecutions", req)
            return [t.execution(e) for e in r.executions], r.next_token or None

        return await every_page(page)

    async def get_execution_history(
        self,
        execution_arn: str,
        *,
        reverse_order: bool = False,
        include_execution_data: bool = True,
    ) -> list[dict[str, Any]]:
        """Every history event, as boto3 shows them (``type``, ``id``, details...)."""

        async def page(token: str | None) -> Page[dict[str, Any]]:
            req = _history(execution_arn, reverse_order, include_execution_data, token)
            r = await self._call("GetExecutionHistory", req)
            return [t.history_event(e) for e in r.events], r.next_token or None

        return await every_page(page)

    async def send_task_success(self, task_token: str, output: Any) -> None:
        req = pb.SendTaskSuccessRequest(task_token=task_token, output=t.json_text(output, "output"))
        await self._call("SendTaskSuccess", req)

    async def send_task_failure(
        self, task_token: str, *, error: str | None = None, cause: str | None = None
    ) -> None:
        req = pb.SendTaskFailureRequest(task_token=task_token, error=error or "", cause=cause or "")
        await self._call("SendTaskFailure", req)

    async def send_task_heartbeat(self, task_token: str) -> None:
        await self._call("SendTaskHeartbeat", pb.SendTaskHeartbeatRequest(task_token=task_token))

    # --- activities -------------------------------------------------------------------
    async def create_activity(
        self, name: str, *, tags: Mapping[str, str] | None = None
    ) -> Activity:
        """Create an activity (the same name again returns the existing one)."""
        req = pb.CreateActivityRequest(name=name, tags=dict(tags or {}))
        return t.activity(await self._call("CreateActivity", req))

    async def describe_activity(self, activity_arn: str) -> Activity:
        req = pb.DescribeActivityRequest(activity_arn=activity_arn)
        return t.activity(await self._call("DescribeActivity", req))

    async def delete_activity(self, activity_arn: str) -> None:
        await self._call("DeleteActivity", pb.DeleteActivityRequest(activity_arn=activity_arn))

    async def list_activities(self) -> list[Activity]:
        async def page(token: str | None) -> Page[Activity]:
            req = pb.ListActivitiesRequest(max_results=_PAGE, next_token=token or "")
            r = await self._call("ListActivities", req)
            return [t.activity(a) for a in r.activities], r.next_token or None

        return await every_page(page)

    async def get_activity_task(
        self, activity_arn: str, *, worker_name: str = "", wait_seconds: float | None = None
    ) -> ActivityTask:
        """Wait for the activity's next task (up to 60 s, as AWS; ``wait_seconds`` less).

        Returns its ``task_token`` and ``input``; answer it with ``send_task_success``,
        ``send_task_failure`` and ``send_task_heartbeat``. Falsy (empty token) when no
        task came within the wait. A task is handed to one worker only.
        """
        req = pb.GetActivityTaskRequest(activity_arn=activity_arn, worker_name=worker_name)
        if wait_seconds is not None:
            req.wait_seconds = wait_seconds
        wait = 60.0 if wait_seconds is None else wait_seconds
        r = await self._call("GetActivityTask", req, max(self._timeout or 0, wait + 15))
        return ActivityTask(r.task_token, r.input)

    # --- Distributed Map runs -----------------------------------------------------------
    async def describe_map_run(self, map_run_arn: str) -> dict[str, Any]:
        """A Map Run as boto3's ``describe_map_run`` shows it (dates in epoch ms)."""
        r = await self._call("DescribeMapRun", pb.DescribeMapRunRequest(map_run_arn=map_run_arn))
        return t.map_run(r)

    async def list_map_runs(self, execution_arn: str) -> list[dict[str, Any]]:
        """Every Map Run an execution started, newest first, as boto3's items."""

        async def page(token: str | None) -> Page[dict[str, Any]]:
            req = pb.ListMapRunsRequest(
                execution_arn=execution_arn, max_results=_PAGE, next_token=token or ""
            )
            r = await self._call("ListMapRuns", req)
            return [t.map_run_item(i) for i in r.map_runs], r.next_token or None

        return await every_page(page)

    async def update_map_run(
        self,
        map_run_arn: str,
        *,
        max_concurrency: int | None = None,
        tolerated_failure_percentage: float | None = None,
        tolerated_failure_count: int | None = None,
    ) -> None:
        """New MaxConcurrency and/or tolerated failures for a running Map Run."""
        req = pb.UpdateMapRunRequest(map_run_arn=map_run_arn)
        if max_concurrency is not None:
            req.max_concurrency = max_concurrency
        if tolerated_failure_percentage is not None:
            req.tolerated_failure_percentage = tolerated_failure_percentage
        if tolerated_failure_count is not None:
            req.tolerated_failure_count = tolerated_failure_count
        await self._call("UpdateMapRun", req)

    # --- TestState --------------------------------------------------------------------
    async def test_state(
        self,
        definition: str | Mapping[str, Any],
        input: Any = None,
        *,
        role_arn: str = "",
        inspection_level: str = "INFO",
        reveal_secrets: bool = False,
    ) -> TestStateResult:
        """Run one state (its definition, a dict or JSON text) with ``input``.

        Returns ``status`` (SUCCEEDED, FAILED, RETRIABLE, CAUGHT_ERROR), ``output``,
        ``error``, ``cause``, ``next_state`` and, at DEBUG or TRACE, ``inspection_data``
        (the data after InputPath, Parameters, the result, ResultSelector, ResultPath).
        """
        req = pb.TestStateRequest(
            definition=t.json_text(definition, "definition"),
            input=t.json_text(input if input is not None else {}, "input"),
            role_arn=role_arn,
            inspection_level=inspection_level,
            reveal_secrets=reveal_secrets,
        )
        return t.test_state_result(await self._call("TestState", req, max(self._timeout or 0, 310)))


class WorkflowsClient(BlockingFacade[AsyncWorkflowsClient]):
    """Blocking Workflows API; reach it as ``Client().workflows``."""

    _core_class = AsyncWorkflowsClient

    create_state_machine = blocking(AsyncWorkflowsClient.create_state_machine)
    describe_state_machine = blocking(AsyncWorkflowsClient.describe_state_machine)
    list_state_machines = blocking(AsyncWorkflowsClient.list_state_machines)
    update_state_machine = blocking(AsyncWorkflowsClient.update_state_machine)
    delete_state_machine = blocking(AsyncWorkflowsClient.delete_state_machine)
    validate_state_machine_definition = blocking(
        AsyncWorkflowsClient.validate_state_machine_definition
    )
    tag_resource = blocking(AsyncWorkflowsClient.tag_resource)
    untag_resource = blocking(AsyncWorkflowsClient.untag_resource)
    list_tags_for_resource = blocking(AsyncWorkflowsClient.list_tags_for_resource)
    publish_state_machine_version = blocking(AsyncWorkflowsClient.publish_state_machine_version)
    list_state_machine_versions = blocking(AsyncWorkflowsClient.list_state_machine_versions)
    delete_state_machine_version = blocking(AsyncWorkflowsClient.delete_state_machine_version)
    create_state_machine_alias = blocking(AsyncWorkflowsClient.create_state_machine_alias)
    describe_state_machine_alias = blocking(AsyncWorkflowsClient.describe_state_machine_alias)
    update_state_machine_alias = blocking(AsyncWorkflowsClient.update_state_machine_alias)
    delete_state_machine_alias = blocking(AsyncWorkflowsClient.delete_state_machine_alias)
    list_state_machine_aliases = blocking(AsyncWorkflowsClient.list_state_machine_aliases)
    redrive_execution = blocking(AsyncWorkflowsClient.redrive_execution)
    start_execution = blocking(AsyncWorkflowsClient.start_execution)
    start_sync_execution = blocking(AsyncWorkflowsClient.start_sync_execution)
    stop_execution = blocking(AsyncWorkflowsClient.stop_execution)
    describe_execution = blocking(AsyncWorkflowsClient.describe_execution)
    list_executions = blocking(AsyncWorkflowsClient.list_executions)
    get_execution_history = blocking(AsyncWorkflowsClient.get_execution_history)
    send_task_success = blocking(AsyncWorkflowsClient.send_task_success)
    send_task_failure = blocking(AsyncWorkflowsClient.send_task_failure)
    send_task_heartbeat = blocking(AsyncWorkflowsClient.send_task_heartbeat)
    create_activity = blocking(AsyncWorkflowsClient.create_activity)
    describe_activity = blocking(AsyncWorkflowsClient.describe_activity)
    delete_activity = blocking(AsyncWorkflowsClient.delete_activity)
    list_activities = blocking(AsyncWorkflowsClient.list_activities)
    get_activity_task = blocking(AsyncWorkflowsClient.get_activity_task)
    test_state = blocking(AsyncWorkflowsClient.test_state)
    describe_map_run = blocking(AsyncWorkflowsClient.describe_map_run)
    list_map_runs = blocking(AsyncWorkflowsClient.list_map_runs)
    update_map_run = blocking(AsyncWorkflowsClient.update_map_run)
