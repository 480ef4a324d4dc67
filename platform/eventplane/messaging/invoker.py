"""Invoking a function from inside the server: the port workflow tasks call through.

A Step Functions Task that runs a function used to call the Functions API through the
SDK on the process's internal socket: a gRPC client and a gRPC server in one process,
each serializing the call, for what is a method call on the functions core. When the
functions role runs in the process, its component offers this port in
``ServerContext.extras`` under :data:`FUNCTION_INVOKER`, on the same core the gRPC
servicer calls (so validation, throttling, versions and aliases, metrics and the worker
pool are the ones every Invoke goes through). Where the role runs elsewhere there is no
port, and callers keep the SDK (the role relay takes the call there).

A call through the port is the platform's own, as one made with the internal token is:
it is not authorized again, and bare function names resolve in the installation's
account. Callers acting as a role (another account's state machine) use the SDK with
the role's token, so that the role's policies apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

__all__ = ["FUNCTION_INVOKER", "FunctionInvoker", "Invoked", "function_invoker"]

FUNCTION_INVOKER: Final = "ports.function_invoker"
"""The ``ServerContext.extras`` key the functions component registers its invoker under."""


@dataclass(frozen=True)
class Invoked:
    """What an invoke answered, named as the SDK's ``InvokeResult`` names it."""

    status_code: int
    payload: bytes
    # "" on success; ``Handled`` or ``Unhandled`` when the function failed.
    function_error: str
    executed_version: str
    request_id: str
    # The log tail, base64 as Lambda sends it ("" unless ``log_type="Tail"``).
    log_result_base64: str = ""


class FunctionInvoker(Protocol):
    """Lambda's Invoke, as the Functions API serves it."""

    async def invoke(
        self,
        function_name: str,
        payload: bytes,
        *,
        invocation_type: str = "RequestResponse",
        log_type: str = "",
        qualifier: str = "",
        client_context: str = "",
    ) -> Invoked:
        """Runs ``function_name`` (a name or ARN, optionally qualified) on ``payload``;
        raises the EventplaneError the API would answer (no such function, throttled,
        payload too large, ...). Callable from any event loop of the process."""
        ...


def function_invoker(extras: Mapping[str, Any]) -> FunctionInvoker | None:
    """The invoker the functions component registered, or None when its role does not
    run in this process."""
    found: FunctionInvoker | None = extras.get(FUNCTION_INVOKER)
    return found
