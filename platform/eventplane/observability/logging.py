"""structlog set-up: JSON lines in production, readable console output in `dev`."""

from __future__ import annotations

import atexit
import contextlib
import datetime
import logging
import logging.handlers
import queue
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import structlog

from eventplane.tracing import current_trace


def _add_trace(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    ctx = current_trace()
    if ctx is not None:
        event.setdefault("request_id", ctx.request_id)
        event.setdefault("trace_id", ctx.trace_id)
    return event


def _timestamp(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    # When the line was logged: a stdlib record is rendered on the writer thread, up to
    # _Writer.PERIOD later, so its own creation time is the one to show.
    record = event.get("_record")
    event["timestamp"] = _iso(record.created if record is not None else time.time())
    return event


class _Handoff(logging.handlers.QueueHandler):
    """Hands records to the writer thread as they are: rendering and writing happen there."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


class _Line:
    """A line a ``LineLogger`` handed over: its event dict, rendered on the writer thread."""

    __slots__ = ("event",)

    def __init__(self, event: dict[str, Any]) -> None:
        self.event = event


def _iso(timestamp: float) -> str:
    # As structlog's TimeStamper(fmt="iso", utc=True) writes it.
    when = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    return when.isoformat().replace("+00:00", "Z")


class _Writer:
    """The writer thread: every ``PERIOD`` seconds, renders and writes what was queued.

    It never waits on the queue. A thread woken for every line (as the standard
    library's QueueListener is) takes the GIL from the event loop once per line: on a
    busy two-core host that handoff cost each audited call ~100 us of CPU, more than
    rendering the line does. Polling, a caller's ``put`` wakes no one, the lines of many
    calls go out in one write, and a line waits at most ``PERIOD`` before it is written.
    """

    PERIOD = 0.05
    BATCH = 1000  # lines per write, so a flood is written as it comes, not all at once

    def __init__(
        self,
        records: queue.SimpleQueue[Any],
        handler: logging.StreamHandler[Any],
        renderer: Callable[[Any, str, dict[str, Any]], Any],
    ) -> None:
        self.records = records
        self.handler = handler
        self.renderer = renderer
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="eventplane-log", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Writes what is still queued, then ends the thread."""
        self._stopping.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stopping.wait(self.PERIOD):
            self.drain()
        self.drain()

    def drain(self) -> None:
        while self._write_batch() == self.BATCH:
            pass

    def _write_batch(self) -> int:
        texts: list[str] = []
        taken = 0
        while taken < self.BATCH:
            try:
                item = self.records.get_nowait()
            except queue.Empty:
                break
            taken += 1
            text = self._render(item)
            if text is not None:
                texts.append(text)
        if texts:
            handler = self.handler
            try:
                with handler.lock or contextlib.nullcontext():
                    handler.stream.write(handler.terminator.join(texts) + handler.terminator)
                    handler.flush()
            except Exception:
                handler.handleError(logging.makeLogRecord({"msg": f"{len(texts)} log lines"}))
        return taken

    def _render(self, item: Any) -> str | None:
        if type(item) is _Line:
            event = item.event
            try:
                event["timestamp"] = _iso(event["timestamp"])
                return str(self.renderer(None, event["level"], event))
            except Exception:
                self.handler.handleError(logging.makeLogRecord({"msg": event.get("event")}))
                return None
        try:
            return self.handler.format(item)
        except Exception:
            self.handler.handleError(item)
            return None


_writer: _Writer | None = None
_handoff: logging.Handler | None = None


def _stop_writer() -> None:
    global _writer
    if _writer is not None:
        _writer.stop()  # writes what is still queued
        _writer = None


def configure_logging(fmt: str = "json", level: str = "INFO") -> None:
    """Route structlog and the stdlib logging module to stderr in one format."""
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _timestamp,
        _add_trace,
    ]
    structlog.configure(
        # A line's exception is rendered here, on the caller's thread, while it is the
        # one being handled: on the writer thread ``exc_info=True`` finds none, and
        # ``log.exception`` lines went out without their traceback.
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    # Callers (the event loop among them) only queue a record: rendering it as JSON and
    # writing it to stderr happen on one writer thread, so a log line costs a request
    # a few microseconds and a slow reader of stderr stalls no call. The queue is
    # drained every _Writer.PERIOD and at exit; a SIGKILL loses the lines still in it.
    _stop_writer()
    # The Logging HOWTO's optimizations for what our lines never show: the caller's
    # file and line (a stack walk per record), thread, process and multiprocessing names.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    records: queue.SimpleQueue[Any] = queue.SimpleQueue()
    global _writer, _handoff
    _writer = _Writer(records, handler, renderer)
    _writer.start()
    _handoff = _Handoff(records)
    root = logging.getLogger()
    root.handlers[:] = [_handoff]
    root.setLevel(level)


atexit.register(_stop_writer)


class Throttle(logging.Filter):
    """At most ``burst`` records per key in each ``window`` seconds; the rest are counted.

    For loggers a library floods (librdkafka repeats some warnings every 100 ms for as
    long as a condition lasts): the first record of the next window that gets through
    says how many were left out, so the log keeps the news without the flood.
    """

    def __init__(
        self,
        key: Callable[[logging.LogRecord], str],
        *,
        burst: int = 10,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._key = key
        self._burst = burst
        self._window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[float, int, int]] = {}  # key -> (start, passed, dropped)

    def filter(self, record: logging.LogRecord) -> bool:
        key = self._key(record)
        now = self._clock()
        with self._lock:
            start, passed, dropped = self._seen.get(key, (now, 0, 0))
            if now - start >= self._window:
                start, passed = now, 0
            if passed >= self._burst:
                self._seen[key] = (start, passed, dropped + 1)
                return False
            self._seen[key] = (start, passed + 1, 0)
        if dropped:
            record.msg = f"{record.getMessage()} ({dropped} similar lines left out before this)"
            record.args = None
        return True


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)


class LineLogger:
    """A logger for a line written on every call (the audit line), cheap for the caller.

    The caller builds the line's event dict as structlog's chain would (the fields, then
    ``event``, ``level``, ``logger``, ``timestamp`` and the current trace's ids) and hands
    it to the writer thread, which renders it with the configured renderer and writes it to
    the same stream, in order with every other line: the same line, on the same logger
    name, without structlog's processors, a ``LogRecord`` and a formatter on the caller's
    thread (or the writer's). Where logging was not set up by ``configure_logging``, or
    someone else listens on the way (a handler or filter on the logger, pytest's
    ``caplog`` on the root), the line goes through structlog as any other.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._std = logging.getLogger(name)
        self._structlog = get_logger(name)

    def _direct(self) -> _Writer | None:
        writer, handoff = _writer, _handoff
        if writer is None:
            return None
        std = self._std
        root = std.root
        if len(root.handlers) != 1 or root.handlers[0] is not handoff or root.filters:
            return None
        node: logging.Logger | None = std
        while node is not None and node is not root:
            if node.handlers or node.filters or not node.propagate:
                return None
            node = node.parent
        return writer

    def info(self, event: str, **fields: Any) -> None:
        writer = self._direct()
        if writer is None:
            self._structlog.info(event, **fields)
            return
        if not self._std.isEnabledFor(logging.INFO):
            return
        fields["event"] = event
        fields["level"] = "info"
        fields["logger"] = self.name
        fields["timestamp"] = time.time()  # made readable on the writer thread
        _add_trace(None, "info", fields)
        writer.records.put(_Line(fields))
