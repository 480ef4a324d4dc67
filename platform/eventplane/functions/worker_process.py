"""One worker process of the pool: the Lambda execution environment of one (function,
version, code).

It speaks length-prefixed JSON frames with ``_worker.py`` over stdin/stdout and reads the
worker's stderr line by line: each line goes to the pool's log sink tagged with the
request it belongs to, and the last 4 KiB of a phase's lines are kept as its log tail.
The worker writes a marker line after each phase's output, so a tail is complete when
its reply arrives (or says it wrote none: its log pipe was empty, all read already).
The pool (``pool.py``) decides which worker serves which call.

The pipes are read by a protocol, not by stream readers: a reply frame and the marker
line are handled in the event loop's read callbacks, and a phase is one future that
they complete, so a sync invoke wakes its task once (no reader tasks, no ``wait_for``
task, no event per phase)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import struct
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import eventplane
from eventplane.functions.errors import TooManyRequestsException
from eventplane.observability.logging import get_logger

_log = get_logger("eventplane.functions.pool")

WORKER_SCRIPT = Path(__file__).with_name("_worker.py")
# The directory that holds the eventplane package: on the workers' PYTHONPATH so a
# handler can import eventplane.client whether eventplane is installed or not.
EVENTPLANE_ROOT = str(Path(eventplane.__file__).resolve().parent.parent)
_HEADER = struct.Struct(">I")

TAIL_BYTES = 4096
# Lambda gives init 10 s; a longer function timeout extends it, as Lambda's retried init.
INIT_TIMEOUT_S = 10.0
MAX_RESPONSE_BYTES = 6 * 1024 * 1024
MAX_FRAME_BYTES = 64 * 1024 * 1024
# Longer stderr lines are passed on in pieces of this size.
MAX_LINE_BYTES = 256 * 1024
# How long to wait for a phase's last log lines once its reply (or the worker's death)
# is known. They are already in the pipe, so this only bounds a stuck reader.
LOG_DRAIN_S = 2.0

LogSink = Callable[[str, str, str], None]
Key = tuple[str, str, str]


@dataclass(frozen=True)
class FunctionSpec:
    """What a worker needs to run one version of a function."""

    name: str
    version: str
    handler: str  # module.function; the module may be dotted (pkg.mod.fn)
    code_dir: str  # the unpacked code package: sys.path[0] and cwd of the worker
    code_id: str  # sha of the package; workers are keyed by (name, version, code_id)
    timeout_s: float
    memory_mb: int
    environment: Mapping[str, str]
    arn: str = ""  # the ARN the caller invoked (context.invoked_function_arn)
    role: str = ""  # the execution role: whose credentials the handler's calls carry


@dataclass(frozen=True)
class InvocationResult:
    request_id: str
    payload: bytes  # JSON: the result, or the error document {errorMessage, errorType, ...}
    function_error: str | None  # None or "Unhandled" (as Lambda)
    log_tail: str  # the last 4 KiB of the invocation's log
    duration_ms: float
    cold_start: bool
    init_ms: float | None
    memory_mb: int = 0  # the function's configured memory (Lambda's "Memory Size")
    max_memory_mb: int | None = None  # the worker's peak resident memory, when it said


class Throttled(TooManyRequestsException):
    """The function's reserved concurrency (or the pool's capacity) is in use.

    ``reason`` says which: ``RESERVED_LIMIT`` or ``RUNNER_LIMIT``.
    """


class _LogTail:
    """The last TAIL_BYTES of a phase's lines."""

    def __init__(self) -> None:
        self._lines: deque[bytes] = deque()
        self._size = 0

    def reset(self) -> None:
        self._lines.clear()
        self._size = 0

    def add(self, line: str) -> None:
        data = line.encode() + b"\n"
        self._lines.append(data)
        self._size += len(data)
        while self._size - len(self._lines[0]) >= TAIL_BYTES:
            self._size -= len(self._lines.popleft())

    def text(self) -> str:
        return b"".join(self._lines)[-TAIL_BYTES:].decode("utf-8", "ignore")


