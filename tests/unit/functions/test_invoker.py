"""The function invoker port workflow tasks call through: the core's Invoke on the core's
loop, as the platform's own call, with the servicer's error mapping."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from eventplane.errors import EventplaneError
from eventplane.functions import shapes as s
from eventplane.functions.errors import ResourceNotFoundException
from eventplane.functions.invoker import OperationsInvoker
from eventplane.messaging.invoker import FUNCTION_INVOKER, function_invoker
from eventplane.security.interceptor import INTERNAL, current_principal
from eventplane.security.tokens import Principal


class Operations:
    """The core's ``invoke``: records the request, the loop and the principal it ran under."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.seen: list[tuple[s.InvokeRequest, asyncio.AbstractEventLoop, Any]] = []

    async def invoke(self, req: s.InvokeRequest) -> s.InvokeResult:
        self.seen.append((req, asyncio.get_running_loop(), current_principal.get()))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


OK = s.InvokeResult(200, "3", "req-1", b'{"ok":1}', "", "bG9n")


class CoreLoop:
    """The server's loop on a thread of its own, as the core runs beside task consumers."""

    def __enter__(self) -> asyncio.AbstractEventLoop:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        return self.loop

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


def test_a_call_from_another_loop_runs_on_the_cores_loop_as_the_platform() -> None:
    ops = Operations(OK)
    with CoreLoop() as core:
        invoker = OperationsInvoker(ops, core)  # type: ignore[arg-type]

        async def caller() -> Any:
            user = current_principal.set(Principal(name="someone", account="222222222222"))
            try:
                return await invoker.invoke(
                    "orders:live", b"{}", log_type="Tail", client_context="e30="
                )
            finally:
                current_principal.reset(user)

        got = asyncio.run(caller())
    ((req, loop, principal),) = ops.seen
    assert loop is core
    assert principal is INTERNAL  # not the caller that started the workflow
    assert (req.function_name, req.invocation_type, req.log_type, req.client_context) == (
        "orders:live",
        "RequestResponse",
        "Tail",
        "e30=",
    )
    assert (got.status_code, got.payload, got.function_error, got.executed_version) == (
        200,
        b'{"ok":1}',
        "",
        "3",
    )
    assert (got.request_id, got.log_result_base64) == ("req-1", "bG9n")


def test_a_call_on_the_cores_loop_runs_there_directly() -> None:
    ops = Operations(OK)

    async def main() -> None:
        invoker = OperationsInvoker(ops, asyncio.get_running_loop())  # type: ignore[arg-type]
        await invoker.invoke("orders", b"")
        assert ops.seen[0][1] is asyncio.get_running_loop()
        assert current_principal.get() is None  # put back after the call

    asyncio.run(main())


def test_the_cores_errors_pass_and_a_bug_is_a_service_failure() -> None:
    async def call(answer: Exception) -> None:
        invoker = OperationsInvoker(Operations(answer), asyncio.get_running_loop())  # type: ignore[arg-type]
        await invoker.invoke("orders", b"")

    with pytest.raises(ResourceNotFoundException):
        asyncio.run(call(ResourceNotFoundException("Function not found: orders")))
    with pytest.raises(EventplaneError) as info:
        asyncio.run(call(KeyError("boom")))
    assert info.value.code == "InternalFailure"
    assert "boom" not in info.value.message


def test_the_port_is_found_only_where_the_role_runs() -> None:
    assert function_invoker({}) is None
    port = object()
    assert function_invoker({FUNCTION_INVOKER: port}) is port
