"""Arguments and results of the Functions client, and their mapping to and from protobuf.

Inputs are forgiving: an invoke payload is any JSON-serializable value (sent as
``json.dumps`` of it), or text/bytes sent unchanged; a destination config is a
``DestinationConfig`` or boto3's dict (``{"OnSuccess": {"Destination": arn}}``);
code is zip bytes, a folder on the server's machine, or a local folder the SDK
zips (``zip_from_directory``). Results are always the frozen dataclasses. Fields
Lambda leaves out of a response when they do not apply (no dead-letter target,
no reserved concurrency, no log tail) are ``None``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eventplane._gen.v1 import functions_pb2 as pb

# One class for "a malformed argument, caught before anything is sent" across the SDK.
from eventplane.client._event_types import InvalidArgument, strings
from eventplane.client._stream_mapping_types import StreamMappingSettings, stream_settings

NO_RESERVATION = -1  # the proto's "no reserved concurrency"


# --- results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionConfiguration:
    """A function's settings: ``$LATEST`` or one published version.

    Attributes:
        function_name: the name.
        function_arn: ``arn:aws:lambda:<region>:<account>:function:<name>``, with
            ``:<version>`` for a published version.
        handler: ``module.function`` inside the package.
        runtime: ``python3.x``, the server's interpreter.
        timeout: seconds an invocation may run, 1-900.
        memory_size: the worker's memory limit in MB, 128-10,240.
        environment: variables the handler's process sees.
        description: free text; empty when none was given.
        version: ``$LATEST`` or the version number.
        code_sha256: base64 of the package's SHA-256, as Lambda reports it.
        code_size: the package's size in bytes.
        last_modified: when the settings or code last changed, ISO 8601.
        dead_letter_target_arn: the queue or topic that receives async events
            that failed for good; None when there is none.
        state: ``Active`` once the function can be invoked.
        package_type: ``Zip``, or ``Directory`` for code in a server-side folder.
        revision_id: changes with every update.
        role: the execution role ARN: the principal the handler's calls through
            ``Client()`` carry when the server has authentication on.
    """

    function_name: str
    function_arn: str
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    environment: Mapping[str, str]
    description: str
    version: str
    code_sha256: str
    code_size: int
    last_modified: str
    dead_letter_target_arn: str | None
    state: str
    package_type: str
    revision_id: str
    role: str = ""


@dataclass(frozen=True)
class GetFunctionResult:
    """What ``get_function`` returns: the settings, reserved concurrency and tags.

    Attributes:
        configuration: the function's (or the asked-for version's) settings.
        reserved_concurrent_executions: its reserved concurrency; None when none
            is reserved.
        tags: cost-allocation style tags.
    """

    configuration: FunctionConfiguration
    reserved_concurrent_executions: int | None
    tags: Mapping[str, str]


@dataclass(frozen=True)
class Alias:
    """A name for one version of a function (``prod`` -> ``3``).

    Attributes:
        alias_arn: ``...:function:<name>:<alias>``.
        name: the alias's name.
        function_version: the version it points to.
        description: free text; empty when none was given.
        revision_id: changes with every update.
        additional_version_weights: Lambda's RoutingConfig: a second version and the
            share of invocations (0.0-1.0) it gets; empty when all go to
            ``function_version``.
    """

    alias_arn: str
    name: str
    function_version: str
    description: str
    revision_id: str
    additional_version_weights: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class InvokeResult:
    """The outcome of ``invoke``.

    A function that raised (or timed out, or crashed) is not an exception here, as
    in Lambda: ``function_error`` is set and ``payload`` holds the error document
    (``{"errorType": ..., "errorMessage": ..., "stackTrace": [...]}``).

    Attributes:
        status_code: 200 (RequestResponse), 202 (Event: accepted) or 204 (DryRun).
        function_error: None on success; ``Handled`` or ``Unhandled`` (timeouts,
            crashes) when the function failed.
        log_result: the last 4 KiB of the invocation's log as text, with
            ``log_type="Tail"``; else None.
        log_result_base64: the same tail as Lambda sends it (base64).
        payload: the result's JSON bytes, or the error document; empty for Event
            and DryRun.
        executed_version: the version that ran (an alias resolves to one).
        request_id: the invocation's request id (the handler's ``context.request_id``).
    """

    status_code: int
    function_error: str | None
    log_result: str | None
    log_result_base64: str | None
    payload: bytes
    executed_version: str
    request_id: str

    def json(self) -> Any:
        """The payload parsed as JSON; None when it is empty.

        Raises:
            ValueError: the payload is not JSON.
        """
        if not self.payload:
            return None
        return json.loads(self.payload)


@dataclass(frozen=True)
class DestinationConfig:
    """Where an asynchronous invocation's record goes, by outcome.

    As a dict, boto3's shape: ``{"OnSuccess": {"Destination": ARN}, "OnFailure":
    {"Destination": ARN}}`` (either may be left out).

    Attributes:
        on_success: a queue, topic, bus or function ARN; None: no destination.
        on_failure: the same, for events that failed for good.
    """

    on_success: str | None = None
    on_failure: str | None = None


@dataclass(frozen=True)
class FunctionEventInvokeConfig:
    """How a function's asynchronous (Event) invocations are retried and where they go.

    Attributes:
        function_arn: the function (and qualifier) the config applies to.
        maximum_retry_attempts: retries after a function error, 0-2.
        maximum_event_age_in_seconds: how long an event may wait, 60-21,600.
        destination_config: where success and failure records are sent.
        last_modified: when the config last changed, ISO 8601.
    """

    function_arn: str
    maximum_retry_attempts: int
    maximum_event_age_in_seconds: int
    destination_config: DestinationConfig
    last_modified: str


@dataclass(frozen=True)
class EventSourceMapping:
    """A poller that reads a queue in batches and invokes a function with each batch.

    Attributes:
        uuid: names the mapping.
        event_source_arn: the queue read.
        function_arn: the function invoked.
        batch_size: records per invocation at most, 1-10,000 (FIFO: 1-10).
        maximum_batching_window_in_seconds: how long to gather a batch, 0-300.
        state: ``Enabled`` or ``Disabled`` (or a transition: ``Creating``, ...).
        function_response_types: ``("ReportBatchItemFailures",)`` when the function
            reports partial batch failures; else empty.
        maximum_concurrency: the most invocations the mapping runs at once
            (boto3's ``ScalingConfig.MaximumConcurrency``); None: unset.
        last_modified: when the mapping last changed, ISO 8601.
        state_transition_reason: why it is in its state; None if there is nothing to say.
        stream: a table stream mapping's own settings; None for a queue.
    """

    uuid: str
    event_source_arn: str
    function_arn: str
    batch_size: int
    maximum_batching_window_in_seconds: int
    state: str
    function_response_types: tuple[str, ...]
    maximum_concurrency: int | None
    last_modified: str
    state_transition_reason: str | None
    stream: StreamMappingSettings | None = None


# --- the zip-a-folder helper -----------------------------------------------------------


# --- to protobuf -----------------------------------------------------------------------


def str_map(value: Mapping[str, str] | None, what: str) -> dict[str, str]:
    """A ``{str: str}`` dict (environment, tags); None is empty."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidArgument(f"{what}: expected a dict of str to str, got {type(value).__name__}")
    bad = [k for k, v in value.items() if not isinstance(k, str) or not isinstance(v, str)]
    if bad:
        raise InvalidArgument(
            f"{what}: keys and values must be str; {bad[0]!r} -> {value[bad[0]]!r} is not"
        )
    return dict(value)


def int_arg(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{what}: expected an int, got {value!r}")
    return value


def version_weights(value: Mapping[str, float] | None, what: str) -> dict[str, float]:
    """An alias's RoutingConfig ``{version: weight}``; None is empty. The server checks
    the version and the range."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool)
        for k, v in value.items()
    ):
        raise InvalidArgument(f"{what}: expected a dict of version (str) to weight (float)")
    return {k: float(v) for k, v in value.items()}


def optional_int(value: Any, what: str) -> int | None:
    return None if value is None else int_arg(value, what)


def payload_bytes(payload: Any) -> bytes:
    """An invoke payload: bytes and text as given, None as empty (null), else JSON."""
    if payload is None:
        return b""
    if isinstance(payload, bytes | bytearray | memoryview):
        return bytes(payload)
    if isinstance(payload, str):
        return payload.encode("utf-8")
    try:
        return json.dumps(payload).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"payload: not JSON-serializable: {exc}") from None


def client_context_text(value: str | Mapping[str, Any] | None) -> str:
    """Lambda's ClientContext: base64 JSON, given as that text or as a dict to encode."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if not isinstance(value, Mapping):
        raise InvalidArgument(
            f"client_context: expected base64 JSON text or a dict, got {type(value).__name__}"
        )
    try:
        text = json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"client_context: not JSON-serializable: {exc}") from None
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


_DESTINATION_KEYS = {"OnSuccess": "on_success", "OnFailure": "on_failure"}


def destination_config(value: DestinationConfig | Mapping[str, Any] | None) -> DestinationConfig:
    """A ``DestinationConfig`` from itself or boto3's dict; None is no destinations."""
    if value is None:
        return DestinationConfig()
    if isinstance(value, DestinationConfig):
        return value
    what = "destination_config"
    if not isinstance(value, Mapping):
        raise InvalidArgument(
            f"{what}: expected a DestinationConfig or a dict with OnSuccess, OnFailure, "
            f"got {type(value).__name__}"
        )
    unknown = sorted(str(k) for k in value if k not in _DESTINATION_KEYS)
    if unknown:
        raise InvalidArgument(
            f"{what}: unknown key(s) {', '.join(unknown)}; eventplane accepts OnSuccess, OnFailure"
        )
    arns: dict[str, str] = {}
    for key, name in _DESTINATION_KEYS.items():
        if key not in value:
            continue
        inner = value[key]
        if not isinstance(inner, Mapping):
            raise InvalidArgument(f"{what} {key}: expected a dict with Destination, got {inner!r}")
        extra = sorted(str(k) for k in inner if k != "Destination")
        if extra:
            raise InvalidArgument(
                f"{what} {key}: unknown key(s) {', '.join(extra)}; eventplane accepts Destination"
            )
        if "Destination" not in inner:
            raise InvalidArgument(f"{what} {key}: missing Destination")
        if not isinstance(inner["Destination"], str):
            raise InvalidArgument(
                f"{what} {key} Destination: expected an ARN, got {inner['Destination']!r}"
            )
        arns[name] = inner["Destination"]
    return DestinationConfig(**arns)


def create_function_request(
    function_name: str,
    handler: str,
    code: pb.FunctionCode,
    timeout: int | None,
    memory_size: int | None,
    environment: Mapping[str, str] | None,
    description: str | None,
    publish: bool,
    dead_letter_target_arn: str | None,
    runtime: str | None,
    tags: Mapping[str, str] | None,
    role: str | None = None,
) -> pb.CreateFunctionRequest:
    return pb.CreateFunctionRequest(
        function_name=function_name,
        handler=handler,
        code=code,
        timeout=optional_int(timeout, "timeout"),
        memory_size=optional_int(memory_size, "memory_size"),
        environment=str_map(environment, "environment"),
        description=description or "",
        publish=publish,
        dead_letter_target_arn=dead_letter_target_arn or "",
        runtime=runtime or "",
        tags=str_map(tags, "tags"),
        role=role or "",
    )


def update_configuration_request(
    function_name: str,
    handler: str | None,
    timeout: int | None,
    memory_size: int | None,
    environment: Mapping[str, str] | None,
    description: str | None,
    dead_letter_target_arn: str | None,
    role: str | None = None,
    revision_id: str | None = None,
) -> pb.UpdateFunctionConfigurationRequest:
    # Only what is given changes: None leaves a field unset in the request.
    return pb.UpdateFunctionConfigurationRequest(
        function_name=function_name,
        handler=handler,
        timeout=optional_int(timeout, "timeout"),
        memory_size=optional_int(memory_size, "memory_size"),
        set_environment=environment is not None,
        environment=str_map(environment, "environment"),
        description=description,
        dead_letter_target_arn=dead_letter_target_arn,
        role=role,
        revision_id=revision_id or "",
    )


def invoke_request(
    function_name: str,
    payload: Any,
    invocation_type: str,
    log_type: str | None,
    qualifier: str | None,
    client_context: str | Mapping[str, Any] | None,
) -> pb.InvokeRequest:
    return pb.InvokeRequest(
        function_name=function_name,
        qualifier=qualifier or "",
        invocation_type=invocation_type,
        log_type=log_type or "",
        payload=payload_bytes(payload),
        client_context=client_context_text(client_context),
    )


def put_event_invoke_config_request(
    function_name: str,
    qualifier: str | None,
    maximum_retry_attempts: int | None,
    maximum_event_age_in_seconds: int | None,
    destinations: DestinationConfig | Mapping[str, Any] | None,
) -> pb.PutFunctionEventInvokeConfigRequest:
    d = destination_config(destinations)
    return pb.PutFunctionEventInvokeConfigRequest(
        function_name=function_name,
        qualifier=qualifier or "",
        maximum_retry_attempts=optional_int(maximum_retry_attempts, "maximum_retry_attempts"),
        maximum_event_age_in_seconds=optional_int(
            maximum_event_age_in_seconds, "maximum_event_age_in_seconds"
        ),
        on_success_destination=d.on_success or "",
        on_failure_destination=d.on_failure or "",
    )


def update_event_invoke_config_request(
    function_name: str,
    qualifier: str | None,
    maximum_retry_attempts: int | None,
    maximum_event_age_in_seconds: int | None,
    destinations: DestinationConfig | Mapping[str, Any] | None,
) -> pb.UpdateFunctionEventInvokeConfigRequest:
    # Only what is given changes: None leaves a field unset; a destination "" removes it.
    d = destination_config(destinations)
    return pb.UpdateFunctionEventInvokeConfigRequest(
        function_name=function_name,
        qualifier=qualifier or "",
        maximum_retry_attempts=optional_int(maximum_retry_attempts, "maximum_retry_attempts"),
        maximum_event_age_in_seconds=optional_int(
            maximum_event_age_in_seconds, "maximum_event_age_in_seconds"
        ),
        on_success_destination=d.on_success,
        on_failure_destination=d.on_failure,
    )


def create_mapping_request(
    event_source_arn: str,
    function_name: str,
    enabled: bool | None,
    batch_size: int | None,
    maximum_batching_window_in_seconds: int | None,
    function_response_types: Iterable[str] | None,
    maximum_concurrency: int | None,
) -> pb.CreateEventSourceMappingRequest:
    return pb.CreateEventSourceMappingRequest(
        event_source_arn=event_source_arn,
        function_name=function_name,
        enabled=enabled,
        batch_size=optional_int(batch_size, "batch_size"),
        maximum_batching_window_in_seconds=optional_int(
            maximum_batching_window_in_seconds, "maximum_batching_window_in_seconds"
        ),
        function_response_types=strings(function_response_types or (), "function_response_types"),
        maximum_concurrency=optional_int(maximum_concurrency, "maximum_concurrency") or 0,
    )


def update_mapping_request(
    uuid: str,
    function_name: str | None,
    enabled: bool | None,
    batch_size: int | None,
    maximum_batching_window_in_seconds: int | None,
    function_response_types: Iterable[str] | None,
    maximum_concurrency: int | None,
) -> pb.UpdateEventSourceMappingRequest:
    return pb.UpdateEventSourceMappingRequest(
        uuid=uuid,
        function_name=function_name or "",
        enabled=enabled,
        batch_size=optional_int(batch_size, "batch_size"),
        maximum_batching_window_in_seconds=optional_int(
            maximum_batching_window_in_seconds, "maximum_batching_window_in_seconds"
        ),
        set_function_response_types=function_response_types is not None,
        function_response_types=strings(function_response_types or (), "function_response_types"),
        maximum_concurrency=optional_int(maximum_concurrency, "maximum_concurrency"),
    )


# --- from protobuf ---------------------------------------------------------------------


def configuration(c: pb.FunctionConfiguration) -> FunctionConfiguration:
    return FunctionConfiguration(
        c.function_name,
        c.function_arn,
        c.handler,
        c.runtime,
        c.timeout,
        c.memory_size,
        dict(c.environment),
        c.description,
        c.version,
        c.code_sha256,
        c.code_size,
        c.last_modified,
        c.dead_letter_target_arn or None,
        c.state,
        c.package_type,
        c.revision_id,
        c.role,
    )


def reserved(n: int) -> int | None:
    return None if n == NO_RESERVATION else n


def get_function_result(r: pb.GetFunctionResponse) -> GetFunctionResult:
    return GetFunctionResult(
        configuration(r.configuration), reserved(r.reserved_concurrent_executions), dict(r.tags)
    )


def alias(a: pb.Alias) -> Alias:
    return Alias(
        a.alias_arn,
        a.name,
        a.function_version,
        a.description,
        a.revision_id,
        dict(a.additional_version_weights),
    )


def _log_text(encoded: str) -> str:
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        return encoded  # not base64 after all: better shown as sent than lost
    # The tail is cut at 4 KiB, possibly inside a character.
    return raw.decode("utf-8", errors="replace")


def invoke_result(r: pb.InvokeResponse) -> InvokeResult:
    return InvokeResult(
        r.status_code,
        r.function_error or None,
        _log_text(r.log_result) if r.log_result else None,
        r.log_result or None,
        r.payload,
        r.executed_version,
        r.request_id,
    )


def event_invoke_config(c: pb.FunctionEventInvokeConfig) -> FunctionEventInvokeConfig:
    return FunctionEventInvokeConfig(
        c.function_arn,
        c.maximum_retry_attempts,
        c.maximum_event_age_in_seconds,
        DestinationConfig(c.on_success_destination or None, c.on_failure_destination or None),
        c.last_modified,
    )


def event_source_mapping(m: pb.EventSourceMapping) -> EventSourceMapping:
    return EventSourceMapping(
        m.uuid,
        m.event_source_arn,
        m.function_arn,
        m.batch_size,
        m.maximum_batching_window_in_seconds,
        m.state,
        tuple(m.function_response_types),
        m.maximum_concurrency or None,
        m.last_modified,
        m.state_transition_reason or None,
        stream_settings(m),
    )
