"""Logs, metrics and trace context shared by every component.

Only the trace context (stdlib only) is re-exported here: the SDK imports it to
carry trace ids, and must not pull in structlog or prometheus-client, which come
with the server extra. Logging is ``eventplane.observability.logging``, metrics
``eventplane.observability.metrics``.
"""

from eventplane.observability.tracing import (
    REQUEST_ID_KEY,
    TRACE_ID_KEY,
    TraceContext,
    current_trace,
    kafka_headers,
    trace_from_headers,
    use_trace,
)

__all__ = [
    "REQUEST_ID_KEY",
    "TRACE_ID_KEY",
    "TraceContext",
    "current_trace",
    "kafka_headers",
    "trace_from_headers",
    "use_trace",
]
