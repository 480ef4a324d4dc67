"""structlog set-up: JSON lines in production, readable console output in `dev`."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from eventplane.observability.tracing import current_trace


def _add_trace(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    ctx = current_trace()
    if ctx is not None:
        event.setdefault("request_id", ctx.request_id)
        event.setdefault("trace_id", ctx.trace_id)
    return event


def configure_logging(fmt: str = "json", level: str = "INFO") -> None:
    """Route structlog and the stdlib logging module to stderr in one format."""
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
