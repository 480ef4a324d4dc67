"""The Workflows core in Step Functions' own request and result shapes (``aws_shapes``).

The AWS-protocol gateway calls these, one method per action, named as the action in
snake_case. They only translate: every rule (required members, names, ARNs, paging,
idempotency) is the core's, shared with the gRPC servicer. What differs is the shape of
the answer: dates become ``datetime`` (the wire's epoch seconds) where the core counts
milliseconds, and lists come as AWS's list items.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from eventplane.workflows import aws_shapes as s
from eventplane.workflows.core import Execution, WorkflowsCore
from eventplane.workflows.shapes import included_data
from eventplane.workflows.versions import Alias, RoutingEntry

__all__ = ["WorkflowsOperations"]

# The members of an execution that carry its data; IncludedData=METADATA_ONLY leaves them out.
_DATA = ("input", "output")
_EMPTY = s.Empty()


def _date(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


def _maybe_date(ms: int | None) -> dt.datetime | None:
    return None if ms is None else _date(ms)


def _execution(e: Execution, *, data: bool = True) -> s.ExecutionResult:
    out = s.ExecutionResult(
        execution_arn=e.execution_arn,
        state_machine_arn=e.state_machine_arn,
        name=e.name,
        status=e.status,
        start_date=_date(e.start_date),
        stop_date=_maybe_date(e.stop_date),
        error=e.error,
        cause=e.cause,
        state_machine_version_arn=e.state_machine_version_arn,
        state_machine_alias_arn=e.state_machine_alias_arn,
        redrive_count=e.redrive_count,
        redrive_date=_maybe_date(e.redrive_date),
        redrive_status=e.redrive_status,
        redrive_status_reason=e.redrive_status_reason,
    )
    if data:
        out.input = e.input
        out.input_details = {"included": True}
        if e.output is not None:
            out.output = e.output
            out.output_details = {"included": True}
    return out


def _billing(e: Execution) -> dict[str, int]:
    """An Express execution's BillingDetails: its duration in whole 100 ms, 64 MB."""
    ms = max(0, (e.stop_date or e.start_date) - e.start_date)
    return {
        "billedMemoryUsedInMB": 64,
        "billedDurationInMilliseconds": max(100, -(-ms // 100) * 100),
    }


def _routing(items: list[s.RoutingConfigurationListItem]) -> list[RoutingEntry]:
    return [RoutingEntry(i.state_machine_version_arn, i.weight) for i in items]


def _routing_items(alias: Alias) -> list[s.RoutingConfigurationListItem]:
    return [
        s.RoutingConfigurationListItem(e.state_machine_version_arn, e.weight)
        for e in alias.routing_configuration
    ]


def _event(e: dict[str, Any]) -> dict[str, Any]:
    return {**e, "timestamp": _date(e["timestamp"])}


class WorkflowsOperations:
    def __init__(self, core: WorkflowsCore) -> None:
        self.core = core

    # --- state machines -----------------------------------------------------------------
    async def create_state_machine(
        self, r: s.CreateStateMachineRequest
    ) -> s.CreateStateMachineResult:
        m = await self.core.create_state_machine(
            r.name,
            r.definition,
            r.role_arn,
            r.type,
            {t.key: t.value for t in r.tags},
            r.publish,
            r.version_description,
            logging_configuration=r.logging_configuration,
            tracing_configuration=r.tracing_configuration,
        )
        return s.CreateStateMachineResult(
            m.state_machine_arn, _date(m.creation_date), m.state_machine_version_arn or ""
        )

    async def update_state_machine(
        self, r: s.UpdateStateMachineRequest
    ) -> s.UpdateStateMachineResult:
        m = await self.core.update_state_machine(
            r.state_machine_arn,
            r.definition,
            r.role_arn,
            r.publish,
            r.version_description,
            logging_configuration=r.logging_configuration,
            tracing_configuration=r.tracing_configuration,
        )
        return s.UpdateStateMachineResult(
            _date(m.update_date), m.revision_id, m.state_machine_version_arn or ""
        )

    async def delete_state_machine(self, r: s.DeleteStateMachineRequest) -> s.Empty:
        await self.core.delete_state_machine(r.state_machine_arn)
        return _EMPTY

    async def describe_state_machine(
        self, r: s.DescribeStateMachineRequest
    ) -> s.DescribeStateMachineResult:
        m = await self.core.describe_state_machine(r.state_machine_arn)
        return s.DescribeStateMachineResult(
            m.state_machine_arn,
            m.name,
            m.status,
            m.definition,
            m.role_arn,
            m.type,
            _date(m.creation_date),
            m.revision_id,
            m.description,
            m.logging_configuration,
            m.tracing_configuration,
        )

    async def list_state_machines(self, r: s.ListStateMachinesRequest) -> s.ListStateMachinesResult:
        p = await self.core.list_state_machines(r.max_results, r.next_token)
        items = [
            s.StateMachineListItem(m.state_machine_arn, m.name, m.type, _date(m.creation_date))
            for m in p.items
        ]
        return s.ListStateMachinesResult(items, p.next_token or "")

    async def validate_state_machine_definition(
        self, r: s.ValidateStateMachineDefinitionRequest
    ) -> s.ValidateStateMachineDefinitionResult:
        result, diagnostics = await self.core.validate_state_machine_definition(
            r.definition, r.type, r.severity or "ERROR", r.max_results
        )
        items = [
            s.ValidateStateMachineDefinitionDiagnostic(d.severity, d.code, d.message, d.location)
            for d in diagnostics.items
        ]
        return s.ValidateStateMachineDefinitionResult(result, items, diagnostics.truncated)

    # --- tags -----------------------------------------------------------------------------
    async def tag_resource(self, r: s.TagResourceRequest) -> s.Empty:
        await self.core.tag_resource(r.resource_arn, {t.key: t.value for t in r.tags})
        return _EMPTY

    async def untag_resource(self, r: s.UntagResourceRequest) -> s.Empty:
        await self.core.untag_resource(r.resource_arn, r.tag_keys)
        return _EMPTY

    async def list_tags_for_resource(
        self, r: s.ListTagsForResourceRequest
    ) -> s.ListTagsForResourceResult:
        tags = await self.core.list_tags_for_resource(r.resource_arn)
        items = [{"key": k, "value": v} for k, v in sorted(tags.items())]
        return s.ListTagsForResourceResult(items)

    # --- versions and aliases -----------------------------------------------------------
    async def publish_state_machine_version(
        self, r: s.PublishStateMachineVersionRequest
    ) -> s.PublishStateMachineVersionResult:
        v = await self.core.publish_state_machine_version(
            r.state_machine_arn, r.description, r.revision_id
        )
        return s.PublishStateMachineVersionResult(
            _date(v.creation_date), v.state_machine_version_arn
        )

    async def list_state_machine_versions(
        self, r: s.ListStateMachineVersionsRequest
    ) -> s.ListStateMachineVersionsResult:
        p = await self.core.list_state_machine_versions(
            r.state_machine_arn, r.max_results, r.next_token
        )
        items = [
            s.StateMachineVersionListItem(v.state_machine_version_arn, _date(v.creation_date))
            for v in p.items
        ]
        return s.ListStateMachineVersionsResult(items, p.next_token or "")

    async def delete_state_machine_version(self, r: s.DeleteStateMachineVersionRequest) -> s.Empty:
        await self.core.delete_state_machine_version(r.state_machine_version_arn)
        return _EMPTY

    async def create_state_machine_alias(
        self, r: s.CreateStateMachineAliasRequest
    ) -> s.CreateStateMachineAliasResult:
        a = await self.core.create_state_machine_alias(
            r.name, _routing(r.routing_configuration), r.description
        )
        return s.CreateStateMachineAliasResult(a.state_machine_alias_arn, _date(a.creation_date))

    async def update_state_machine_alias(
        self, r: s.UpdateStateMachineAliasRequest
    ) -> s.UpdateStateMachineAliasResult:
        routing = None if r.routing_configuration is None else _routing(r.routing_configuration)
        a = await self.core.update_state_machine_alias(
            r.state_machine_alias_arn, r.description, routing
        )
        return s.UpdateStateMachineAliasResult(_date(a.update_date))

    async def delete_state_machine_alias(self, r: s.DeleteStateMachineAliasRequest) -> s.Empty:
        await self.core.delete_state_machine_alias(r.state_machine_alias_arn)
        return _EMPTY

    async def describe_state_machine_alias(
        self, r: s.DescribeStateMachineAliasRequest
    ) -> s.DescribeStateMachineAliasResult:
        a = await self.core.describe_state_machine_alias(r.state_machine_alias_arn)
        return s.DescribeStateMachineAliasResult(
            a.state_machine_alias_arn,
            a.name,
            a.description,
            _routing_items(a),
            _date(a.creation_date),
            _date(a.update_date),
        )

    async def list_state_machine_aliases(
        self, r: s.ListStateMachineAliasesRequest
    ) -> s.ListStateMachineAliasesResult:
        p = await self.core.list_state_machine_aliases(
            r.state_machine_arn, r.max_results, r.next_token
        )
        items = [
            s.StateMachineAliasListItem(a.state_machine_alias_arn, _date(a.creation_date))
            for a in p.items
        ]
        return s.ListStateMachineAliasesResult(items, p.next_token or "")

    # --- executions ---------------------------------------------------------------------
    async def start_execution(self, r: s.StartExecutionRequest) -> s.StartExecutionResult:
        e = await self.core.start_execution(r.state_machine_arn, r.name, r.input)
        return s.StartExecutionResult(e.execution_arn, _date(e.start_date))

    async def start_sync_execution(self, r: s.StartSyncExecutionRequest) -> s.ExecutionResult:
        included = included_data(r.included_data)
        e = await self.core.start_sync_execution(r.state_machine_arn, r.name, r.input)
        out = _execution(e, data=included)
        # A synchronous execution's answer has no version, alias or redrive members.
        out.state_machine_version_arn = out.state_machine_alias_arn = None
        out.redrive_count = None
        out.billing_details = _billing(e)
        return out

    async def stop_execution(self, r: s.StopExecutionRequest) -> s.StopExecutionResult:
        stopped = await self.core.stop_execution(r.execution_arn, r.error, r.cause)
        return s.StopExecutionResult(_date(stopped))

    async def describe_execution(self, r: s.DescribeExecutionRequest) -> s.ExecutionResult:
        included = included_data(r.included_data)
        return _execution(await self.core.describe_execution(r.execution_arn), data=included)

    async def describe_state_machine_for_execution(
        self, r: s.DescribeStateMachineForExecutionRequest
    ) -> s.DescribeStateMachineForExecutionResult:
        included_data(r.included_data)
        m = await self.core.describe_state_machine_for_execution(r.execution_arn)
        return s.DescribeStateMachineForExecutionResult(
            m.state_machine_arn,
            m.name,
            m.definition,
            m.role_arn,
            _date(m.update_date),
            m.revision_id,
        )

    async def list_executions(self, r: s.ListExecutionsRequest) -> s.ListExecutionsResult:
        p = await self.core.list_executions(
            r.state_machine_arn,
            r.status_filter,
            r.max_results,
            r.next_token,
            map_run_arn=r.map_run_arn,
            redrive_filter=r.redrive_filter,
        )
        items = []
        for e in p.items:
            item = _execution(e, data=False)
            # ListExecutions' items carry no error, cause or redrive status.
            item.error = item.cause = item.redrive_status = item.redrive_status_reason = None
            items.append(item)
        return s.ListExecutionsResult(items, p.next_token or "")

    async def get_execution_history(
        self, r: s.GetExecutionHistoryRequest
    ) -> s.GetExecutionHistoryResult:
        p = await self.core.get_execution_history(
            r.execution_arn,
            r.max_results,
            r.next_token,
            r.reverse_order,
            r.include_execution_data,
        )
        return s.GetExecutionHistoryResult([_event(e) for e in p.items], p.next_token or "")

    async def redrive_execution(self, r: s.RedriveExecutionRequest) -> s.RedriveExecutionResult:
        return s.RedriveExecutionResult(
            _date(await self.core.redrive_execution(r.execution_arn, r.client_token))
        )

    # --- Distributed Map runs -------------------------------------------------------------
    async def describe_map_run(self, r: s.DescribeMapRunRequest) -> s.DescribeMapRunResult:
        m = await self.core.describe_map_run(r.map_run_arn)
        return s.DescribeMapRunResult(
            map_run_arn=m.map_run_arn,
            execution_arn=m.execution_arn,
            status=m.status,
            start_date=_date(m.start_date),
            stop_date=_maybe_date(m.stop_date),
            max_concurrency=m.max_concurrency,
            tolerated_failure_percentage=m.tolerated_failure_percentage,
            tolerated_failure_count=m.tolerated_failure_count,
            item_counts=s.MapRunCounts(**dataclasses.asdict(m.item_counts)),
            execution_counts=s.MapRunCounts(**dataclasses.asdict(m.execution_counts)),
            redrive_count=m.redrive_count,
            redrive_date=_maybe_date(m.redrive_date),
        )

    async def list_map_runs(self, r: s.ListMapRunsRequest) -> s.ListMapRunsResult:
        p = await self.core.list_map_runs(r.execution_arn, r.max_results, r.next_token)
        items = [
            s.MapRunListItem(
                i.execution_arn,
                i.map_run_arn,
                i.state_machine_arn,
                _date(i.start_date),
                _maybe_date(i.stop_date),
            )
            for i in p.items
        ]
        return s.ListMapRunsResult(items, p.next_token or "")

    async def update_map_run(self, r: s.UpdateMapRunRequest) -> s.Empty:
        await self.core.update_map_run(
            r.map_run_arn,
            r.max_concurrency,
            r.tolerated_failure_percentage,
            r.tolerated_failure_count,
        )
        return _EMPTY

    # --- callbacks ----------------------------------------------------------------------
    async def send_task_success(self, r: s.SendTaskSuccessRequest) -> s.Empty:
        await self.core.send_task_success(r.task_token, r.output)
        return _EMPTY

    async def send_task_failure(self, r: s.SendTaskFailureRequest) -> s.Empty:
        await self.core.send_task_failure(r.task_token, r.error, r.cause)
        return _EMPTY

    async def send_task_heartbeat(self, r: s.SendTaskHeartbeatRequest) -> s.Empty:
        await self.core.send_task_heartbeat(r.task_token)
        return _EMPTY

    # --- activities and TestState ---------------------------------------------------------
    async def create_activity(self, r: s.CreateActivityRequest) -> s.CreateActivityResult:
        a = await self.core.create_activity(r.name, {t.key: t.value for t in r.tags})
        return s.CreateActivityResult(a.activity_arn, _date(a.creation_date))

    async def describe_activity(self, r: s.DescribeActivityRequest) -> s.DescribeActivityResult:
        a = await self.core.describe_activity(r.activity_arn)
        return s.DescribeActivityResult(a.activity_arn, a.name, _date(a.creation_date))

    async def delete_activity(self, r: s.DeleteActivityRequest) -> s.Empty:
        await self.core.delete_activity(r.activity_arn)
        return _EMPTY

    async def list_activities(self, r: s.ListActivitiesRequest) -> s.ListActivitiesResult:
        p = await self.core.list_activities(r.max_results, r.next_token)
        items = [
            s.DescribeActivityResult(a.activity_arn, a.name, _date(a.creation_date))
            for a in p.items
        ]
        return s.ListActivitiesResult(items, p.next_token or "")

    async def get_activity_task(self, r: s.GetActivityTaskRequest) -> s.GetActivityTaskResult:
        task = await self.core.get_activity_task(r.activity_arn, r.worker_name)
        return s.GetActivityTaskResult(task.task_token, task.input)

    async def test_state(self, r: s.TestStateRequest) -> s.TestStateResult:
        res = await self.core.test_state(
            r.definition, r.role_arn, r.input, r.inspection_level, r.reveal_secrets
        )
        data = res.inspection_data
        return s.TestStateResult(
            res.status,
            res.output or "",
            res.error or "",
            res.cause or "",
            res.next_state or "",
            None
            if data is None
            else s.InspectionData(**{k: v or "" for k, v in dataclasses.asdict(data).items()}),
        )
