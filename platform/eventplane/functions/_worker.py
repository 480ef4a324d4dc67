"""The process that runs one function's Python handler for the WorkerPool.

The pool starts it as ``python -P <this file>`` (``python -m
eventplane.functions._worker`` works too, but imports the eventplane package, and
with it grpc: about 70 ms and 20 MB more per cold start). It imports only the
standard library, so a cold start costs an interpreter start and the handler import.

Protocol: length-prefixed (4-byte big-endian) JSON frames. Control frames arrive on
stdin; replies leave on the original stdout. Both are moved to private descriptors at
start: fd 0 becomes /dev/null and fd 1 a copy of fd 2, so whatever the handler or its
children print, from Python or from C, lands on stderr, the log stream the pool reads
line by line. After each phase (init, every invocation) the worker writes the
``log_marker`` from the init frame as a line of its own on stderr, before the reply
frame, so the pool knows it has read all of that phase's output. When the pipe is
empty by then (the pool has read all of it), there is nothing to wait for: the marker
is left out and the reply says so with ``marked: false``.

    in:  {"type": "init", code_dir, handler, function_name, function_version,
          memory_limit_mb, environment, log_marker}
    out: {"type": "ready", init_ms, marked}
         | {"type": "init_error", errorType, errorMessage, stackTrace, init_ms, marked}
    in:  {"type": "invoke", request_id, payload, deadline_ms, client_context,
          invoked_function_arn}
    out: {"type": "result", request_id, payload, duration_ms, max_memory_mb, marked}
         | {"type": "error", request_id, errorType, errorMessage, stackTrace, duration_ms,
            unhandled, fatal, marked}

EOF on stdin ends the worker. After a ``fatal`` error (MemoryError) it exits by itself.
Error types and wording follow the AWS Lambda Python runtime (awslambdaric).
"""

from __future__ import annotations

import array
import ctypes
import decimal
import faulthandler
import fcntl
import importlib
import io
import json
import logging
import os
import resource
import struct
import sys
import termios
import time
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any

_HEADER = struct.Struct(">I")
_READ_BYTES = 65536

# The memory limit is RLIMIT_DATA = memory_limit_mb + HEADROOM_MB. RLIMIT_DATA counts
# private writable mappings (heap, malloc's mmaps, thread stacks) and leaves out shared
# libraries and the 64 MiB arenas glibc only reserves per thread: RLIMIT_AS would count
# those, and one gRPC channel (eight threads) takes the address space to 650 MB while
# its resident size is 53 MB. The headroom covers what the runtime itself holds
# before the handler allocates anything: the bare worker is at 6.5 MB; with
# eventplane.client imported 28 MB, and 95 MB once a gRPC channel has started its
# threads (7 x 8 MiB of stack reservations, barely touched). So a 128 MB function
# gets between ~100 MB (gRPC client in use) and ~185 MB (plain Python) for its data.
HEADROOM_MB = 64

Handler = Callable[[Any, Any], Any]


