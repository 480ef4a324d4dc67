"""The Step Functions actions' request and result shapes, as the AWS JSON protocol has them.

What ``operations.WorkflowsOperations`` takes and returns: one ``<Action>Request`` /
``<Action>Result`` pair per action, fields in snake_case of Step Functions' member
names (``stateMachineArn`` -> ``state_machine_arn``), so the gateway builds and reads
them by name alone. Absent strings are ""; absent numbers and structures None. Dates are
``datetime`` (the wire's epoch seconds), where the core counts milliseconds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# --- state machines -----------------------------------------------------------------------


@dataclass
class Tag:
    key: str = ""
    value: str = ""


@dataclass
class CreateStateMachineRequest:
    name: str = ""
    definition: str = ""
    role_arn: str = ""
    type: str = ""
    tags: list[Tag] = field(default_factory=list)
    publish: bool = False
    version_description: str = ""
    logging_configuration: dict[str, Any] | None = None
    tracing_configuration: dict[str, Any] | None = None


@dataclass
class CreateStateMachineResult:
    state_machine_arn: str
    creation_date: dt.datetime
    state_machine_version_arn: str = ""


@dataclass
class UpdateStateMachineRequest:
    state_machine_arn: str = ""
    definition: str | None = None
    role_arn: str | None = None
    publish: bool = False
    version_description: str = ""
    logging_configuration: dict[str, Any] | None = None
    tracing_configuration: dict[str, Any] | None = None


@dataclass
class UpdateStateMachineResult:
    update_date: dt.datetime
    revision_id: str
    state_machine_version_arn: str = ""


@dataclass
class DeleteStateMachineRequest:
    state_machine_arn: str = ""


@dataclass
class DescribeStateMachineRequest:
    state_machine_arn: str = ""
    included_data: str = ""


@dataclass
class DescribeStateMachineResult:
    state_machine_arn: str
    name: str
    status: str
    definition: str
    role_arn: str
    type: str
    creation_date: dt.datetime
    revision_id: str
    description: str = ""
    logging_configuration: dict[str, Any] | None = None
    tracing_configuration: dict[str, Any] | None = None


@dataclass
class ListStateMachinesRequest:
    max_results: int = 0
    next_token: str = ""


@dataclass
class StateMachineListItem:
    state_machine_arn: str
    name: str
    type: str
    creation_date: dt.datetime


@dataclass
class ListStateMachinesResult:
    state_machines: list[StateMachineListItem]
    next_token: str = ""


@dataclass
class ValidateStateMachineDefinitionRequest:
    definition: str = ""
    type: str = ""
    severity: str = ""
    max_results: int = 0


@dataclass
class ValidateStateMachineDefinitionDiagnostic:
    severity: str
    code: str
    message: str
    location: str = ""


@dataclass
class ValidateStateMachineDefinitionResult:
    result: str
    diagnostics: list[ValidateStateMachineDefinitionDiagnostic]
    truncated: bool = False


@dataclass
class TagResourceRequest:
    resource_arn: str = ""
    tags: list[Tag] = field(default_factory=list)


@dataclass
class UntagResourceRequest:
    resource_arn: str = ""
    tag_keys: list[str] = field(default_factory=list)


@dataclass
class ListTagsForResourceRequest:
    resource_arn: str = ""


@dataclass
class ListTagsForResourceResult:
    tags: list[dict[str, str]]  # mappings, so an empty value is kept ("value": "")


# --- versions and aliases -----------------------------------------------------------------


@dataclass
class PublishStateMachineVersionRequest:
    state_machine_arn: str = ""
    revision_id: str = ""
    description: str = ""


@dataclass
class PublishStateMachineVersionResult:
    creation_date: dt.datetime
    state_machine_version_arn: str


@dataclass
class ListStateMachineVersionsRequest:
    state_machine_arn: str = ""
    next_token: str = ""
    max_results: int = 0


@dataclass
class StateMachineVersionListItem:
    state_machine_version_arn: str
    creation_date: dt.datetime


@dataclass
class ListStateMachineVersionsResult:
    state_machine_versions: list[StateMachineVersionListItem]
    next_token: str = ""


@dataclass
class DeleteStateMachineVersionRequest:
    state_machine_version_arn: str = ""


@dataclass
class RoutingConfigurationListItem:
    state_machine_version_arn: str = ""
    weight: int = 0


@dataclass
class CreateStateMachineAliasRequest:
    name: str = ""
    routing_configuration: list[RoutingConfigurationListItem] = field(default_factory=list)
    description: str = ""


@dataclass
class CreateStateMachineAliasResult:
    state_machine_alias_arn: str
    creation_date: dt.datetime


@dataclass
class UpdateStateMachineAliasRequest:
    state_machine_alias_arn: str = ""
    description: str | None = None
    routing_configuration: list[RoutingConfigurationListItem] | None = None


@dataclass
class UpdateStateMachineAliasResult:
    update_date: dt.datetime


@dataclass
class DeleteStateMachineAliasRequest:
    state_machine_alias_arn: str = ""


@dataclass
class DescribeStateMachineAliasRequest:
    state_machine_alias_arn: str = ""


@dataclass
class DescribeStateMachineAliasResult:
    state_machine_alias_arn: str
    name: str
    description: str
    routing_configuration: list[RoutingConfigurationListItem]
    creation_date: dt.datetime
    update_date: dt.datetime


@dataclass
class ListStateMachineAliasesRequest:
    state_machine_arn: str = ""
    next_token: str = ""
    max_results: int = 0


@dataclass
class StateMachineAliasListItem:
    state_machine_alias_arn: str
    creation_date: dt.datetime


@dataclass
class ListStateMachineAliasesResult:
    state_machine_aliases: list[StateMachineAliasListItem]
    next_token: str = ""


# --- executions ---------------------------------------------------------------------------


@dataclass
class StartExecutionRequest:
    state_machine_arn: str = ""
    name: str = ""
    input: str = ""
    trace_header: str = ""


@dataclass
class StartExecutionResult:
    execution_arn: str
    start_date: dt.datetime


@dataclass
class StartSyncExecutionRequest:
    state_machine_arn: str = ""
    name: str = ""
    input: str = ""
    trace_header: str = ""
    included_data: str = ""


@dataclass
class DescribeExecutionRequest:
    execution_arn: str = ""
    included_data: str = ""


@dataclass
class ExecutionResult:
    """DescribeExecution's, StartSyncExecution's and (fewer members) ListExecutions' item."""

    execution_arn: str
    state_machine_arn: str
    name: str
    status: str
    start_date: dt.datetime
    stop_date: dt.datetime | None = None
    input: str | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    state_machine_version_arn: str | None = None
    state_machine_alias_arn: str | None = None
    redrive_count: int | None = None
    redrive_date: dt.datetime | None = None
    redrive_status: str | None = None
    redrive_status_reason: str | None = None
    input_details: dict[str, bool] | None = None
    output_details: dict[str, bool] | None = None
    billing_details: dict[str, int] | None = None  # StartSyncExecution's


