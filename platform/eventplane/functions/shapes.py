"""The Lambda actions' request and result shapes, as plain typed dataclasses.

What the functions core (``operations.FunctionOperations``) takes and returns. Names
follow Lambda's API: one ``<Action>Request`` per action, fields in snake_case of
Lambda's member names (``FunctionName`` -> ``function_name``,
``MaximumEventAgeInSeconds`` -> ``maximum_event_age_in_seconds``), so each front door
translates onto them by name alone: the gRPC servicer from protobuf, the HTTP gateway
from botocore's ``lambda`` model. Optional members are None when the caller left them
out (Lambda tells "not given" from "zero" for Timeout, Enabled, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# --- shared shapes -----------------------------------------------------------------------------


@dataclass
class FunctionCode:
    zip_file: bytes | None = None
    # eventplane only (local development): run the code in place from this directory.
    directory: str | None = None


@dataclass
class Environment:
    variables: dict[str, str] = field(default_factory=dict)


@dataclass
class DeadLetterConfig:
    target_arn: str | None = None


@dataclass
class EnvironmentResponse:
    variables: dict[str, str] = field(default_factory=dict)


@dataclass
class TracingConfigResponse:
    mode: str = "PassThrough"


@dataclass
class EphemeralStorage:
    size: int = 512  # MB of /tmp: Lambda's default


@dataclass
class FunctionConfiguration:
    function_name: str
    function_arn: str
    runtime: str
    handler: str
    code_size: int
    description: str
    timeout: int
    memory_size: int
    last_modified: str
    code_sha256: str
    version: str
    environment: EnvironmentResponse | None  # None: no variables (Lambda leaves it out)
    dead_letter_config: DeadLetterConfig | None
    revision_id: str
    state: str = "Active"
    package_type: str = "Zip"
    role: str = ""
    # A change is applied before its call answers, so every update has succeeded.
    last_update_status: str = "Successful"
    architectures: list[str] = field(default_factory=lambda: ["x86_64"])
    ephemeral_storage: EphemeralStorage = field(default_factory=EphemeralStorage)
    tracing_config: TracingConfigResponse = field(default_factory=TracingConfigResponse)


@dataclass
class Concurrency:
    reserved_concurrent_executions: int | None = None


@dataclass
class FunctionCodeLocation:
    repository_type: str = "S3"
    location: str = ""


@dataclass
class AliasRoutingConfiguration:
    additional_version_weights: dict[str, float] = field(default_factory=dict)


@dataclass
class AliasConfiguration:
    alias_arn: str
    name: str
    function_version: str
    description: str
    revision_id: str
    routing_config: AliasRoutingConfiguration | None = None  # present when weights are set


@dataclass
class OnSuccess:
    destination: str | None = None


@dataclass
class OnFailure:
    destination: str | None = None


@dataclass
class DestinationConfig:
    on_success: OnSuccess | None = None
    on_failure: OnFailure | None = None


@dataclass
class FunctionEventInvokeConfig:
    function_arn: str
    maximum_retry_attempts: int
    maximum_event_age_in_seconds: int
    destination_config: DestinationConfig
    last_modified: str


@dataclass
class ScalingConfig:
    maximum_concurrency: int | None = None


@dataclass
class Filter:
    pattern: str | None = None


@dataclass
class FilterCriteria:
    filters: list[Filter] = field(default_factory=list)


@dataclass
class EventSourceMappingConfiguration:
    uuid: str
    event_source_arn: str
    function_arn: str
    batch_size: int
    maximum_batching_window_in_seconds: int
    state: str
    function_response_types: list[str]
    last_modified: str
    state_transition_reason: str
    scaling_config: ScalingConfig | None = None  # present only when a limit is set
    event_source_mapping_arn: str = ""
    # streams only (None for a queue)
    starting_position: str | None = None
    starting_position_timestamp: float | None = None  # seconds since the epoch
    maximum_retry_attempts: int | None = None
    maximum_record_age_in_seconds: int | None = None
    bisect_batch_on_function_error: bool | None = None
    parallelization_factor: int | None = None
    destination_config: DestinationConfig | None = None
    filter_criteria: FilterCriteria | None = None
    tumbling_window_in_seconds: int | None = None


# --- functions -------------------------------------------------------------------------------


@dataclass
class CreateFunctionRequest:
    function_name: str = ""
    handler: str = ""
    code: FunctionCode = field(default_factory=FunctionCode)
    runtime: str = ""
    role: str = ""
    timeout: int | None = None
    memory_size: int | None = None
    environment: Environment | None = None
    description: str = ""
    publish: bool = False
    dead_letter_config: DeadLetterConfig | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class UpdateFunctionCodeRequest:
    function_name: str = ""
    zip_file: bytes | None = None
    directory: str | None = None
    publish: bool = False
    revision_id: str = ""  # given: must be $LATEST's (else PreconditionFailed)


@dataclass
class UpdateFunctionConfigurationRequest:
    function_name: str = ""
    handler: str | None = None
    timeout: int | None = None
    memory_size: int | None = None
    description: str | None = None
    environment: Environment | None = None  # given: replaces the whole environment
    dead_letter_config: DeadLetterConfig | None = None  # TargetArn "" removes it
    role: str | None = None
    revision_id: str = ""  # given: must be $LATEST's (else PreconditionFailed)


@dataclass
class GetFunctionRequest:
    function_name: str = ""
    qualifier: str = ""


@dataclass
class GetFunctionConfigurationRequest:
    function_name: str = ""
    qualifier: str = ""


@dataclass
class GetFunctionResult:
    configuration: FunctionConfiguration
    code: FunctionCodeLocation
    tags: dict[str, str]
    concurrency: Concurrency | None


@dataclass
class ListFunctionsRequest:
    marker: str = ""
    max_items: int = 0


@dataclass
class ListFunctionsResult:
    functions: list[FunctionConfiguration]
    next_marker: str = ""


@dataclass
class DeleteFunctionRequest:
    function_name: str = ""
    qualifier: str = ""


@dataclass
class Empty:
    """The result of the actions that answer nothing (Delete...)."""


@dataclass
class DeleteFunctionResult:
    status_code: int = 204  # Lambda's answer to a deletion: 204 No Content


# --- versions and aliases ------------------------------------------------------------------


@dataclass
class PublishVersionRequest:
    function_name: str = ""
    description: str = ""
    code_sha256: str = ""
    revision_id: str = ""  # given: must be $LATEST's (else PreconditionFailed)


@dataclass
class ListVersionsByFunctionRequest:
    function_name: str = ""
    marker: str = ""
    max_items: int = 0


@dataclass
class ListVersionsByFunctionResult:
    versions: list[FunctionConfiguration]
    next_marker: str = ""


@dataclass
class CreateAliasRequest:
    function_name: str = ""
    name: str = ""
    function_version: str = ""
    description: str = ""
    routing_config: AliasRoutingConfiguration | None = None


@dataclass
class UpdateAliasRequest:
    function_name: str = ""
    name: str = ""
    function_version: str | None = None
    description: str | None = None
    revision_id: str = ""  # given: must be the alias's (else PreconditionFailed)
    routing_config: AliasRoutingConfiguration | None = None  # None: unchanged


@dataclass
class GetAliasRequest:
    function_name: str = ""
    name: str = ""


@dataclass
class DeleteAliasRequest:
    function_name: str = ""
    name: str = ""


@dataclass
class ListAliasesRequest:
    function_name: str = ""
    function_version: str = ""
    marker: str = ""
    max_items: int = 0


@dataclass
class ListAliasesResult:
    aliases: list[AliasConfiguration]
    next_marker: str = ""


# --- invoke ----------------------------------------------------------------------------------


@dataclass
class InvokeRequest:
    function_name: str = ""
    qualifier: str = ""
    invocation_type: str = ""
    log_type: str = ""
    payload: bytes = b""
    client_context: str = ""


@dataclass
class InvokeResult:
    status_code: int
    executed_version: str
    request_id: str
    payload: bytes = b""
    function_error: str = ""
    log_result: str = ""


# --- concurrency -----------------------------------------------------------------------------


@dataclass
class PutFunctionConcurrencyRequest:
    function_name: str = ""
    reserved_concurrent_executions: int | None = None


@dataclass
class GetFunctionConcurrencyRequest:
    function_name: str = ""


@dataclass
class DeleteFunctionConcurrencyRequest:
    function_name: str = ""


# --- asynchronous invocation -------------------------------------------------------------------


@dataclass
class PutFunctionEventInvokeConfigRequest:
    function_name: str = ""
    qualifier: str = ""
    maximum_retry_attempts: int | None = None
    maximum_event_age_in_seconds: int | None = None
    destination_config: DestinationConfig | None = None


@dataclass
class UpdateFunctionEventInvokeConfigRequest:
    """Like Put, but a setting left out keeps its value (Put resets it)."""

    function_name: str = ""
    qualifier: str = ""
    maximum_retry_attempts: int | None = None
    maximum_event_age_in_seconds: int | None = None
    destination_config: DestinationConfig | None = None


@dataclass
class ListFunctionEventInvokeConfigsRequest:
    function_name: str = ""
    marker: str = ""
    max_items: int = 0


@dataclass
class ListFunctionEventInvokeConfigsResult:
    function_event_invoke_configs: list[FunctionEventInvokeConfig]
    next_marker: str = ""


@dataclass
class GetFunctionEventInvokeConfigRequest:
    function_name: str = ""
    qualifier: str = ""


@dataclass
class DeleteFunctionEventInvokeConfigRequest:
    function_name: str = ""
    qualifier: str = ""


# --- resource-based policy ---------------------------------------------------------------------


@dataclass
class AddPermissionRequest:
    function_name: str = ""
    statement_id: str = ""
    action: str = ""
    principal: str = ""
    source_arn: str = ""
    source_account: str = ""
    principal_org_id: str = ""
    qualifier: str = ""
    revision_id: str = ""


@dataclass
class AddPermissionResponse:
    statement: str  # the statement added, as JSON text


@dataclass
class RemovePermissionRequest:
    function_name: str = ""
    statement_id: str = ""
    qualifier: str = ""
    revision_id: str = ""


@dataclass
class GetPolicyRequest:
    function_name: str = ""
    qualifier: str = ""


@dataclass
class GetPolicyResponse:
    policy: str  # the whole policy document, as JSON text
    revision_id: str


# --- event source mappings ---------------------------------------------------------------------


@dataclass
class CreateEventSourceMappingRequest:
    event_source_arn: str = ""
    function_name: str = ""
    batch_size: int | None = None
    maximum_batching_window_in_seconds: int | None = None
    enabled: bool | None = None
    function_response_types: list[str] = field(default_factory=list)
    scaling_config: ScalingConfig | None = None
    # streams only
    starting_position: str | None = None
    starting_position_timestamp: Any = None  # seconds since the epoch, or a datetime
    maximum_retry_attempts: int | None = None
    maximum_record_age_in_seconds: int | None = None
    bisect_batch_on_function_error: bool | None = None
    parallelization_factor: int | None = None
    destination_config: DestinationConfig | None = None
    filter_criteria: FilterCriteria | None = None
    tumbling_window_in_seconds: int | None = None


@dataclass
class UpdateEventSourceMappingRequest:
    uuid: str = ""
    function_name: str = ""
    batch_size: int | None = None
    maximum_batching_window_in_seconds: int | None = None
    enabled: bool | None = None
    function_response_types: list[str] | None = None  # None: unchanged
    scaling_config: ScalingConfig | None = None
    # streams only
    maximum_retry_attempts: int | None = None
    maximum_record_age_in_seconds: int | None = None
    bisect_batch_on_function_error: bool | None = None
    parallelization_factor: int | None = None
    destination_config: DestinationConfig | None = None
    filter_criteria: FilterCriteria | None = None
    tumbling_window_in_seconds: int | None = None


@dataclass
class GetEventSourceMappingRequest:
    uuid: str = ""


@dataclass
class DeleteEventSourceMappingRequest:
    uuid: str = ""


@dataclass
class ListEventSourceMappingsRequest:
    event_source_arn: str = ""
    function_name: str = ""
    marker: str = ""
    max_items: int = 0


@dataclass
class ListEventSourceMappingsResult:
    event_source_mappings: list[EventSourceMappingConfiguration]
    next_marker: str = ""


# --- account ---------------------------------------------------------------------------------


@dataclass
class GetAccountSettingsRequest:
    pass


@dataclass
class AccountLimit:
    total_code_size: int
    code_size_unzipped: int
    code_size_zipped: int
    concurrent_executions: int
    unreserved_concurrent_executions: int


@dataclass
class AccountUsage:
    total_code_size: int
    function_count: int


@dataclass
class GetAccountSettingsResult:
    account_limit: AccountLimit
    account_usage: AccountUsage


# --- tags ------------------------------------------------------------------------------------


@dataclass
class TagResourceRequest:
    resource: str = ""
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class UntagResourceRequest:
    resource: str = ""
    tag_keys: list[str] = field(default_factory=list)


@dataclass
class ListTagsRequest:
    resource: str = ""


@dataclass
class ListTagsResult:
    tags: dict[str, str] = field(default_factory=dict)
