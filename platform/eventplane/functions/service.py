"""The Functions gRPC service: validate at the edge, call the engine, map the result."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias, TypeVar

import grpc

from eventplane._gen.v1 import functions_pb2 as pb
from eventplane._gen.v1 import functions_pb2_grpc
from eventplane.errors import MissingParameter, ValidationException
from eventplane.functions.engine import FunctionEngine
from eventplane.functions.invoke import log_result
from eventplane.functions.models import (
    DIRECTORY,
    LATEST,
    AliasDef,
    FunctionConfig,
    InvokeConfig,
    MappingDef,
    function_arn,
    parse_function_ref,
)

Ctx: TypeAlias = grpc.aio.ServicerContext
T = TypeVar("T")
DEFAULT_PAGE = 50


def _require(value: str, parameter: str) -> str:
    if not value:
        raise MissingParameter(f"The request must contain the parameter {parameter}.")
    return value


def _ref(
    function_name: str, qualifier: str = "", *, allow_qualifier: bool = True
) -> tuple[str, str | None]:
    return parse_function_ref(
        _require(function_name, "FunctionName"), qualifier or None, allow_qualifier=allow_qualifier
    )


def _page(items: Sequence[T], marker: str, max_items: int) -> tuple[Sequence[T], str]:
    if max_items < 0 or max_items > 10_000:
        raise ValidationException(f"MaxItems must be between 1 and 10000, got {max_items}")
    if marker and not marker.isdigit():
        raise ValidationException("The Marker is not valid.")
    start = int(marker) if marker else 0
    end = start + (max_items or DEFAULT_PAGE)
    return items[start:end], str(end) if end < len(items) else ""


def _configuration(name: str, version: str, c: FunctionConfig) -> pb.FunctionConfiguration:
    return pb.FunctionConfiguration(
        function_name=name,
        function_arn=function_arn(name, None if version == LATEST else version),
        handler=c.handler,
        runtime=c.runtime,
        timeout=c.timeout,
        memory_size=c.memory_size,
        environment=dict(c.environment),
        description=c.description,
        version=version,
        code_sha256=c.code.sha256,
        code_size=c.code.size,
        last_modified=c.last_modified,
        dead_letter_target_arn=c.dead_letter_arn or "",
        state="Active",
        package_type=c.code.package_type if c.code.package_type == DIRECTORY else "Zip",
        revision_id=c.revision_id,
    )


def _alias(a: AliasDef) -> pb.Alias:
    return pb.Alias(
        alias_arn=a.arn,
        name=a.name,
        function_version=a.function_version,
        description=a.description,
        revision_id=a.revision_id,
    )


def _invoke_config(c: InvokeConfig) -> pb.FunctionEventInvokeConfig:
    return pb.FunctionEventInvokeConfig(
        function_arn=c.function_arn,
        maximum_retry_attempts=c.maximum_retry_attempts,
        maximum_event_age_in_seconds=c.maximum_event_age_seconds,
        on_success_destination=c.on_success or "",
        on_failure_destination=c.on_failure or "",
        last_modified=c.last_modified,
    )


def _mapping(m: MappingDef) -> pb.EventSourceMapping:
    return pb.EventSourceMapping(
        uuid=m.uuid,
        event_source_arn=m.event_source_arn,
        function_arn=m.function_arn,
        batch_size=m.batch_size,
        maximum_batching_window_in_seconds=m.maximum_batching_window_seconds,
        state=m.state,
        function_response_types=list(m.function_response_types),
        maximum_concurrency=m.maximum_concurrency or 0,
        last_modified=m.last_modified,
        state_transition_reason=m.state_transition_reason,
    )


def _code(code: pb.FunctionCode) -> tuple[bytes | None, str | None]:
    which = code.WhichOneof("source")
    if which == "zip_file":
        return code.zip_file, None
    if which == "directory":
        return None, code.directory
    raise MissingParameter("The request must contain the parameter Code (ZipFile or Directory).")


def _optional(request: Any, field: str) -> Any:
    return getattr(request, field) if request.HasField(field) else None


class FunctionsService(functions_pb2_grpc.FunctionsServicer):
    def __init__(self, engine: FunctionEngine) -> None:
        self.engine = engine

    # --- functions ----------------------------------------------------------------------------
    async def CreateFunction(
        self, request: pb.CreateFunctionRequest, context: Ctx
    ) -> pb.FunctionConfiguration:
        name, _ = _ref(request.function_name, allow_qualifier=False)
        zip_file, directory = _code(request.code)
        fn, version, config = await self.engine.create_function(
            name,
            _require(request.handler, "Handler"),
            zip_file=zip_file,
            directory=directory,
            timeout=_optional(request, "timeout"),
            memory_size=_optional(request, "memory_size"),
            environment=dict(request.environment),
            description=request.description,
            publish=request.publish,
            dead_letter_arn=request.dead_letter_target_arn or None,
            runtime=request.runtime,
            tags=dict(request.tags),
        )
        return _configuration(fn.name, version, config)

    async def UpdateFunctionCode(
        self, request: pb.UpdateFunctionCodeRequest, context: Ctx
    ) -> pb.FunctionConfiguration:
        name, _ = _ref(request.function_name, allow_qualifier=False)
        zip_file, directory = _code(request.code)
        fn, version, config = await self.engine.update_code(
            name, zip_file, directory, request.publish
        )
        return _configuration(fn.name, version, config)

    async def UpdateFunctionConfiguration(
        self, request: pb.UpdateFunctionConfigurationRequest, context: Ctx
    ) -> pb.FunctionConfiguration:
        name, _ = _ref(request.function_name, allow_qualifier=False)
        changes: dict[str, Any] = {
            "handler": _optional(request, "handler"),
            "timeout": _optional(request, "timeout"),
            "memory_size": _optional(request, "memory_size"),
            "description": _optional(request, "description"),
            "dead_letter_arn": _optional(request, "dead_letter_target_arn"),
        }
        if request.set_environment:
            changes["environment"] = dict(request.environment)
        config = await self.engine.update_configuration(name, **changes)
        return _configuration(name, LATEST, config)

    async def GetFunction(
        self, request: pb.GetFunctionRequest, context: Ctx
    ) -> pb.GetFunctionResponse:
        name, qualifier = _ref(request.function_name, request.qualifier)
        fn, version, config = self.engine.resolve(name, qualifier)
        reserved = fn.reserved_concurrency
        return pb.GetFunctionResponse(
            configuration=_configuration(name, version, config),
            reserved_concurrent_executions=-1 if reserved is None else reserved,
            tags=dict(fn.tags),
        )

    async def ListFunctions(
        self, request: pb.ListFunctionsRequest, context: Ctx
    ) -> pb.ListFunctionsResponse:
        items, marker = _page(self.engine.functions(), request.marker, request.max_items)
        return pb.ListFunctionsResponse(
            functions=[_configuration(f.name, LATEST, f.config) for f in items],
            next_marker=marker,
        )

    async def DeleteFunction(
        self, request: pb.DeleteFunctionRequest, context: Ctx
    ) -> pb.DeleteFunctionResponse:
        name, qualifier = _ref(request.function_name, request.qualifier)
        await self.engine.delete_function(name, qualifier)
        return pb.DeleteFunctionResponse()

    # --- versions and aliases -----------------------------------------------------------------
    async def PublishVersion(
        self, request: pb.PublishVersionRequest, context: Ctx
    ) -> pb.FunctionConfiguration:
        name, _ = _ref(request.function_name, allow_qualifier=False)
        fn, version, config = await self.engine.publish_version(
            name, request.description, request.code_sha256
        )
        return _configuration(fn.name, version, config)

    async def ListVersionsByFunction(
        self, request: pb.ListVersionsByFunctionRequest, context: Ctx
    ) -> pb.ListFunctionsResponse:
        name, _ = _ref(request.function_name, allow_qualifier=False)
        fn = self.engine.function(name)
        versions = sorted(self.engine.versions(name).values(), key=lambda v: v.number)
        everything = [(LATEST, fn.config)] + [(v.version, v.config) for v in versions]
        items, marker = _page(everything, request.marker, request.max_items)
        return pb.ListFunctionsResponse(
            functions=[_configuration(name, v, c) for v, c in items], next_marker=marker
        )

    async def CreateAlias(self, request: pb.CreateAliasRequest, context: Ctx) -> pb.Alias:
        name, _ = _ref(request.function_name, allow_qualifier=False)
        alias = await self.engine.put_alias(
            name,
            _require(request.name, "Name"),
            _require(request.function_version, "FunctionVersion"),
            request.description,
            create=True,
        )
        return _alias(alias)

    async def UpdateAlias(self, request: pb.UpdateAliasRequest, context: Ctx) -> pb.Alias:
        name, _ = _ref(request.function_name, allow_qualifier=False)
        alias = await self.engine.put_alias(
            name,
            _require(request.name, "Name"),
            _optional(request, "function_version"),
            _optional(request, "description"),
            create=False,
        )
        return _alias(alias)

    async def GetAlias(self, request: pb.GetAliasRequest, context: Ctx) -> pb.Alias:
        name, _ = _ref(request.function_name, allow_qualifier=False)
        return _alias(self.engine.alias(name, _require(request.name, "Name")))

    async def ListAliases(
        self, request: pb.ListAliasesRequest, context: Ctx
    ) -> pb.ListAliasesResponse:
        name, _ = _ref(request.function_name, allow_qualifier=False)
        self.engine.function(name)
        aliases = [
            a
            for a in sorted(self.engine.aliases(name).values(), key=lambda a: a.name)
            if not request.function_version or a.function_version == request.function_version
        ]
        items, marker = _page(aliases, request.marker, request.max_items)
        return pb.ListAliasesResponse(aliases=[_alias(a) for a in items], next_marker=marker)

    async def DeleteAlias(
        self, request: pb.DeleteAliasRequest, context: Ctx
    ) -> pb.DeleteAliasResponse:
        name, _ = _ref(request.function_name, allow_qualifier=False)
        await self.engine.delete_alias(name, _require(request.name, "Name"))
        return pb.DeleteAliasResponse()

    # --- invoke -------------------------------------------------------------------------------
    async def Invoke(self, request: pb.InvokeRequest, context: Ctx) -> pb.InvokeResponse:
        name, qualifier = _ref(request.function_name, request.qualifier)
        if request.log_type not in ("", "None", "Tail"):
            raise ValidationException(
                f"1 validation error detected: Value '{request.log_type}' at 'logType' failed "
                "to satisfy constraint: Member must satisfy enum value set: [Tail, None]"
            )
        status, version, result, request_id = await self.engine.invoke(
            name,
            qualifier,
            request.invocation_type,
            request.payload,
            request.client_context or None,
        )
        response = pb.InvokeResponse(
            status_code=status, executed_version=version, request_id=request_id
        )
        if result is not None:
            response.payload = result.payload
            response.function_error = result.function_error or ""
            if request.log_type == "Tail":
                response.log_result = log_result(result)
        return response

    # --- concurrency ----------------------------------------------------------------------------
    async def PutFunctionConcurrency(
        self, request: pb.PutFunctionConcurrencyRequest, context: Ctx
    ) -> pb.Concurrency:
        name, _ = _ref(request.function_name, allow_qualifier=False)
        value = await self.engine.put_concurrency(name, request.reserved_concurrent_executions)
        return pb.Concurrency(reserved_concurrent_executions=value)

    async def GetFunctionConcurrency(
        self, request: pb.GetFunctionConcurrencyRequest, context: Ctx
    ) -> pb.Concurrency:
        name, _ = _ref(request.function_name, allow_qualifier=False)
        reserved = self.engine.function(name).reserved_concurrency
        return pb.Concurrency(reserved_concurrent_executions=-1 if reserved is None else reserved)

    async def DeleteFunctionConcurrency(
        self, request: pb.DeleteFunctionConcurrencyRequest, context: Ctx
    ) -> pb.DeleteFunctionConcurrencyResponse:
        name, _ = _ref(request.function_name, allow_qualifier=False)
        await self.engine.delete_concurrency(name)
        return pb.DeleteFunctionConcurrencyResponse()

    # --- asynchronous invocation ------------------------------------------------------------------
    async def PutFunctionEventInvokeConfig(
        self, request: pb.PutFunctionEventInvokeConfigRequest, context: Ctx
    ) -> pb.FunctionEventInvokeConfig:
        name, qualifier = _ref(request.function_name, request.qualifier)
        config = await self.engine.put_invoke_config(
            name,
            qualifier,
            maximum_retry_attempts=_optional(request, "maximum_retry_attempts"),
            maximum_event_age_seconds=_optional(request, "maximum_event_age_in_seconds"),
            on_success=request.on_success_destination or None,
            on_failure=request.on_failure_destination or None,
        )
        return _invoke_config(config)

    async def GetFunctionEventInvokeConfig(
        self, request: pb.GetFunctionEventInvokeConfigRequest, context: Ctx
    ) -> pb.FunctionEventInvokeConfig:
        name, qualifier = _ref(request.function_name, request.qualifier)
        self.engine.resolve(name, qualifier)
        config = self.engine.require_invoke_config(name, qualifier)
        return _invoke_config(config)

    async def DeleteFunctionEventInvokeConfig(
        self, request: pb.DeleteFunctionEventInvokeConfigRequest, context: Ctx
    ) -> pb.DeleteFunctionEventInvokeConfigResponse:
        name, qualifier = _ref(request.function_name, request.qualifier)
        await self.engine.delete_invoke_config(name, qualifier)
        return pb.DeleteFunctionEventInvokeConfigResponse()

    # --- event source mappings ----------------------------------------------------------------
    async def CreateEventSourceMapping(
        self, request: pb.CreateEventSourceMappingRequest, context: Ctx
    ) -> pb.EventSourceMapping:
        mapping = await self.engine.create_mapping(
            _require(request.event_source_arn, "EventSourceArn"),
            _require(request.function_name, "FunctionName"),
            batch_size=_optional(request, "batch_size"),
            maximum_batching_window_seconds=_optional(
                request, "maximum_batching_window_in_seconds"
            ),
            enabled=request.enabled if request.HasField("enabled") else True,
            function_response_types=list(request.function_response_types),
            maximum_concurrency=request.maximum_concurrency or None,
        )
        return _mapping(mapping)

    async def UpdateEventSourceMapping(
        self, request: pb.UpdateEventSourceMappingRequest, context: Ctx
    ) -> pb.EventSourceMapping:
        mapping = await self.engine.update_mapping(
            _require(request.uuid, "UUID"),
            request.function_name,
            batch_size=_optional(request, "batch_size"),
            maximum_batching_window_seconds=_optional(
                request, "maximum_batching_window_in_seconds"
            ),
            enabled=_optional(request, "enabled"),
            function_response_types=(
                list(request.function_response_types)
                if request.set_function_response_types
                else None
            ),
            maximum_concurrency=_optional(request, "maximum_concurrency"),
        )
        return _mapping(mapping)

    async def GetEventSourceMapping(
        self, request: pb.GetEventSourceMappingRequest, context: Ctx
    ) -> pb.EventSourceMapping:
        return _mapping(self.engine.mapping(_require(request.uuid, "UUID")))

    async def ListEventSourceMappings(
        self, request: pb.ListEventSourceMappingsRequest, context: Ctx
    ) -> pb.ListEventSourceMappingsResponse:
        function = ""
        if request.function_name:
            function, _ = _ref(request.function_name)
        mappings = self.engine.mapping_list(request.event_source_arn, function)
        items, marker = _page(mappings, request.marker, request.max_items)
        return pb.ListEventSourceMappingsResponse(
            event_source_mappings=[_mapping(m) for m in items], next_marker=marker
        )

    async def DeleteEventSourceMapping(
        self, request: pb.DeleteEventSourceMappingRequest, context: Ctx
    ) -> pb.EventSourceMapping:
        return _mapping(await self.engine.delete_mapping(_require(request.uuid, "UUID")))
