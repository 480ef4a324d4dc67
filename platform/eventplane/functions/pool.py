"""WorkerPool: warm worker processes that run Python handlers, one invocation at a time.

Each worker is a ``_worker.py`` process for one (function, version, code) - the
Lambda execution environment. An invocation takes an idle worker of its function or
starts one (a cold start), sends the event, and waits for the reply up to the
function's timeout; a timeout kills the worker's whole process group. A worker that
answered stays warm until it has been idle for ``idle_seconds``.

The pool reads every worker's stderr line by line: each line goes to ``on_log``
tagged with the request it belongs to (the cold start's request for init output, ""
for what a worker prints while idle), and the last 4 KiB of an invocation's lines
come back as its log tail (Lambda's ``LogType=Tail``). The worker writes a marker
line after each phase's output and before its reply, so a tail is complete when
returned, C-level output included.

Concurrency: ``reserved`` caps one function's simultaneous executions, ``max_workers``
the whole pool's; beyond either an invoke raises ``Throttled``, or waits for a slot
with ``wait=True``.

An invocation that finds no idle worker while others of its function run starts a
worker, but takes whichever comes first: that worker ready, or one a running invocation
frees (a cold start costs a process and the handler's imports, 100 ms and more; a busy
worker is often free in a few): a stream mapping's shards invoking at once then no longer
wait out a cold start behind a worker that was done long before. The worker started then
joins the idle ones (its init output stays tagged with the request that started it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from eventplane import arn as arns
from eventplane import names
from eventplane.arn import function_arn
from eventplane.functions import metrics
from eventplane.functions import runtime_errors as rt
from eventplane.functions.worker_process import (
    EVENTPLANE_ROOT,
    INIT_TIMEOUT_S,
    MAX_RESPONSE_BYTES,
    WORKER_SCRIPT,
    FunctionSpec,
    InvocationResult,
    Key,
    LogSink,
    Throttled,
    WorkerProcess,
)
from eventplane.observability.logging import get_logger

_log = get_logger("eventplane.functions.pool")

# A worker for an invocation: (worker, init ms when it was started for it, the
# invocation's result when the start failed).
Started = tuple[WorkerProcess, float | None, InvocationResult | None]


# What only the execution role may set in a worker's environment.
_CREDENTIALS = (
    "EVENTPLANE_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)


_WORKER_GAUGES: dict[str, Any] = {}


def _workers_gauge(state: str) -> Any:
    gauge = _WORKER_GAUGES.get(state)
    if gauge is None:
        gauge = _WORKER_GAUGES[state] = metrics.WORKERS.labels(state)
    return gauge


class WorkerPool:
    """Warm worker processes per function version, with concurrency limits."""

    def __init__(
        self,
        *,
        base_env: Mapping[str, str],
        max_workers: int = 32,
        idle_seconds: float = 300.0,
        on_log: Callable[[str, str, str], None] | None = None,
        role_env: Callable[[str], Mapping[str, str]] | None = None,
    ) -> None:
        self._base_env = dict(base_env)
        # An execution role's credentials and endpoints (security.setup.execution_role_env).
        self._role_env = role_env or (lambda _role: {})
        self._max_workers = max_workers
        self._idle_seconds = idle_seconds
        self._on_log: LogSink = on_log or (lambda _name, _request_id, _line: None)
        self._workers: set[WorkerProcess] = set()
        self._idle: dict[Key, list[WorkerProcess]] = {}
        self._running: Counter[str] = Counter()
        self._waiters: list[asyncio.Future[None]] = []
        self._concurrent_gauges: dict[str, Any] = {}
        self._starting = 0  # workers being spawned, counted against max_workers
        self._reaper: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        # Invocations racing a cold start against a worker of theirs being freed.
        self._freed: dict[Key, list[tuple[FunctionSpec, asyncio.Future[WorkerProcess]]]] = {}
        self._spare_starts: set[asyncio.Task[Started]] = set()
        self._closed = False

    # -- public API -------------------------------------------------------------------

    async def invoke(
        self,
        spec: FunctionSpec,
        payload: bytes,
        *,
        request_id: str,
        client_context: str | None = None,
        reserved: int | None = None,
        wait: bool = False,
    ) -> InvocationResult:
        """Run the handler on ``payload`` (JSON bytes; empty means null).

        Raises:
            Throttled: ``reserved`` executions of the function (or ``max_workers`` in
                the pool) are running and ``wait`` is false; with ``reserved=0`` always.
        """
        if self._closed:
            raise RuntimeError("the worker pool is closed")
        self._ensure_reaper()
        await self._acquire(spec.name, reserved, wait)
        try:
            return await self._run(spec, payload, request_id, client_context)
        finally:
            self._release(spec.name)

    def executions(self, name: str | None = None) -> int:
        """Invocations running now: of function ``name``, or in the whole pool."""
        return self._running[name] if name is not None else sum(self._running.values())

    async def discard(self, name: str) -> None:
        """Drop the warm workers of a function; busy ones stop when they finish."""
        doomed: list[WorkerProcess] = []
        for worker in list(self._workers):
            if worker.spec.name != name:
                continue
            worker.retired = True
            if worker.state == "idle":
                self._unlist_idle(worker)
                doomed.append(worker)
        await asyncio.gather(*(self._stop(w) for w in doomed))

    async def close(self) -> None:
        """Stop every worker; invocations still running end with Runtime.ExitError."""
        self._closed = True
        for start in list(self._spare_starts):
            start.cancel()
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)
        idle = [w for w in self._workers if w.state == "idle"]
        for worker in idle:
            self._unlist_idle(worker)
        busy = list(self._workers - set(idle))
        for worker in busy:
            worker.retired = True
            worker.kill()  # their invocations end with Runtime.ExitError and clean up
        await asyncio.gather(*(self._stop(w) for w in idle), *(w.wait_exit() for w in busy))
        await asyncio.sleep(0)  # let those invocations finish and schedule their clean-up
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    # -- concurrency ------------------------------------------------------------------

    @property
    def max_workers(self) -> int:
        """The most invocations this runner runs at once (the account's concurrency)."""
        return self._max_workers

    def _blocked(self, name: str, reserved: int | None) -> str | None:
        if reserved is not None and self._running[name] >= reserved:
            return Throttled.RESERVED_LIMIT
        if sum(self._running.values()) >= self._max_workers:
            return Throttled.RUNNER_LIMIT
        return None

    async def _acquire(self, name: str, reserved: int | None, wait: bool) -> None:
        while (reason := self._blocked(name, reserved)) is not None:
            if not wait or (reserved is not None and reserved <= 0):
                raise Throttled("Rate Exceeded.", reason)
            fut = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            try:
                await fut
            finally:
                self._waiters.remove(fut)
            if self._closed:
                raise RuntimeError("the worker pool is closed")
        self._running[name] += 1
        self._concurrent(name).inc()

    def _concurrent(self, name: str) -> Any:
        # Looked up once per function: labels() takes a lock and builds a key per call
        # (these series are never removed, so a kept child stays the exported one).
        gauge = self._concurrent_gauges.get(name)
        if gauge is None:
            gauge = self._concurrent_gauges[name] = metrics.CONCURRENT.labels(name)
        return gauge

    def _release(self, name: str) -> None:
        self._running[name] -= 1
        if not self._running[name]:
            del self._running[name]
        self._concurrent(name).dec()
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)

    # -- one invocation ---------------------------------------------------------------

    async def _run(
        self, spec: FunctionSpec, payload: bytes, request_id: str, client_context: str | None
    ) -> InvocationResult:
        worker = self._take_idle(spec)
        init_ms: float | None = None
        if worker is None:
            worker, init_ms, failed = await self._started_or_freed(spec, request_id)
            if failed is not None:
                return failed
        if init_ms is None:
            worker.tail.reset()
        worker.request_id = request_id
        keep = False
        try:
            result, keep = await self._invoke(
                worker, spec, payload, request_id, client_context, init_ms
            )
            return result
        finally:
            worker.request_id = ""
            if keep and not worker.retired and not self._closed and worker.alive:
                self._park(worker)
            else:
                self._stop_soon(worker)

    def _park(self, worker: WorkerProcess) -> None:
        """A worker that can serve again: to an invocation waiting for one, else idle."""
        for spec, waiting in self._freed.get(worker.key, []):
            if not waiting.done() and worker.same_config(spec):
                waiting.set_result(worker)  # stays busy: it is that invocation's now
                return
        self._set_state(worker, "idle")
        worker.idle_since = time.monotonic()
        self._idle.setdefault(worker.key, []).append(worker)

    async def _started_or_freed(self, spec: FunctionSpec, request_id: str) -> Started:
        """A cold start, unless a worker of the function a running invocation frees is
        there sooner (see the module's docstring)."""
        key = (spec.name, spec.version, spec.code_id)
        if not any(w.key == key for w in self._workers):  # none running: none to free
            return await self._cold_start(spec, request_id)
        start = asyncio.ensure_future(self._cold_start(spec, request_id))
        freed: asyncio.Future[WorkerProcess] = asyncio.get_running_loop().create_future()
        entry = (spec, freed)
        self._freed.setdefault(key, []).append(entry)
        racing: list[asyncio.Future[Any]] = [start, freed]
        try:
            await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            if start.done():
                self._spare_started(start)
            else:
                start.cancel()  # as a cancelled cold start always did: its worker stops
            if freed.done() and not freed.cancelled():
                self._park(freed.result())
            raise
        finally:
            waiting = self._freed[key]
            waiting.remove(entry)
            if not waiting:
                del self._freed[key]
            if not freed.done():
                freed.cancel()
        if start.done():
            if freed.done() and not freed.cancelled():
                self._park(freed.result())
            return start.result()
        self._spare_starts.add(start)
        start.add_done_callback(self._spare_started)
        return freed.result(), None, None

    def _spare_started(self, start: asyncio.Task[Started]) -> None:
        """A cold start its invocation did not wait for: the worker joins the idle ones."""
        self._spare_starts.discard(start)
        if start.cancelled() or start.exception() is not None:
            return  # the next invocation that needs a worker starts one and sees why
        worker, _, failed = start.result()
        if failed is not None:
            return  # _cold_start has stopped it
        worker.request_id = ""
        if worker.retired or self._closed or not worker.alive:
            self._stop_soon(worker)
        else:
            self._park(worker)

    async def _cold_start(self, spec: FunctionSpec, request_id: str) -> Started:
        start = time.monotonic()
        victim = self._claim_room()
        try:
            if victim is not None:
                await victim.stop()
            worker = await self._spawn(spec)
        finally:
            self._starting -= 1
        worker.request_id = request_id
        limit = max(INIT_TIMEOUT_S, spec.timeout_s)
        init = {
            "type": "init",
            "code_dir": spec.code_dir,
            "handler": spec.handler,
            "function_name": names.plain(spec.name),
            "function_version": spec.version,
            "memory_limit_mb": spec.memory_mb,
            "environment": dict(spec.environment),
            "log_marker": worker.marker,
        }
        try:
            reply = await worker.phase(init, limit)
        except TimeoutError:
            worker.kill()
            await worker.drain_logs()
            reply = None
            doc = rt.timed_out(request_id, limit)
        except BaseException:
            self._stop_soon(worker)
            raise
        else:
            doc = b""
        init_ms = (time.monotonic() - start) * 1000
        metrics.COLD_STARTS.labels(spec.name).inc()
        metrics.INIT_DURATION.labels(spec.name).observe(init_ms / 1000)
        if reply is not None and reply.get("type") == "ready":
            _log.debug("function worker ready", function=spec.name, pid=worker.pid, init_ms=init_ms)
            return worker, init_ms, None
        if reply is not None:
            doc = rt.document(
                str(reply.get("errorType", "Runtime.Unknown")),
                str(reply.get("errorMessage", "")),
                list(reply.get("stackTrace") or []),
            )
        elif not doc:
            await worker.wait_exit()
            await worker.drain_logs()
            doc = rt.exited(request_id, worker.returncode)
        _log.info("function init failed", function=spec.name, request_id=request_id)
        self._stop_soon(worker)
        return (
            worker,
            init_ms,
            InvocationResult(
                request_id=request_id,
                payload=doc,
                function_error="Unhandled",
                log_tail=worker.tail.text(),
                duration_ms=init_ms,
                cold_start=True,
                init_ms=init_ms,
                memory_mb=spec.memory_mb,
            ),
        )

    async def _invoke(
        self,
        worker: WorkerProcess,
        spec: FunctionSpec,
        payload: bytes,
        request_id: str,
        client_context: str | None,
        init_ms: float | None,
    ) -> tuple[InvocationResult, bool]:
        """The result, and whether the worker can serve the next invocation."""
        started = time.monotonic()
        frame = {
            "type": "invoke",
            "request_id": request_id,
            "payload": payload.decode("utf-8", "replace"),
            "deadline_ms": int(time.time() * 1000 + spec.timeout_s * 1000),
            "client_context": client_context,
            "invoked_function_arn": spec.arn or function_arn(spec.name),
        }

        reply: dict[str, Any] | None = None

        def result(doc: bytes, error: str | None, duration_ms: float | None) -> InvocationResult:
            peak = reply.get("max_memory_mb") if reply is not None else None
            return InvocationResult(
                request_id=request_id,
                payload=doc,
                function_error=error,
                log_tail=worker.tail.text(),
                duration_ms=(
                    duration_ms if duration_ms is not None else (time.monotonic() - started) * 1000
                ),
                cold_start=init_ms is not None,
                init_ms=init_ms,
                memory_mb=spec.memory_mb,
                max_memory_mb=int(peak) if isinstance(peak, int | float) else None,
            )

        try:
            reply = await worker.phase(frame, spec.timeout_s)
        except TimeoutError:
            worker.kill()
            await worker.drain_logs()
            _log.info("function timed out", function=spec.name, request_id=request_id)
            return result(rt.timed_out(request_id, spec.timeout_s), "Unhandled", None), False
        if reply is None:
            code = await worker.wait_exit()
            await worker.drain_logs()
            _log.info(
                "function worker exited",
                function=spec.name,
                request_id=request_id,
                reason=rt.exit_reason(code),
            )
            return result(rt.exited(request_id, code), "Unhandled", None), False
        duration = float(reply.get("duration_ms", 0.0))
        if reply.get("type") == "result":
            body = str(reply.get("payload", "null")).encode()
            if len(body) > MAX_RESPONSE_BYTES:
                doc = rt.response_too_large(len(body), MAX_RESPONSE_BYTES)
                return result(doc, "Unhandled", duration), True
            return result(body, None, duration), True
        doc = rt.document(
            str(reply.get("errorType", "Runtime.Unknown")),
            str(reply.get("errorMessage", "")),
            list(reply.get("stackTrace") or []),
        )
        # Lambda's Python runtime reports an exception the handler raised as Unhandled
        # too ("Handled" was Node's callback(error) in runtimes long retired).
        return result(doc, "Unhandled", duration), not reply.get("fatal")

    # -- workers ----------------------------------------------------------------------

    def _worker_env(self, spec: FunctionSpec) -> dict[str, str]:
        env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
        env.setdefault("PATH", os.defpath)
        env.setdefault("LANG", "C.UTF-8")
        env.update(self._base_env)
        env.update(spec.environment)
        user_path = env.get("PYTHONPATH")
        env["PYTHONPATH"] = (
            f"{user_path}{os.pathsep}{EVENTPLANE_ROOT}" if user_path else EVENTPLANE_ROOT
        )
        env.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": names.plain(spec.name),
                "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
                "AWS_REGION": arns.identity().region,
                "AWS_DEFAULT_REGION": arns.identity().region,
                "_HANDLER": spec.handler,
                "LAMBDA_TASK_ROOT": spec.code_dir,
            }
        )
        # The role's credentials, never the user's (Lambda reserves its credential
        # variables); an endpoint the function's own environment sets wins.
        for name in _CREDENTIALS:
            env.pop(name, None)
        for name, value in self._role_env(spec.role).items():
            if name in _CREDENTIALS:
                env[name] = value
            else:
                env.setdefault(name, value)
        return env

    async def _spawn(self, spec: FunctionSpec) -> WorkerProcess:
        worker = await WorkerProcess.spawn(
            spec,
            # -P: the worker's own directory stays off sys.path; code_dir goes first
            [sys.executable, "-P", str(WORKER_SCRIPT)],
            env=self._worker_env(spec),
            cwd=spec.code_dir,
            marker=f"\x1eeventplane-phase-end-{uuid.uuid4().hex}",
            on_log=self._on_log,
        )
        self._workers.add(worker)
        _workers_gauge("busy").inc()
        return worker

    def _take_idle(self, spec: FunctionSpec) -> WorkerProcess | None:
        key = (spec.name, spec.version, spec.code_id)
        idle = self._idle.get(key)
        while idle:
            worker = idle.pop()  # the most recently used: the others can age out
            if not idle:
                del self._idle[key]
            if worker.alive and worker.same_config(spec):
                self._set_state(worker, "busy")
                return worker
            self._set_state(worker, "busy")
            self._stop_soon(worker)
            idle = self._idle.get(key)
        return None

    def _claim_room(self) -> WorkerProcess | None:
        """Count a worker about to start; at capacity, the idle worker to stop for it.

        Synchronous, so concurrent cold starts never see the same free place.
        """
        victim = None
        if len(self._workers) + self._starting >= self._max_workers:
            idle = [w for w in self._workers if w.state == "idle"]
            if idle:
                victim = min(idle, key=lambda w: w.idle_since)
                self._unlist_idle(victim)
                self._set_state(victim, "gone")
                self._workers.discard(victim)
        self._starting += 1
        return victim

    def _unlist_idle(self, worker: WorkerProcess) -> None:
        idle = self._idle.get(worker.key, [])
        if worker in idle:
            idle.remove(worker)
            if not idle:
                del self._idle[worker.key]
        self._set_state(worker, "busy")

    def _set_state(self, worker: WorkerProcess, state: str) -> None:
        if worker.state == state:
            return
        if worker.state != "gone":
            _workers_gauge(worker.state).dec()
        if state != "gone":
            _workers_gauge(state).inc()
        worker.state = state

    async def _stop(self, worker: WorkerProcess) -> None:
        self._set_state(worker, "gone")
        self._workers.discard(worker)
        await worker.stop()
        _log.debug("function worker stopped", function=worker.spec.name, pid=worker.pid)

    def _stop_soon(self, worker: WorkerProcess) -> None:
        self._set_state(worker, "gone")
        self._workers.discard(worker)
        worker.kill()
        task = asyncio.get_running_loop().create_task(self._stop(worker))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- idle reaping -----------------------------------------------------------------

    def _ensure_reaper(self) -> None:
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.get_running_loop().create_task(self._reap_forever())

    async def _reap_forever(self) -> None:
        interval = min(max(self._idle_seconds / 4, 0.05), 30.0)
        while True:
            await asyncio.sleep(interval)
            try:
                await self._reap()
            except Exception:
                _log.exception("reaping idle function workers failed")

    async def _reap(self) -> None:
        cutoff = time.monotonic() - self._idle_seconds
        stale = [w for w in self._workers if w.state == "idle" and w.idle_since <= cutoff]
        for worker in stale:
            self._unlist_idle(worker)
        await asyncio.gather(*(self._stop(w) for w in stale))
