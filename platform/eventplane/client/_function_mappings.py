"""Event source mapping calls of the Functions API (a mixin of ``AsyncFunctionsClient``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from eventplane._gen.v1 import functions_pb2 as pb
from eventplane.client import _function_types as t
from eventplane.client._channel import Page, every_page
from eventplane.client._facade import ServiceCore
from eventplane.client._function_types import (
    EventSourceMapping,
)
from eventplane.client._stream_mapping_types import stream_request_fields, timestamp_ms


class MappingCalls(ServiceCore):
    """CreateEventSourceMapping ... DeleteEventSourceMapping: queues polled in batches, and
    table streams read shard by shard."""

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
        starting_position: str | None = None,
        starting_position_timestamp: float | datetime | None = None,
        maximum_retry_attempts: int | None = None,
        maximum_record_age_in_seconds: int | None = None,
        bisect_batch_on_function_error: bool | None = None,
        parallelization_factor: int | None = None,
        destination_config: Mapping[str, Any] | None = None,
        filter_criteria: Mapping[str, Any] | None = None,
        tumbling_window_in_seconds: int | None = None,
    ) -> EventSourceMapping:
        """Invoke a function with batches of messages from a queue, or of changes from a
        table stream.

        Args:
            event_source_arn: the queue's ARN, or a table's stream ARN
                (``TableDescription.latest_stream_arn``).
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
                ``ScalingConfig.MaximumConcurrency``); None: unset. Queues only.
            starting_position: streams (required): ``TRIM_HORIZON`` (the oldest change
                kept), ``LATEST`` (changes from now on) or ``AT_TIMESTAMP``.
            starting_position_timestamp: with AT_TIMESTAMP: seconds since the epoch or a
                datetime.
            maximum_retry_attempts: streams: retries of a failing batch, -1 (until its
                records expire; the default) .. 10,000.
            maximum_record_age_in_seconds: streams: older records are given up, -1 (no
                limit; the default) or 60-604,800.
            bisect_batch_on_function_error: streams: split a failing batch in two and
                retry the halves.
            parallelization_factor: streams: batches of one shard at once, 1-10 (one
                item's changes stay in order).
            destination_config: streams: ``{"OnFailure": {"Destination": arn}}``, a
                queue or topic told about each batch given up.
            filter_criteria: ``{"Filters": [{"Pattern": json}]}``: event patterns; a
                record matching none is skipped without invoking (a queue's message is
                deleted; its JSON ``body`` is matched as an object).
            tumbling_window_in_seconds: streams: 0 (no window; the default) .. 900. The
                function gets ``window``, ``state``, ``shardId``, ``isFinalInvokeForWindow``
                and returns ``{"state": {...}}``, carried to the next batch of the window;
                at its end a final invocation with ``isFinalInvokeForWindow`` true.

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
        req.starting_position = starting_position or ""
        at = timestamp_ms(starting_position_timestamp)
        if at is not None:
            req.starting_position_timestamp_ms = at
        fields = stream_request_fields(
            maximum_retry_attempts=maximum_retry_attempts,
            maximum_record_age_in_seconds=maximum_record_age_in_seconds,
            bisect_batch_on_function_error=bisect_batch_on_function_error,
            parallelization_factor=parallelization_factor,
            destination_config=destination_config,
            filter_criteria=filter_criteria,
            tumbling_window_in_seconds=tumbling_window_in_seconds,
        )
        req.MergeFrom(pb.CreateEventSourceMappingRequest(**fields))
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
        maximum_retry_attempts: int | None = None,
        maximum_record_age_in_seconds: int | None = None,
        bisect_batch_on_function_error: bool | None = None,
        parallelization_factor: int | None = None,
        destination_config: Mapping[str, Any] | None = None,
        filter_criteria: Mapping[str, Any] | None = None,
        tumbling_window_in_seconds: int | None = None,
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
            maximum_retry_attempts, maximum_record_age_in_seconds,
            bisect_batch_on_function_error, parallelization_factor,
            tumbling_window_in_seconds: streams, as for
                :meth:`create_event_source_mapping`.
            destination_config: streams: ``{"OnFailure": {"Destination": ""}}`` removes it.
            filter_criteria: replaces the filters; ``{"Filters": []}`` removes them.

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
        fields = stream_request_fields(
            maximum_retry_attempts=maximum_retry_attempts,
            maximum_record_age_in_seconds=maximum_record_age_in_seconds,
            bisect_batch_on_function_error=bisect_batch_on_function_error,
            parallelization_factor=parallelization_factor,
            destination_config=destination_config,
            filter_criteria=filter_criteria,
            tumbling_window_in_seconds=tumbling_window_in_seconds,
        )
        if filter_criteria is not None:
            fields["set_filter_patterns"] = True
        req.MergeFrom(pb.UpdateEventSourceMappingRequest(**fields))
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
