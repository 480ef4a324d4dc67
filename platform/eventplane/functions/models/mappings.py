"""Event source mappings: a queue or a table stream feeding a function, with Lambda's
batching rules (a stream's own settings are in :mod:`.stream_settings`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from eventplane import arn as arns
from eventplane import names
from eventplane.functions.errors import (
    InvalidParameterValueException,
    ValidationException,
)
from eventplane.functions.models.common import (
    _ANY_ARN,
    DEFAULT_BATCH_SIZE,
    DISABLED,
    ENABLED,
    MAX_BATCH_SIZE,
    MAX_BATCHING_WINDOW,
    MAX_FIFO_BATCH_SIZE,
    MAX_MAX_CONCURRENCY,
    MIN_MAX_CONCURRENCY,
    REPORT_BATCH_ITEM_FAILURES,
    _in_range,
    _not_null,
    _pattern,
    function_arn,
    mapping_arn,
)
from eventplane.functions.models.stream_settings import (
    DEFAULT_STREAM_BATCH_SIZE,
    StreamSettings,
    filter_patterns,
    reject_stream_only,
)
from eventplane.registry import Resource
from eventplane.security.accounts import owned_by, owner_of

# --- event source mappings --------------------------------------------------------------------


def source_of(arn: str) -> tuple[str, bool]:
    """(queue's internal name or stream ARN, whether it is a stream) of an event source ARN."""
    if not arn:
        raise _not_null("eventSourceArn")
    if _ANY_ARN.fullmatch(arn) is None:
        raise _pattern("eventSourceArn", arn, r"arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:.*")
    if arns.parse_as(arn, arns.Kind.STREAM) is not None:
        return arn, True
    found = arns.parse_as(arn, arns.Kind.QUEUE)
    if found is None:
        raise InvalidParameterValueException(
            f"Unrecognized event source {arn}: event source mappings read queues "
            "(arn:aws:sqs:<region>:<account>:<queue>) and table streams "
            "(arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>)."
        )
    # The queue's internal name: queue names are per account (``eventplane.names``).
    return names.qualify(found.name, found.arn.account), False


def queue_from_source_arn(arn: str) -> str:
    """The queue an event source ARN names."""
    name, stream = source_of(arn)
    if stream:
        raise InvalidParameterValueException(f"{arn} is a stream, not a queue")
    return name


def _response_types(types: Iterable[str]) -> tuple[str, ...]:
    found = tuple(dict.fromkeys(types))
    bad = [t for t in found if t != REPORT_BATCH_ITEM_FAILURES]
    if bad:
        raise ValidationException(
            f"1 validation error detected: Value '[{', '.join(found)}]' at "
            "'functionResponseTypes' failed to satisfy constraint: Member must satisfy "
            f"constraint: [Member must satisfy enum value set: [{REPORT_BATCH_ITEM_FAILURES}]]"
        )
    return found


@dataclass(frozen=True)
class MappingDef:
    """An event source mapping from a queue or a table stream to a function."""

    uuid: str
    event_source_arn: str
    queue: str  # "" for a stream
    function: str
    qualifier: str | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    maximum_batching_window_seconds: int = 0
    enabled: bool = True
    function_response_types: tuple[str, ...] = ()
    maximum_concurrency: int | None = None
    last_modified: str = ""
    state: str = ENABLED
    state_transition_reason: str = "USER_INITIATED"
    stream: StreamSettings | None = None
    filters: tuple[str, ...] = ()  # a queue's FilterCriteria (a stream's are in ``stream``)
    # The account the mapping belongs to: its function's.
    account: str = field(default_factory=lambda: arns.identity().account)

    @property
    def filter_patterns(self) -> tuple[str, ...]:
        return self.stream.filters if self.stream is not None else self.filters

    @property
    def fifo(self) -> bool:
        return self.queue.endswith(".fifo")

    @property
    def function_arn(self) -> str:
        return function_arn(self.function, self.qualifier, self.account)

    @property
    def arn(self) -> str:
        return mapping_arn(self.uuid, self.account)

    @property
    def report_batch_item_failures(self) -> bool:
        return REPORT_BATCH_ITEM_FAILURES in self.function_response_types

    @staticmethod
    def build(
        uuid: str,
        event_source_arn: str,
        function: str,
        qualifier: str | None = None,
        *,
        batch_size: int | None = None,
        maximum_batching_window_seconds: int | None = None,
        enabled: bool = True,
        function_response_types: Iterable[str] = (),
        maximum_concurrency: int | None = None,
        last_modified: str = "",
        state_transition_reason: str = "USER_INITIATED",
        stream: StreamSettings | None = None,
        account: str | None = None,  # the function's (None: the installation's)
        **stream_fields: Any,
    ) -> MappingDef:
        """Validate as CreateEventSourceMapping does.

        ``maximum_concurrency`` None or 0 means unset. A stream source takes its own
        settings, either built (``stream``) or as the keyword arguments of
        :meth:`StreamSettings.build`; a queue source refuses them.
        """
        queue, is_stream = source_of(event_source_arn)
        queue_filters: tuple[str, ...] = ()
        if is_stream:
            queue = ""
            if stream is None:
                stream = StreamSettings.build(**stream_fields)
        else:
            queue_filters = filter_patterns(stream_fields.pop("filters", None))
            reject_stream_only(stream_fields)
            stream = None
        fifo = queue.endswith(".fifo")
        default_size = DEFAULT_STREAM_BATCH_SIZE if is_stream else DEFAULT_BATCH_SIZE
        size = (
            default_size
            if batch_size is None
            else _in_range("batchSize", batch_size, 1, MAX_BATCH_SIZE)
        )
        window = (
            0
            if maximum_batching_window_seconds is None
            else _in_range(
                "maximumBatchingWindowInSeconds",
                maximum_batching_window_seconds,
                0,
                MAX_BATCHING_WINDOW,
            )
        )
        if fifo and size > MAX_FIFO_BATCH_SIZE:
            raise InvalidParameterValueException(
                f"Batch size for FIFO queues must be between 1 and {MAX_FIFO_BATCH_SIZE}, "
                f"got {size}"
            )
        if fifo and window > 0:
            raise InvalidParameterValueException("Batching window is not supported for FIFO queues")
        if not is_stream and size > 10 and window < 1:
            raise InvalidParameterValueException(
                "Maximum batch window in seconds must be greater than 0 if maximum batch size "
                "is greater than 10"
            )
        if is_stream and maximum_concurrency:
            raise InvalidParameterValueException(
                "Unsupported ScalingConfig parameter for given event source mapping type "
                "(a stream: use ParallelizationFactor)."
            )
        concurrency = (
            None
            if not maximum_concurrency
            else _in_range(
                "scalingConfig.maximumConcurrency",
                maximum_concurrency,
                MIN_MAX_CONCURRENCY,
                MAX_MAX_CONCURRENCY,
            )
        )
        return MappingDef(
            uuid=uuid,
            event_source_arn=event_source_arn,
            queue=queue,
            function=function,
            qualifier=qualifier or None,
            batch_size=size,
            maximum_batching_window_seconds=window,
            enabled=enabled,
            function_response_types=_response_types(function_response_types),
            maximum_concurrency=concurrency,
            last_modified=last_modified,
            state=ENABLED if enabled else DISABLED,
            state_transition_reason=state_transition_reason,
            stream=stream,
            filters=queue_filters,
            account=account or arns.identity().account,
        )

    def update(
        self,
        *,
        last_modified: str,
        function: str | None = None,
        qualifier: str | None = None,
        batch_size: int | None = None,
        maximum_batching_window_seconds: int | None = None,
        enabled: bool | None = None,
        function_response_types: Iterable[str] | None = None,
        maximum_concurrency: int | None = None,
        **stream_fields: Any,
    ) -> MappingDef:
        """UpdateEventSourceMapping: None keeps a field (``qualifier`` goes with ``function``);
        ``maximum_concurrency`` 0 removes the limit. A stream's starting position stays."""
        stream = self.stream
        if stream is None:
            given = stream_fields.pop("filters", None)
            stream_fields["filters"] = self.filters if given is None else given
        else:
            stream_fields.pop("starting_position", None)
            stream = stream.update(**stream_fields)
        return MappingDef.build(
            self.uuid,
            self.event_source_arn,
            self.function if function is None else function,
            self.qualifier if function is None else qualifier,
            batch_size=self.batch_size if batch_size is None else batch_size,
            maximum_batching_window_seconds=(
                self.maximum_batching_window_seconds
                if maximum_batching_window_seconds is None
                else maximum_batching_window_seconds
            ),
            enabled=self.enabled if enabled is None else enabled,
            function_response_types=(
                self.function_response_types
                if function_response_types is None
                else function_response_types
            ),
            maximum_concurrency=(
                self.maximum_concurrency if maximum_concurrency is None else maximum_concurrency
            ),
            last_modified=last_modified,
            stream=stream,
            account=self.account,
            **({} if stream is not None else stream_fields),
        )

    def to_spec(self) -> dict[str, Any]:
        spec = {
            "event_source_arn": self.event_source_arn,
            "queue": self.queue,
            "function": self.function,
            "qualifier": self.qualifier,
            "batch_size": self.batch_size,
            "maximum_batching_window_seconds": self.maximum_batching_window_seconds,
            "enabled": self.enabled,
            "function_response_types": list(self.function_response_types),
            "maximum_concurrency": self.maximum_concurrency,
            "last_modified": self.last_modified,
            "state": self.state,
            "state_transition_reason": self.state_transition_reason,
            "stream": self.stream.to_spec() if self.stream is not None else None,
            "filters": list(self.filters),
        }
        return owned_by(spec, self.account)

    @staticmethod
    def from_resource(r: Resource) -> MappingDef:
        s = r.spec
        concurrency = s.get("maximum_concurrency")
        enabled = bool(s.get("enabled", True))
        stream = s.get("stream")
        return MappingDef(
            uuid=r.name,
            event_source_arn=s["event_source_arn"],
            queue=s["queue"],
            function=s["function"],
            qualifier=s.get("qualifier") or None,
            batch_size=int(s.get("batch_size", DEFAULT_BATCH_SIZE)),
            maximum_batching_window_seconds=int(s.get("maximum_batching_window_seconds", 0)),
            enabled=enabled,
            function_response_types=tuple(s.get("function_response_types") or ()),
            maximum_concurrency=None if concurrency is None else int(concurrency),
            last_modified=s.get("last_modified", ""),
            state=s.get("state") or (ENABLED if enabled else DISABLED),
            state_transition_reason=s.get("state_transition_reason", "USER_INITIATED"),
            stream=StreamSettings.from_spec(stream) if stream else None,
            filters=tuple(s.get("filters") or ()),
            account=owner_of(s),
        )
