"""How an event source mapping is shown (Get/List/Create/UpdateEventSourceMapping) and
which stream settings a mapping request gives: the functions core's mapping shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventplane.functions import shapes as s
from eventplane.functions.errors import InvalidParameterValueException
from eventplane.functions.models import MappingDef


def mapping_view(m: MappingDef) -> s.EventSourceMappingConfiguration:
    return s.EventSourceMappingConfiguration(
        uuid=m.uuid,
        event_source_arn=m.event_source_arn,
        function_arn=m.function_arn,
        batch_size=m.batch_size,
        maximum_batching_window_in_seconds=m.maximum_batching_window_seconds,
        state=m.state,
        function_response_types=list(m.function_response_types),
        last_modified=m.last_modified,
        state_transition_reason=m.state_transition_reason,
        event_source_mapping_arn=m.arn,
        scaling_config=(
            None if m.maximum_concurrency is None else s.ScalingConfig(m.maximum_concurrency)
        ),
        filter_criteria=(
            s.FilterCriteria([s.Filter(p) for p in m.filter_patterns])
            if m.filter_patterns
            else None
        ),
        **_stream_view(m),
    )


def _stream_view(m: MappingDef) -> dict[str, Any]:
    """A stream mapping's own fields, as GetEventSourceMapping shows them."""
    st = m.stream
    if st is None:
        return {}
    at = st.starting_position_timestamp_ms
    return {
        "starting_position": st.starting_position,
        "starting_position_timestamp": None if at is None else at / 1000,
        "maximum_retry_attempts": st.maximum_retry_attempts,
        "maximum_record_age_in_seconds": st.maximum_record_age_seconds,
        "bisect_batch_on_function_error": st.bisect_batch_on_function_error,
        "parallelization_factor": st.parallelization_factor,
        "tumbling_window_in_seconds": st.tumbling_window_seconds,
        "destination_config": s.DestinationConfig(
            on_failure=s.OnFailure(st.on_failure) if st.on_failure else None
        ),
    }


def stream_fields(
    req: s.CreateEventSourceMappingRequest | s.UpdateEventSourceMappingRequest,
) -> dict[str, Any]:
    """The stream settings a request gives (None: not given); a queue mapping refuses any."""
    found: dict[str, Any] = {
        "maximum_retry_attempts": req.maximum_retry_attempts,
        "maximum_record_age_seconds": req.maximum_record_age_in_seconds,
        "bisect_batch_on_function_error": req.bisect_batch_on_function_error,
        "parallelization_factor": req.parallelization_factor,
        "tumbling_window_seconds": req.tumbling_window_in_seconds,
    }
    destination = req.destination_config
    if destination is not None:
        if destination.on_success is not None and destination.on_success.destination:
            raise InvalidParameterValueException(
                "Unsupported DestinationConfig.OnSuccess parameter for a stream event source "
                "mapping: only OnFailure is supported."
            )
        if destination.on_failure is not None:
            found["on_failure"] = destination.on_failure.destination or ""
    if req.filter_criteria is not None:
        found["filters"] = [f.pattern or "" for f in req.filter_criteria.filters]
    if isinstance(req, s.CreateEventSourceMappingRequest):
        found["starting_position"] = req.starting_position
        at = req.starting_position_timestamp
        if at is not None:
            seconds = at.timestamp() if isinstance(at, datetime) else float(at)
            found["starting_position_timestamp_ms"] = int(seconds * 1000)
    return {k: v for k, v in found.items() if v is not None}
