"""Logs, metrics and the server's gRPC interceptor, shared by every component.

Server-side only: logging is ``eventplane.observability.logging`` (structlog),
metrics ``eventplane.observability.metrics`` (prometheus-client). The request and
trace ids themselves live in the neutral ``eventplane.tracing`` (stdlib only),
which the SDK also uses to carry them.
"""
