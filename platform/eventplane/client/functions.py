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
(``arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]``); a
qualifier is a version number, ``$LATEST`` or an alias name. Code is given in
exactly one of three ways: ``zip_file`` (the zip's bytes), ``directory`` (a
folder on the *server's* machine, for local development) or ``zip_directory`` (a
folder on *this* machine, which the SDK zips with ``zip_from_directory``). The
``list_*`` methods follow every page. A malformed argument (an unknown key in a
destination config, two ways of giving code) raises ``ValueError`` before
anything is sent; errors from the server carry Lambda's codes
(``ResourceNotFoundException``, ``ResourceConflictException``,
``TooManyRequestsException``, ...; classes in ``eventplane.errors``). A
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
from eventplane.client._channel import Page, every_page
from eventplane.client._event_types import strings
from eventplane.client._facade import BlockingFacade, blocking
from eventplane.client._function_account_types import AccountSettings, account_settings
from eventplane.client._function_code import function_code
from eventplane.client._function_configs import ConfigCalls
from eventplane.client._function_mappings import MappingCalls
from eventplane.client._function_permissions import PermissionCalls
from eventplane.client._function_types import (
    FunctionConfiguration,
    GetFunctionResult,
    InvokeResult,
)
from eventplane.client._function_versions import VersionCalls


