"""client.functions: Lambda-compatible functions; method names follow boto3's Lambda client.

    with Client() as ep:
        ep.functions.create_function("resize", "app.handler", zip_directory="./resize")
        result = ep.functions.invoke("resize", {"width": 640}, log_type="Tail")
        print(result.json(), result.function_error, result.log_result)
        ep.functions.put_function_event_invoke_config(
            "resize", maximum_retry_attempts=1,
            destination_config={"OnFailure": {"Destination": DLQ_ARN}})
        ep.functions.create_event_source_mapping(QUEUE_ARN, "resize", batch_size=10)

Functions are addressed by name or ARN
(``arn:aws:lambda:local:000000000000:function:<name>[:<qualifier>]``); a
qualifier is a version number, ``$LATEST`` or an alias name. Code is given in
exactly one of three ways: ``zip_file`` (the zip's bytes), ``directory`` (a
folder on the *server's* machine, for local development) or ``zip_directory`` (a
folder on *this* machine, which the SDK zips with ``zip_from_directory``). The
``list_*`` methods follow every page. A malformed argument (an unknown key in a
destination config, two ways of giving code) raises ``ValueError`` before
anything is sent; errors from the server carry Lambda's codes
(``ResourceNotFoundException``, ``ResourceConflictException``,
``TooManyRequestsException``, ...; classes in ``eventplane.functions.errors``). A
function that fails is not an exception:
``invoke`` returns an ``InvokeResult`` whose ``function_error`` is set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from eventplane._gen.v1 import functions_pb2 as pb
from eventplane._gen.v1 import functions_pb2_grpc
from eventplane.client import _function_types as t
from eventplane.client._channel import Page, ainvoke, every_page, every_page_async, invoke
from eventplane.client._function_types import (
    Alias,
    DestinationConfig,
    EventSourceMapping,
    FunctionConfiguration,
    FunctionEventInvokeConfig,
    GetFunctionResult,
    InvokeResult,
)


class FunctionsClient:
    """Blocking Functions API; reach it as ``Client().functions``."""

    def __init__(self, channel: Any, timeout: float | None) -> None:
        self._stub = functions_pb2_grpc.FunctionsStub(channel)
        self._timeout = timeout

    # --- functions ---------------------------------------------------------------------

    def create_function(
        self,
        function_name: str,
        handler: str,
        *,
        zip_file: bytes | None = None,
        directory: str | Path | None = None,
        zip_directory: str | Path | None = None,
        timeout: int | None = None,
        memory_size: int | None = None,
        environment: Mapping[str, str] | None = None,
        description: str | None = None,
        publish: bool = False,
        dead_letter_target_arn: str | None = None,
        runtime: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> FunctionConfiguration:
        """Create a function from a Python package.

        Give the code in exactly one of ``zip_file``, ``directory`` and ``zip_directory``.

        Args:
            function_name: letters, digits, ``-`` and ``_``; unique.
            handler: ``module.function`` in the package (``app.handler`` for a
                ``handler`` function in ``app.py`` at the package's root).
            zip_file: the package as zip bytes.
            directory: a folder on the server's machine, used in place (local
                development; ``package_type`` is ``Directory``).
            zip_directory: a folder on this machine; the SDK zips it
                (``zip_from_directory``: deterministic, without ``__pycache__``)
                and sends the zip.
            timeout: seconds an invocation may run, 1-900; None: 3.
            memory_size: MB, 128-10,240; None: 128.
            environment: variables the handler's process sees.
            description: free text.
            publish: also publish version 1 of this code.
            dead_letter_target_arn: a queue or topic ARN for async events that
                failed for good.
            runtime: ``python3.x``; None: the server's interpreter.
            tags: cost-allocation style tags.

        Returns:
            The new function's settings (version ``$LATEST``).

        Raises:
            ValueError: not exactly one way of giving code, a folder that is not
                one, or an environment that is not ``{str: str}``; before anything
                is sent.
            EventplaneError: ``ResourceConflictException`` when the function exists;
                ``ValidationException`` for a timeout or memory size out of range;
                ``InvalidParameterValueException`` for a handler that names no
                function or a package that is not a zip.
        """
        req = t.create_function_request(
            function_name,
            handler,
            t.function_code(zip_file, directory, zip_directory),
            timeout,
            memory_size,
            environment,
            description,
            publish,
            dead_letter_target_arn,
            runtime,
            tags,
        )
        return t.configuration(invoke(self._stub.CreateFunction, req, self._timeout))

    def update_function_code(
        self,
        function_name: str,
        *,
        zip_file: bytes | None = None,
        directory: str | Path | None = None,
        zip_directory: str | Path | None = None,
        publish: bool = False,
    ) -> FunctionConfiguration:
        """Replace ``$LATEST``'s code; warm workers pick it up for the next invocation.

        Args:
            function_name: the function (name or ARN).
            zip_file: the package as zip bytes.
            directory: a folder on the server's machine.
            zip_directory: a folder on this machine, zipped by the SDK.
            publish: also publish a version of the new code.

        Returns:
            ``$LATEST``'s settings with the new ``code_sha256``.

        Raises:
            ValueError: not exactly one way of giving code; before anything is sent.
            EventplaneError: ``ResourceNotFoundException`` when the function does not exist.
        """
        req = pb.UpdateFunctionCodeRequest(
            function_name=function_name,
            code=t.function_code(zip_file, directory, zip_directory),
            publish=publish,
        )
        return t.configuration(invoke(self._stub.UpdateFunctionCode, req, self._timeout))

    def update_function_configuration(
        self,
        function_name: str,
        *,
        handler: str | None = None,
        timeout: int | None = None,
        memory_size: int | None = None,
        environment: Mapping[str, str] | None = None,
        description: str | None = None,
        dead_letter_target_arn: str | None = None,
    ) -> FunctionConfiguration:
        """Change ``$LATEST``'s settings; what is left out (None) stays as it is.

        Args:
            function_name: the function (name or ARN).
            handler: ``module.function``.
            timeout: seconds, 1-900.
            memory_size: MB, 128-10,240.
            environment: replaces the whole environment; ``{}`` clears it.
            description: free text.
            dead_letter_target_arn: a queue or topic ARN; ``""`` removes it.

        Returns:
            ``$LATEST``'s settings as they are now.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the function does not exist.
        """
        req = t.update_configuration_request(
            function_name,
            handler,
            timeout,
            memory_size,
            environment,
            description,
            dead_letter_target_arn,
        )
        return t.configuration(invoke(self._stub.UpdateFunctionConfiguration, req, self._timeout))

    def get_function(self, function_name: str, qualifier: str | None = None) -> GetFunctionResult:
        """A function's settings, reserved concurrency and tags.

        Args:
            function_name: the function (name or ARN).
            qualifier: a version or alias; None: ``$LATEST``.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the function (or
                version, or alias) does not exist.
        """
        req = pb.GetFunctionRequest(function_name=function_name, qualifier=qualifier or "")
        return t.get_function_result(invoke(self._stub.GetFunction, req, self._timeout))

    def list_functions(self) -> list[FunctionConfiguration]:
        """Every function's ``$LATEST`` settings; follows all pages."""

        def page(marker: str | None) -> Page[FunctionConfiguration]:
            req = pb.ListFunctionsRequest(marker=marker or "")
            r = invoke(self._stub.ListFunctions, req, self._timeout)
            return [t.configuration(c) for c in r.functions], r.next_marker or None

        return every_page(page)

    def delete_function(self, function_name: str, *, qualifier: str | None = None) -> None:
        """Delete a function, its versions and aliases, or only one version.

        Args:
            function_name: the function (name or ARN).
            qualifier: a version number: delete only it; None: the whole function.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when it does not exist;
                ``ResourceConflictException`` when an alias still points to the version.
        """
        req = pb.DeleteFunctionRequest(function_name=function_name, qualifier=qualifier or "")
        invoke(self._stub.DeleteFunction, req, self._timeout)

    # --- versions and aliases ----------------------------------------------------------

    def publish_version(
        self,
        function_name: str,
        *,
        description: str | None = None,
        code_sha256: str | None = None,
    ) -> FunctionConfiguration:
        """Freeze ``$LATEST``'s code and settings as a new numbered version.

        Args:
            function_name: the function (name or ARN).
            description: the version's description.
            code_sha256: publish only if ``$LATEST`` still has this code (guards
                against a concurrent ``update_function_code``).

        Returns:
            The version's settings (``version`` is its number).

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the function does not
                exist; an error naming the mismatch when ``code_sha256`` is not
                ``$LATEST``'s.
        """
        req = pb.PublishVersionRequest(
            function_name=function_name,
            description=description or "",
            code_sha256=code_sha256 or "",
        )
        return t.configuration(invoke(self._stub.PublishVersion, req, self._timeout))

    def list_versions_by_function(self, function_name: str) -> list[FunctionConfiguration]:
        """``$LATEST`` and every published version of a function; follows all pages.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the function does not exist.
        """

        def page(marker: str | None) -> Page[FunctionConfiguration]:
            req = pb.ListVersionsByFunctionRequest(function_name=function_name, marker=marker or "")
            r = invoke(self._stub.ListVersionsByFunction, req, self._timeout)
            return [t.configuration(c) for c in r.functions], r.next_marker or None

        return every_page(page)

    def create_alias(
        self,
        function_name: str,
        name: str,
        function_version: str,
        *,
        description: str | None = None,
    ) -> Alias:
        """Name a version of a function (``prod`` -> ``3``).

        Args:
            function_name: the function (name or ARN).
            name: the alias; not a number, not ``$LATEST``.
            function_version: a published version or ``$LATEST``.
            description: free text.

        Raises:
            EventplaneError: ``ResourceConflictException`` when the alias exists;
                ``ResourceNotFoundException`` when the version does not.
        """
        req = pb.CreateAliasRequest(
            function_name=function_name,
            name=name,
            function_version=function_version,
            description=description or "",
        )
        return t.alias(invoke(self._stub.CreateAlias, req, self._timeout))

    def update_alias(
        self,
        function_name: str,
        name: str,
        *,
        function_version: str | None = None,
        description: str | None = None,
    ) -> Alias:
        """Point an alias at another version, or change its description; None: unchanged.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the alias or version
                does not exist.
        """
        req = pb.UpdateAliasRequest(
            function_name=function_name,
            name=name,
            function_version=function_version,
            description=description,
        )
        return t.alias(invoke(self._stub.UpdateAlias, req, self._timeout))

    def get_alias(self, function_name: str, name: str) -> Alias:
        """One alias.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when it does not exist.
        """
        req = pb.GetAliasRequest(function_name=function_name, name=name)
        return t.alias(invoke(self._stub.GetAlias, req, self._timeout))

    def list_aliases(
        self, function_name: str, *, function_version: str | None = None
    ) -> list[Alias]:
        """A function's aliases (only those pointing to ``function_version``, if
        given); follows all pages."""

        def page(marker: str | None) -> Page[Alias]:
            req = pb.ListAliasesRequest(
                function_name=function_name,
                function_version=function_version or "",
                marker=marker or "",
            )
            r = invoke(self._stub.ListAliases, req, self._timeout)
            return [t.alias(a) for a in r.aliases], r.next_marker or None

        return every_page(page)

    def delete_alias(self, function_name: str, name: str) -> None:
        """Delete an alias; the version it points to stays."""
        req = pb.DeleteAliasRequest(function_name=function_name, name=name)
        invoke(self._stub.DeleteAlias, req, self._timeout)

    # --- invoke ------------------------------------------------------------------------

    def invoke(
        self,
        function_name: str,
        payload: Any = None,
        *,
        invocation_type: str = "RequestResponse",
        log_type: str | None = None,
        qualifier: str | None = None,
        client_context: str | Mapping[str, Any] | None = None,
    ) -> InvokeResult:
        """Run a function with ``payload`` as its event.

        Args:
            function_name: the function (name or ARN, optionally qualified).
            payload: the event: bytes or text are sent unchanged (they should be
                JSON), None as an empty payload (the handler gets None), anything
                else as ``json.dumps`` of it.
            invocation_type: ``RequestResponse`` (wait for the result, payload up
                to 6 MB), ``Event`` (queue it for asynchronous invocation with
                retries and destinations; answers 202 at once, payload up to 1 MiB)
                or ``DryRun`` (check the function and permissions only).
            log_type: ``Tail``: return the last 4 KiB of the invocation's log in
                ``log_result`` (RequestResponse only).
            qualifier: a version or alias; None: ``$LATEST`` (or the ARN's qualifier).
            client_context: passed to the handler's context: base64 JSON text, or a
                dict the SDK encodes so.

        Returns:
            The status, result payload and, when the function failed,
            ``function_error`` (``Handled`` or ``Unhandled``) with the error document
            as the payload. ``.json()`` parses the payload.

        Raises:
            ValueError: the payload is not JSON-serializable; before anything is sent.
            EventplaneError: ``ResourceNotFoundException`` when the function does not
                exist; ``TooManyRequestsException`` beyond its reserved concurrency;
                ``RequestEntityTooLargeException`` for a payload over the limit.
        """
        req = t.invoke_request(
            function_name, payload, invocation_type, log_type, qualifier, client_context
        )
        return t.invoke_result(invoke(self._stub.Invoke, req, self._timeout))

    # --- concurrency -------------------------------------------------------------------

    def put_function_concurrency(
        self, function_name: str, reserved_concurrent_executions: int
    ) -> int:
        """Reserve (and cap) a function's simultaneous executions.

        Args:
            function_name: the function (name or ARN).
            reserved_concurrent_executions: 0 or more; 0 stops every invocation.

        Returns:
            The reservation now in place.
        """
        req = pb.PutFunctionConcurrencyRequest(
            function_name=function_name,
            reserved_concurrent_executions=t.int_arg(
                reserved_concurrent_executions, "reserved_concurrent_executions"
            ),
        )
        r = invoke(self._stub.PutFunctionConcurrency, req, self._timeout)
        return int(r.reserved_concurrent_executions)

    def get_function_concurrency(self, function_name: str) -> int | None:
        """A function's reserved concurrency; None when none is reserved."""
        req = pb.GetFunctionConcurrencyRequest(function_name=function_name)
        r = invoke(self._stub.GetFunctionConcurrency, req, self._timeout)
        return t.reserved(r.reserved_concurrent_executions)

    def delete_function_concurrency(self, function_name: str) -> None:
        """Remove a function's reservation: it shares the unreserved pool again."""
        req = pb.DeleteFunctionConcurrencyRequest(function_name=function_name)
        invoke(self._stub.DeleteFunctionConcurrency, req, self._timeout)

    # --- asynchronous invocation ---------------------------------------------------------

    def put_function_event_invoke_config(
        self,
        function_name: str,
        *,
        qualifier: str | None = None,
        maximum_retry_attempts: int | None = None,
        maximum_event_age_in_seconds: int | None = None,
        destination_config: DestinationConfig | Mapping[str, Any] | None = None,
    ) -> FunctionEventInvokeConfig:
        """Set how Event invocations are retried and where their records go.

        Replaces the whole config, as in Lambda: what is left out takes its default.

        Args:
            function_name: the function (name or ARN).
            qualifier: a version or alias; None: ``$LATEST``.
            maximum_retry_attempts: retries after a function error, 0-2; None: 2.
            maximum_event_age_in_seconds: 60-21,600; None: 21,600.
            destination_config: a ``DestinationConfig`` or boto3's dict
                (``{"OnSuccess": {"Destination": ARN}, "OnFailure": {"Destination":
                ARN}}``); a destination is a queue, topic, bus or function ARN.

        Raises:
            ValueError: ``destination_config`` has an unknown key; before anything
                is sent.
            EventplaneError: ``ValidationException`` for a value out of range;
                ``InvalidParameterValueException`` for a destination that is not an ARN.
        """
        req = t.put_event_invoke_config_request(
            function_name,
            qualifier,
            maximum_retry_attempts,
            maximum_event_age_in_seconds,
            destination_config,
        )
        return t.event_invoke_config(
            invoke(self._stub.PutFunctionEventInvokeConfig, req, self._timeout)
        )

    def get_function_event_invoke_config(
        self, function_name: str, *, qualifier: str | None = None
    ) -> FunctionEventInvokeConfig:
        """The asynchronous invocation config of a function (or version, or alias).

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when none is set.
        """
        req = pb.GetFunctionEventInvokeConfigRequest(
            function_name=function_name, qualifier=qualifier or ""
        )
        return t.event_invoke_config(
            invoke(self._stub.GetFunctionEventInvokeConfig, req, self._timeout)
        )

    def delete_function_event_invoke_config(
        self, function_name: str, *, qualifier: str | None = None
    ) -> None:
        """Remove the asynchronous invocation config: the defaults apply again."""
        req = pb.DeleteFunctionEventInvokeConfigRequest(
            function_name=function_name, qualifier=qualifier or ""
        )
        invoke(self._stub.DeleteFunctionEventInvokeConfig, req, self._timeout)

    # --- event source mappings -----------------------------------------------------------

    def create_event_source_mapping(
        self,
        event_source_arn: str,
        function_name: str,
        *,
        enabled: bool | None = None,
        batch_size: int | None = None,
        maximum_batching_window_in_seconds: int | None = None,
        function_response_types: Iterable[str] | None = None,
        maximum_concurrency: int | None = None,
    ) -> EventSourceMapping:
        """Invoke a function with batches of messages from a queue.

        Args:
            event_source_arn: the queue's ARN.
            function_name: the function (name or ARN, optionally qualified).
            enabled: start polling at once; None: True.
            batch_size: messages per invocation at most, 1-10,000 (FIFO: 1-10);
                None: 10.
            maximum_batching_window_in_seconds: gather a batch for up to this
                long, 0-300 (not FIFO); None: 0.
            function_response_types: ``["ReportBatchItemFailures"]``: the function
                returns ``{"batchItemFailures": [{"itemIdentifier": id}]}`` and only
                those messages stay on the queue.
            maximum_concurrency: the most invocations at once, 2-1,000 (boto3's
                ``ScalingConfig.MaximumConcurrency``); None: unset.

        Returns:
            The mapping; keep its ``uuid``.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the function or
                queue does not exist; ``ValidationException`` for a value out of
                range; ``ResourceConflictException`` when the queue and function are
                already mapped.
        """
        req = t.create_mapping_request(
            event_source_arn,
            function_name,
            enabled,
            batch_size,
            maximum_batching_window_in_seconds,
            function_response_types,
            maximum_concurrency,
        )
        return t.event_source_mapping(
            invoke(self._stub.CreateEventSourceMapping, req, self._timeout)
        )

    def update_event_source_mapping(
        self,
        uuid: str,
        *,
        function_name: str | None = None,
        enabled: bool | None = None,
        batch_size: int | None = None,
        maximum_batching_window_in_seconds: int | None = None,
        function_response_types: Iterable[str] | None = None,
        maximum_concurrency: int | None = None,
    ) -> EventSourceMapping:
        """Change a mapping; what is left out (None) stays as it is.

        Args:
            uuid: the mapping.
            function_name: invoke this function instead.
            enabled: pause (False) or resume (True) polling.
            batch_size: messages per invocation at most.
            maximum_batching_window_in_seconds: 0-300.
            function_response_types: replaces the list; ``[]`` stops partial batch
                failure reports.
            maximum_concurrency: 2-1,000.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the mapping does not exist.
        """
        req = t.update_mapping_request(
            uuid,
            function_name,
            enabled,
            batch_size,
            maximum_batching_window_in_seconds,
            function_response_types,
            maximum_concurrency,
        )
        return t.event_source_mapping(
            invoke(self._stub.UpdateEventSourceMapping, req, self._timeout)
        )

    def get_event_source_mapping(self, uuid: str) -> EventSourceMapping:
        """One mapping.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when it does not exist.
        """
        req = pb.GetEventSourceMappingRequest(uuid=uuid)
        return t.event_source_mapping(invoke(self._stub.GetEventSourceMapping, req, self._timeout))

    def list_event_source_mappings(
        self, *, event_source_arn: str | None = None, function_name: str | None = None
    ) -> list[EventSourceMapping]:
        """Mappings, optionally only those of one queue and/or one function; follows
        all pages."""

        def page(marker: str | None) -> Page[EventSourceMapping]:
            req = pb.ListEventSourceMappingsRequest(
                event_source_arn=event_source_arn or "",
                function_name=function_name or "",
                marker=marker or "",
            )
            r = invoke(self._stub.ListEventSourceMappings, req, self._timeout)
            return [t.event_source_mapping(m) for m in r.event_source_mappings], (
                r.next_marker or None
            )

        return every_page(page)

    def delete_event_source_mapping(self, uuid: str) -> EventSourceMapping:
        """Stop and delete a mapping; returns it as it was (state ``Deleting``).

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when it does not exist.
        """
        req = pb.DeleteEventSourceMappingRequest(uuid=uuid)
        return t.event_source_mapping(
            invoke(self._stub.DeleteEventSourceMapping, req, self._timeout)
        )


