"""The functions core: one method per Lambda action, typed shapes in, typed shapes out.

Every front door (the gRPC servicer, the HTTP gateway's Lambda REST-JSON protocol,
in-process callers) calls these methods, so each rule and each error is written once:
required members, function references and qualifiers, paging, the LogType check, and
how a function, alias, async-invoke config or mapping is shown. The engine below keeps
the registry, the code store, the worker pool and the async invoker.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, TypeVar

from eventplane import names
from eventplane.errors import MissingParameter, ValidationException
from eventplane.functions import references
from eventplane.functions import shapes as s
from eventplane.functions.engine import FunctionEngine
from eventplane.functions.errors import InvalidParameterValueException
from eventplane.functions.invoke import log_result
from eventplane.functions.mapping_shapes import mapping_view, stream_fields
from eventplane.functions.models import (
    DIRECTORY,
    LATEST,
    AliasDef,
    FunctionConfig,
    InvokeConfig,
    function_arn,
    function_reference,
    parse_function_ref,
)
from eventplane.functions.packages import MAX_UNZIPPED_BYTES, MAX_ZIPPED_BYTES
from eventplane.security.accounts import listing_account

T = TypeVar("T")
DEFAULT_PAGE = 50
# Lambda's default code storage quota per account and region (75 GB).
TOTAL_CODE_SIZE = 80_530_636_800


def _require(value: str | None, parameter: str) -> str:
    if not value:
        raise MissingParameter(f"The request must contain the parameter {parameter}.")
    return value


def _plain_ref(function_name: str) -> str:
    """The plain name a CreateFunction gives (it creates in the caller's account)."""
    name, _ = parse_function_ref(_require(function_name, "FunctionName"), allow_qualifier=False)
    return name


def _page(items: Sequence[T], marker: str, max_items: int) -> tuple[list[T], str]:
    if max_items < 0 or max_items > 10_000:
        raise ValidationException(f"MaxItems must be between 1 and 10000, got {max_items}")
    if marker and not (marker.isascii() and marker.isdigit()):
        raise ValidationException("The Marker is not valid.")
    start = int(marker) if marker else 0
    end = start + (max_items or DEFAULT_PAGE)
    return list(items[start:end]), str(end) if end < len(items) else ""


def configuration(
    name: str, version: str, c: FunctionConfig, account: str | None = None
) -> s.FunctionConfiguration:
    """How Lambda shows one configuration of a function ($LATEST or a version);
    ``account``: the function's."""
    return s.FunctionConfiguration(
        function_name=names.plain(name),
        function_arn=function_arn(name, None if version == LATEST else version, account),
        runtime=c.runtime,
        handler=c.handler,
        code_size=c.code.size,
        description=c.description,
        timeout=c.timeout,
        memory_size=c.memory_size,
        last_modified=c.last_modified,
        code_sha256=c.code.sha256,
        version=version,
        environment=s.EnvironmentResponse(dict(c.environment)) if c.environment else None,
        dead_letter_config=s.DeadLetterConfig(c.dead_letter_arn) if c.dead_letter_arn else None,
        revision_id=c.revision_id,
        package_type=c.code.package_type if c.code.package_type == DIRECTORY else "Zip",
        role=c.role,
    )


def _alias(a: AliasDef) -> s.AliasConfiguration:
    return s.AliasConfiguration(
        alias_arn=a.arn,
        name=a.name,
        function_version=a.function_version,
        description=a.description,
        revision_id=a.revision_id,
        routing_config=(
            s.AliasRoutingConfiguration(dict(a.additional_version_weights))
            if a.additional_version_weights
            else None
        ),
    )


def _invoke_config(c: InvokeConfig) -> s.FunctionEventInvokeConfig:
    return s.FunctionEventInvokeConfig(
        function_arn=c.function_arn,
        maximum_retry_attempts=c.maximum_retry_attempts,
        maximum_event_age_in_seconds=c.maximum_event_age_seconds,
        destination_config=s.DestinationConfig(
            on_success=s.OnSuccess(c.on_success) if c.on_success else None,
            on_failure=s.OnFailure(c.on_failure) if c.on_failure else None,
        ),
        last_modified=c.last_modified,
    )


def _weights(routing: s.AliasRoutingConfiguration | None) -> dict[str, float] | None:
    return None if routing is None else dict(routing.additional_version_weights)


def _tagged(resource: str) -> tuple[str | None, str]:
    """(account, name) of the function a tagging call's Resource names: an unqualified
    function ARN."""
    if not resource.startswith("arn:") or ":function:" not in resource:
        raise InvalidParameterValueException(
            f"1 validation error detected: Value '{resource}' at 'resource' failed to satisfy "
            "constraint: Member must be the ARN of a function"
        )
    account, name, qualifier = function_reference(resource)
    if qualifier is not None:
        raise InvalidParameterValueException(
            "Tags on function aliases and versions are not supported. Please specify a function "
            "ARN."
        )
    return account, name


def _code(zip_file: bytes | None, directory: str | None) -> tuple[bytes | None, str | None]:
    if zip_file is None and directory is None:
        raise MissingParameter(
            "The request must contain the parameter Code (ZipFile or Directory)."
        )
    return zip_file, directory


class FunctionOperations:
    """The Lambda actions over one replica's FunctionEngine."""

    def __init__(self, engine: FunctionEngine) -> None:
        self.engine = engine

    def _ref(
        self, function_name: str, qualifier: str = "", *, allow_qualifier: bool = True
    ) -> tuple[str, str | None]:
        """(internal name, qualifier or None) of the function a FunctionName names: a bare
        name in the caller's account, an ARN in its account (``eventplane.names``)."""
        return references.named(
            self.engine.registry,
            _require(function_name, "FunctionName"),
            qualifier or None,
            allow_qualifier=allow_qualifier,
        )

    def _tagged(self, resource: str) -> str:
        """The internal name of the function a tagging call's Resource names."""
        account, name = _tagged(resource)
        return references.internal(self.engine.registry, name, account)

    # --- functions ----------------------------------------------------------------------------
    async def create_function(self, req: s.CreateFunctionRequest) -> s.FunctionConfiguration:
        name = _plain_ref(req.function_name)
        zip_file, directory = _code(req.code.zip_file, req.code.directory)
        fn, version, config = await self.engine.create_function(
            name,
            _require(req.handler, "Handler"),
            zip_file=zip_file,
            directory=directory,
            timeout=req.timeout,
            memory_size=req.memory_size,
            environment=req.environment.variables if req.environment else {},
            description=req.description,
            publish=req.publish,
            dead_letter_arn=(req.dead_letter_config.target_arn or None)
            if req.dead_letter_config
            else None,
            runtime=req.runtime,
            tags=req.tags,
            role=req.role,
        )
        return configuration(fn.name, version, config, fn.account)

    async def update_function_code(
        self, req: s.UpdateFunctionCodeRequest
    ) -> s.FunctionConfiguration:
        name, _ = self._ref(req.function_name, allow_qualifier=False)
        zip_file, directory = _code(req.zip_file, req.directory)
        fn, version, config = await self.engine.update_code(
            name, zip_file, directory, req.publish, req.revision_id
        )
        return configuration(fn.name, version, config, fn.account)

    async def update_function_configuration(
        self, req: s.UpdateFunctionConfigurationRequest
    ) -> s.FunctionConfiguration:
        name, _ = self._ref(req.function_name, allow_qualifier=False)
        changes: dict[str, Any] = {
            "handler": req.handler,
            "timeout": req.timeout,
            "memory_size": req.memory_size,
            "description": req.description,
            "dead_letter_arn": (req.dead_letter_config.target_arn or "")
            if req.dead_letter_config
            else None,
            "role": req.role,
        }
        if req.environment is not None:
            changes["environment"] = dict(req.environment.variables)
        config = await self.engine.update_configuration(name, req.revision_id, **changes)
        return configuration(name, LATEST, config, self.engine.function(name).account)

    async def get_function(self, req: s.GetFunctionRequest) -> s.GetFunctionResult:
        name, qualifier = self._ref(req.function_name, req.qualifier)
        fn, version, config = self.engine.resolve(name, qualifier)
        reserved = fn.reserved_concurrency
        return s.GetFunctionResult(
            configuration=configuration(name, version, config, fn.account),
            code=s.FunctionCodeLocation(
                location=f"eventplane://{names.plain(name)}/{config.code.sha256}"
            ),
            tags=dict(fn.tags),
            concurrency=None if reserved is None else s.Concurrency(reserved),
        )

    async def get_function_configuration(
        self, req: s.GetFunctionConfigurationRequest
    ) -> s.FunctionConfiguration:
        name, qualifier = self._ref(req.function_name, req.qualifier)
        fn, version, config = self.engine.resolve(name, qualifier)
        return configuration(name, version, config, fn.account)

    async def list_functions(self, req: s.ListFunctionsRequest) -> s.ListFunctionsResult:
        """The caller's account's functions (every account's for the platform's own calls)."""
        account = listing_account()
        mine = [f for f in self.engine.functions() if account in (None, f.account)]
        items, marker = _page(mine, req.marker, req.max_items)
        return s.ListFunctionsResult(
            functions=[configuration(f.name, LATEST, f.config, f.account) for f in items],
            next_marker=marker,
        )

    async def delete_function(self, req: s.DeleteFunctionRequest) -> s.DeleteFunctionResult:
        name, qualifier = self._ref(req.function_name, req.qualifier)
        await self.engine.delete_function(name, qualifier)
        return s.DeleteFunctionResult()

    # --- versions and aliases -----------------------------------------------------------------
    async def publish_version(self, req: s.PublishVersionRequest) -> s.FunctionConfiguration:
        name, _ = self._ref(req.function_name, allow_qualifier=False)
        fn, version, config = await self.engine.publish_version(
            name, req.description, req.code_sha256, req.revision_id
        )
        return configuration(fn.name, version, config, fn.account)

    async def list_versions_by_function(
        self, req: s.ListVersionsByFunctionRequest
    ) -> s.ListVersionsByFunctionResult:
        name, _ = self._ref(req.function_name, allow_qualifier=False)
        fn = self.engine.function(name)
        versions = sorted(self.engine.versions(name).values(), key=lambda v: v.number)
        everything = [(LATEST, fn.config)] + [(v.version, v.config) for v in versions]
        items, marker = _page(everything, req.marker, req.max_items)
        return s.ListVersionsByFunctionResult(
            versions=[configuration(name, v, c, fn.account) for v, c in items],
            next_marker=marker,
        )

    async def create_alias(self, req: s.CreateAliasRequest) -> s.AliasConfiguration:
        name, _ = self._ref(req.function_name, allow_qualifier=False)
        alias = await self.engine.put_alias(
            name,
            _require(req.name, "Name"),
            _require(req.function_version, "FunctionVersion"),
            req.description,
            create=True,
            weights=_weights(req.routing_config),
        )
        return _alias(alias)

    async def update_alias(self, req: s.UpdateAliasRequest) -> s.AliasConfiguration:
        name, _ = self._ref(req.function_name, allow_qualifier=False)
        alias = await self.engine.put_alias(
            name,
            _require(req.name, "Name"),
            req.function_version,
            req.description,
            create=False,
            revision_id=req.revision_id,
            weights=_weights(req.routing_config),
        )
        return _alias(alias)

    async def get_alias(self, req: s.GetAliasRequest) -> s.AliasConfiguration:
        name, _ = self._ref(req.function_name, allow_qualifier=False)
        return _alias(self.engine.alias(name, _require(req.name, "Name")))

    async def list_aliases(self, req: s.ListAliasesRequest) -> s.ListAliasesResult:
        name, _ = self._ref(req.function_name, allow_qualifier=False)
        self.engine.function(name)
        aliases = [
            a
            for a in sorted(self.engine.aliases(name).values(), key=lambda a: a.name)
            if not req.function_version or a.function_version == req.function_version
        ]
        items, marker = _page(aliases, req.marker, req.max_items)
        return s.ListAliasesResult(aliases=[_alias(a) for a in items], next_marker=marker)

    async def delete_alias(self, req: s.DeleteAliasRequest) -> s.Empty:
        name, _ = self._ref(req.function_name, allow_qualifier=False)
        await self.engine.delete_alias(name, _require(req.name, "Name"))
        return s.Empty()

    # --- account ------------------------------------------------------------------------------
    async def get_account_settings(
        self, req: s.GetAccountSettingsRequest
    ) -> s.GetAccountSettingsResult:
        functions = self.engine.functions()
        # Code storage counts each stored package once ($LATEST and versions may share one).
        packages = {(f.name, f.config.code.sha256): f.config.code.size for f in functions}
        for f in functions:
            for v in self.engine.versions(f.name).values():
                packages[(f.name, v.config.code.sha256)] = v.config.code.size
        concurrency = self.engine.pool.max_workers
        reserved = sum(f.reserved_concurrency or 0 for f in functions)
        return s.GetAccountSettingsResult(
            account_limit=s.AccountLimit(
                total_code_size=TOTAL_CODE_SIZE,
                code_size_unzipped=MAX_UNZIPPED_BYTES,
                code_size_zipped=MAX_ZIPPED_BYTES,
                concurrent_executions=concurrency,
                unreserved_concurrent_executions=max(concurrency - reserved, 0),
            ),
            account_usage=s.AccountUsage(
                total_code_size=sum(packages.values()), function_count=len(functions)
            ),
        )

    # --- tags -------------------------------------------------------------------------------
    async def tag_resource(self, req: s.TagResourceRequest) -> s.Empty:
        await self.engine.tag_function(self._tagged(req.resource), req.tags)
        return s.Empty()

    async def untag_resource(self, req: s.UntagResourceRequest) -> s.Empty:
        await self.engine.untag_function(self._tagged(req.resource), list(req.tag_keys))
        return s.Empty()

    async def list_tags(self, req: s.ListTagsRequest) -> s.ListTagsResult:
        return s.ListTagsResult(dict(self.engine.function(self._tagged(req.resource)).tags))

    # --- invoke -------------------------------------------------------------------------------
    async def invoke(self, req: s.InvokeRequest) -> s.InvokeResult:
        name, qualifier = self._ref(req.function_name, req.qualifier)
        if req.log_type not in ("", "None", "Tail"):
            raise ValidationException(
                f"1 validation error detected: Value '{req.log_type}' at 'logType' failed "
                "to satisfy constraint: Member must satisfy enum value set: [Tail, None]"
            )
        status, version, result, request_id = await self.engine.invoke(
            name, qualifier, req.invocation_type, req.payload, req.client_context or None
        )
        out = s.InvokeResult(status_code=status, executed_version=version, request_id=request_id)
        if result is not None:
            out.payload = result.payload
            out.function_error = result.function_error or ""
            if req.log_type == "Tail":
                out.log_result = log_result(result, version)
        return out

    # --- concurrency ----------------------------------------------------------------------------
    async def put_function_concurrency(self, req: s.PutFunctionConcurrencyRequest) -> s.Concurrency:
        name, _ = self._ref(req.function_name, allow_qualifier=False)
        if req.reserved_concurrent_executions is None:
            raise MissingParameter(
                "The request must contain the parameter ReservedConcurrentExecutions."
            )
        value = await self.engine.put_concurrency(name, req.reserved_concurrent_executions)
        return s.Concurrency(value)

    async def get_function_concurrency(self, req: s.GetFunctionConcurrencyRequest) -> s.Concurrency:
        name, _ = self._ref(req.function_name, allow_qualifier=False)
        return s.Concurrency(self.engine.function(name).reserved_concurrency)

    async def delete_function_concurrency(self, req: s.DeleteFunctionConcurrencyRequest) -> s.Empty:
        name, _ = self._ref(req.function_name, allow_qualifier=False)
        await self.engine.delete_concurrency(name)
        return s.Empty()

    # --- asynchronous invocation ------------------------------------------------------------------
    async def put_function_event_invoke_config(
        self, req: s.PutFunctionEventInvokeConfigRequest
    ) -> s.FunctionEventInvokeConfig:
        name, qualifier = self._ref(req.function_name, req.qualifier)
        destinations = req.destination_config or s.DestinationConfig()
        success = destinations.on_success.destination if destinations.on_success else None
        failure = destinations.on_failure.destination if destinations.on_failure else None
        config = await self.engine.put_invoke_config(
            name,
            qualifier,
            maximum_retry_attempts=req.maximum_retry_attempts,
            maximum_event_age_seconds=req.maximum_event_age_in_seconds,
            on_success=success or None,
            on_failure=failure or None,
        )
        return _invoke_config(config)

    async def update_function_event_invoke_config(
        self, req: s.UpdateFunctionEventInvokeConfigRequest
    ) -> s.FunctionEventInvokeConfig:
        name, qualifier = self._ref(req.function_name, req.qualifier)
        destinations = req.destination_config or s.DestinationConfig()
        # A destination given as "" removes it; one left out is kept.
        success = destinations.on_success.destination if destinations.on_success else None
        failure = destinations.on_failure.destination if destinations.on_failure else None
        config = await self.engine.update_invoke_config(
            name,
            qualifier,
            maximum_retry_attempts=req.maximum_retry_attempts,
            maximum_event_age_seconds=req.maximum_event_age_in_seconds,
            on_success=success,
            on_failure=failure,
        )
        return _invoke_config(config)

    async def list_function_event_invoke_configs(
        self, req: s.ListFunctionEventInvokeConfigsRequest
    ) -> s.ListFunctionEventInvokeConfigsResult:
        name, _ = self._ref(req.function_name, allow_qualifier=False)
        self.engine.function(name)
        if req.max_items < 0 or req.max_items > 50:
            raise ValidationException(
                f"1 validation error detected: Value '{req.max_items}' at 'maxItems' failed to "
                "satisfy constraint: Member must have value less than or equal to 50"
            )
        items, marker = _page(self.engine.invoke_configs(name), req.marker, req.max_items)
        return s.ListFunctionEventInvokeConfigsResult(
            function_event_invoke_configs=[_invoke_config(c) for c in items], next_marker=marker
        )

    async def get_function_event_invoke_config(
        self, req: s.GetFunctionEventInvokeConfigRequest
    ) -> s.FunctionEventInvokeConfig:
        name, qualifier = self._ref(req.function_name, req.qualifier)
        self.engine.resolve(name, qualifier)
        return _invoke_config(self.engine.require_invoke_config(name, qualifier))

    async def delete_function_event_invoke_config(
        self, req: s.DeleteFunctionEventInvokeConfigRequest
    ) -> s.Empty:
        name, qualifier = self._ref(req.function_name, req.qualifier)
        await self.engine.delete_invoke_config(name, qualifier)
        return s.Empty()

    # --- resource-based policy --------------------------------------------------------------
    async def add_permission(self, req: s.AddPermissionRequest) -> s.AddPermissionResponse:
        name, qualifier = self._ref(req.function_name, req.qualifier)
        statement = await self.engine.permissions.add(
            name,
            qualifier,
            statement_id=req.statement_id,
            action=req.action,
            principal=req.principal,
            source_arn=req.source_arn,
            source_account=req.source_account,
            principal_org_id=req.principal_org_id,
            revision_id=req.revision_id,
        )
        return s.AddPermissionResponse(json.dumps(statement, separators=(",", ":")))

    async def remove_permission(self, req: s.RemovePermissionRequest) -> s.Empty:
        name, qualifier = self._ref(req.function_name, req.qualifier)
        await self.engine.permissions.remove(
            name, qualifier, _require(req.statement_id, "StatementId"), req.revision_id
        )
        return s.Empty()

    async def get_policy(self, req: s.GetPolicyRequest) -> s.GetPolicyResponse:
        name, qualifier = self._ref(req.function_name, req.qualifier)
        policy = self.engine.permissions.get(name, qualifier)
        return s.GetPolicyResponse(policy.text(), policy.revision_id)

    # --- event source mappings ----------------------------------------------------------------
    async def create_event_source_mapping(
        self, req: s.CreateEventSourceMappingRequest
    ) -> s.EventSourceMappingConfiguration:
        scaling = req.scaling_config.maximum_concurrency if req.scaling_config else None
        mapping = await self.engine.create_mapping(
            _require(req.event_source_arn, "EventSourceArn"),
            _require(req.function_name, "FunctionName"),
            batch_size=req.batch_size,
            maximum_batching_window_seconds=req.maximum_batching_window_in_seconds,
            enabled=True if req.enabled is None else req.enabled,
            function_response_types=list(req.function_response_types),
            maximum_concurrency=scaling or None,
            **stream_fields(req),
        )
        # Lambda answers a new mapping as Creating; reads show Enabled or Disabled after.
        return replace(mapping_view(mapping), state="Creating")

    async def update_event_source_mapping(
        self, req: s.UpdateEventSourceMappingRequest
    ) -> s.EventSourceMappingConfiguration:
        before = self.engine.mapping(_require(req.uuid, "UUID"))
        mapping = await self.engine.update_mapping(
            req.uuid,
            req.function_name,
            batch_size=req.batch_size,
            maximum_batching_window_seconds=req.maximum_batching_window_in_seconds,
            enabled=req.enabled,
            function_response_types=(
                None if req.function_response_types is None else list(req.function_response_types)
            ),
            maximum_concurrency=(
                req.scaling_config.maximum_concurrency if req.scaling_config else None
            ),
            **stream_fields(req),
        )
        # Lambda answers an update with the transition it starts: Enabling or Disabling
        # when Enabled flips, else Updating; reads show the settled state after.
        if mapping.enabled != before.enabled:
            transition = "Enabling" if mapping.enabled else "Disabling"
        else:
            transition = "Updating"
        return replace(mapping_view(mapping), state=transition)

    async def get_event_source_mapping(
        self, req: s.GetEventSourceMappingRequest
    ) -> s.EventSourceMappingConfiguration:
        return mapping_view(self.engine.mapping(_require(req.uuid, "UUID")))

    async def list_event_source_mappings(
        self, req: s.ListEventSourceMappingsRequest
    ) -> s.ListEventSourceMappingsResult:
        function = ""
        if req.function_name:
            function, _ = self._ref(req.function_name)
        account = listing_account()  # the caller's account's (every account's: the platform)
        mappings = self.engine.mapping_list(req.event_source_arn, function)
        mine = [m for m in mappings if account in (None, m.account)]
        items, marker = _page(mine, req.marker, req.max_items)
        return s.ListEventSourceMappingsResult(
            event_source_mappings=[mapping_view(m) for m in items], next_marker=marker
        )

    async def delete_event_source_mapping(
        self, req: s.DeleteEventSourceMappingRequest
    ) -> s.EventSourceMappingConfiguration:
        return mapping_view(await self.engine.delete_mapping(_require(req.uuid, "UUID")))
