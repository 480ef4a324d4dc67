"""What a mapping from a table stream has that a queue mapping has not: where it starts,
how it retries, bisects, filters and fans out per shard, and where failed batches go.
Validated with Lambda's limits and words."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Final

from eventplane import arn as arns
from eventplane.functions.errors import InvalidParameterValueException, ValidationException
from eventplane.functions.models.common import _in_range
from eventplane.matching import (
    OPERATORS,
    STRING_OPERATORS,
    CompiledPattern,
    Dialect,
    PatternError,
    build_matcher,
    load_document,
    split_keys,
)

STARTING_POSITIONS: Final = ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")
DEFAULT_STREAM_BATCH_SIZE: Final = 100
MAX_RETRIES: Final = 10_000
MIN_RECORD_AGE, MAX_RECORD_AGE = 60, 604_800
MAX_PARALLELIZATION: Final = 10
MAX_FILTERS: Final = 5
MAX_PATTERN_LENGTH: Final = 4096
MAX_TUMBLING_WINDOW: Final = 900

# Lambda's filter rules are EventBridge's pattern language.
FILTER_DIALECT: Final = Dialect(
    operators=OPERATORS,
    anything_but_operators=STRING_OPERATORS,
    case_insensitive_affixes=True,
    empty_matches_all=False,
    nested_error=None,
    check_number=lambda value, threshold: None,
    anything_but_affix_lists=True,
    dotted_keys=True,
)


def compile_filter(pattern: str) -> CompiledPattern:
    """One FilterCriteria pattern, compiled; InvalidParameterValueException when bad."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValidationException(
            f"1 validation error detected: Value at 'filterCriteria.filters.1.member.pattern' "
            f"failed to satisfy constraint: Member must have length less than or equal to "
            f"{MAX_PATTERN_LENGTH}"
        )
    try:
        document = split_keys(load_document(pattern))
        return CompiledPattern(document, build_matcher(document, FILTER_DIALECT))
    except PatternError as err:
        raise InvalidParameterValueException(
            f"Invalid filter pattern definition in FilterCriteria: {err.describe()}"
        ) from None


def filter_patterns(criteria: Mapping[str, Any] | Iterable[str] | None) -> tuple[str, ...]:
    """The patterns of FilterCriteria (``{"Filters": [{"Pattern": "..."}]}`` or the
    patterns themselves), each validated."""
    if criteria is None:
        return ()
    if isinstance(criteria, Mapping):
        found = [
            f.get("Pattern", "") if isinstance(f, Mapping) else f
            for f in criteria.get("Filters") or []
        ]
    else:
        found = list(criteria)
    if len(found) > MAX_FILTERS:
        raise InvalidParameterValueException(
            f"FilterCriteria.Filters has {len(found)} filters; at most {MAX_FILTERS} are allowed"
        )
    out = []
    for pattern in found:
        text = pattern if isinstance(pattern, str) else json.dumps(pattern)
        compile_filter(text)
        out.append(text)
    return tuple(out)


