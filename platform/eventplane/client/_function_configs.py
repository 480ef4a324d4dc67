"""Concurrency and async-invoke settings of the Functions API (an AsyncFunctionsClient mixin)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eventplane._gen.v1 import functions_pb2 as pb
from eventplane.client import _function_types as t
from eventplane.client._channel import Page, every_page
from eventplane.client._facade import ServiceCore
from eventplane.client._function_types import (
    DestinationConfig,
    FunctionEventInvokeConfig,
)


class ConfigCalls(ServiceCore):
    """Reserved concurrency and event invoke configs (retries, age, destinations)."""

    # --- concurrency -------------------------------------------------------------------

    async def put_function_concurrency(
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
        r = await self._call(self._stub.PutFunctionConcurrency, req, self._timeout)
        return int(r.reserved_concurrent_executions)

    async def get_function_concurrency(self, function_name: str) -> int | None:
        """A function's reserved concurrency; None when none is reserved."""
        req = pb.GetFunctionConcurrencyRequest(function_name=function_name)
        r = await self._call(self._stub.GetFunctionConcurrency, req, self._timeout)
        return t.reserved(r.reserved_concurrent_executions)

    async def delete_function_concurrency(self, function_name: str) -> None:
        """Remove a function's reservation: it shares the unreserved pool again."""
        req = pb.DeleteFunctionConcurrencyRequest(function_name=function_name)
        await self._call(self._stub.DeleteFunctionConcurrency, req, self._timeout)

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
            await self._call(self._stub.PutFunctionEventInvokeConfig, req, self._timeout)
        )

    async def update_function_event_invoke_config(
        self,
        function_name: str,
        *,
        qualifier: str | None = None,
        maximum_retry_attempts: int | None = None,
        maximum_event_age_in_seconds: int | None = None,
        destination_config: DestinationConfig | Mapping[str, Any] | None = None,
    ) -> FunctionEventInvokeConfig:
        """Change some settings of an existing async invocation config; the rest stay.

        Unlike ``put_function_event_invoke_config``, what is left out (None) keeps its
        value, as in Lambda's UpdateFunctionEventInvokeConfig.

        Args:
            function_name: the function (name or ARN).
            qualifier: a version or alias; None: ``$LATEST``.
            maximum_retry_attempts: retries after a function error, 0-2.
            maximum_event_age_in_seconds: 60-21,600.
            destination_config: a ``DestinationConfig`` or boto3's dict; a destination
                left out (None) is kept, one given as ``""`` is removed.

        Returns:
            The config as it is now.

        Raises:
            ValueError: ``destination_config`` has an unknown key; before anything
                is sent.
            EventplaneError: ``ResourceNotFoundException`` when the function has no
                config for that qualifier (put one first); ``ValidationException`` for
                a value out of range.
        """
        req = t.update_event_invoke_config_request(
            function_name,
            qualifier,
            maximum_retry_attempts,
            maximum_event_age_in_seconds,
            destination_config,
        )
        return t.event_invoke_config(
            await self._call(self._stub.UpdateFunctionEventInvokeConfig, req, self._timeout)
        )

    async def list_function_event_invoke_configs(
        self, function_name: str
    ) -> list[FunctionEventInvokeConfig]:
        """The async invocation configs of a function: ``$LATEST``'s, its versions' and
        aliases'; follows all pages.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the function does not exist;
                ``ValidationException`` for a qualified name.
        """

        async def page(marker: str | None) -> Page[FunctionEventInvokeConfig]:
            req = pb.ListFunctionEventInvokeConfigsRequest(
                function_name=function_name, marker=marker or ""
            )
            r = await self._call(self._stub.ListFunctionEventInvokeConfigs, req, self._timeout)
            configs = [t.event_invoke_config(c) for c in r.function_event_invoke_configs]
            return configs, r.next_marker or None

        return await every_page(page)

    async def get_function_event_invoke_config(
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
            await self._call(self._stub.GetFunctionEventInvokeConfig, req, self._timeout)
        )

    async def delete_function_event_invoke_config(
        self, function_name: str, *, qualifier: str | None = None
    ) -> None:
        """Remove the asynchronous invocation config: the defaults apply again."""
        req = pb.DeleteFunctionEventInvokeConfigRequest(
            function_name=function_name, qualifier=qualifier or ""
        )
        await self._call(self._stub.DeleteFunctionEventInvokeConfig, req, self._timeout)
