"""Arguments and results of the EventBuses client, and their mapping to and from protobuf.

Inputs are forgiving: JSON documents (patterns, details, constant inputs,
schemas) are JSON text or a dict/list, which is sent as ``json.dumps`` of it;
entries and targets are the dataclasses below or dicts with boto3's keys
(``{"Source": ..., "DetailType": ..., "Detail": {...}}``). Results are always the
frozen dataclasses. Fields EventBridge leaves out of a response when they do not
apply (a scheduled rule's pattern, a running replay's end time) are ``None``.
Times are epoch milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias, TypeVar

from eventplane._gen.v1 import events_pb2 as pb
from eventplane.errors import InvalidParameterValue

JsonDocument: TypeAlias = str | Mapping[str, Any] | Sequence[Any]
"""A JSON document: its text, sent unchanged, or a dict/list, sent as ``json.dumps``."""

Timestamp: TypeAlias = datetime | int | str
"""A point in time: a datetime (naive means UTC), epoch milliseconds, or ISO 8601 text."""


class InvalidArgument(InvalidParameterValue, ValueError):
    """A malformed argument, caught before anything is sent.

    Both a ``ValueError`` (what Python code expects of a bad argument) and the
    SDK's ``InvalidParameterValue`` (what the other capabilities' clients raise
    for the same mistake, and what the CLI prints as one line).
    """


# --- results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EventBus:
    """An event bus.

    Attributes:
        name: the bus name (``default`` for the bus that always exists).
        arn: ``arn:aws:events:<region>:<account>:event-bus/<name>``.
        description: free text; empty when none was given.
        schema_validation: PutEvents rejects entries whose detail does not fit the
            schema registered for their source and detail-type.
        creation_time_ms: when the bus was created, epoch milliseconds.
        policy: its resource-based policy (``put_permission``) as JSON text; "" for none.
    """

    name: str
    arn: str
    description: str
    schema_validation: bool
    creation_time_ms: int
    policy: str = ""


@dataclass(frozen=True)
class Rule:
    """A rule on a bus: an event pattern and/or a schedule that selects events for targets.

    Attributes:
        name: unique on its bus.
        arn: names the rule.
        event_bus_name: the bus the rule belongs to.
        event_pattern: the pattern as JSON text; None for a schedule-only rule.
        schedule_expression: ``rate(...)`` or ``cron(...)``; None for a pattern rule.
        state: ``ENABLED`` or ``DISABLED``.
        description: free text; empty when none was given.
    """

    name: str
    arn: str
    event_bus_name: str
    event_pattern: str | None
    schedule_expression: str | None
    state: str
    description: str


@dataclass(frozen=True)
class InputTransformer:
    """Builds a target's input from parts of the event.

    Attributes:
        input_template: the text sent, with ``<name>`` placeholders; a dict is sent
            as JSON.
        input_paths_map: placeholder name to JSONPath into the event
            (``{"id": "$.detail.id"}``); up to 100.
    """

    input_template: JsonDocument
    input_paths_map: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RetryPolicy:
    """How long a target's failed deliveries are retried; None keeps EventBridge's default.

    Attributes:
        maximum_retry_attempts: 0-185 (default 185).
        maximum_event_age_in_seconds: 60-86,400 (default 86,400).
    """

    maximum_retry_attempts: int | None = None
    maximum_event_age_in_seconds: int | None = None


@dataclass(frozen=True)
class Target:
    """Where a rule sends the events it matches, and in what form.

    At most one of ``input``, ``input_path`` and ``input_transformer`` is set;
    with none, the target receives the whole event. As a dict, a target has
    boto3's keys: ``Id``, ``Arn``, ``Input``, ``InputPath``, ``InputTransformer``
    (``InputPathsMap``, ``InputTemplate``), ``RetryPolicy``
    (``MaximumRetryAttempts``, ``MaximumEventAgeInSeconds``), ``DeadLetterConfig``
    (``Arn``) and ``SqsParameters`` (``MessageGroupId``).

    Attributes:
        id: unique among the rule's targets.
        arn: a queue (``arn:aws:sqs:...``), topic (``arn:aws:sns:...``), another
            bus (``arn:aws:events:...:event-bus/<name>``) or an ``http(s)://`` URL.
        input: constant JSON sent instead of the event (text, or a dict sent as JSON).
        input_path: JSONPath of the part of the event to send (``$.detail``).
        input_transformer: builds the input from parts of the event.
        retry_policy: retries of failed deliveries.
        dead_letter_arn: the queue ARN that receives events whose delivery failed
            for good (boto3's ``DeadLetterConfig.Arn``).
        sqs_message_group_id: FIFO queue targets: the message group
            (boto3's ``SqsParameters.MessageGroupId``).
    """

    id: str
    arn: str
    input: JsonDocument | None = None
    input_path: str | None = None
    input_transformer: InputTransformer | None = None
    retry_policy: RetryPolicy | None = None
    dead_letter_arn: str | None = None
    sqs_message_group_id: str | None = None


@dataclass(frozen=True)
class PutEventsEntry:
    """One event of ``put_events``.

    As a dict, an entry has boto3's keys: ``Source``, ``DetailType``, ``Detail``,
    ``Resources``, ``EventBusName``, ``Time`` and ``TraceHeader``.

    Attributes:
        source: who sent the event (``com.example.orders``).
        detail_type: what kind of event it is (``OrderPlaced``).
        detail: the event's body, a JSON object (text, or a dict sent as JSON).
        resources: ARNs the event concerns.
        event_bus_name: the bus (name or ARN); None: the ``default`` bus.
        time: the event's time (datetime, epoch milliseconds or ISO 8601); None: now.
        trace_header: an X-Ray style trace header carried with the event.
    """

    source: str
    detail_type: str
    detail: JsonDocument
    resources: Sequence[str] = ()
    event_bus_name: str | None = None
    time: Timestamp | None = None
    trace_header: str | None = None


@dataclass(frozen=True)
class PutEventsResultEntry:
    """The outcome of one entry: ``event_id`` on success, else the error."""

    event_id: str | None
    error_code: str | None
    error_message: str | None


@dataclass(frozen=True)
class PutEventsResult:
    """One result per entry of ``put_events``, in order; check ``failed_entry_count``."""

    failed_entry_count: int
    entries: list[PutEventsResultEntry]


@dataclass(frozen=True)
class TargetError:
    """A target that ``put_targets`` or ``remove_targets`` could not put or remove."""

    target_id: str
    error_code: str
    error_message: str


@dataclass(frozen=True)
class PutTargetsResult:
    """The targets of a ``put_targets`` (or ``remove_targets``) call that failed.

    The others succeeded; check ``failed_entry_count``.
    """

    failed_entry_count: int
    failed_entries: list[TargetError]


RemoveTargetsResult: TypeAlias = PutTargetsResult
"""What ``remove_targets`` returns: the same shape as ``put_targets``' result."""


# --- to protobuf -----------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def json_text(value: JsonDocument, what: str) -> str:
    """JSON text for a document given as text (unchanged) or as a dict/list."""
    if isinstance(value, str):
        return value
    if not isinstance(value, Mapping | Sequence) or isinstance(value, bytes | bytearray):
        raise InvalidArgument(
            f"{what}: expected JSON text, a dict or a list, got {type(value).__name__}"
        )
    try:
        return json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"{what}: not JSON-serializable: {exc}") from None


def optional_json(value: JsonDocument | None, what: str) -> str:
    return "" if value is None else json_text(value, what)


def epoch_ms(value: Timestamp, what: str) -> int:
    """Epoch milliseconds of a datetime (naive means UTC), int, or ISO 8601 / digits text."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return (aware - _EPOCH) // timedelta(milliseconds=1)
    if isinstance(value, bool):  # before int: bool is an int
        raise InvalidArgument(f"{what}: expected a datetime or epoch milliseconds, got bool")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit():
            return int(text)
        try:
            return epoch_ms(datetime.fromisoformat(text), what)
        except ValueError:
            raise InvalidArgument(
                f"{what}: expected ISO 8601 (2024-05-01T12:00:00Z) or epoch milliseconds, "
                f"got {value!r}"
            ) from None
    raise InvalidArgument(
        f"{what}: expected a datetime, epoch milliseconds or ISO 8601 text, "
        f"got {type(value).__name__}"
    )


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{what}: expected an int, got {value!r}")
    return value


def strings(value: Any, what: str) -> list[str]:
    # A lone string would otherwise be sent one character per item.
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidArgument(f"{what}: expected a list of strings, got {value!r}")
    items = list(value)
    bad = [v for v in items if not isinstance(v, str)]
    if bad:
        raise InvalidArgument(f"{what}: expected a list of strings, got {bad[0]!r} in it")
    return items


D = TypeVar("D")


def _from_boto(
    cls: type[D], keys: Mapping[str, str], value: Any, what: str, convert: Mapping[str, Any]
) -> D:
    """``cls`` from a dict with boto3's ``keys`` (boto3 key -> field); ``convert`` maps a
    field to a function applied to its value first (nested structures)."""
    if isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        raise InvalidArgument(
            f"{what}: expected a {cls.__name__} or a dict with {', '.join(keys)}, "
            f"got {type(value).__name__}"
        )
    unknown = [str(k) for k in value if k not in keys]
    if unknown:
        raise InvalidArgument(
            f"{what}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"eventplane accepts {', '.join(keys)}"
        )
    required = {
        f.name
        for f in fields(cls)  # type: ignore[arg-type]
        if f.default is MISSING and f.default_factory is MISSING
    }
    missing = [key for key, name in keys.items() if name in required and key not in value]
    if missing:
        raise InvalidArgument(f"{what}: missing {', '.join(missing)}")
    kwargs: dict[str, Any] = {}
    for key, raw in value.items():
        name = keys[key]
        fix = convert.get(name)
        kwargs[name] = fix(raw, f"{what} {key}") if fix else raw
    return cls(**kwargs)


_INPUT_TRANSFORMER_KEYS = {"InputTemplate": "input_template", "InputPathsMap": "input_paths_map"}
_RETRY_POLICY_KEYS = {
    "MaximumRetryAttempts": "maximum_retry_attempts",
    "MaximumEventAgeInSeconds": "maximum_event_age_in_seconds",
}
_TARGET_KEYS = {
    "Id": "id",
    "Arn": "arn",
    "Input": "input",
    "InputPath": "input_path",
    "InputTransformer": "input_transformer",
    "RetryPolicy": "retry_policy",
    "DeadLetterConfig": "dead_letter_arn",
    "SqsParameters": "sqs_message_group_id",
}
_ENTRY_KEYS = {
    "Source": "source",
    "DetailType": "detail_type",
    "Detail": "detail",
    "Resources": "resources",
    "EventBusName": "event_bus_name",
    "Time": "time",
    "TraceHeader": "trace_header",
}


def _one_key(key: str) -> Any:
    """The value of a boto3 wrapper that holds one key (``DeadLetterConfig: {Arn}``)."""

    def unwrap(value: Any, what: str) -> Any:
        if not isinstance(value, Mapping):
            raise InvalidArgument(f"{what}: expected a dict with {key}, got {value!r}")
        unknown = [str(k) for k in value if k != key]
        if unknown:
            raise InvalidArgument(
                f"{what}: unknown key(s) {', '.join(sorted(unknown))}; eventplane accepts {key}"
            )
        if key not in value:
            raise InvalidArgument(f"{what}: missing {key}")
        return value[key]

    return unwrap


def _input_transformer(value: Any, what: str) -> InputTransformer:
    return _from_boto(InputTransformer, _INPUT_TRANSFORMER_KEYS, value, what, {})


def _retry_policy(value: Any, what: str) -> RetryPolicy:
    return _from_boto(RetryPolicy, _RETRY_POLICY_KEYS, value, what, {})


_TARGET_CONVERT = {
    "input_transformer": _input_transformer,
    "retry_policy": _retry_policy,
    "dead_letter_arn": _one_key("Arn"),
    "sqs_message_group_id": _one_key("MessageGroupId"),
}


def _target_pb(index: int, raw: Target | Mapping[str, Any]) -> pb.Target:
    what = f"target {index}"
    t = _from_boto(Target, _TARGET_KEYS, raw, what, _TARGET_CONVERT)
    out = pb.Target(
        id=t.id,
        arn=t.arn,
        input=optional_json(t.input, f"{what} Input"),
        input_path=t.input_path or "",
    )
    if t.input_transformer is not None:
        it = _input_transformer(t.input_transformer, f"{what} InputTransformer")
        if not isinstance(it.input_paths_map, Mapping):
            raise InvalidArgument(
                f"{what} InputPathsMap: expected a dict of name to JSONPath, "
                f"got {type(it.input_paths_map).__name__}"
            )
        out.input_transformer.CopyFrom(
            pb.InputTransformer(
                input_paths_map=dict(it.input_paths_map),
                input_template=json_text(it.input_template, f"{what} InputTemplate"),
            )
        )
    if t.retry_policy is not None:
        rp = _retry_policy(t.retry_policy, f"{what} RetryPolicy")
        policy = pb.RetryPolicy()
        if rp.maximum_retry_attempts is not None:
            policy.maximum_retry_attempts = _int(
                rp.maximum_retry_attempts, f"{what} MaximumRetryAttempts"
            )
        if rp.maximum_event_age_in_seconds is not None:
            policy.maximum_event_age_in_seconds = _int(
                rp.maximum_event_age_in_seconds, f"{what} MaximumEventAgeInSeconds"
            )
        out.retry_policy.CopyFrom(policy)
    if t.dead_letter_arn is not None:
        out.dead_letter_config.CopyFrom(pb.DeadLetterConfig(arn=t.dead_letter_arn))
    if t.sqs_message_group_id is not None:
        out.sqs_parameters.CopyFrom(pb.SqsParameters(message_group_id=t.sqs_message_group_id))
    return out


def _entries(value: Any, noun: str) -> list[Any]:
    # put_events({...}) instead of put_events([{...}]) would iterate the dict's keys.
    if isinstance(value, Mapping | str) or not isinstance(value, Iterable):
        raise InvalidArgument(f"{noun}: expected a list, got {type(value).__name__}")
    return list(value)


def targets_pb(targets: Iterable[Target | Mapping[str, Any]]) -> list[pb.Target]:
    return [_target_pb(i, t) for i, t in enumerate(_entries(targets, "targets"))]


def _entry_pb(index: int, raw: PutEventsEntry | Mapping[str, Any]) -> pb.PutEventsRequestEntry:
    what = f"entry {index}"
    e = _from_boto(PutEventsEntry, _ENTRY_KEYS, raw, what, {})
    out = pb.PutEventsRequestEntry(
        source=e.source,
        detail_type=e.detail_type,
        detail=json_text(e.detail, f"{what} Detail"),
        resources=strings(e.resources, f"{what} Resources"),
        event_bus_name=e.event_bus_name or "",
        trace_header=e.trace_header or "",
    )
    if e.time is not None:
        out.time_ms = epoch_ms(e.time, f"{what} Time")
    return out


def put_events_request(
    entries: Iterable[PutEventsEntry | Mapping[str, Any]],
) -> pb.PutEventsRequest:
    return pb.PutEventsRequest(
        entries=[_entry_pb(i, e) for i, e in enumerate(_entries(entries, "entries"))]
    )


def update_bus_request(
    name: str, description: str | None, schema_validation: bool | None, current: EventBus | None
) -> pb.UpdateEventBusRequest:
    # UpdateEventBus replaces both fields; what the caller left out keeps ``current``.
    if current is not None:
        description = current.description if description is None else description
        if schema_validation is None:
            schema_validation = current.schema_validation
    return pb.UpdateEventBusRequest(
        name=name, description=description or "", schema_validation=bool(schema_validation)
    )


def put_rule_request(
    name: str,
    event_pattern: JsonDocument | None,
    schedule_expression: str | None,
    state: str | None,
    description: str | None,
    event_bus_name: str | None,
    tags: Mapping[str, str] | None,
) -> pb.PutRuleRequest:
    return pb.PutRuleRequest(
        name=name,
        event_bus_name=event_bus_name or "",
        event_pattern=optional_json(event_pattern, "event_pattern"),
        schedule_expression=schedule_expression or "",
        state=state or "",
        description=description or "",
        tags=dict(tags or {}),
    )


# --- from protobuf ---------------------------------------------------------------------


def event_bus(b: pb.EventBus) -> EventBus:
    return EventBus(b.name, b.arn, b.description, b.schema_validation, b.creation_time_ms, b.policy)


def rule(r: pb.Rule) -> Rule:
    return Rule(
        r.name,
        r.arn,
        r.event_bus_name,
        r.event_pattern or None,
        r.schedule_expression or None,
        r.state,
        r.description,
    )


def target(t: pb.Target) -> Target:
    transformer = None
    if t.HasField("input_transformer"):
        it = t.input_transformer
        transformer = InputTransformer(it.input_template, dict(it.input_paths_map))
    retry = None
    if t.HasField("retry_policy"):
        rp = t.retry_policy
        retry = RetryPolicy(
            rp.maximum_retry_attempts if rp.HasField("maximum_retry_attempts") else None,
            rp.maximum_event_age_in_seconds
            if rp.HasField("maximum_event_age_in_seconds")
            else None,
        )
    return Target(
        t.id,
        t.arn,
        t.input or None,
        t.input_path or None,
        transformer,
        retry,
        t.dead_letter_config.arn or None,
        t.sqs_parameters.message_group_id or None,
    )


def put_events_result(r: pb.PutEventsResponse) -> PutEventsResult:
    entries = [
        PutEventsResultEntry(e.event_id or None, e.error_code or None, e.error_message or None)
        for e in r.entries
    ]
    return PutEventsResult(r.failed_entry_count, entries)


def targets_result(r: pb.PutTargetsResponse | pb.RemoveTargetsResponse) -> PutTargetsResult:
    failed = [TargetError(f.target_id, f.error_code, f.error_message) for f in r.failed_entries]
    return PutTargetsResult(r.failed_entry_count, failed)