@dataclass(frozen=True)
class StreamSettings:
    starting_position: str
    starting_position_timestamp_ms: int | None = None
    maximum_retry_attempts: int = -1
    maximum_record_age_seconds: int = -1
    bisect_batch_on_function_error: bool = False
    parallelization_factor: int = 1
    on_failure: str | None = None
    filters: tuple[str, ...] = ()
    created_ms: int = 0  # where LATEST starts: the mapping's creation
    tumbling_window_seconds: int = 0  # 0: no window, no state

    @staticmethod
    def build(
        *,
        starting_position: str | None = None,
        starting_position_timestamp_ms: int | None = None,
        maximum_retry_attempts: int | None = None,
        maximum_record_age_seconds: int | None = None,
        bisect_batch_on_function_error: bool | None = None,
        parallelization_factor: int | None = None,
        on_failure: str | None = None,
        filters: Iterable[str] = (),
        created_ms: int = 0,
        tumbling_window_seconds: int | None = None,
    ) -> StreamSettings:
        if not starting_position:
            raise InvalidParameterValueException(
                "StartingPosition is required for DynamoDB stream event sources "
                f"({', '.join(STARTING_POSITIONS)})"
            )
        if starting_position not in STARTING_POSITIONS:
            raise ValidationException(
                f"1 validation error detected: Value '{starting_position}' at "
                "'startingPosition' failed to satisfy constraint: Member must satisfy enum "
                f"value set: [{', '.join(STARTING_POSITIONS)}]"
            )
        if (starting_position == "AT_TIMESTAMP") != (starting_position_timestamp_ms is not None):
            raise InvalidParameterValueException(
                "StartingPositionTimestamp is required with StartingPosition AT_TIMESTAMP, and "
                "only then"
            )
        retries = -1 if maximum_retry_attempts is None else maximum_retry_attempts
        _in_range("maximumRetryAttempts", retries, -1, MAX_RETRIES)
        age = -1 if maximum_record_age_seconds is None else maximum_record_age_seconds
        _in_range("maximumRecordAgeInSeconds", age, -1, MAX_RECORD_AGE)
        if 0 <= age < MIN_RECORD_AGE:
            raise InvalidParameterValueException(
                f"MaximumRecordAgeInSeconds must be -1 (no limit) or between {MIN_RECORD_AGE} "
                f"and {MAX_RECORD_AGE}, got {age}"
            )
        factor = 1 if parallelization_factor is None else parallelization_factor
        _in_range("parallelizationFactor", factor, 1, MAX_PARALLELIZATION)
        window = 0 if tumbling_window_seconds is None else tumbling_window_seconds
        if not 0 <= window <= MAX_TUMBLING_WINDOW:
            raise InvalidParameterValueException(
                f"TumblingWindowInSeconds must be between 0 (no window) and "
                f"{MAX_TUMBLING_WINDOW} seconds, got {window}"
            )
        if on_failure is not None:
            found = arns.parse_as(on_failure, arns.Kind.QUEUE, arns.Kind.TOPIC)
            if found is None:
                raise InvalidParameterValueException(
                    f"The destination ARN {on_failure} is invalid: a stream mapping's "
                    "DestinationConfig.OnFailure.Destination is a queue (arn:aws:sqs:...) or a "
                    "topic (arn:aws:sns:...)"
                )
        return StreamSettings(
            starting_position=starting_position,
            starting_position_timestamp_ms=starting_position_timestamp_ms,
            maximum_retry_attempts=retries,
            maximum_record_age_seconds=age,
            bisect_batch_on_function_error=bool(bisect_batch_on_function_error),
            parallelization_factor=factor,
            on_failure=on_failure or None,
            filters=filter_patterns(filters),
            created_ms=created_ms,
            tumbling_window_seconds=window,
        )

    def update(self, **changes: Any) -> StreamSettings:
        """UpdateEventSourceMapping: None keeps a field; an empty OnFailure removes it."""
        kept = {k: v for k, v in changes.items() if v is not None}
        if kept.get("on_failure") == "":
            kept["on_failure"] = None
        merged = replace(self, **kept)
        fields_ = {f.name: getattr(merged, f.name) for f in fields(merged)}
        return StreamSettings.build(**fields_)

    def to_spec(self) -> dict[str, Any]:
        spec = {f.name: getattr(self, f.name) for f in fields(self)}
        spec["filters"] = list(self.filters)
        return spec

    @staticmethod
    def from_spec(spec: Mapping[str, Any]) -> StreamSettings:
        known = {f.name for f in fields(StreamSettings)}
        values = {k: v for k, v in spec.items() if k in known}
        values["filters"] = tuple(values.get("filters") or ())
        return StreamSettings(**values)


STREAM_ONLY: Final = (
    "starting_position",
    "starting_position_timestamp_ms",
    "maximum_retry_attempts",
    "maximum_record_age_seconds",
    "bisect_batch_on_function_error",
    "parallelization_factor",
    "on_failure",
    "tumbling_window_seconds",
)
_NAMES: Final = {
    "starting_position": "StartingPosition",
    "starting_position_timestamp_ms": "StartingPositionTimestamp",
    "maximum_retry_attempts": "MaximumRetryAttempts",
    "maximum_record_age_seconds": "MaximumRecordAgeInSeconds",
    "bisect_batch_on_function_error": "BisectBatchOnFunctionError",
    "parallelization_factor": "ParallelizationFactor",
    "on_failure": "DestinationConfig",
    "tumbling_window_seconds": "TumblingWindowInSeconds",
}


def reject_stream_only(given: Mapping[str, Any]) -> None:
    """A queue mapping given a stream-only setting: Lambda refuses it, naming it."""
    for name in STREAM_ONLY:
        value = given.get(name)
        if value not in (None, (), [], ""):
            raise InvalidParameterValueException(
                f"Unsupported {_NAMES[name]} parameter for given event source mapping type "
                "(a queue)."
            )
