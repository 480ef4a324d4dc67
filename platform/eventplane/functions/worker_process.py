"""One worker process of the pool: the Lambda execution environment of one (function,
version, code).

It speaks length-prefixed JSON frames with ``_worker.py`` over stdin/stdout and reads the
worker's stderr line by line: each line goes to the pool's log sink tagged with the
request it belongs to, and the last 4 KiB of a phase's lines are kept as its log tail.
The worker writes a marker line after each phase's output, so a tail is complete when
its reply arrives. The pool (``pool.py``) decides which worker serves which call."""

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
from typing import Any

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


class WorkerProcess:
    """The pool's handle on one worker process: frames, log lines, lifecycle."""

    def __init__(
        self, spec: FunctionSpec, proc: asyncio.subprocess.Process, marker: str, on_log: LogSink
    ) -> None:
        self.spec = spec
        self.key: Key = (spec.name, spec.version, spec.code_id)
        self.proc = proc
        self.pid = proc.pid
        self.state = "busy"
        self.idle_since = time.monotonic()
        self.retired = False  # stop instead of going back to idle
        self.request_id = ""  # the tag for log lines read now
        self.tail = _LogTail()
        self.marker = marker
        self._on_log = on_log
        self._phases_done = 0
        self._phase_event = asyncio.Event()
        self._stderr = asyncio.create_task(self._read_stderr())

    def same_config(self, spec: FunctionSpec) -> bool:
        s = self.spec
        return (s.handler, s.code_dir, s.memory_mb, dict(s.environment), s.role) == (
            spec.handler,
            spec.code_dir,
            spec.memory_mb,
            dict(spec.environment),
            spec.role,
        )

    @property
    def alive(self) -> bool:
        # A closed stderr means the process is gone or going, even before it is reaped.
        return self.proc.returncode is None and not self._stderr.done()

    async def send(self, msg: dict[str, Any]) -> bool:
        body = json.dumps(msg).encode()
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(_HEADER.pack(len(body)) + body)
            await self.proc.stdin.drain()
        except (ConnectionError, BrokenPipeError):
            return False
        return True

    async def recv(self) -> dict[str, Any] | None:
        """The next reply, or None when the worker closed its side (it died)."""
        assert self.proc.stdout is not None
        try:
            (size,) = _HEADER.unpack(await self.proc.stdout.readexactly(_HEADER.size))
            if size > MAX_FRAME_BYTES:
                _log.warning("function worker sent an oversized frame", pid=self.pid, size=size)
                self.kill()
                return None
            msg: dict[str, Any] = json.loads(await self.proc.stdout.readexactly(size))
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            return None
        return msg

    async def phase(self, msg: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """Send a frame and wait for its reply and all its log lines.

        Returns None when the worker died; raises TimeoutError (the worker still runs).
        """
        expected = self._phases_done + 1
        reply = await asyncio.wait_for(self._exchange(msg), timeout)
        if reply is not None:
            await self._wait_phase_logs(expected)
        return reply

    async def _exchange(self, msg: dict[str, Any]) -> dict[str, Any] | None:
        if not await self.send(msg):
            return None
        return await self.recv()

    async def _wait_phase_logs(self, expected: int) -> None:
        deadline = time.monotonic() + LOG_DRAIN_S
        while self._phases_done < expected and not self._stderr.done():
            self._phase_event.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._phase_event.wait(), remaining)

    async def _read_stderr(self) -> None:
        stream = self.proc.stderr
        assert stream is not None
        pending = b""
        try:
            while chunk := await stream.read(65536):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for raw in lines:
                    self._line(raw)
                while len(pending) > MAX_LINE_BYTES:
                    self._line(pending[:MAX_LINE_BYTES])
                    pending = pending[MAX_LINE_BYTES:]
            if pending:
                self._line(pending)
        except Exception:
            _log.exception("reading a function worker's log failed", pid=self.pid)
        finally:
            self._phase_event.set()

    def _line(self, raw: bytes) -> None:
        text = raw.decode("utf-8", "replace").removesuffix("\r")
        if text.endswith(self.marker):
            # The marker follows output that did not end with a newline, if any.
            if text := text[: -len(self.marker)]:
                self._emit(text)
            self._phases_done += 1
            self._phase_event.set()
            return
        self._emit(text)

    def _emit(self, line: str) -> None:
        self.tail.add(line)
        try:
            self._on_log(self.spec.name, self.request_id, line)
        except Exception:
            _log.exception("on_log failed", function=self.spec.name)

    async def drain_logs(self) -> None:
        """After the worker died: wait for the rest of its output (bounded)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._stderr), LOG_DRAIN_S)

    async def wait_exit(self, timeout: float = 1.0) -> int | None:
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.kill()
            return await self.proc.wait()

    def kill(self) -> None:
        """SIGKILL the worker and whatever it started (its own process group)."""
        if self.proc.returncode is not None:
            return
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()

    async def stop(self) -> None:
        self.kill()
        with contextlib.suppress(ProcessLookupError):
            await self.proc.wait()
        await self.drain_logs()
        if not self._stderr.done():
            self._stderr.cancel()