class _Fault(Exception):
    """An init failure reported as Lambda reports it (errorType Runtime.*)."""

    def __init__(self, error_type: str, message: str, stack: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stack = stack or []


class _Channel:
    def __init__(self, rfd: int, wfd: int) -> None:
        self._rfd = rfd
        self._wfd = wfd
        self._buf = bytearray()

    def _fill(self, n: int) -> bool:
        """Read until ``n`` bytes are buffered; a frame usually takes one read."""
        while len(self._buf) < n:
            chunk = os.read(self._rfd, max(n - len(self._buf), _READ_BYTES))
            if not chunk:
                return False
            self._buf += chunk
        return True

    def read(self) -> dict[str, Any] | None:
        if not self._fill(_HEADER.size):
            return None
        (size,) = _HEADER.unpack_from(self._buf)
        end = _HEADER.size + size
        if not self._fill(end):
            return None
        body = bytes(self._buf[_HEADER.size : end])
        del self._buf[:end]
        msg: dict[str, Any] = json.loads(body)
        return msg

    def write(self, msg: dict[str, Any]) -> None:
        body = json.dumps(msg).encode()
        _write_all(self._wfd, _HEADER.pack(len(body)) + body)


def _unread(fd: int) -> int:
    """Bytes written to the pipe ``fd`` that its reader has not read yet; -1 if unknown."""
    try:
        buf = array.array("i", [0])
        fcntl.ioctl(fd, termios.FIONREAD, buf)
    except (OSError, AttributeError):
        return -1
    return buf[0]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _BinaryLogStream(io.RawIOBase):
    """``sys.stdout.buffer``: bytes to fd 2. (The log tail is the pool's: it reads fd 2.)"""

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return 2

    def write(self, b: Any) -> int:
        data = bytes(b)
        _write_all(2, data)
        return len(data)


class _LogStream(io.TextIOBase):
    """sys.stdout and sys.stderr: unbuffered writes to fd 2."""

    encoding = "utf-8"

    def __init__(self) -> None:
        self.buffer = _BinaryLogStream()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return 2

    def write(self, s: str) -> int:
        _write_all(2, s.encode("utf-8", "backslashreplace"))
        return len(s)


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


class ClientContext:
    """``context.client_context``: the client, custom and env maps of the caller."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.client = doc.get("client")
        self.custom = doc.get("custom")
        self.env = doc.get("env")


class LambdaContext:
    """The ``context`` argument of a handler, with the AWS Lambda attribute names."""

    def __init__(
        self,
        *,
        request_id: str,
        function_name: str,
        function_version: str,
        invoked_function_arn: str,
        memory_limit_in_mb: str,
        log_group_name: str,
        log_stream_name: str,
        client_context: ClientContext | None,
        deadline_ms: int,
    ) -> None:
        self.aws_request_id = request_id
        self.request_id = request_id
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = invoked_function_arn
        # A string, as the Lambda Python runtime gives it.
        self.memory_limit_in_mb = memory_limit_in_mb
        self.log_group_name = log_group_name
        self.log_stream_name = log_stream_name
        self.client_context = client_context
        self.identity = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _json_default(obj: Any) -> Any:
    # The Lambda runtime serializes Decimal (what boto3's DynamoDB reads return).
    if isinstance(obj, decimal.Decimal):
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _max_memory_mb() -> int:
    """The worker's peak resident memory (Lambda's "Max Memory Used"), in MB."""
    return max(1, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


def _stack(tb: TracebackType | None) -> list[str]:
    frames = [f for f in traceback.extract_tb(tb) if not f.filename.startswith("<frozen ")]
    return traceback.format_list(frames)


def _load_handler(spec: str) -> Handler:
    modname, sep, fname = spec.rpartition(".")
    if not sep or not modname or not fname:
        raise _Fault(
            "Runtime.MalformedHandlerName",
            f"Bad handler '{spec}': expected module.function",
        )
    modname = modname.replace("/", ".")
    if modname.split(".")[0] in sys.builtin_module_names:
        raise _Fault(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {modname} as a handler module",
        )
    try:
        module = importlib.import_module(modname)
    except ImportError as e:
        raise _Fault(
            "Runtime.ImportModuleError", f"Unable to import module '{modname}': {e}"
        ) from None
    except SyntaxError as e:
        text = (e.text or "").strip()
        raise _Fault(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{modname}': {e}",
            [f'  File "{e.filename}" Line {e.lineno}\n    {text}\n'],
        ) from None
    handler = getattr(module, fname, None)
    if handler is None:
        raise _Fault("Runtime.HandlerNotFound", f"Handler '{fname}' missing on module '{modname}'")
    if not callable(handler):
        raise _Fault(
            "Runtime.HandlerNotFound",
            f"Handler '{fname}' on module '{modname}' is not callable",
        )
    return handler


def _limit_memory(memory_mb: int) -> None:
    limit = (memory_mb + HEADROOM_MB) * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    # Soft and hard alike: a handler cannot raise its own limit back.
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


class Worker:
    """Serves one function: init once, then invocations until stdin closes."""

    def __init__(self, channel: _Channel) -> None:
        self.channel = channel
        self.stream = _LogStream()
        self.request_filter = _RequestIdFilter()
        self.handler: Handler | None = None
        self.marker = ""
        self.function_name = ""
        self.function_version = ""
        self.memory_mb = 0
        self.log_group = ""
        self.log_stream = ""
        self._libc: Any = None

    def install_streams(self) -> None:
        sys.stdout = self.stream
        sys.stderr = self.stream
        handler = logging.StreamHandler(self.stream)
        handler.addFilter(self.request_filter)
        formatter = logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S",
        )
        formatter.converter = time.gmtime
        handler.setFormatter(formatter)
        root = logging.getLogger()
        root.handlers[:] = [handler]
        try:
            root.setLevel(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "INFO").upper())
        except ValueError:
            root.setLevel(logging.INFO)
        try:
            self._libc = ctypes.CDLL(None)
        except OSError:
            self._libc = None

    def end_phase(self) -> bool:
        """Flush C stdio buffers, then mark the end of this phase's output; False when no
        marker is needed: the log pipe is empty, so the pool has read (and handled) all of
        this phase's output already. Most invocations print nothing, and skipping the
        marker spares a write here, a read and often a wake-up of the pool's event loop."""
        if self._libc is not None:
            self._libc.fflush(None)
        if not self.marker:
            return False
        if _unread(2) == 0:
            return False
        _write_all(2, f"{self.marker}\n".encode())
        return True

    def init(self, msg: dict[str, Any]) -> dict[str, Any]:
        self.marker = str(msg.get("log_marker", ""))
        self.function_name = str(msg["function_name"])
        self.function_version = str(msg["function_version"])
        self.memory_mb = int(msg["memory_limit_mb"])
        self.log_group = f"/aws/lambda/{self.function_name}"
        self.log_stream = (
            f"{time.strftime('%Y/%m/%d', time.gmtime())}"
            f"/[{self.function_version}]{os.urandom(16).hex()}"
        )
        os.environ.update({str(k): str(v) for k, v in dict(msg.get("environment", {})).items()})
        os.environ["AWS_LAMBDA_LOG_GROUP_NAME"] = self.log_group
        os.environ["AWS_LAMBDA_LOG_STREAM_NAME"] = self.log_stream
        code_dir = str(msg["code_dir"])
        sys.path.insert(0, code_dir)
        start = time.perf_counter()
        try:
            _limit_memory(self.memory_mb)
            self.handler = _load_handler(str(msg["handler"]))
        except _Fault as e:
            return self._init_error(e.error_type, e.message, e.stack, start)
        except MemoryError:
            return self._init_error(
                "Runtime.OutOfMemory",
                f"Init exceeded the memory limit of {self.memory_mb} MB",
                [],
                start,
            )
        except Exception as e:
            return self._init_error(type(e).__name__, str(e), _stack(e.__traceback__), start)
        return {"type": "ready", "init_ms": (time.perf_counter() - start) * 1000}

    def _init_error(
        self, error_type: str, message: str, stack: list[str], start: float
    ) -> dict[str, Any]:
        self._log_error(error_type, message, stack)
        return {
            "type": "init_error",
            "errorType": error_type,
            "errorMessage": message,
            "stackTrace": stack,
            "init_ms": (time.perf_counter() - start) * 1000,
        }

    def _log_error(self, error_type: str, message: str, stack: list[str]) -> None:
        text = f"[ERROR] {error_type}: {message}\n"
        if stack:
            text += "Traceback (most recent call last):\n" + "".join(stack)
        self.stream.write(text if text.endswith("\n") else text + "\n")

    def invoke(self, msg: dict[str, Any]) -> dict[str, Any]:
        request_id = str(msg["request_id"])
        self.request_filter.request_id = request_id
        start = time.perf_counter()

        def error(
            error_type: str,
            message: str,
            stack: list[str],
            *,
            unhandled: bool = False,
            fatal: bool = False,
        ) -> dict[str, Any]:
            self._log_error(error_type, message, stack)
            return {
                "type": "error",
                "request_id": request_id,
                "errorType": error_type,
                "errorMessage": message,
                "stackTrace": stack,
                "duration_ms": (time.perf_counter() - start) * 1000,
                "max_memory_mb": _max_memory_mb(),
                "unhandled": unhandled,
                "fatal": fatal,
            }

        def out_of_memory() -> dict[str, Any]:
            return error(
                "Runtime.OutOfMemory",
                f"RequestId: {request_id} Error: Runtime exited after a MemoryError: "
                f"the function exceeded its memory limit of {self.memory_mb} MB",
                [],
                unhandled=True,
                fatal=True,
            )

        try:
            raw = str(msg.get("payload") or "")
            event = json.loads(raw) if raw else None
            cc_raw = msg.get("client_context")
            cc = ClientContext(json.loads(cc_raw)) if cc_raw else None
        except ValueError as e:
            return error(
                "Runtime.UnmarshalError", f"Unable to unmarshal input: {e}", [], unhandled=True
            )
        except MemoryError:
            return out_of_memory()
        context = LambdaContext(
            request_id=request_id,
            function_name=self.function_name,
            function_version=self.function_version,
            invoked_function_arn=str(msg.get("invoked_function_arn", "")),
            memory_limit_in_mb=str(self.memory_mb),
            log_group_name=self.log_group,
            log_stream_name=self.log_stream,
            client_context=cc,
            deadline_ms=int(msg["deadline_ms"]),
        )
        assert self.handler is not None
        try:
            value = self.handler(event, context)
        except MemoryError:
            return out_of_memory()
        except Exception as e:
            # The first frame is this call; Lambda's stackTrace starts in the handler.
            tb = e.__traceback__.tb_next if e.__traceback__ is not None else None
            return error(type(e).__name__, str(e), _stack(tb))
        try:
            payload = json.dumps(value, default=_json_default)
        except MemoryError:
            return out_of_memory()
        except (TypeError, ValueError) as e:
            return error(
                "Runtime.MarshalError", f"Unable to marshal response: {e}", [], unhandled=True
            )
        return {
            "type": "result",
            "request_id": request_id,
            "payload": payload,
            "duration_ms": (time.perf_counter() - start) * 1000,
            "max_memory_mb": _max_memory_mb(),
        }

    def serve(self) -> int:
        init = self.channel.read()
        if init is None:
            return 0
        reply = self.init(init)
        reply["marked"] = self.end_phase()
        self.channel.write(reply)
        if reply["type"] != "ready":
            return 1
        while (msg := self.channel.read()) is not None:
            reply = self.invoke(msg)
            self.request_filter.request_id = ""
            reply["marked"] = self.end_phase()
            self.channel.write(reply)
            if reply.get("fatal"):
                return 1
        return 0


def main() -> int:
    control_in = os.dup(0)
    control_out = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    faulthandler.enable(file=2, all_threads=True)
    worker = Worker(_Channel(control_in, control_out))
    worker.install_streams()
    return worker.serve()


if __name__ == "__main__":
    sys.exit(main())