@dataclass
class StopExecutionRequest:
    execution_arn: str = ""
    error: str = ""
    cause: str = ""


@dataclass
class StopExecutionResult:
    stop_date: dt.datetime


@dataclass
class DescribeStateMachineForExecutionRequest:
    execution_arn: str = ""
    included_data: str = ""


@dataclass
class DescribeStateMachineForExecutionResult:
    state_machine_arn: str
    name: str
    definition: str
    role_arn: str
    update_date: dt.datetime
    revision_id: str


@dataclass
class ListExecutionsRequest:
    state_machine_arn: str = ""
    status_filter: str = ""
    max_results: int = 0
    next_token: str = ""
    map_run_arn: str = ""
    redrive_filter: str = ""


@dataclass
class ListExecutionsResult:
    executions: list[ExecutionResult]
    next_token: str = ""


@dataclass
class GetExecutionHistoryRequest:
    execution_arn: str = ""
    max_results: int = 0
    reverse_order: bool = False
    next_token: str = ""
    include_execution_data: bool | None = None


@dataclass
class GetExecutionHistoryResult:
    # AWS's HistoryEvent objects by member name (``type``, ``id``, ``previousEventId``,
    # ``timestamp`` as a datetime, ``<eventType>EventDetails``).
    events: list[dict[str, Any]]
    next_token: str = ""