class _Phase:
    """One frame sent and its reply awaited: complete once the reply and the phase's
    last log line (the marker) are both in, or the worker is gone."""

    __slots__ = ("expected", "future", "reply", "timer")

    def __init__(self, expected: int, future: asyncio.Future[dict[str, Any] | None]) -> None:
        self.expected = expected  # the phase count the marker brings
        self.future = future
        self.reply: dict[str, Any] | None = None
        self.timer: asyncio.TimerHandle | None = None


class _Pipes(asyncio.SubprocessProtocol):
    def __init__(self, worker: WorkerProcess) -> None:
        self._worker = worker

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        if fd == 1:
            self._worker._frame_data(data)
        elif fd == 2:
            self._worker._log_data(data)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        self._worker._pipe_closed(fd)

    def process_exited(self) -> None:
        self._worker._process_exited()


class WorkerProcess:
    """The pool's handle on one worker process: frames, log lines, lifecycle."""

    def __init__(self, spec: FunctionSpec, marker: str, on_log: LogSink) -> None:
        self.spec = spec
        self.key: Key = (spec.name, spec.version, spec.code_id)
        self.pid = 0
        self.state = "busy"
        self.idle_since = time.monotonic()
        self.retired = False  # stop instead of going back to idle
        self.request_id = ""  # the tag for log lines read now
        self.tail = _LogTail()
        self.marker = marker
        self._on_log = on_log
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.SubprocessTransport | None = None
        self._phases_done = 0
        self._phase: _Phase | None = None
        self._frames = bytearray()
        self._log_pending = b""
        self._open_pipes = {1, 2}  # stdin is ours: it closes when we close it
        self._stdout_closed = False
        self._stderr_closed: asyncio.Future[None] = self._loop.create_future()
        self._exited: asyncio.Future[None] = self._loop.create_future()

    @classmethod
    async def spawn(
        cls,
        spec: FunctionSpec,
        args: list[str],
        *,
        env: Mapping[str, str],
        cwd: str,
        marker: str,
        on_log: LogSink,
    ) -> WorkerProcess:
        worker = cls(spec, marker, on_log)
        transport, _ = await worker._loop.subprocess_exec(
            lambda: _Pipes(worker),
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,  # a process group: a timeout kills what the handler started
        )
        worker._transport = transport
        worker.pid = transport.get_pid()
        return worker

    def same_config(self, spec: FunctionSpec) -> bool:
        s = self.spec
        if s is spec:  # the engine hands out one spec per configuration (invoke.py)
            return True
        return (s.handler, s.code_dir, s.memory_mb, dict(s.environment), s.role) == (
            spec.handler,
            spec.code_dir,
            spec.memory_mb,
            dict(spec.environment),
            spec.role,
        )

    @property
    def returncode(self) -> int | None:
        return None if self._transport is None else self._transport.get_returncode()

    @property
    def alive(self) -> bool:
        # A closed stderr means the process is gone or going, even before it is reaped.
        return self.returncode is None and not self._stderr_closed.done()

    async def phase(self, msg: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """Send a frame and wait for its reply and all its log lines.

        Returns None when the worker died; raises TimeoutError (the worker still runs).
        """
        future: asyncio.Future[dict[str, Any] | None] = self._loop.create_future()
        phase = _Phase(self._phases_done + 1, future)
        if self._stdout_closed or not self._send(msg):
            return None
        self._phase = phase
        phase.timer = self._loop.call_later(timeout, self._timed_out, phase)
        try:
            return await future
        finally:
            if phase.timer is not None:
                phase.timer.cancel()
            if self._phase is phase:
                self._phase = None

    def _send(self, msg: dict[str, Any]) -> bool:
        assert self._transport is not None
        stdin = cast("asyncio.WriteTransport | None", self._transport.get_pipe_transport(0))
        if stdin is None or stdin.is_closing():
            return False
        body = json.dumps(msg).encode()
        stdin.write(_HEADER.pack(len(body)) + body)
        return True

    # -- the event loop's read callbacks ------------------------------------------------

    def _frame_data(self, data: bytes) -> None:
        buf = self._frames
        buf += data
        while len(buf) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(buf)
            if size > MAX_FRAME_BYTES:
                _log.warning("function worker sent an oversized frame", pid=self.pid, size=size)
                buf.clear()
                self.kill()
                self._stdout_gone()
                return
            end = _HEADER.size + size
            if len(buf) < end:
                return
            body = bytes(buf[_HEADER.size : end])
            del buf[:end]
            try:
                reply = json.loads(body)
            except ValueError:
                reply = None
            if not isinstance(reply, dict):
                self.kill()
                self._stdout_gone()
                return
            self._replied(reply)

    def _replied(self, reply: dict[str, Any]) -> None:
        phase = self._phase
        if phase is None or phase.future.done() or phase.reply is not None:
            return
        phase.reply = reply
        if phase.timer is not None:
            phase.timer.cancel()
        if reply.get("marked") is False:
            # The worker found its log pipe empty: all of the phase's output has been
            # read and handled already, but for a last line without its newline.
            if self._log_pending:
                pending, self._log_pending = self._log_pending, b""
                self._line(pending)
            self._phases_done = phase.expected
        if self._phases_done >= phase.expected or self._stderr_closed.done():
            phase.future.set_result(reply)
        else:
            # The marker is already in the pipe; this only bounds a stuck reader.
            phase.timer = self._loop.call_later(LOG_DRAIN_S, self._logs_late, phase)

    def _timed_out(self, phase: _Phase) -> None:
        if not phase.future.done():
            phase.future.set_exception(TimeoutError())

    def _logs_late(self, phase: _Phase) -> None:
        if not phase.future.done():
            phase.future.set_result(phase.reply)

    def _phase_logged(self) -> None:
        phase = self._phase
        if phase is None or phase.reply is None or phase.future.done():
            return
        if self._phases_done >= phase.expected or self._stderr_closed.done():
            if phase.timer is not None:
                phase.timer.cancel()
            phase.future.set_result(phase.reply)

    def _stdout_gone(self) -> None:
        """The worker closed its side (it died): a phase still without a reply ends."""
        self._stdout_closed = True
        phase = self._phase
        if phase is not None and phase.reply is None and not phase.future.done():
            phase.future.set_result(None)

    def _log_data(self, data: bytes) -> None:
        pending = self._log_pending + data
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            self._line(raw)
        while len(pending) > MAX_LINE_BYTES:
            self._line(pending[:MAX_LINE_BYTES])
            pending = pending[MAX_LINE_BYTES:]
        self._log_pending = pending

    def _line(self, raw: bytes) -> None:
        text = raw.decode("utf-8", "replace").removesuffix("\r")
        if text.endswith(self.marker):
            # The marker follows output that did not end with a newline, if any.
            if text := text[: -len(self.marker)]:
                self._emit(text)
            self._phases_done += 1
            self._phase_logged()
            return
        self._emit(text)

    def _emit(self, line: str) -> None:
        self.tail.add(line)
        try:
            self._on_log(self.spec.name, self.request_id, line)
        except Exception:
            _log.exception("on_log failed", function=self.spec.name)

    def _pipe_closed(self, fd: int) -> None:
        self._open_pipes.discard(fd)
        if fd == 1:
            self._stdout_gone()
        elif fd == 2:
            if self._log_pending:
                pending, self._log_pending = self._log_pending, b""
                self._line(pending)
            if not self._stderr_closed.done():
                self._stderr_closed.set_result(None)
            self._phase_logged()
        self._maybe_close()

    def _process_exited(self) -> None:
        if not self._exited.done():
            self._exited.set_result(None)
        self._maybe_close()

    def _maybe_close(self) -> None:
        if self._transport is not None and not self._open_pipes and self._exited.done():
            self._transport.close()

    # -- lifecycle ----------------------------------------------------------------------

    async def drain_logs(self) -> None:
        """After the worker died: wait for the rest of its output (bounded)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._stderr_closed), LOG_DRAIN_S)

    async def wait_exit(self, timeout: float = 1.0) -> int | None:
        try:
            await asyncio.wait_for(asyncio.shield(self._exited), timeout)
        except TimeoutError:
            self.kill()
            await asyncio.shield(self._exited)
        return self.returncode

    def kill(self) -> None:
        """SIGKILL the worker and whatever it started (its own process group)."""
        if self._transport is None or self.returncode is not None:
            return
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError):
                self._transport.kill()

    async def stop(self) -> None:
        self.kill()
        await asyncio.shield(self._exited)
        await self.drain_logs()
        if self._transport is not None:
            self._transport.close()
