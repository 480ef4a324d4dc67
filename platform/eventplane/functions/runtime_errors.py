"""The error documents Lambda returns for failures outside the handler's own code.

A handler's exception is reported by the worker itself (errorType = the exception
class, an "Unhandled" function error as Lambda's Python runtime reports it). What the
pool sees from outside - a timeout, a
worker that died, an init that failed, a response too large - is Unhandled, with the
errorType and wording the Lambda service uses, so callers matching on them
(``Sandbox.Timedout``, ``Runtime.ExitError``, ...) behave the same here.
"""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime
from typing import Any

TIMED_OUT = "Sandbox.Timedout"
EXIT_ERROR = "Runtime.ExitError"
OUT_OF_MEMORY = "Runtime.OutOfMemory"
RESPONSE_TOO_LARGE = "Function.ResponseSizeTooLarge"


def document(error_type: str, message: str, stack: list[str] | None = None) -> bytes:
    """A Lambda error payload: errorMessage, errorType and, when there is one, stackTrace."""
    doc: dict[str, Any] = {"errorMessage": message, "errorType": error_type}
    if stack is not None:
        doc["stackTrace"] = stack
    return json.dumps(doc).encode()


def rfc3339_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def timed_out(request_id: str, timeout_s: float) -> bytes:
    """``2024-05-01T10:00:03.012Z <id> Task timed out after 3.00 seconds``."""
    return document(
        TIMED_OUT, f"{rfc3339_now()} {request_id} Task timed out after {timeout_s:.2f} seconds"
    )


def exit_reason(returncode: int | None) -> str:
    """How the Lambda service names a runtime's exit: ``exit status 3``, ``signal: killed``."""
    if returncode is None:
        return "signal: killed"
    if returncode >= 0:
        return f"exit status {returncode}"
    try:
        name = signal.strsignal(-returncode) or f"signal {-returncode}"
    except ValueError:
        name = f"signal {-returncode}"
    return f"signal: {name[:1].lower()}{name[1:]}"


def exited(request_id: str, returncode: int | None) -> bytes:
    """``RequestId: <id> Error: Runtime exited with error: signal: segmentation fault``."""
    return document(
        EXIT_ERROR,
        f"RequestId: {request_id} Error: Runtime exited with error: {exit_reason(returncode)}",
    )


def response_too_large(size: int, limit: int) -> bytes:
    return document(
        RESPONSE_TOO_LARGE,
        f"Response payload size ({size} bytes) exceeded maximum allowed payload size "
        f"({limit} bytes).",
    )
