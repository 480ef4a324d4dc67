"""The Workflows gRPC service: translate requests onto ``WorkflowsCore``, nothing more.

Required members are checked by the core (one rule and message for every front door)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, TypeAlias

import grpc

from eventplane._gen.v1 import workflows_pb2 as pb
from eventplane._gen.v1 import workflows_pb2_grpc
from eventplane.workflows.activities import POLL_S, Activity
from eventplane.workflows.core import Execution, StateMachine, WorkflowsCore
from eventplane.workflows.versions import Alias, RoutingEntry

Ctx: TypeAlias = grpc.aio.ServicerContext


def _machine(m: StateMachine) -> pb.StateMachine:
    return pb.StateMachine(
        state_machine_arn=m.state_machine_arn,
        name=m.name,
        status=m.status,
        definition=m.definition,
        role_arn=m.role_arn,
        type=m.type,
        creation_date=m.creation_date,
        update_date=m.update_date,
        revision_id=m.revision_id,
        description=m.description,
    )


def _activity(a: Activity) -> pb.Activity:
    return pb.Activity(activity_arn=a.activity_arn, name=a.name, creation_date=a.creation_date)


def _routing(items: Any) -> list[RoutingEntry]:
    return [RoutingEntry(i.state_machine_version_arn, i.weight) for i in items]


def _alias(a: Alias) -> pb.StateMachineAlias:
    return pb.StateMachineAlias(
        state_machine_alias_arn=a.state_machine_alias_arn,
        name=a.name,
        description=a.description,
        routing_configuration=[
            pb.RoutingConfigurationListItem(
                state_machine_version_arn=e.state_machine_version_arn, weight=e.weight
            )
            for e in a.routing_configuration
        ],
        creation_date=a.creation_date,
        update_date=a.update_date,
    )


def _execution(e: Execution, data: bool = True) -> pb.Execution:
    out = pb.Execution(
        execution_arn=e.execution_arn,
        state_machine_arn=e.state_machine_arn,
        name=e.name,
        status=e.status,
        start_date=e.start_date,
        stop_date=e.stop_date or 0,
        state_transitions=e.state_transitions,
        redrive_count=e.redrive_count,
        redrive_date=e.redrive_date or 0,
    )
    for name in (
        "state_machine_version_arn",
        "state_machine_alias_arn",
        "redrive_status",
        "redrive_status_reason",
    ):
        value = getattr(e, name)
        if value is not None:
            setattr(out, name, value)
    if data:
        out.input = e.input
        if e.output is not None:
            out.output = e.output
    if e.error is not None:
        out.error = e.error
    if e.cause is not None:
        out.cause = e.cause
    return out


class WorkflowsService(workflows_pb2_grpc.WorkflowsServicer):
    def __init__(self, core: WorkflowsCore) -> None:
        self._core = core

    async def CreateStateMachine(
        self, r: pb.CreateStateMachineRequest, c: Ctx
    ) -> pb.CreateStateMachineResponse:
        m = await self._core.create_state_machine(
            r.name,
            r.definition,
            r.role_arn,
            r.type,
            dict(r.tags),
            r.publish,
            r.version_description,
        )
        return pb.CreateStateMachineResponse(
            state_machine_arn=m.state_machine_arn,
            creation_date=m.creation_date,
            state_machine_version_arn=m.state_machine_version_arn or "",
        )

    async def DescribeStateMachine(
        self, r: pb.DescribeStateMachineRequest, c: Ctx
    ) -> pb.StateMachine:
        arn = r.state_machine_arn
        return _machine(await self._core.describe_state_machine(arn))

    async def ListStateMachines(
        self, r: pb.ListStateMachinesRequest, c: Ctx
    ) -> pb.ListStateMachinesResponse:
        page = await self._core.list_state_machines(r.max_results, r.next_token)
        return pb.ListStateMachinesResponse(
            state_machines=[
                pb.StateMachineListItem(
                    state_machine_arn=m.state_machine_arn,
                    name=m.name,
                    type=m.type,
                    creation_date=m.creation_date,
                )
                for m in page.items
            ],
            next_token=page.next_token or "",
        )

    async def UpdateStateMachine(
        self, r: pb.UpdateStateMachineRequest, c: Ctx
    ) -> pb.UpdateStateMachineResponse:
        m = await self._core.update_state_machine(
            r.state_machine_arn,
            r.definition if r.HasField("definition") else None,
            r.role_arn if r.HasField("role_arn") else None,
            r.publish,
            r.version_description,
        )
        return pb.UpdateStateMachineResponse(
            update_date=m.update_date,
            revision_id=m.revision_id,
            state_machine_version_arn=m.state_machine_version_arn or "",
        )

    async def DeleteStateMachine(
        self, r: pb.DeleteStateMachineRequest, c: Ctx
    ) -> pb.DeleteStateMachineResponse:
        await self._core.delete_state_machine(r.state_machine_arn)
        return pb.DeleteStateMachineResponse()

    async def ValidateStateMachineDefinition(
        self, r: pb.ValidateStateMachineDefinitionRequest, c: Ctx
    ) -> pb.ValidateStateMachineDefinitionResponse:
        result, diagnostics = await self._core.validate_state_machine_definition(
            r.definition, r.type
        )
        return pb.ValidateStateMachineDefinitionResponse(
            result=result,
            diagnostics=[
                pb.Diagnostic(
                    severity=d.severity, code=d.code, message=d.message, location=d.location
                )
                for d in diagnostics.items
            ],
        )

    async def TagResource(
        self, r: pb.WorkflowTagResourceRequest, c: Ctx
    ) -> pb.WorkflowTagResourceResponse:
        await self._core.tag_resource(r.resource_arn, dict(r.tags))
        return pb.WorkflowTagResourceResponse()

    async def UntagResource(
        self, r: pb.WorkflowUntagResourceRequest, c: Ctx
    ) -> pb.WorkflowUntagResourceResponse:
        await self._core.untag_resource(r.resource_arn, list(r.tag_keys))
        return pb.WorkflowUntagResourceResponse()

    async def ListTagsForResource(
        self, r: pb.WorkflowListTagsForResourceRequest, c: Ctx
    ) -> pb.WorkflowListTagsForResourceResponse:
        tags = await self._core.list_tags_for_resource(r.resource_arn)
        return pb.WorkflowListTagsForResourceResponse(tags=tags)

    async def PublishStateMachineVersion(
        self, r: pb.PublishStateMachineVersionRequest, c: Ctx
    ) -> pb.PublishStateMachineVersionResponse:
        v = await self._core.publish_state_machine_version(
            r.state_machine_arn, r.description, r.revision_id
        )
        return pb.PublishStateMachineVersionResponse(
            creation_date=v.creation_date, state_machine_version_arn=v.state_machine_version_arn
        )

    async def ListStateMachineVersions(
        self, r: pb.ListStateMachineVersionsRequest, c: Ctx
    ) -> pb.ListStateMachineVersionsResponse:
        page = await self._core.list_state_machine_versions(
            r.state_machine_arn, r.max_results, r.next_token
        )
        return pb.ListStateMachineVersionsResponse(
            state_machine_versions=[
                pb.StateMachineVersionListItem(
                    state_machine_version_arn=v.state_machine_version_arn,
                    creation_date=v.creation_date,
                )
                for v in page.items
            ],
            next_token=page.next_token or "",
        )

    async def DeleteStateMachineVersion(
        self, r: pb.DeleteStateMachineVersionRequest, c: Ctx
    ) -> pb.DeleteStateMachineVersionResponse:
        arn = r.state_machine_version_arn
        await self._core.delete_state_machine_version(arn)
        return pb.DeleteStateMachineVersionResponse()

    async def CreateStateMachineAlias(
        self, r: pb.CreateStateMachineAliasRequest, c: Ctx
    ) -> pb.CreateStateMachineAliasResponse:
        a = await self._core.create_state_machine_alias(
            r.name, _routing(r.routing_configuration), r.description
        )
        return pb.CreateStateMachineAliasResponse(
            state_machine_alias_arn=a.state_machine_alias_arn, creation_date=a.creation_date
        )

    async def DescribeStateMachineAlias(
        self, r: pb.DescribeStateMachineAliasRequest, c: Ctx
    ) -> pb.StateMachineAlias:
        arn = r.state_machine_alias_arn
        return _alias(await self._core.describe_state_machine_alias(arn))

    async def UpdateStateMachineAlias(
        self, r: pb.UpdateStateMachineAliasRequest, c: Ctx
    ) -> pb.UpdateStateMachineAliasResponse:
        a = await self._core.update_state_machine_alias(
            r.state_machine_alias_arn,
            r.description if r.HasField("description") else None,
            _routing(r.routing_configuration) if r.routing_configuration else None,
        )
        return pb.UpdateStateMachineAliasResponse(update_date=a.update_date)

    async def DeleteStateMachineAlias(
        self, r: pb.DeleteStateMachineAliasRequest, c: Ctx
    ) -> pb.DeleteStateMachineAliasResponse:
        arn = r.state_machine_alias_arn
        await self._core.delete_state_machine_alias(arn)
        return pb.DeleteStateMachineAliasResponse()

    async def ListStateMachineAliases(
        self, r: pb.ListStateMachineAliasesRequest, c: Ctx
    ) -> pb.ListStateMachineAliasesResponse:
        page = await self._core.list_state_machine_aliases(
            r.state_machine_arn, r.max_results, r.next_token
        )
        return pb.ListStateMachineAliasesResponse(
            state_machine_aliases=[
                pb.StateMachineAliasListItem(
                    state_machine_alias_arn=a.state_machine_alias_arn,
                    creation_date=a.creation_date,
                )
                for a in page.items
            ],
            next_token=page.next_token or "",
        )

    async def StartExecution(
        self, r: pb.StartExecutionRequest, c: Ctx
    ) -> pb.StartExecutionResponse:
        e = await self._core.start_execution(r.state_machine_arn, r.name, r.input)
        return pb.StartExecutionResponse(execution_arn=e.execution_arn, start_date=e.start_date)

    async def StartSyncExecution(self, r: pb.StartExecutionRequest, c: Ctx) -> pb.Execution:
        e = await self._core.start_sync_execution(r.state_machine_arn, r.name, r.input)
        return _execution(e)

    async def StopExecution(self, r: pb.StopExecutionRequest, c: Ctx) -> pb.StopExecutionResponse:
        stop = await self._core.stop_execution(r.execution_arn, r.error, r.cause)
        return pb.StopExecutionResponse(stop_date=stop)

    async def DescribeExecution(self, r: pb.DescribeExecutionRequest, c: Ctx) -> pb.Execution:
        arn = r.execution_arn
        return _execution(await self._core.describe_execution(arn))

    async def ListExecutions(
        self, r: pb.ListExecutionsRequest, c: Ctx
    ) -> pb.ListExecutionsResponse:
        page = await self._core.list_executions(
            r.state_machine_arn,
            r.status_filter,
            r.max_results,
            r.next_token,
            map_run_arn=r.map_run_arn,
        )
        return pb.ListExecutionsResponse(
            executions=[_execution(e, data=False) for e in page.items],
            next_token=page.next_token or "",
        )

    async def RedriveExecution(
        self, r: pb.RedriveExecutionRequest, c: Ctx
    ) -> pb.RedriveExecutionResponse:
        date = await self._core.redrive_execution(r.execution_arn, r.client_token)
        return pb.RedriveExecutionResponse(redrive_date=date)

    async def GetExecutionHistory(
        self, r: pb.GetExecutionHistoryRequest, c: Ctx
    ) -> pb.GetExecutionHistoryResponse:
        page = await self._core.get_execution_history(
            r.execution_arn,
            r.max_results,
            r.next_token,
            r.reverse_order,
            r.include_execution_data if r.HasField("include_execution_data") else None,
        )
        events = []
        for e in page.items:
            details = {k: v for k, v in e.items() if k.endswith("EventDetails")}
            events.append(
                pb.HistoryEvent(
                    id=e["id"],
                    previous_event_id=e["previousEventId"],
                    timestamp=e["timestamp"],
                    type=e["type"],
                    details_json=json.dumps(details) if details else "",
                )
            )
        return pb.GetExecutionHistoryResponse(events=events, next_token=page.next_token or "")

    async def SendTaskSuccess(self, r: pb.SendTaskSuccessRequest, c: Ctx) -> pb.SendTaskResponse:
        await self._core.send_task_success(r.task_token, r.output)
        return pb.SendTaskResponse()

    async def SendTaskFailure(self, r: pb.SendTaskFailureRequest, c: Ctx) -> pb.SendTaskResponse:
        await self._core.send_task_failure(r.task_token, r.error, r.cause)
        return pb.SendTaskResponse()

    async def SendTaskHeartbeat(
        self, r: pb.SendTaskHeartbeatRequest, c: Ctx
    ) -> pb.SendTaskResponse:
        await self._core.send_task_heartbeat(r.task_token)
        return pb.SendTaskResponse()

    # --- activities -------------------------------------------------------------------
    async def CreateActivity(self, r: pb.CreateActivityRequest, c: Ctx) -> pb.Activity:
        return _activity(await self._core.create_activity(r.name, dict(r.tags)))

    async def DescribeActivity(self, r: pb.DescribeActivityRequest, c: Ctx) -> pb.Activity:
        arn = r.activity_arn
        return _activity(await self._core.describe_activity(arn))

    async def DeleteActivity(
        self, r: pb.DeleteActivityRequest, c: Ctx
    ) -> pb.DeleteActivityResponse:
        await self._core.delete_activity(r.activity_arn)
        return pb.DeleteActivityResponse()

    async def ListActivities(
        self, r: pb.ListActivitiesRequest, c: Ctx
    ) -> pb.ListActivitiesResponse:
        page = await self._core.list_activities(r.max_results, r.next_token)
        return pb.ListActivitiesResponse(
            activities=[_activity(a) for a in page.items], next_token=page.next_token or ""
        )

    async def GetActivityTask(
        self, r: pb.GetActivityTaskRequest, c: Ctx
    ) -> pb.GetActivityTaskResponse:
        wait = r.wait_seconds if r.HasField("wait_seconds") else POLL_S
        task = await self._core.get_activity_task(r.activity_arn, r.worker_name, wait)
        return pb.GetActivityTaskResponse(task_token=task.task_token, input=task.input)

    # --- TestState ----------------------------------------------------------------------
    async def TestState(self, r: pb.TestStateRequest, c: Ctx) -> pb.TestStateResponse:
        res = await self._core.test_state(
            r.definition,
            r.role_arn,
            r.input,
            r.inspection_level,
            r.reveal_secrets,
        )
        out = pb.TestStateResponse(status=res.status)
        for name in ("output", "error", "cause", "next_state"):
            value = getattr(res, name)
            if value is not None:
                setattr(out, name, value)
        if res.inspection_data is not None:
            data = {k: v for k, v in asdict(res.inspection_data).items() if v is not None}
            out.inspection_data.CopyFrom(pb.InspectionData(**data))
        return out

    # --- Distributed Map runs ------------------------------------------------------------
    async def DescribeMapRun(self, r: pb.DescribeMapRunRequest, c: Ctx) -> pb.MapRun:
        m = await self._core.describe_map_run(r.map_run_arn)
        return pb.MapRun(
            map_run_arn=m.map_run_arn,
            execution_arn=m.execution_arn,
            status=m.status,
            start_date=m.start_date,
            stop_date=m.stop_date or 0,
            max_concurrency=m.max_concurrency,
            tolerated_failure_percentage=m.tolerated_failure_percentage,
            tolerated_failure_count=m.tolerated_failure_count,
            item_counts=pb.MapRunCounts(**asdict(m.item_counts)),
            execution_counts=pb.MapRunCounts(**asdict(m.execution_counts)),
            redrive_count=m.redrive_count,
            redrive_date=m.redrive_date or 0,
        )

    async def ListMapRuns(self, r: pb.ListMapRunsRequest, c: Ctx) -> pb.ListMapRunsResponse:
        page = await self._core.list_map_runs(r.execution_arn, r.max_results, r.next_token)
        return pb.ListMapRunsResponse(
            map_runs=[
                pb.MapRunListItem(
                    execution_arn=i.execution_arn,
                    map_run_arn=i.map_run_arn,
                    state_machine_arn=i.state_machine_arn,
                    start_date=i.start_date,
                    stop_date=i.stop_date or 0,
                )
                for i in page.items
            ],
            next_token=page.next_token or "",
        )

    async def UpdateMapRun(self, r: pb.UpdateMapRunRequest, c: Ctx) -> pb.UpdateMapRunResponse:
        await self._core.update_map_run(
            r.map_run_arn,
            r.max_concurrency if r.HasField("max_concurrency") else None,
            (
                r.tolerated_failure_percentage
                if r.HasField("tolerated_failure_percentage")
                else None
            ),
            r.tolerated_failure_count if r.HasField("tolerated_failure_count") else None,
        )
        return pb.UpdateMapRunResponse()
