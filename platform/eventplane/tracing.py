"""Request and trace ids that travel in gRPC metadata and Kafka headers.

A request id names one API call; a trace id names the whole chain of work it
starts (a send, the delivery it causes, the function it invokes). The server
interceptor reads both from incoming metadata (or makes new ones), keeps them
in a context variable for the call, binds them to every log line, and the
Kafka producer copies them into record headers so consumers continue the trace.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

REQUEST_ID_KEY = "x-eventplane-request-id"
TRACE_ID_KEY = "x-eventplane-trace-id"


@dataclass(frozen=True, slots=True)
class TraceContext:
    request_id: str
    trace_id: str

    @staticmethod
    def new(trace_id: str | None = None) -> TraceContext:
        return TraceContext(request_id=str(uuid.uuid4()), trace_id=trace_id or uuid.uuid4().hex)


_current: contextvars.ContextVar[TraceContext | None] = contextvars.ContextVar(
    "eventplane_trace", default=None
)


def current_trace() -> TraceContext | None:
    return _current.get()


class use_trace:  # lower case: used as the function it was, ``with use_trace(ctx):``
    """``ctx`` as the current trace inside the ``with`` block.

    A class, not ``contextlib.contextmanager``: every call enters one or two of these,
    and a generator-based one costs three times as much.
    """

    __slots__ = ("_ctx", "_token")

    def __init__(self, ctx: TraceContext) -> None:
        self._ctx = ctx

    def __enter__(self) -> TraceContext:
        self._token = _current.set(self._ctx)
        return self._ctx

    def __exit__(self, *exc: object) -> None:
        _current.reset(self._token)


def trace_from_metadata(metadata: Iterable[tuple[str, str | bytes]] | None) -> TraceContext:
    """The caller's ids from gRPC metadata; new ones where the caller sent none."""
    values = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in metadata or ()}
    request_id = values.get(REQUEST_ID_KEY) or str(uuid.uuid4())
    trace_id = values.get(TRACE_ID_KEY) or uuid.uuid4().hex
    return TraceContext(request_id=request_id, trace_id=trace_id)


def kafka_headers(ctx: TraceContext | None = None) -> list[tuple[str, bytes]]:
    """Headers that carry the current (or given) trace into a Kafka record."""
    ctx = ctx or current_trace()
    if ctx is None:
        return []
    return [(REQUEST_ID_KEY, ctx.request_id.encode()), (TRACE_ID_KEY, ctx.trace_id.encode())]


def trace_from_headers(headers: Sequence[tuple[str, bytes | None]] | None) -> TraceContext | None:
    """The trace a record was produced under, if its headers carry one."""
    if not headers:
        return None
    values = {k: v.decode() for k, v in headers if v is not None}
    trace_id = values.get(TRACE_ID_KEY)
    if not trace_id:
        return None
    return TraceContext(request_id=values.get(REQUEST_ID_KEY, ""), trace_id=trace_id)
