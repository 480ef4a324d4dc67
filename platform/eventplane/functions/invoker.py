"""The function invoker other capabilities call through (workflow tasks).

Registered by the functions component in ``ServerContext.extras`` (see
:mod:`eventplane.messaging.invoker`). It calls the functions core as the gRPC servicer
does, on the loop the core runs on, without a loopback gRPC call.
"""

from __future__ import annotations

import asyncio

from eventplane.errors import EventplaneError, InternalFailure
from eventplane.functions import shapes as s
from eventplane.functions.operations import FunctionOperations
from eventplane.messaging.invoker import Invoked
from eventplane.observability.logging import get_logger
from eventplane.security.interceptor import INTERNAL, current_principal

_log = get_logger(__name__)


class OperationsInvoker:
    """:class:`eventplane.messaging.invoker.FunctionInvoker` over the functions core."""

    def __init__(self, operations: FunctionOperations, loop: asyncio.AbstractEventLoop) -> None:
        self._ops = operations
        self._loop = loop  # the server's loop: the worker pool's pipes and futures live there

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
        req = s.InvokeRequest(
            function_name=function_name,
            qualifier=qualifier,
            invocation_type=invocation_type,
            log_type=log_type,
            payload=payload,
            client_context=client_context,
        )
        if asyncio.get_running_loop() is self._loop:
            result = await self._invoke(req)
        else:  # a task consumer's loop: run on the core's, wait here
            done = asyncio.run_coroutine_threadsafe(self._invoke(req), self._loop)
            result = await asyncio.wrap_future(done)
        return Invoked(
            status_code=result.status_code,
            payload=result.payload or b"",
            function_error=result.function_error or "",
            executed_version=result.executed_version,
            request_id=result.request_id,
            log_result_base64=result.log_result or "",
        )

    async def _invoke(self, req: s.InvokeRequest) -> s.InvokeResult:
        # The platform's own call, as one on the internal socket with its token is.
        caller = current_principal.set(INTERNAL)
        try:
            return await self._ops.invoke(req)
        except EventplaneError:
            raise
        except Exception:
            # What the servicer answers for a bug: a failure of the service, not a crash
            # of the task that called it.
            _log.exception("unhandled error", service="Functions", method="Invoke")
            raise InternalFailure("internal error while serving Invoke") from None
        finally:
            current_principal.reset(caller)