class AsyncFunctionsClient:
    """asyncio Functions API; reach it as ``AsyncClient().functions``.

    Every method takes the arguments and returns the result of the
    ``FunctionsClient`` method of the same name.
    """

    def __init__(self, channel: Any, timeout: float | None) -> None:
        self._stub = functions_pb2_grpc.FunctionsStub(channel)
        self._timeout = timeout

    # --- functions ---------------------------------------------------------------------

    async def create_function(
        self,
        function_name: str,
        handler: str,
        *,
        zip_file: bytes | None = None,
        directory: str | Path | None = None,
        zip_directory: str | Path | None = None,
        timeout: int | None = None,
        memory_size: int | None = None,
        environment: Mapping[str, str] | None = None,
        description: str | None = None,
        publish: bool = False,
        dead_letter_target_arn: str | None = None,
        runtime: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> FunctionConfiguration:
        """Create a function; see ``FunctionsClient.create_function``."""
        req = t.create_function_request(
            function_name,
            handler,
            t.function_code(zip_file, directory, zip_directory),
            timeout,
            memory_size,
            environment,
            description,
            publish,
            dead_letter_target_arn,
            runtime,
            tags,
        )
        return t.configuration(await ainvoke(self._stub.CreateFunction, req, self._timeout))

    async def update_function_code(
        self,
        function_name: str,
        *,
        zip_file: bytes | None = None,
        directory: str | Path | None = None,
        zip_directory: str | Path | None = None,
        publish: bool = False,
    ) -> FunctionConfiguration:
        """Replace the code; see ``FunctionsClient.update_function_code``."""
        req = pb.UpdateFunctionCodeRequest(
            function_name=function_name,
            code=t.function_code(zip_file, directory, zip_directory),
            publish=publish,
        )
        return t.configuration(await ainvoke(self._stub.UpdateFunctionCode, req, self._timeout))

    async def update_function_configuration(
        self,
        function_name: str,
        *,
        handler: str | None = None,
        timeout: int | None = None,
        memory_size: int | None = None,
        environment: Mapping[str, str] | None = None,
        description: str | None = None,
        dead_letter_target_arn: str | None = None,
    ) -> FunctionConfiguration:
        """Change settings; see ``FunctionsClient.update_function_configuration``."""
        req = t.update_configuration_request(
            function_name,
            handler,
            timeout,
            memory_size,
            environment,
            description,
            dead_letter_target_arn,
        )
        return t.configuration(
            await ainvoke(self._stub.UpdateFunctionConfiguration, req, self._timeout)
        )

    async def get_function(
        self, function_name: str, qualifier: str | None = None
    ) -> GetFunctionResult:
        """One function; see ``FunctionsClient.get_function``."""
        req = pb.GetFunctionRequest(function_name=function_name, qualifier=qualifier or "")
        return t.get_function_result(await ainvoke(self._stub.GetFunction, req, self._timeout))

    async def list_functions(self) -> list[FunctionConfiguration]:
        """Every function; see ``FunctionsClient.list_functions``."""

        async def page(marker: str | None) -> Page[FunctionConfiguration]:
            req = pb.ListFunctionsRequest(marker=marker or "")
            r = await ainvoke(self._stub.ListFunctions, req, self._timeout)
            return [t.configuration(c) for c in r.functions], r.next_marker or None

        return await every_page_async(page)

    async def delete_function(self, function_name: str, *, qualifier: str | None = None) -> None:
        """Delete a function or version; see ``FunctionsClient.delete_function``."""
        req = pb.DeleteFunctionRequest(function_name=function_name, qualifier=qualifier or "")
        await ainvoke(self._stub.DeleteFunction, req, self._timeout)

    # --- versions and aliases ----------------------------------------------------------

    async def publish_version(
        self,
        function_name: str,
        *,
        description: str | None = None,
        code_sha256: str | None = None,
    ) -> FunctionConfiguration:
        """Publish a version; see ``FunctionsClient.publish_version``."""
        req = pb.PublishVersionRequest(
            function_name=function_name,
            description=description or "",
            code_sha256=code_sha256 or "",
        )
        return t.configuration(await ainvoke(self._stub.PublishVersion, req, self._timeout))

    async def list_versions_by_function(self, function_name: str) -> list[FunctionConfiguration]:
        """A function's versions; see ``FunctionsClient.list_versions_by_function``."""

        async def page(marker: str | None) -> Page[FunctionConfiguration]:
            req = pb.ListVersionsByFunctionRequest(function_name=function_name, marker=marker or "")
            r = await ainvoke(self._stub.ListVersionsByFunction, req, self._timeout)
            return [t.configuration(c) for c in r.functions], r.next_marker or None

        return await every_page_async(page)

    async def create_alias(
        self,
        function_name: str,
        name: str,
        function_version: str,
        *,
        description: str | None = None,
    ) -> Alias:
        """Create an alias; see ``FunctionsClient.create_alias``."""
        req = pb.CreateAliasRequest(
            function_name=function_name,
            name=name,
            function_version=function_version,
            description=description or "",
        )
        return t.alias(await ainvoke(self._stub.CreateAlias, req, self._timeout))

    async def update_alias(
        self,
        function_name: str,
        name: str,
        *,
        function_version: str | None = None,
        description: str | None = None,
    ) -> Alias:
        """Change an alias; see ``FunctionsClient.update_alias``."""
        req = pb.UpdateAliasRequest(
            function_name=function_name,
            name=name,
            function_version=function_version,
            description=description,
        )
        return t.alias(await ainvoke(self._stub.UpdateAlias, req, self._timeout))

    async def get_alias(self, function_name: str, name: str) -> Alias:
        """One alias; see ``FunctionsClient.get_alias``."""
        req = pb.GetAliasRequest(function_name=function_name, name=name)
        return t.alias(await ainvoke(self._stub.GetAlias, req, self._timeout))

    async def list_aliases(
        self, function_name: str, *, function_version: str | None = None
    ) -> list[Alias]:
        """A function's aliases; see ``FunctionsClient.list_aliases``."""

        async def page(marker: str | None) -> Page[Alias]:
            req = pb.ListAliasesRequest(
                function_name=function_name,
                function_version=function_version or "",
                marker=marker or "",
            )
            r = await ainvoke(self._stub.ListAliases, req, self._timeout)
            return [t.alias(a) for a in r.aliases], r.next_marker or None

        return await every_page_async(page)

    async def delete_alias(self, function_name: str, name: str) -> None:
        """Delete an alias; see ``FunctionsClient.delete_alias``."""
        req = pb.DeleteAliasRequest(function_name=function_name, name=name)
        await ainvoke(self._stub.DeleteAlias, req, self._timeout)

    # --- invoke ------------------------------------------------------------------------

    async def invoke(
        self,
        function_name: str,
        payload: Any = None,
        *,
        invocation_type: str = "RequestResponse",
        log_type: str | None = None,
        qualifier: str | None = None,
        client_context: str | Mapping[str, Any] | None = None,
    ) -> InvokeResult:
        """Run a function; see ``FunctionsClient.invoke``."""
        req = t.invoke_request(
            function_name, payload, invocation_type, log_type, qualifier, client_context
        )
        return t.invoke_result(await ainvoke(self._stub.Invoke, req, self._timeout))

    # --- concurrency -------------------------------------------------------------------

    async def put_function_concurrency(
        self, function_name: str, reserved_concurrent_executions: int
    ) -> int:
        """Reserve concurrency; see ``FunctionsClient.put_function_concurrency``."""
        req = pb.PutFunctionConcurrencyRequest(
            function_name=function_name,
            reserved_concurrent_executions=t.int_arg(
                reserved_concurrent_executions, "reserved_concurrent_executions"
            ),
        )
        r = await ainvoke(self._stub.PutFunctionConcurrency, req, self._timeout)
        return int(r.reserved_concurrent_executions)

    async def get_function_concurrency(self, function_name: str) -> int | None:
        """The reservation; see ``FunctionsClient.get_function_concurrency``."""
        req = pb.GetFunctionConcurrencyRequest(function_name=function_name)
        r = await ainvoke(self._stub.GetFunctionConcurrency, req, self._timeout)
        return t.reserved(r.reserved_concurrent_executions)

    async def delete_function_concurrency(self, function_name: str) -> None:
        """Remove the reservation; see ``FunctionsClient.delete_function_concurrency``."""
        req = pb.DeleteFunctionConcurrencyRequest(function_name=function_name)
        await ainvoke(self._stub.DeleteFunctionConcurrency, req, self._timeout)

    # --- asynchronous invocation ---------------------------------------------------------

    async def put_function_event_invoke_config(
        self,
        function_name: str,
        *,
        qualifier: str | None = None,
        maximum_retry_attempts: int | None = None,
        maximum_event_age_in_seconds: int | None = None,
        destination_config: DestinationConfig | Mapping[str, Any] | None = None,
    ) -> FunctionEventInvokeConfig:
        """Set the async config; see ``FunctionsClient.put_function_event_invoke_config``."""
        req = t.put_event_invoke_config_request(
            function_name,
            qualifier,
            maximum_retry_attempts,
            maximum_event_age_in_seconds,
            destination_config,
        )
        return t.event_invoke_config(
            await ainvoke(self._stub.PutFunctionEventInvokeConfig, req, self._timeout)
        )

    async def get_function_event_invoke_config(
        self, function_name: str, *, qualifier: str | None = None
    ) -> FunctionEventInvokeConfig:
        """The async config; see ``FunctionsClient.get_function_event_invoke_config``."""
        req = pb.GetFunctionEventInvokeConfigRequest(
            function_name=function_name, qualifier=qualifier or ""
        )
        return t.event_invoke_config(
            await ainvoke(self._stub.GetFunctionEventInvokeConfig, req, self._timeout)
        )

    async def delete_function_event_invoke_config(
        self, function_name: str, *, qualifier: str | None = None
    ) -> None:
        """Remove the async config; see
        ``FunctionsClient.delete_function_event_invoke_config``."""
        req = pb.DeleteFunctionEventInvokeConfigRequest(
            function_name=function_name, qualifier=qualifier or ""
        )
        await ainvoke(self._stub.DeleteFunctionEventInvokeConfig, req, self._timeout)

    # --- event source mappings -----------------------------------------------------------

    async def create_event_source_mapping(
        self,
        event_source_arn: str,
        function_name: str,
        *,
        enabled: bool | None = None,
        batch_size: int | None = None,
        maximum_batching_window_in_seconds: int | None = None,
        function_response_types: Iterable[str] | None = None,
        maximum_concurrency: int | None = None,
    ) -> EventSourceMapping:
        """Create a mapping; see ``FunctionsClient.create_event_source_mapping``."""
        req = t.create_mapping_request(
            event_source_arn,
            function_name,
            enabled,
            batch_size,
            maximum_batching_window_in_seconds,
            function_response_types,
            maximum_concurrency,
        )
        return t.event_source_mapping(
            await ainvoke(self._stub.CreateEventSourceMapping, req, self._timeout)
        )

    async def update_event_source_mapping(
        self,
        uuid: str,
        *,
        function_name: str | None = None,
        enabled: bool | None = None,
        batch_size: int | None = None,
        maximum_batching_window_in_seconds: int | None = None,
        function_response_types: Iterable[str] | None = None,
        maximum_concurrency: int | None = None,
    ) -> EventSourceMapping:
        """Change a mapping; see ``FunctionsClient.update_event_source_mapping``."""
        req = t.update_mapping_request(
            uuid,
            function_name,
            enabled,
            batch_size,
            maximum_batching_window_in_seconds,
            function_response_types,
            maximum_concurrency,
        )
        return t.event_source_mapping(
            await ainvoke(self._stub.UpdateEventSourceMapping, req, self._timeout)
        )

    async def get_event_source_mapping(self, uuid: str) -> EventSourceMapping:
        """One mapping; see ``FunctionsClient.get_event_source_mapping``."""
        req = pb.GetEventSourceMappingRequest(uuid=uuid)
        return t.event_source_mapping(
            await ainvoke(self._stub.GetEventSourceMapping, req, self._timeout)
        )

    async def list_event_source_mappings(
        self, *, event_source_arn: str | None = None, function_name: str | None = None
    ) -> list[EventSourceMapping]:
        """Mappings; see ``FunctionsClient.list_event_source_mappings``."""

        async def page(marker: str | None) -> Page[EventSourceMapping]:
            req = pb.ListEventSourceMappingsRequest(
                event_source_arn=event_source_arn or "",
                function_name=function_name or "",
                marker=marker or "",
            )
            r = await ainvoke(self._stub.ListEventSourceMappings, req, self._timeout)
            return [t.event_source_mapping(m) for m in r.event_source_mappings], (
                r.next_marker or None
            )

        return await every_page_async(page)

    async def delete_event_source_mapping(self, uuid: str) -> EventSourceMapping:
        """Delete a mapping; see ``FunctionsClient.delete_event_source_mapping``."""
        req = pb.DeleteEventSourceMappingRequest(uuid=uuid)
        return t.event_source_mapping(
            await ainvoke(self._stub.DeleteEventSourceMapping, req, self._timeout)
        )