@dataclass
class RedriveExecutionRequest:
    execution_arn: str = ""
    client_token: str = ""


@dataclass
class RedriveExecutionResult:
    redrive_date: dt.datetime


# --- callbacks ----------------------------------------------------------------------------


@dataclass
class SendTaskSuccessRequest:
    task_token: str = ""
    output: str = ""


@dataclass
class SendTaskFailureRequest:
    task_token: str = ""
    error: str = ""
    cause: str = ""


@dataclass
class SendTaskHeartbeatRequest:
    task_token: str = ""


# --- activities and TestState ---------------------------------------------------------------


@dataclass
class CreateActivityRequest:
    name: str = ""
    tags: list[Tag] = field(default_factory=list)
    encryption_configuration: Any = None  # accepted, not modelled


@dataclass
class CreateActivityResult:
    activity_arn: str
    creation_date: dt.datetime


@dataclass
class DescribeActivityRequest:
    activity_arn: str = ""


@dataclass
class DescribeActivityResult:
    activity_arn: str
    name: str
    creation_date: dt.datetime


@dataclass
class DeleteActivityRequest:
    activity_arn: str = ""


@dataclass
class ListActivitiesRequest:
    max_results: int = 0
    next_token: str = ""


@dataclass
class ListActivitiesResult:
    activities: list[DescribeActivityResult]
    next_token: str = ""


@dataclass
class GetActivityTaskRequest:
    activity_arn: str = ""
    worker_name: str = ""


@dataclass
class GetActivityTaskResult:
    task_token: str = ""
    input: str = ""


@dataclass
class TestStateRequest:
    __test__ = False  # not a pytest class

    definition: str = ""
    role_arn: str = ""
    input: str = ""
    inspection_level: str = ""
    reveal_secrets: bool = False


@dataclass
class InspectionData:
    input: str = ""
    after_arguments: str = ""
    after_input_path: str = ""
    after_parameters: str = ""
    result: str = ""
    after_result_selector: str = ""
    after_result_path: str = ""
    variables: str = ""


@dataclass
class TestStateResult:
    __test__ = False

    status: str
    output: str = ""
    error: str = ""
    cause: str = ""
    next_state: str = ""
    inspection_data: InspectionData | None = None


# --- Distributed Map runs -----------------------------------------------------------------


@dataclass
class DescribeMapRunRequest:
    map_run_arn: str = ""


@dataclass
class MapRunCounts:
    """Both ``itemCounts`` and ``executionCounts``."""

    pending: int
    running: int
    succeeded: int
    failed: int
    timed_out: int
    aborted: int
    total: int
    results_written: int
    failures_not_redrivable: int = 0
    pending_redrive: int = 0


@dataclass
class DescribeMapRunResult:
    map_run_arn: str
    execution_arn: str
    status: str
    start_date: dt.datetime
    max_concurrency: int
    tolerated_failure_percentage: float
    tolerated_failure_count: int
    item_counts: MapRunCounts
    execution_counts: MapRunCounts
    stop_date: dt.datetime | None = None
    redrive_count: int = 0
    redrive_date: dt.datetime | None = None


@dataclass
class ListMapRunsRequest:
    execution_arn: str = ""
    max_results: int = 0
    next_token: str = ""


@dataclass
class MapRunListItem:
    execution_arn: str
    map_run_arn: str
    state_machine_arn: str
    start_date: dt.datetime
    stop_date: dt.datetime | None = None


@dataclass
class ListMapRunsResult:
    map_runs: list[MapRunListItem]
    next_token: str = ""


@dataclass
class UpdateMapRunRequest:
    map_run_arn: str = ""
    max_concurrency: int | None = None
    tolerated_failure_percentage: float | None = None
    tolerated_failure_count: int | None = None


@dataclass
class Empty:
    """The output of actions that answer ``{}``."""
