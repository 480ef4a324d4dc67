"""One implementation per call, two ways to run it.

Every SDK operation is written once, as a coroutine method of an ``Async*Client``
(the core): it builds the request, awaits ``self._call(stub_method, request,
timeout)`` and turns the reply into a typed result. The blocking clients are
facades: each of their methods is ``blocking(AsyncXClient.method)``, which runs
the same coroutine on a core whose ``_call`` uses the blocking gRPC channel.

That core never suspends (its only await is ``_call``, which returns at once on
a blocking channel), so the facade drives the coroutine with a single
``send(None)``: no event loop, no helper thread, the same cost as a hand-written
blocking call, and it works from inside a running event loop too. A core method
that awaited anything else would be a bug; the facade says so instead of hanging.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar, Concatenate, Generic, ParamSpec, TypeVar

from eventplane.client._channel import ainvoke, invoke

P = ParamSpec("P")
R = TypeVar("R")
C = TypeVar("C", bound="ServiceCore")


class ServiceCore:
    """Base of every ``Async*Client``: a stub over a channel and the default deadline.

    ``blocking=True`` is how a facade builds its core over a blocking channel;
    applications construct neither directly (``Client`` and ``AsyncClient`` do).
    """

    _stub_class: ClassVar[Callable[[Any], Any]]

    def __init__(self, channel: Any, timeout: float | None, *, blocking: bool = False) -> None:
        self._stub = type(self)._stub_class(channel)
        self._timeout = timeout
        self._blocking = blocking

    async def _call(self, method: Callable[..., Any], request: Any, timeout: float | None) -> Any:
        """One unary call with trace metadata; gRPC errors become typed errors."""
        if self._blocking:
            return invoke(method, request, timeout)
        return await ainvoke(method, request, timeout)


def run_blocking(coro: Coroutine[Any, Any, R]) -> R:
    """The result of a core coroutine running over a blocking channel."""
    try:
        coro.send(None)
    except StopIteration as done:
        result: R = done.value
        return result
    coro.close()
    raise RuntimeError("an SDK core method awaited something other than its gRPC call")


class BlockingFacade(Generic[C]):
    """Base of every blocking client: holds the core that does the work."""

    _core_class: ClassVar[type[ServiceCore]]

    def __init__(self, channel: Any, timeout: float | None) -> None:
        self._core: C = self._core_class(channel, timeout, blocking=True)  # type: ignore[assignment]


def blocking(
    method: Callable[Concatenate[C, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[Any, P], R]:
    """The blocking twin of a core method: same name, signature and docstring.

    The facade's ``self`` is typed ``Any``: a core method may come from a mixin
    (``ArchiveCalls``), which the facade's own core class only contains.
    """

    @functools.wraps(method)
    def call(self: BlockingFacade[Any], /, *args: P.args, **kwargs: P.kwargs) -> R:
        return run_blocking(method(self._core, *args, **kwargs))

    return call
