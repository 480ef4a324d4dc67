"""The Functions gRPC service: translate protobuf onto the functions core and back.

Every rule lives in ``operations.FunctionOperations`` (shared with the AWS-protocol
gateway); this module only maps fields. Protobuf's unset optionals become None, and
the core's None (no reserved concurrency) becomes the proto's -1.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from eventplane._gen.v1 import functions_pb2 as pb
from eventplane._gen.v1 import functions_pb2_grpc
from eventplane.functions import shapes as s
from eventplane.functions.operations import FunctionOperations

Ctx: TypeAlias = grpc.aio.ServicerContext


def _optional(request: Any, field: str) -> Any:
    return getattr(request, field) if request.HasField(field) else None


def _code(code: pb.FunctionCode) -> s.FunctionCode:
    which = code.WhichOneof("source")
    if which == "zip_file":
        return s.FunctionCode(zip_file=code.zip_file)
    if which == "directory":
        return s.FunctionCode(directory=code.directory)
    return s.FunctionCode()


def _configuration(c: s.FunctionConfiguration) -> pb.FunctionConfiguration:
    return pb.FunctionConfiguration(
        function_name=c.function_name,
        function_arn=c.function_arn,
        handler=c.handler,
        runtime=c.runtime,
        timeout=c.timeout,
        memory_size=c.memory_size,
        environment=c.environment.variables if c.environment else {},
        description=c.description,
        version=c.version,
        code_sha256=c.code_sha256,
        code_size=c.code_size,
        last_modified=c.last_modified,
        dead_letter_target_arn=(c.dead_letter_config.target_arn or "")
        if c.dead_letter_config
        else "",
        state=c.state,
        package_type=c.package_type,
        revision_id=c.revision_id,
        role=c.role,
    )


def _alias(a: s.AliasConfiguration) -> pb.Alias:
    return pb.Alias(
        alias_arn=a.alias_arn,
        name=a.name,
        function_version=a.function_version,
        description=a.description,
        revision_id=a.revision_id,
        additional_version_weights=(
            a.routing_config.additional_version_weights if a.routing_config else {}
        ),
    )


def _routing(weights: Any) -> s.AliasRoutingConfiguration:
    return s.AliasRoutingConfiguration(dict(weights))


def _invoke_config(c: s.FunctionEventInvokeConfig) -> pb.FunctionEventInvokeConfig:
    d = c.destination_config
    return pb.FunctionEventInvokeConfig(
        function_arn=c.function_arn,
        maximum_retry_attempts=c.maximum_retry_attempts,
        maximum_event_age_in_seconds=c.maximum_event_age_in_seconds,
        on_success_destination=(d.on_success.destination or "") if d.on_success else "",
        on_failure_destination=(d.on_failure.destination or "") if d.on_failure else "",
        last_modified=c.last_modified,
    )


def _mapping(m: s.EventSourceMappingConfiguration) -> pb.EventSourceMapping:
    return pb.EventSourceMapping(
        uuid=m.uuid,
        event_source_arn=m.event_source_arn,
        function_arn=m.function_arn,
        batch_size=m.batch_size,
        maximum_batching_window_in_seconds=m.maximum_batching_window_in_seconds,
        state=m.state,
        function_response_types=m.function_response_types,
        maximum_concurrency=(m.scaling_config.maximum_concurrency or 0) if m.scaling_config else 0,
        last_modified=m.last_modified,
        state_transition_reason=m.state_transition_reason,
        starting_position=m.starting_position or "",
        starting_position_timestamp_ms=(
            0
            if m.starting_position_timestamp is None
            else int(m.starting_position_timestamp * 1000)
        ),
        maximum_retry_attempts=m.maximum_retry_attempts or 0,
        maximum_record_age_in_seconds=m.maximum_record_age_in_seconds or 0,
        bisect_batch_on_function_error=bool(m.bisect_batch_on_function_error),
        parallelization_factor=m.parallelization_factor or 0,
        tumbling_window_in_seconds=m.tumbling_window_in_seconds or 0,
        on_failure_destination=(
            (m.destination_config.on_failure.destination or "")
            if m.destination_config and m.destination_config.on_failure
            else ""
        ),
        filter_patterns=[
            f.pattern or "" for f in (m.filter_criteria.filters if m.filter_criteria else [])
        ],
    )


def _stream_request(request: Any) -> dict[str, Any]:
    """The stream fields of a Create/UpdateEventSourceMapping request, as shapes."""
    on_failure = _optional(request, "on_failure_destination")
    if hasattr(request, "set_filter_patterns"):
        given = request.set_filter_patterns
    else:
        given = bool(request.filter_patterns)
    return {
        "maximum_retry_attempts": _optional(request, "maximum_retry_attempts"),
        "maximum_record_age_in_seconds": _optional(request, "maximum_record_age_in_seconds"),
        "bisect_batch_on_function_error": _optional(request, "bisect_batch_on_function_error"),
        "parallelization_factor": _optional(request, "parallelization_factor"),
        "tumbling_window_in_seconds": _optional(request, "tumbling_window_in_seconds"),
        "destination_config": (
            None if on_failure is None else s.DestinationConfig(on_failure=s.OnFailure(on_failure))
        ),
        "filter_criteria": (
            s.FilterCriteria([s.Filter(p) for p in request.filter_patterns]) if given else None
        ),
    }


def _concurrency(c: s.Concurrency | None) -> int:
    if c is None or c.reserved_concurrent_executions is None:
        return -1
    return c.reserved_concurrent_executions


class FunctionsService(functions_pb2_grpc.FunctionsServicer):
    def __init__(self, ops: FunctionOperations) -> None:
        self.ops = ops

    # --- functions ----------------------------------------------------------------------------
    async def CreateFunction(
        self, request: pb.CreateFunctionRequest, context: Ctx
    ) -> pb.FunctionConfiguration:
        dead_letter = request.dead_letter_target_arn
        result = await self.ops.create_function(
            s.CreateFunctionRequest(
                function_name=request.function_name,
                handler=request.handler,
                code=_code(request.code),
                runtime=request.runtime,
                timeout=_optional(request, "timeout"),
                memory_size=_optional(request, "memory_size"),
                environment=s.Environment(dict(request.environment)),
                description=request.description,
                publish=request.publish,
                dead_letter_config=s.DeadLetterConfig(dead_letter) if dead_letter else None,
                tags=dict(request.tags),
                role=request.role,
            )
        )
        return _configuration(result)

    async def UpdateFunctionCode(
        self, request: pb.UpdateFunctionCodeRequest, context: Ctx
    ) -> pb.FunctionConfiguration:
        code = _code(request.code)
        result = await self.ops.update_function_code(
            s.UpdateFunctionCodeRequest(
                function_name=request.function_name,
                zip_file=code.zip_file,
                directory=code.directory,
                publish=request.publish,
                revision_id=request.revision_id,
            )
        )
        return _configuration(result)

    async def UpdateFunctionConfiguration(
        self, request: pb.UpdateFunctionConfigurationRequest, context: Ctx
    ) -> pb.FunctionConfiguration:
        dead_letter = _optional(request, "dead_letter_target_arn")
        result = await self.ops.update_function_configuration(
            s.UpdateFunctionConfigurationRequest(
                function_name=request.function_name,
                handler=_optional(request, "handler"),
                timeout=_optional(request, "timeout"),
                memory_size=_optional(request, "memory_size"),
                description=_optional(request, "description"),
                environment=(
                    s.Environment(dict(request.environment)) if request.set_environment else None
                ),
                dead_letter_config=None if dead_letter is None else s.DeadLetterConfig(dead_letter),
                role=_optional(request, "role"),
                revision_id=request.revision_id,
            )
        )
        return _configuration(result)

    async def GetFunction(
        self, request: pb.GetFunctionRequest, context: Ctx
    ) -> pb.GetFunctionResponse:
        result = await self.ops.get_function(
            s.GetFunctionRequest(request.function_name, request.qualifier)
        )
        return pb.GetFunctionResponse(
            configuration=_configuration(result.configuration),
            reserved_concurrent_executions=_concurrency(result.concurrency),
            tags=result.tags,
        )

    async def GetFunctionConfiguration(
        self, request: pb.GetFunctionConfigurationRequest, context: Ctx
    ) -> pb.FunctionConfiguration:
        result = await self.ops.get_function_configuration(
            s.GetFunctionConfigurationRequest(request.function_name, request.qualifier)
        )
        return _configuration(result)

    async def ListFunctions(
        self, request: pb.ListFunctionsRequest, context: Ctx
    ) -> pb.ListFunctionsResponse:
        result = await self.ops.list_functions(
            s.ListFunctionsRequest(request.marker, request.max_items)
        )
        return pb.ListFunctionsResponse(
            functions=[_configuration(c) for c in result.functions],
            next_marker=result.next_marker,
        )

    async def DeleteFunction(
        self, request: pb.DeleteFunctionRequest, context: Ctx
    ) -> pb.DeleteFunctionResponse:
        await self.ops.delete_function(
            s.DeleteFunctionRequest(request.function_name, request.qualifier)
        )
        return pb.DeleteFunctionResponse()

    # --- tags -------------------------------------------------------------------------------
    async def TagResource(
        self, request: pb.TagFunctionRequest, context: Ctx
    ) -> pb.TagFunctionResponse:
        await self.ops.tag_resource(s.TagResourceRequest(request.resource, dict(request.tags)))
        return pb.TagFunctionResponse()

    async def UntagResource(
        self, request: pb.UntagFunctionRequest, context: Ctx
    ) -> pb.UntagFunctionResponse:
        await self.ops.untag_resource(
            s.UntagResourceRequest(request.resource, list(request.tag_keys))
        )
        return pb.UntagFunctionResponse()

    async def ListTags(
        self, request: pb.ListFunctionTagsRequest, context: Ctx
    ) -> pb.ListFunctionTagsResponse:
        result = await self.ops.list_tags(s.ListTagsRequest(request.resource))
        return pb.ListFunctionTagsResponse(tags=result.tags)

    # --- account ------------------------------------------------------------------------------
    async def GetAccountSettings(
        self, request: pb.GetAccountSettingsRequest, context: Ctx
    ) -> pb.GetAccountSettingsResponse:
        result = await self.ops.get_account_settings(s.GetAccountSettingsRequest())
        limit, usage = result.account_limit, result.account_usage
        return pb.GetAccountSettingsResponse(
            account_limit=pb.AccountLimit(
                total_code_size=limit.total_code_size,
                code_size_unzipped=limit.code_size_unzipped,
                code_size_zipped=limit.code_size_zipped,
                concurrent_executions=limit.concurrent_executions,
                unreserved_concurrent_executions=limit.unreserved_concurrent_executions,
            ),
            account_usage=pb.AccountUsage(
                total_code_size=usage.total_code_size, function_count=usage.function_count
            ),
        )

    # --- versions and aliases -----------------------------------------------------------------
    async def PublishVersion(
        self, request: pb.PublishVersionRequest, context: Ctx
    ) -> pb.FunctionConfiguration:
        result = await self.ops.publish_version(
            s.PublishVersionRequest(
                request.function_name,
                request.description,
                request.code_sha256,
                request.revision_id,
            )
        )
        return _configuration(result)

    async def ListVersionsByFunction(
        self, request: pb.ListVersionsByFunctionRequest, context: Ctx
    ) -> pb.ListFunctionsResponse:
        result = await self.ops.list_versions_by_function(
            s.ListVersionsByFunctionRequest(
                request.function_name, request.marker, request.max_items
            )
        )
        return pb.ListFunctionsResponse(
            functions=[_configuration(c) for c in result.versions],
            next_marker=result.next_marker,
        )

    async def CreateAlias(self, request: pb.CreateAliasRequest, context: Ctx) -> pb.Alias:
        result = await self.ops.create_alias(
            s.CreateAliasRequest(
                request.function_name,
                request.name,
                request.function_version,
                request.description,
                _routing(request.additional_version_weights)
                if request.additional_version_weights
                else None,
            )
        )
        return _alias(result)

    async def UpdateAlias(self, request: pb.UpdateAliasRequest, context: Ctx) -> pb.Alias:
        result = await self.ops.update_alias(
            s.UpdateAliasRequest(
                request.function_name,
                request.name,
                _optional(request, "function_version"),
                _optional(request, "description"),
                request.revision_id,
                _routing(request.additional_version_weights)
                if request.set_routing_config
                else None,
            )
        )
        return _alias(result)

    async def GetAlias(self, request: pb.GetAliasRequest, context: Ctx) -> pb.Alias:
        result = await self.ops.get_alias(s.GetAliasRequest(request.function_name, request.name))
        return _alias(result)

    async def ListAliases(
        self, request: pb.ListAliasesRequest, context: Ctx
    ) -> pb.ListAliasesResponse:
        result = await self.ops.list_aliases(
            s.ListAliasesRequest(
                request.function_name, request.function_version, request.marker, request.max_items
            )
        )
        return pb.ListAliasesResponse(
            aliases=[_alias(a) for a in result.aliases], next_marker=result.next_marker
        )

    async def DeleteAlias(
        self, request: pb.DeleteAliasRequest, context: Ctx
    ) -> pb.DeleteAliasResponse:
        await self.ops.delete_alias(s.DeleteAliasRequest(request.function_name, request.name))
        return pb.DeleteAliasResponse()

    # --- invoke -------------------------------------------------------------------------------
    async def Invoke(self, request: pb.InvokeRequest, context: Ctx) -> pb.InvokeResponse:
        result = await self.ops.invoke(
            s.InvokeRequest(
                function_name=request.function_name,
                qualifier=request.qualifier,
                invocation_type=request.invocation_type,
                log_type=request.log_type,
                payload=request.payload,
                client_context=request.client_context,
            )
        )
        return pb.InvokeResponse(
            status_code=result.status_code,
            executed_version=result.executed_version,
            request_id=result.request_id,
            payload=result.payload,
            function_error=result.function_error,
            log_result=result.log_result,
        )

    # --- concurrency ----------------------------------------------------------------------------
    async def PutFunctionConcurrency(
        self, request: pb.PutFunctionConcurrencyRequest, context: Ctx
    ) -> pb.Concurrency:
        result = await self.ops.put_function_concurrency(
            s.PutFunctionConcurrencyRequest(
                request.function_name, request.reserved_concurrent_executions
            )
        )
        return pb.Concurrency(reserved_concurrent_executions=_concurrency(result))

    async def GetFunctionConcurrency(
        self, request: pb.GetFunctionConcurrencyRequest, context: Ctx
    ) -> pb.Concurrency:
        result = await self.ops.get_function_concurrency(
            s.GetFunctionConcurrencyRequest(request.function_name)
        )
        return pb.Concurrency(reserved_concurrent_executions=_concurrency(result))

    async def DeleteFunctionConcurrency(
        self, request: pb.DeleteFunctionConcurrencyRequest, context: Ctx
    ) -> pb.DeleteFunctionConcurrencyResponse:
        await self.ops.delete_function_concurrency(
            s.DeleteFunctionConcurrencyRequest(request.function_name)
        )
        return pb.DeleteFunctionConcurrencyResponse()

    # --- asynchronous invocation ------------------------------------------------------------------
    async def PutFunctionEventInvokeConfig(
        self, request: pb.PutFunctionEventInvokeConfigRequest, context: Ctx
    ) -> pb.FunctionEventInvokeConfig:
        result = await self.ops.put_function_event_invoke_config(
            s.PutFunctionEventInvokeConfigRequest(
                function_name=request.function_name,
                qualifier=request.qualifier,
                maximum_retry_attempts=_optional(request, "maximum_retry_attempts"),
                maximum_event_age_in_seconds=_optional(request, "maximum_event_age_in_seconds"),
                destination_config=s.DestinationConfig(
                    on_success=s.OnSuccess(request.on_success_destination or None),
                    on_failure=s.OnFailure(request.on_failure_destination or None),
                ),
            )
        )
        return _invoke_config(result)

    async def UpdateFunctionEventInvokeConfig(
        self, request: pb.UpdateFunctionEventInvokeConfigRequest, context: Ctx
    ) -> pb.FunctionEventInvokeConfig:
        # An unset destination is left as it is; one given as "" is removed.
        success = _optional(request, "on_success_destination")
        failure = _optional(request, "on_failure_destination")
        result = await self.ops.update_function_event_invoke_config(
            s.UpdateFunctionEventInvokeConfigRequest(
                function_name=request.function_name,
                qualifier=request.qualifier,
                maximum_retry_attempts=_optional(request, "maximum_retry_attempts"),
                maximum_event_age_in_seconds=_optional(request, "maximum_event_age_in_seconds"),
                destination_config=s.DestinationConfig(
                    on_success=None if success is None else s.OnSuccess(success),
                    on_failure=None if failure is None else s.OnFailure(failure),
                ),
            )
        )
        return _invoke_config(result)

    async def ListFunctionEventInvokeConfigs(
        self, request: pb.ListFunctionEventInvokeConfigsRequest, context: Ctx
    ) -> pb.ListFunctionEventInvokeConfigsResponse:
        result = await self.ops.list_function_event_invoke_configs(
            s.ListFunctionEventInvokeConfigsRequest(
                request.function_name, request.marker, request.max_items
            )
        )
        return pb.ListFunctionEventInvokeConfigsResponse(
            function_event_invoke_configs=[
                _invoke_config(c) for c in result.function_event_invoke_configs
            ],
            next_marker=result.next_marker,
        )

    async def GetFunctionEventInvokeConfig(
        self, request: pb.GetFunctionEventInvokeConfigRequest, context: Ctx
    ) -> pb.FunctionEventInvokeConfig:
        result = await self.ops.get_function_event_invoke_config(
            s.GetFunctionEventInvokeConfigRequest(request.function_name, request.qualifier)
        )
        return _invoke_config(result)

    async def DeleteFunctionEventInvokeConfig(
        self, request: pb.DeleteFunctionEventInvokeConfigRequest, context: Ctx
    ) -> pb.DeleteFunctionEventInvokeConfigResponse:
        await self.ops.delete_function_event_invoke_config(
            s.DeleteFunctionEventInvokeConfigRequest(request.function_name, request.qualifier)
        )
        return pb.DeleteFunctionEventInvokeConfigResponse()

    # --- resource-based policy --------------------------------------------------------------
    async def AddPermission(
        self, request: pb.AddPermissionRequest, context: Ctx
    ) -> pb.AddPermissionResponse:
        result = await self.ops.add_permission(
            s.AddPermissionRequest(
                function_name=request.function_name,
                statement_id=request.statement_id,
                action=request.action,
                principal=request.principal,
                source_arn=request.source_arn,
                source_account=request.source_account,
                principal_org_id=request.principal_org_id,
                qualifier=request.qualifier,
                revision_id=request.revision_id,
            )
        )
        return pb.AddPermissionResponse(statement=result.statement)

    async def RemovePermission(
        self, request: pb.RemovePermissionRequest, context: Ctx
    ) -> pb.RemovePermissionResponse:
        await self.ops.remove_permission(
            s.RemovePermissionRequest(
                request.function_name, request.statement_id, request.qualifier, request.revision_id
            )
        )
        return pb.RemovePermissionResponse()

    async def GetPolicy(self, request: pb.GetPolicyRequest, context: Ctx) -> pb.GetPolicyResponse:
        result = await self.ops.get_policy(
            s.GetPolicyRequest(request.function_name, request.qualifier)
        )
        return pb.GetPolicyResponse(policy=result.policy, revision_id=result.revision_id)

    # --- event source mappings ----------------------------------------------------------------
    async def CreateEventSourceMapping(
        self, request: pb.CreateEventSourceMappingRequest, context: Ctx
    ) -> pb.EventSourceMapping:
        result = await self.ops.create_event_source_mapping(
            s.CreateEventSourceMappingRequest(
                event_source_arn=request.event_source_arn,
                function_name=request.function_name,
                batch_size=_optional(request, "batch_size"),
                maximum_batching_window_in_seconds=_optional(
                    request, "maximum_batching_window_in_seconds"
                ),
                enabled=_optional(request, "enabled"),
                function_response_types=list(request.function_response_types),
                scaling_config=s.ScalingConfig(request.maximum_concurrency or None),
                starting_position=request.starting_position or None,
                starting_position_timestamp=(
                    None
                    if not request.HasField("starting_position_timestamp_ms")
                    else request.starting_position_timestamp_ms / 1000
                ),
                **_stream_request(request),
            )
        )
        return _mapping(result)

    async def UpdateEventSourceMapping(
        self, request: pb.UpdateEventSourceMappingRequest, context: Ctx
    ) -> pb.EventSourceMapping:
        concurrency = _optional(request, "maximum_concurrency")
        result = await self.ops.update_event_source_mapping(
            s.UpdateEventSourceMappingRequest(
                uuid=request.uuid,
                function_name=request.function_name,
                batch_size=_optional(request, "batch_size"),
                maximum_batching_window_in_seconds=_optional(
                    request, "maximum_batching_window_in_seconds"
                ),
                enabled=_optional(request, "enabled"),
                function_response_types=(
                    list(request.function_response_types)
                    if request.set_function_response_types
                    else None
                ),
                scaling_config=None if concurrency is None else s.ScalingConfig(concurrency),
                **_stream_request(request),
            )
        )
        return _mapping(result)

    async def GetEventSourceMapping(
        self, request: pb.GetEventSourceMappingRequest, context: Ctx
    ) -> pb.EventSourceMapping:
        result = await self.ops.get_event_source_mapping(
            s.GetEventSourceMappingRequest(request.uuid)
        )
        return _mapping(result)

    async def ListEventSourceMappings(
        self, request: pb.ListEventSourceMappingsRequest, context: Ctx
    ) -> pb.ListEventSourceMappingsResponse:
        result = await self.ops.list_event_source_mappings(
            s.ListEventSourceMappingsRequest(
                request.event_source_arn, request.function_name, request.marker, request.max_items
            )
        )
        return pb.ListEventSourceMappingsResponse(
            event_source_mappings=[_mapping(m) for m in result.event_source_mappings],
            next_marker=result.next_marker,
        )

    async def DeleteEventSourceMapping(
        self, request: pb.DeleteEventSourceMappingRequest, context: Ctx
    ) -> pb.EventSourceMapping:
        result = await self.ops.delete_event_source_mapping(
            s.DeleteEventSourceMappingRequest(request.uuid)
        )
        return _mapping(result)
