"""The invoke half of FunctionEngine: synchronous invokes, and the runs the async invoker
and the event source mappings ask for, all on the server's worker pool.

A mixin rather than a class of its own so the engine keeps one public surface
(``engine.invoke``); the engine owns the collaborators declared below.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import os
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from eventplane.errors import ResourceNotFound
from eventplane.functions import metrics
from eventplane.functions.async_invoke import AsyncInvoker, AsyncPolicy
from eventplane.functions.code import CodeStore
from eventplane.functions.errors import (
    InvalidParameterValueException,
    InvalidRequestContentException,
    TooManyRequestsException,
)
from eventplane.functions.invocations import (
    Invocation,
    new_invocation,
)
from eventplane.functions.models import (
    LATEST,
    FunctionConfig,
    FunctionDef,
    InvokeConfig,
    MappingDef,
    check_payload_size,
    function_arn,
)
from eventplane.functions.parsed import ParsedRecords
from eventplane.functions.pool import FunctionSpec, InvocationResult, Throttled, WorkerPool
from eventplane.runtime import Clock

LOG_TAIL_BYTES = 4096


class InvokePath:
    clock: Clock
    code: CodeStore
    pool: WorkerPool
    async_invoker: AsyncInvoker
    _loop: asyncio.AbstractEventLoop | None
    # Per (function, version): the spec built for the definition and configuration
    # objects it came from (the engine hands out the same objects until the function
    # changes), so a warm invoke builds no paths, ARNs or environment copies.
    _specs: dict[tuple[str, str], tuple[FunctionDef, FunctionConfig, FunctionSpec]]
    # Per (function, outcome): the invocation counter's and duration histogram's series,
    # found for a definition object (a deleted and re-created function is a new one, with
    # new series: the old were removed with it).
    _series: dict[tuple[str, str], tuple[FunctionDef, Any, Any]]

    _parsed: ParsedRecords  # the registry's records parsed once (the engine's reads use it)

    def _init_invoke_path(self) -> None:
        self._parsed = ParsedRecords()
        self._specs = {}
        self._series = {}

    if TYPE_CHECKING:  # defined by FunctionEngine

        def resolve(
            self, name: str, qualifier: str | None, *, route: bool = False
        ) -> tuple[FunctionDef, str, FunctionConfig]: ...

        def invoke_config(self, name: str, qualifier: str | None) -> InvokeConfig | None: ...

    async def _spec(self, fn: FunctionDef, version: str, config: FunctionConfig) -> FunctionSpec:
        code = config.code
        cached = self._specs.get((fn.name, version))
        if cached is not None and cached[0] is fn and cached[1] is config:
            spec = cached[2]
            # Still extracted (the one stat ``installed`` makes), else fetched again below.
            if code.directory or os.path.isdir(spec.code_dir):
                return spec
        code_dir = code.directory or self.code.installed(fn.name, code.sha256)
        if code_dir is None:
            code_dir = await asyncio.to_thread(self.code.fetch, fn.name, code.sha256)
        spec = FunctionSpec(
            name=fn.name,
            version=version,
            handler=config.handler,
            code_dir=code_dir,
            code_id=code.sha256_hex,
            timeout_s=float(config.timeout),
            memory_mb=config.memory_size,
            environment=dict(config.environment),
            arn=function_arn(fn.name, None if version == LATEST else version, fn.account),
            role=config.role,
        )
        self._specs[(fn.name, version)] = (fn, config, spec)
        return spec

    async def invoke(
        self,
        name: str,
        qualifier: str | None,
        invocation_type: str,
        payload: bytes,
        client_context: str | None,
    ) -> tuple[int, str, InvocationResult | None, str]:
        """(status code, executed version, result for RequestResponse, request id)."""
        invocation_type = invocation_type or "RequestResponse"
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            raise InvalidParameterValueException(
                f"1 validation error detected: Value '{invocation_type}' at 'invocationType' "
                "failed to satisfy constraint: Member must satisfy enum value set: [Event, "
                "RequestResponse, DryRun]"
            )
        # An Event invocation picks its version by the alias's weights when it runs.
        fn, version, config = self.resolve(name, qualifier, route=invocation_type != "Event")
        check_payload_size(payload, invocation_type)
        if payload.strip():
            try:
                json.loads(payload)
            except ValueError:
                raise InvalidRequestContentException(
                    "Could not parse request body into json: payload is not valid JSON"
                ) from None
        request_id = str(uuid.uuid4())
        if invocation_type == "DryRun":
            return 204, version, None, request_id
        if invocation_type == "Event":
            inv = new_invocation(
                name,
                qualifier,
                payload,
                source="invoke",
                client_context=client_context,
                request_id=request_id,
                now_ms=self.clock(),
            )
            await self.async_invoker.enqueue(inv)
            return 202, version, None, request_id
        spec = await self._spec(fn, version, config)
        try:
            result = await self.pool.invoke(
                spec,
                payload,
                request_id=request_id,
                client_context=client_context,
                reserved=fn.reserved_concurrency,
            )
        except Throttled as exc:
            metrics.THROTTLES.labels(name, "RequestResponse").inc()
            raise TooManyRequestsException("Rate Exceeded.", reason=exc.reason) from None
        self._count(fn, result)
        return 200, version, result, request_id

    async def _run_async(self, inv: Invocation) -> tuple[InvocationResult, str]:
        """Called on the async invoker's thread; the workers belong to the server's loop."""
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(self._run_async_here(inv), self._loop)
        return await asyncio.wrap_future(future)

    async def _run_async_here(self, inv: Invocation) -> tuple[InvocationResult, str]:
        fn, version, config = self.resolve(inv.function, inv.qualifier, route=True)
        spec = await self._spec(fn, version, config)
        try:
            result = await self.pool.invoke(
                spec,
                inv.payload,
                request_id=inv.request_id,
                client_context=inv.client_context,
                reserved=fn.reserved_concurrency,
            )
        except Throttled:
            metrics.THROTTLES.labels(inv.function, "Event").inc()
            raise
        self._count(fn, result)
        return result, version

    def _async_policy(self, inv: Invocation) -> AsyncPolicy | None:
        try:
            fn, _, config = self.resolve(inv.function, inv.qualifier)
        except ResourceNotFound:
            return None
        settings = self.invoke_config(inv.function, inv.qualifier) or self.invoke_config(
            inv.function, None
        )
        policy = AsyncPolicy(function_arn=fn.arn, dead_letter_arn=config.dead_letter_arn)
        if settings is None:
            return policy
        return replace(
            policy,
            maximum_retry_attempts=settings.maximum_retry_attempts,
            maximum_event_age_seconds=settings.maximum_event_age_seconds,
            on_success=settings.on_success,
            on_failure=settings.on_failure,
        )

    async def _run_mapping(self, mapping: MappingDef, payload: bytes) -> InvocationResult:
        fn, version, config = self.resolve(mapping.function, mapping.qualifier, route=True)
        spec = await self._spec(fn, version, config)
        result = await self.pool.invoke(
            spec,
            payload,
            request_id=str(uuid.uuid4()),
            reserved=fn.reserved_concurrency,
            wait=True,
        )
        self._count(fn, result)
        return result

    def _count(self, fn: FunctionDef, result: InvocationResult) -> None:
        outcome = (result.function_error or "success").lower()
        key = (fn.name, outcome)
        found = self._series.get(key)
        if found is None or found[0] is not fn:
            # labels() takes a lock and checks the names on every call: once per definition.
            found = self._series[key] = (
                fn,
                metrics.INVOCATIONS.labels(fn.name, outcome),
                metrics.DURATION.labels(fn.name),
            )
        found[1].inc()
        found[2].observe(result.duration_ms / 1000)
        if result.function_error:
            metrics.ERRORS.labels(fn.name, result.function_error).inc()


def log_result(result: InvocationResult, version: str) -> str:
    """Lambda's LogResult: base64 of the last 4 KiB of the invocation's log, between the
    platform's START, END and REPORT lines as Lambda writes them (tools parse REPORT for
    the duration and memory figures)."""
    rid = result.request_id
    text = result.log_tail
    if text and not text.endswith("\n"):
        text += "\n"
    report = (
        f"REPORT RequestId: {rid}\tDuration: {result.duration_ms:.2f} ms"
        f"\tBilled Duration: {max(1, math.ceil(result.duration_ms))} ms"
        f"\tMemory Size: {result.memory_mb} MB"
    )
    if result.max_memory_mb is not None:
        report += f"\tMax Memory Used: {result.max_memory_mb} MB"
    if result.init_ms is not None:
        report += f"\tInit Duration: {result.init_ms:.2f} ms"
    log = f"START RequestId: {rid} Version: {version}\n{text}END RequestId: {rid}\n{report}\t\n"
    return base64.b64encode(log.encode()[-LOG_TAIL_BYTES:]).decode()
