"""FunctionEngine: functions, versions, aliases and their settings in the registry, and
invocation (sync here, async through ``eventplane.fn.async``; the invoke half lives in
``invoke.py``).

Collaborators: the code store (zip packages on ``eventplane.fn.code``), the worker pool
(warm handler processes), the async invoker (retries, destinations, dead letters) and the
event source mapping pollers.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from eventplane import names
from eventplane.delivery import Router
from eventplane.errors import ResourceNotFound
from eventplane.functions import references
from eventplane.functions.async_invoke import AsyncInvoker
from eventplane.functions.code import CodeStore
from eventplane.functions.errors import (
    InvalidParameterValueException,
    PreconditionFailedException,
    ResourceConflictException,
)
from eventplane.functions.invocations import (
    ASYNC_PARTITIONS,
    ASYNC_TOPIC,
)
from eventplane.functions.invoke import InvokePath
from eventplane.functions.mapping_access import check_function, check_source
from eventplane.functions.mappings import MappingRunner
from eventplane.functions.models import (
    ALIAS,
    FUNCTION,
    INVOKE_CONFIG,
    LATEST,
    MAPPING,
    VERSION,
    AliasDef,
    CodeRef,
    FunctionConfig,
    FunctionDef,
    InvokeConfig,
    MappingDef,
    VersionDef,
    alias_key,
    alias_not_found,
    function_arn,
    function_not_found,
    invoke_config_key,
    iso8601,
    new_revision_id,
    resolve_qualifier,
    validate_function_name,
    validate_reserved_concurrency,
    validate_tags,
    version_key,
)
from eventplane.functions.models.functions import check_role_account, default_role
from eventplane.functions.packages import Package, package_directory, package_zip
from eventplane.functions.permissions import FunctionPermissions
from eventplane.functions.pool import WorkerPool
from eventplane.functions.stream_checkpoints import Checkpoints
from eventplane.functions.stream_mappings import StreamMappingRunner
from eventplane.kafka.clients import TopicSpec, ensure_topics
from eventplane.messaging.sources import queue_source
from eventplane.messaging.stream_sources import stream_source
from eventplane.observability.logging import get_logger
from eventplane.runtime import ServerContext
from eventplane.security.accounts import caller_account
from eventplane.security.resource_policy import RESOURCE_POLICIES_KEY
from eventplane.security.setup import execution_role_env

_log = get_logger("eventplane.functions")
_handler_log = get_logger("eventplane.functions.handler")


class FunctionEngine(InvokePath):
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self.registry = ctx.registry
        self.clock = ctx.clock
        self.code = CodeStore(ctx.settings, ctx.producer)
        self.pool = WorkerPool(
            base_env={"EVENTPLANE_ENDPOINT": ctx.settings.advertise},
            on_log=self._on_log,
            role_env=execution_role_env(ctx.settings),
        )
        self.async_invoker = AsyncInvoker(
            ctx.settings,
            ctx.producer,
            Router(ctx.registry),
            instance_id=ctx.instance_id,
            policy=self._async_policy,
            run=self._run_async,
        )
        self.mappings = MappingRunner(
            ctx.registry, run=self._run_mapping, queues=lambda: queue_source(ctx.extras)
        )
        self.stream_mappings = StreamMappingRunner(
            ctx.registry,
            lambda on_change: Checkpoints(ctx.settings, ctx.producer, on_change),
            run=self._run_mapping,
            streams=lambda: stream_source(ctx.extras),
            router=Router(ctx.registry),
            producer=ctx.producer,
            clock=ctx.clock,
        )
        # Resource-based policies (AddPermission); authorization reads them too.
        self.permissions = FunctionPermissions(
            ctx.registry, lambda name, qualifier: self.resolve(name, qualifier)[2]
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._init_invoke_path()  # its caches, and the parsed definitions every invoke reads

    def _now(self) -> str:
        """LastModified for a change made now, from the injected clock."""
        return iso8601(self.clock())

    # --- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(
            ensure_topics, self.ctx.settings, [TopicSpec(ASYNC_TOPIC, ASYNC_PARTITIONS)]
        )
        await asyncio.to_thread(self.code.start)
        self.async_invoker.start()
        await self.mappings.start()
        await self.stream_mappings.start()

    async def stop(self) -> None:
        await self.stream_mappings.stop()
        await self.mappings.stop()
        await asyncio.to_thread(self.async_invoker.close)
        await self.pool.close()
        await asyncio.to_thread(self.code.close)

    @staticmethod
    def _on_log(function: str, request_id: str, line: str) -> None:
        _handler_log.info(line, function=function, request_id=request_id)

    # --- reads ------------------------------------------------------------------------------
    def function(self, name: str) -> FunctionDef:
        r = self.registry.get(FUNCTION, name)
        if r is None:
            self._parsed.forget(name)
            raise function_not_found(name)
        return self._parsed.function(r)

    def functions(self) -> list[FunctionDef]:
        return [FunctionDef.from_resource(r) for r in self.registry.find(FUNCTION)]

    def versions(self, name: str) -> dict[str, VersionDef]:
        found = (VersionDef.from_resource(r) for r in self.registry.find(VERSION, f"{name}:"))
        return {v.version: v for v in found if v.function == name}

    def aliases(self, name: str) -> dict[str, AliasDef]:
        found = (AliasDef.from_resource(r) for r in self.registry.find(ALIAS, f"{name}:"))
        return {a.name: a for a in found if a.function == name}

    def resolve(
        self, name: str, qualifier: str | None, *, route: bool = False
    ) -> tuple[FunctionDef, str, FunctionConfig]:
        """(function, executed version, its configuration); runs on every invoke, so it reads
        only the alias and version the qualifier names, never lists them all. With ``route``
        (an invocation) an alias with a RoutingConfig picks its version by weight."""
        fn = self.function(name)
        versions: dict[str, VersionDef] = {}
        aliases: dict[str, AliasDef] = {}
        if qualifier and qualifier != LATEST:
            target = qualifier
            if not (qualifier.isascii() and qualifier.isdigit()):
                r = self.registry.get(ALIAS, alias_key(name, qualifier))
                if r is not None:
                    alias = self._parsed.qualifier(r, AliasDef.from_resource)
                    if route:
                        alias = replace(alias, function_version=alias.route())
                    aliases[qualifier] = alias
                    target = alias.function_version
            if target.isascii() and target.isdigit():
                r = self.registry.get(VERSION, version_key(name, target))
                if r is not None:
                    versions[target] = self._parsed.qualifier(r, VersionDef.from_resource)
        version, config = resolve_qualifier(fn, qualifier, versions, aliases)
        return fn, version, config

    # --- functions ----------------------------------------------------------------------------
    async def _package(
        self, name: str, handler: str, zip_file: bytes | None, directory: str | None, operation: str
    ) -> Package:
        if (zip_file is None) == (directory is None):
            raise InvalidParameterValueException(
                "Code must hold exactly one of ZipFile or Directory"
            )
        if directory is not None:
            return await asyncio.to_thread(package_directory, directory)
        assert zip_file is not None
        package = await asyncio.to_thread(package_zip, zip_file, handler, operation=operation)
        await self.code.put(name, package.sha256, zip_file)
        return package

    async def create_function(
        self,
        name: str,
        handler: str,
        *,
        zip_file: bytes | None,
        directory: str | None,
        timeout: int | None,
        memory_size: int | None,
        environment: Mapping[str, str],
        description: str,
        publish: bool,
        dead_letter_arn: str | None,
        runtime: str,
        tags: Mapping[str, str],
        role: str = "",
    ) -> tuple[FunctionDef, str, FunctionConfig]:
        validate_function_name(name)
        account = caller_account()
        if self.registry.get(FUNCTION, references.internal(self.registry, name, None)):
            raise ResourceConflictException(f"Function already exist: {name}")
        name = names.qualify(name, account)  # names are per account: the internal name
        role = role or default_role(account)
        check_role_account(role, account)
        tags = validate_tags(tags)
        # Validate the configuration before storing any code.
        FunctionConfig.build(
            handler=handler,
            code=_placeholder_code(),
            runtime=runtime,
            timeout=timeout,
            memory_size=memory_size,
            environment=environment,
            description=description,
            dead_letter_arn=dead_letter_arn,
            role=role,
            revision_id="",
            last_modified="",
        )
        package = await self._package(name, handler, zip_file, directory, "CreateFunction")
        config = FunctionConfig.build(
            handler=handler,
            code=package.ref,
            runtime=runtime,
            timeout=timeout,
            memory_size=memory_size,
            environment=environment,
            description=description,
            dead_letter_arn=dead_letter_arn,
            role=role,
            revision_id=new_revision_id(),
            last_modified=self._now(),
        )
        fn = FunctionDef(name, config, tags=dict(tags), account=account)
        await asyncio.to_thread(self.registry.put, FUNCTION, name, fn.to_spec())
        _log.info("function created", function=name, code_sha256=package.sha256)
        if publish:
            return await self.publish_version(name, "")
        return fn, LATEST, config

    async def _save(self, fn: FunctionDef) -> None:
        await asyncio.to_thread(self.registry.put, FUNCTION, fn.name, fn.to_spec())

    async def update_code(
        self,
        name: str,
        zip_file: bytes | None,
        directory: str | None,
        publish: bool,
        revision_id: str = "",
    ) -> tuple[FunctionDef, str, FunctionConfig]:
        fn = self.function(name)
        _check_revision(fn.config.revision_id, revision_id)
        package = await self._package(
            name, fn.config.handler, zip_file, directory, "UpdateFunctionCode"
        )
        config = fn.config.update(
            revision_id=new_revision_id(), last_modified=self._now(), code=package.ref
        )
        fn = replace(fn, config=config)
        await self._save(fn)
        await self.pool.discard(name)
        if publish:
            return await self.publish_version(name, "")
        return fn, LATEST, config

    async def update_configuration(
        self, name: str, revision_id: str = "", **changes: Any
    ) -> FunctionConfig:
        fn = self.function(name)
        _check_revision(fn.config.revision_id, revision_id)
        if changes.get("role"):
            check_role_account(changes["role"], fn.account)
        config = fn.config.update(
            revision_id=new_revision_id(), last_modified=self._now(), **changes
        )
        await self._save(replace(fn, config=config))
        await self.pool.discard(name)
        return config

    async def delete_function(self, name: str, qualifier: str | None) -> None:
        fn = self.function(name)
        if qualifier and qualifier != LATEST:
            if not (qualifier.isascii() and qualifier.isdigit()):
                raise InvalidParameterValueException(
                    "Deletion of aliases is not supported through DeleteFunction; use DeleteAlias"
                )
            version = self.versions(name).get(qualifier)
            if version is None:
                raise function_not_found(name, qualifier)
            in_use = [
                a.name for a in self.aliases(name).values() if a.function_version == qualifier
            ]
            if in_use:
                raise ResourceConflictException(
                    f"Unable to delete version because the following aliases reference it: {in_use}"
                )
            await asyncio.to_thread(self.registry.delete, VERSION, version.key)
            await self.permissions.forget(name, qualifier)
            return
        for kind, prefix in (
            (VERSION, f"{name}:"),
            (ALIAS, f"{name}:"),
            (INVOKE_CONFIG, f"{name}:"),
        ):
            for r in self.registry.find(kind, prefix):
                await asyncio.to_thread(self.registry.delete, kind, r.name)
        await self.permissions.forget(name)
        await asyncio.to_thread(self.registry.delete, FUNCTION, name)
        await self.pool.discard(name)
        _log.info("function deleted", function=fn.name)

    # --- versions and aliases -----------------------------------------------------------------
    async def publish_version(
        self, name: str, description: str, code_sha256: str = "", revision_id: str = ""
    ) -> tuple[FunctionDef, str, FunctionConfig]:
        fn = self.function(name)
        _check_revision(fn.config.revision_id, revision_id)
        if code_sha256 and code_sha256 != fn.config.code.sha256:
            raise InvalidParameterValueException(
                f"CodeSHA256 ({code_sha256}) is different from current CodeSHA256 in $LATEST "
                f"({fn.config.code.sha256}). Please try again with the CodeSHA256 in $LATEST."
            )
        versions = self.versions(name)
        if versions:
            last = max(versions.values(), key=lambda v: v.number)
            # Lambda: publishing an unchanged $LATEST returns the last version.
            if _same(last.config, fn.config):
                return fn, last.version, last.config
        config = replace(
            fn.config,
            description=description or fn.config.description,
            revision_id=new_revision_id(),
            last_modified=self._now(),
        )
        version = VersionDef(name, fn.next_version, config, account=fn.account)
        await asyncio.to_thread(self.registry.put, VERSION, version.key, version.to_spec())
        await self._save(replace(fn, next_version=fn.next_version + 1))
        return fn, version.version, config

    async def put_alias(
        self,
        name: str,
        alias: str,
        version: str | None,
        description: str | None,
        create: bool,
        revision_id: str = "",
        weights: Mapping[str, float] | None = None,  # None: unchanged (create: none)
    ) -> AliasDef:
        fn = self.function(name)
        existing = self.aliases(name).get(alias)
        if create and existing is not None:
            raise ResourceConflictException(
                f"Alias already exists: {function_arn(name, alias, fn.account)}"
            )
        if not create and existing is None:
            raise alias_not_found(name, alias)
        if existing is not None:
            _check_revision(existing.revision_id, revision_id)
        target = version if version is not None else (existing.function_version if existing else "")
        versions = self.versions(name)
        if target and target != LATEST and target not in versions:
            raise function_not_found(name, target)
        if weights is None:
            weights = existing.additional_version_weights if existing else {}
        built = AliasDef.build(
            name,
            alias,
            target,
            description=(
                description
                if description is not None
                else (existing.description if existing else "")
            ),
            revision_id=new_revision_id(),
            additional_version_weights=weights,
            account=fn.account,
        )
        for additional in built.additional_version_weights:
            if additional not in versions:
                raise function_not_found(name, additional)
        await asyncio.to_thread(self.registry.put, ALIAS, built.key, built.to_spec())
        return built

    def alias(self, name: str, alias: str) -> AliasDef:
        self.function(name)
        found = self.aliases(name).get(alias)
        if found is None:
            raise alias_not_found(name, alias)
        return found

    async def delete_alias(self, name: str, alias: str) -> None:
        await asyncio.to_thread(self.registry.delete, ALIAS, self.alias(name, alias).key)
        await self.permissions.forget(name, alias)

    # --- tags -------------------------------------------------------------------------------
    async def tag_function(self, name: str, tags: Mapping[str, str]) -> None:
        fn = self.function(name)
        await self._save(replace(fn, tags=validate_tags({**fn.tags, **tags})))

    async def untag_function(self, name: str, keys: list[str]) -> None:
        fn = self.function(name)
        await self._save(replace(fn, tags={k: v for k, v in fn.tags.items() if k not in keys}))

    # --- concurrency and async settings ---------------------------------------------------
    async def put_concurrency(self, name: str, value: int) -> int:
        fn = self.function(name)
        validate_reserved_concurrency(value)
        await self._save(replace(fn, reserved_concurrency=value))
        return value

    async def delete_concurrency(self, name: str) -> None:
        fn = self.function(name)
        await self._save(replace(fn, reserved_concurrency=None))

    async def put_invoke_config(
        self, name: str, qualifier: str | None, **fields: Any
    ) -> InvokeConfig:
        fn, _, _ = self.resolve(name, qualifier)
        config = InvokeConfig.build(
            name, qualifier, last_modified=self._now(), account=fn.account, **fields
        )
        await asyncio.to_thread(self.registry.put, INVOKE_CONFIG, config.key, config.to_spec())
        return config

    async def update_invoke_config(
        self, name: str, qualifier: str | None, **fields: Any
    ) -> InvokeConfig:
        """UpdateFunctionEventInvokeConfig: the fields given (not None) over the current."""
        fn, _, _ = self.resolve(name, qualifier)
        current = self.require_invoke_config(name, qualifier)
        kept: dict[str, Any] = {
            "maximum_retry_attempts": current.maximum_retry_attempts,
            "maximum_event_age_seconds": current.maximum_event_age_seconds,
            "on_success": current.on_success,
            "on_failure": current.on_failure,
        }
        merged = {k: (kept[k] if fields.get(k) is None else fields[k]) for k in kept}
        config = InvokeConfig.build(
            name,
            qualifier,
            last_modified=self._now(),
            maximum_retry_attempts=merged["maximum_retry_attempts"],
            maximum_event_age_seconds=merged["maximum_event_age_seconds"],
            on_success=merged["on_success"] or None,
            on_failure=merged["on_failure"] or None,
            account=fn.account,
        )
        await asyncio.to_thread(self.registry.put, INVOKE_CONFIG, config.key, config.to_spec())
        return config

    def invoke_configs(self, name: str) -> list[InvokeConfig]:
        found = self.registry.find(INVOKE_CONFIG, f"{name}:")
        configs = (InvokeConfig.from_resource(r) for r in found)
        return sorted((c for c in configs if c.function == name), key=lambda c: c.key)

    def invoke_config(self, name: str, qualifier: str | None) -> InvokeConfig | None:
        r = self.registry.get(INVOKE_CONFIG, invoke_config_key(name, qualifier))
        return InvokeConfig.from_resource(r) if r is not None else None

    def require_invoke_config(self, name: str, qualifier: str | None) -> InvokeConfig:
        config = self.invoke_config(name, qualifier)
        if config is None:
            raise ResourceNotFound(
                f"The function {function_arn(name, qualifier or LATEST)} doesn't have an "
                "EventInvokeConfig"
            )
        return config

    async def delete_invoke_config(self, name: str, qualifier: str | None) -> None:
        config = self.require_invoke_config(name, qualifier)
        await asyncio.to_thread(self.registry.delete, INVOKE_CONFIG, config.key)

    # --- event source mappings ------------------------------------------------------------
    def mapping(self, mapping_uuid: str) -> MappingDef:
        r = self.registry.get(MAPPING, mapping_uuid)
        if r is None:
            raise ResourceNotFound(
                f"The resource you requested does not exist. (Service: Lambda; UUID: "
                f"{mapping_uuid})"
            )
        return MappingDef.from_resource(r)

    def mapping_list(self, source: str = "", function: str = "") -> list[MappingDef]:
        found = [MappingDef.from_resource(r) for r in self.registry.find(MAPPING)]
        return [
            m
            for m in found
            if (not source or m.event_source_arn == source)
            and (not function or m.function == function)
        ]

    async def create_mapping(self, source: str, function_ref: str, **fields: Any) -> MappingDef:
        name, qualifier = references.named(self.registry, function_ref)
        fn = check_function(self.resolve(name, qualifier)[0])  # of the caller's account
        # Where a LATEST stream mapping starts (a queue mapping ignores it).
        fields.update(created_ms=self.clock(), account=fn.account)
        mapping = MappingDef.build(
            str(uuid.uuid4()), source, name, qualifier, last_modified=self._now(), **fields
        )
        if mapping.stream is not None:
            streams = stream_source(self.ctx.extras)
            # Without the tables role in this process the stream cannot be checked here.
            if streams is not None:
                try:
                    streams.shards(mapping.event_source_arn)
                except ResourceNotFound:
                    raise InvalidParameterValueException(
                        f"Stream not found: {mapping.event_source_arn} (eventSourceArn)"
                    ) from None
        elif all(self.registry.get("queue", q) is None for q in names.resolutions(mapping.queue)):
            raise InvalidParameterValueException(
                f"Error occurred while ReceiveMessage. SQS Error Code: "
                f"AWS.SimpleQueueService.NonExistentQueue. (queue {names.plain(mapping.queue)})"
            )
        check_source(self.ctx.extras.get(RESOURCE_POLICIES_KEY), mapping, fn)
        for m in self.mapping_list(mapping.event_source_arn, name):
            if m.qualifier == qualifier:  # one mapping per source and function, as on Lambda
                raise ResourceConflictException(_mapping_exists(mapping, m.uuid))
        await asyncio.to_thread(self.registry.put, MAPPING, mapping.uuid, mapping.to_spec())
        return mapping

    async def update_mapping(
        self, mapping_uuid: str, function_ref: str, **fields: Any
    ) -> MappingDef:
        current = self.mapping(mapping_uuid)
        function = qualifier = None
        if function_ref:
            function, qualifier = references.named(self.registry, function_ref)
            check_function(self.resolve(function, qualifier)[0], current.account)
        updated = current.update(
            last_modified=self._now(), function=function, qualifier=qualifier, **fields
        )
        await asyncio.to_thread(self.registry.put, MAPPING, updated.uuid, updated.to_spec())
        return updated

    async def delete_mapping(self, mapping_uuid: str) -> MappingDef:
        current = self.mapping(mapping_uuid)
        await asyncio.to_thread(self.registry.delete, MAPPING, mapping_uuid)
        return replace(current, state="Deleting")


def _same(a: FunctionConfig, b: FunctionConfig) -> bool:
    """Equal but for revision, modification time and description."""

    def bare(c: FunctionConfig) -> FunctionConfig:
        return replace(c, revision_id="", last_modified="", description="")

    return bare(a) == bare(b)


def _check_revision(current: str, given: str) -> None:
    """Lambda's RevisionId precondition: a given RevisionId must be the latest."""
    if given and given != current:
        raise PreconditionFailedException(
            "The Revision Id provided does not match the latest Revision Id. Call the "
            "GetFunction/GetAlias API to retrieve the latest Revision Id"
        )


def _placeholder_code() -> CodeRef:
    return CodeRef("", 0)


def _mapping_exists(mapping: MappingDef, existing: str) -> str:
    """Lambda's words for a second mapping of one source to one function (they differ
    between queues and streams)."""
    function = mapping.function + (f":{mapping.qualifier}" if mapping.qualifier else "")
    pair = f'arn (" {mapping.event_source_arn} ") and function (" {function} ")'
    if mapping.stream is None:
        said = f"An event source mapping with SQS {pair} already exists."
    else:
        said = f"The event source {pair} provided mapping already exists."
    return f"{said} Please update or delete the existing mapping with UUID {existing}"
