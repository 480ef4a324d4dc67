"""Logs, metrics and trace context shared by every component."""

from eventplane.observability.logging import configure_logging, get_logger
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
    "configure_logging",
    "current_trace",
    "get_logger",
    "kafka_headers",
    "trace_from_headers",
    "use_trace",
]
