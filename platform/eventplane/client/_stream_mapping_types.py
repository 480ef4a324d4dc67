"""The stream settings of an event source mapping, to and from protobuf (a helper of
``_function_mappings``): boto3's shapes (``DestinationConfig``, ``FilterCriteria``) are
accepted as they are, so AWS code carries over."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventplane._gen.v1 import functions_pb2 as pb
from eventplane.client._event_types import InvalidArgument


@dataclass(frozen=True)
class StreamMappingSettings:
    """What a mapping from a table stream has besides a queue mapping's fields.

    Attributes:
        starting_position: ``TRIM_HORIZON``, ``LATEST`` or ``AT_TIMESTAMP``.
        starting_position_timestamp: seconds since the epoch (AT_TIMESTAMP), else None.
        maximum_retry_attempts: -1 (retry until the records expire) .. 10,000.
        maximum_record_age_in_seconds: -1 (no limit) or 60-604,800.
        bisect_batch_on_function_error: split a failing batch in two and retry.
        parallelization_factor: batches of one shard at once, 1-10.
        on_failure_destination: the queue or topic ARN failed batches are described to.
        filter_patterns: FilterCriteria's patterns (JSON text); a record matching none
            is skipped.
        tumbling_window_in_seconds: 0 (no window) .. 900: the function's returned
            ``state`` is carried from batch to batch within each window of a shard.
    """

    starting_position: str
    starting_position_timestamp: float | None
    maximum_retry_attempts: int
    maximum_record_age_in_seconds: int
    bisect_batch_on_function_error: bool
    parallelization_factor: int
    on_failure_destination: str | None
    filter_patterns: tuple[str, ...]
    tumbling_window_in_seconds: int = 0


def _on_failure(destination_config: Mapping[str, Any] | None) -> str | None:
    if destination_config is None:
        return None
    if not isinstance(destination_config, Mapping):
        raise InvalidArgument("destination_config must be {'OnFailure': {'Destination': arn}}")
    unknown = set(destination_config) - {"OnFailure", "OnSuccess"}
    if unknown:
        raise InvalidArgument(f"destination_config: unknown keys {sorted(unknown)}")
    if destination_config.get("OnSuccess"):
        raise InvalidArgument("destination_config: stream mappings support OnFailure only")
    on_failure = destination_config.get("OnFailure") or {}
    return str(on_failure.get("Destination") or "")


def _patterns(filter_criteria: Mapping[str, Any] | None) -> list[str] | None:
    if filter_criteria is None:
        return None
    if not isinstance(filter_criteria, Mapping):
        raise InvalidArgument("filter_criteria must be {'Filters': [{'Pattern': json}]}")
    out = []
    for f in filter_criteria.get("Filters") or []:
        pattern = f.get("Pattern") if isinstance(f, Mapping) else None
        if pattern is None:
            raise InvalidArgument("filter_criteria: each filter is {'Pattern': json}")
        out.append(pattern if isinstance(pattern, str) else json.dumps(pattern))
    return out


def stream_request_fields(
    *,
    maximum_retry_attempts: int | None,
    maximum_record_age_in_seconds: int | None,
    bisect_batch_on_function_error: bool | None,
    parallelization_factor: int | None,
    destination_config: Mapping[str, Any] | None,
    filter_criteria: Mapping[str, Any] | None,
    tumbling_window_in_seconds: int | None = None,
) -> dict[str, Any]:
    """Keyword arguments of the Create/Update request messages."""
    fields: dict[str, Any] = {
        "maximum_retry_attempts": maximum_retry_attempts,
        "maximum_record_age_in_seconds": maximum_record_age_in_seconds,
        "bisect_batch_on_function_error": bisect_batch_on_function_error,
        "parallelization_factor": parallelization_factor,
        "on_failure_destination": _on_failure(destination_config),
        "filter_patterns": _patterns(filter_criteria),
        "tumbling_window_in_seconds": tumbling_window_in_seconds,
    }
    return {k: v for k, v in fields.items() if v is not None}


def timestamp_ms(value: float | datetime | None) -> int | None:
    if value is None:
        return None
    seconds = value.timestamp() if isinstance(value, datetime) else float(value)
    return int(seconds * 1000)


def stream_settings(m: pb.EventSourceMapping) -> StreamMappingSettings | None:
    if not m.starting_position:
        return None
    return StreamMappingSettings(
        m.starting_position,
        m.starting_position_timestamp_ms / 1000 if m.starting_position_timestamp_ms else None,
        m.maximum_retry_attempts,
        m.maximum_record_age_in_seconds,
        m.bisect_batch_on_function_error,
        m.parallelization_factor,
        m.on_failure_destination or None,
        tuple(m.filter_patterns),
        m.tumbling_window_in_seconds,
    )