class AsyncFunctionsClient(VersionCalls, ConfigCalls, PermissionCalls, MappingCalls):
    """asyncio Functions API; reach it as ``AsyncClient().functions``.

    The one implementation of every call: ``FunctionsClient`` runs these same
    methods over a blocking channel (see ``eventplane.client._facade``).
    """

    _stub_class = functions_pb2_grpc.FunctionsStub

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
        role: str | None = None,
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
            role: the execution role ARN (``arn:aws:iam::ACCOUNT:role/NAME``) whose
                policies the handler's own API calls get; None: ``role/eventplane``.

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
            function_code(zip_file, directory, zip_directory),
            timeout,
            memory_size,
            environment,
            description,
            publish,
            dead_letter_target_arn,
            runtime,
            tags,
            role,
        )
        return t.configuration(await self._call(self._stub.CreateFunction, req, self._timeout))

    async def update_function_code(
        self,
        function_name: str,
        *,
        zip_file: bytes | None = None,
        directory: str | Path | None = None,
        zip_directory: str | Path | None = None,
        publish: bool = False,
        revision_id: str | None = None,
    ) -> FunctionConfiguration:
        """Replace ``$LATEST``'s code; warm workers pick it up for the next invocation.

        Args:
            function_name: the function (name or ARN).
            zip_file: the package as zip bytes.
            directory: a folder on the server's machine.
            zip_directory: a folder on this machine, zipped by the SDK.
            publish: also publish a version of the new code.
            revision_id: update only if ``$LATEST`` still has this revision.

        Returns:
            ``$LATEST``'s settings with the new ``code_sha256``.

        Raises:
            ValueError: not exactly one way of giving code; before anything is sent.
            EventplaneError: ``ResourceNotFoundException`` when the function does not
                exist; ``PreconditionFailedException`` when ``revision_id`` is not
                ``$LATEST``'s.
        """
        req = pb.UpdateFunctionCodeRequest(
            function_name=function_name,
            code=function_code(zip_file, directory, zip_directory),
            publish=publish,
            revision_id=revision_id or "",
        )
        return t.configuration(await self._call(self._stub.UpdateFunctionCode, req, self._timeout))

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
        role: str | None = None,
        revision_id: str | None = None,
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
            role: a new execution role ARN (warm workers are replaced).
            revision_id: update only if ``$LATEST`` still has this revision.

        Returns:
            ``$LATEST``'s settings as they are now.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the function does not
                exist; ``PreconditionFailedException`` when ``revision_id`` is not
                ``$LATEST``'s.
        """
        req = t.update_configuration_request(
            function_name,
            handler,
            timeout,
            memory_size,
            environment,
            description,
            dead_letter_target_arn,
            role,
            revision_id,
        )
        return t.configuration(
            await self._call(self._stub.UpdateFunctionConfiguration, req, self._timeout)
        )

    async def get_function(
        self, function_name: str, qualifier: str | None = None
    ) -> GetFunctionResult:
        """A function's settings, reserved concurrency and tags.

        Args:
            function_name: the function (name or ARN).
            qualifier: a version or alias; None: ``$LATEST``.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the function (or
                version, or alias) does not exist.
        """
        req = pb.GetFunctionRequest(function_name=function_name, qualifier=qualifier or "")
        return t.get_function_result(await self._call(self._stub.GetFunction, req, self._timeout))

    async def get_function_configuration(
        self, function_name: str, qualifier: str | None = None
    ) -> FunctionConfiguration:
        """A function's settings alone (``get_function`` without tags and concurrency).

        Args:
            function_name: the function (name or ARN, optionally qualified).
            qualifier: a version or alias; None: ``$LATEST`` (or the ARN's qualifier).

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the function (or
                version, or alias) does not exist.
        """
        req = pb.GetFunctionConfigurationRequest(
            function_name=function_name, qualifier=qualifier or ""
        )
        return t.configuration(
            await self._call(self._stub.GetFunctionConfiguration, req, self._timeout)
        )

    async def list_functions(self) -> list[FunctionConfiguration]:
        """Every function's ``$LATEST`` settings; follows all pages."""

        async def page(marker: str | None) -> Page[FunctionConfiguration]:
            req = pb.ListFunctionsRequest(marker=marker or "")
            r = await self._call(self._stub.ListFunctions, req, self._timeout)
            return [t.configuration(c) for c in r.functions], r.next_marker or None

        return await every_page(page)

    async def delete_function(self, function_name: str, *, qualifier: str | None = None) -> None:
        """Delete a function, its versions and aliases, or only one version.

        Args:
            function_name: the function (name or ARN).
            qualifier: a version number: delete only it; None: the whole function.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when it does not exist;
                ``ResourceConflictException`` when an alias still points to the version.
        """
        req = pb.DeleteFunctionRequest(function_name=function_name, qualifier=qualifier or "")
        await self._call(self._stub.DeleteFunction, req, self._timeout)

    # --- tags and account ---------------------------------------------------------------

    async def tag_resource(self, resource: str, tags: Mapping[str, str]) -> None:
        """Add tags to a function, overwriting the value of a key it already has.

        Args:
            resource: the function's ARN, without a qualifier (versions and aliases
                carry no tags of their own, as in Lambda).
            tags: keys of 1-128 characters (not starting with ``aws:``) to values of
                up to 256; a function holds at most 50 tags.

        Raises:
            ValueError: ``tags`` is not a ``{str: str}`` dict; before anything is sent.
            EventplaneError: ``ResourceNotFoundException`` when the function does not
                exist; ``InvalidParameterValueException`` for a tag or a number of tags
                over the limits, or a resource that is not an unqualified function ARN.
        """
        req = pb.TagFunctionRequest(resource=resource, tags=t.str_map(tags, "tags"))
        await self._call(self._stub.TagResource, req, self._timeout)

    async def untag_resource(self, resource: str, tag_keys: Iterable[str]) -> None:
        """Remove tags from a function; a key it does not have is ignored.

        Raises:
            ValueError: ``tag_keys`` is one string, not a list of them; before anything
                is sent.
            EventplaneError: ``ResourceNotFoundException`` when the function does not exist.
        """
        req = pb.UntagFunctionRequest(resource=resource, tag_keys=strings(tag_keys, "tag_keys"))
        await self._call(self._stub.UntagResource, req, self._timeout)

    async def list_tags(self, resource: str) -> dict[str, str]:
        """The tags of a function, named by its unqualified ARN.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the function does not exist.
        """
        req = pb.ListFunctionTagsRequest(resource=resource)
        return dict((await self._call(self._stub.ListTags, req, self._timeout)).tags)

    async def get_account_settings(self) -> AccountSettings:
        """The account's limits (code storage, package sizes, concurrency) and usage
        (code stored, number of functions)."""
        req = pb.GetAccountSettingsRequest()
        return account_settings(await self._call(self._stub.GetAccountSettings, req, self._timeout))

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
        return t.invoke_result(await self._call(self._stub.Invoke, req, self._timeout))


class FunctionsClient(BlockingFacade[AsyncFunctionsClient]):
    """Blocking Functions API; reach it as ``Client().functions``."""

    _core_class = AsyncFunctionsClient

    create_function = blocking(AsyncFunctionsClient.create_function)
    update_function_code = blocking(AsyncFunctionsClient.update_function_code)
    update_function_configuration = blocking(AsyncFunctionsClient.update_function_configuration)
    get_function = blocking(AsyncFunctionsClient.get_function)
    get_function_configuration = blocking(AsyncFunctionsClient.get_function_configuration)
    list_functions = blocking(AsyncFunctionsClient.list_functions)
    delete_function = blocking(AsyncFunctionsClient.delete_function)
    tag_resource = blocking(AsyncFunctionsClient.tag_resource)
    untag_resource = blocking(AsyncFunctionsClient.untag_resource)
    list_tags = blocking(AsyncFunctionsClient.list_tags)
    get_account_settings = blocking(AsyncFunctionsClient.get_account_settings)
    publish_version = blocking(AsyncFunctionsClient.publish_version)
    list_versions_by_function = blocking(AsyncFunctionsClient.list_versions_by_function)
    create_alias = blocking(AsyncFunctionsClient.create_alias)
    update_alias = blocking(AsyncFunctionsClient.update_alias)
    get_alias = blocking(AsyncFunctionsClient.get_alias)
    list_aliases = blocking(AsyncFunctionsClient.list_aliases)
    delete_alias = blocking(AsyncFunctionsClient.delete_alias)
    invoke = blocking(AsyncFunctionsClient.invoke)
    put_function_concurrency = blocking(AsyncFunctionsClient.put_function_concurrency)
    get_function_concurrency = blocking(AsyncFunctionsClient.get_function_concurrency)
    delete_function_concurrency = blocking(AsyncFunctionsClient.delete_function_concurrency)
    put_function_event_invoke_config = blocking(
        AsyncFunctionsClient.put_function_event_invoke_config
    )
    update_function_event_invoke_config = blocking(
        AsyncFunctionsClient.update_function_event_invoke_config
    )
    get_function_event_invoke_config = blocking(
        AsyncFunctionsClient.get_function_event_invoke_config
    )
    list_function_event_invoke_configs = blocking(
        AsyncFunctionsClient.list_function_event_invoke_configs
    )
    delete_function_event_invoke_config = blocking(
        AsyncFunctionsClient.delete_function_event_invoke_config
    )
    add_permission = blocking(AsyncFunctionsClient.add_permission)
    remove_permission = blocking(AsyncFunctionsClient.remove_permission)
    get_policy = blocking(AsyncFunctionsClient.get_policy)
    create_event_source_mapping = blocking(AsyncFunctionsClient.create_event_source_mapping)
    update_event_source_mapping = blocking(AsyncFunctionsClient.update_event_source_mapping)
    get_event_source_mapping = blocking(AsyncFunctionsClient.get_event_source_mapping)
    list_event_source_mappings = blocking(AsyncFunctionsClient.list_event_source_mappings)
    delete_event_source_mapping = blocking(AsyncFunctionsClient.delete_event_source_mapping)
