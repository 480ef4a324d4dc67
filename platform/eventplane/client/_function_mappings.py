"""Event source mapping calls of the Functions API (a mixin of ``AsyncFunctionsClient``)."""

from __future__ import annotations

from collections.abc import Iterable

from eventplane._gen.v1 import functions_pb2 as pb
from eventplane.client import _function_types as t
from eventplane.client._channel import Page, every_page
from eventplane.client._facade import ServiceCore
from eventplane.client._function_types import (
    EventSourceMapping,
)


class MappingCalls(ServiceCore):
    """CreateEventSourceMapping ... DeleteEventSourceMapping: queues polled in batches."""

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
            await self._call(self._stub.CreateEventSourceMapping, req, self._timeout)
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
            await self._call(self._stub.UpdateEventSourceMapping, req, self._timeout)
        )

    async def get_event_source_mapping(self, uuid: str) -> EventSourceMapping:
        """One mapping.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when it does not exist.
        """
        req = pb.GetEventSourceMappingRequest(uuid=uuid)
        return t.event_source_mapping(
            await self._call(self._stub.GetEventSourceMapping, req, self._timeout)
        )

    async def list_event_source_mappings(
        self, *, event_source_arn: str | None = None, function_name: str | None = None
    ) -> list[EventSourceMapping]:
        """Mappings, optionally only those of one queue and/or one function; follows
        all pages."""

        async def page(marker: str | None) -> Page[EventSourceMapping]:
            req = pb.ListEventSourceMappingsRequest(
                event_source_arn=event_source_arn or "",
                function_name=function_name or "",
                marker=marker or "",
            )
            r = await self._call(self._stub.ListEventSourceMappings, req, self._timeout)
            return [t.event_source_mapping(m) for m in r.event_source_mappings], (
                r.next_marker or None
            )

        return await every_page(page)

    async def delete_event_source_mapping(self, uuid: str) -> EventSourceMapping:
        """Stop and delete a mapping; returns it as it was (state ``Deleting``).

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when it does not exist.
        """
        req = pb.DeleteEventSourceMappingRequest(uuid=uuid)
        return t.event_source_mapping(
            await self._call(self._stub.DeleteEventSourceMapping, req, self._timeout)
        )
