"""The end of a worker's phase: the marker line is left out when the log pipe is empty."""

from __future__ import annotations

import asyncio
import os

from eventplane.functions import _worker
from eventplane.functions.pool import WorkerPool

from .test_pool import spec


def test_unread_counts_what_the_reader_has_not_taken_yet() -> None:
    r, w = os.pipe()
    try:
        assert _worker._unread(w) == 0
        os.write(w, b"hello\n")
        assert _worker._unread(w) == 6
        os.read(r, 6)
        assert _worker._unread(w) == 0
    finally:
        os.close(r)
        os.close(w)


def test_silent_and_chatty_invocations_keep_their_own_lines_and_tails() -> None:
    lines: list[tuple[str, str]] = []

    def on_log(_function: str, request_id: str, line: str) -> None:
        lines.append((request_id, line))

    async def main() -> list[tuple[str, str]]:
        pool = WorkerPool(base_env={}, on_log=on_log)
        tails = []
        try:
            for i in range(20):
                handler = "app.chatty" if i % 2 else "app.noop"
                result = await pool.invoke(spec(handler), b"{}", request_id=f"r{i}")
                assert result.function_error is None, result.payload
                tails.append((handler, result.log_tail))
        finally:
            await pool.close()
        return tails

    tails = asyncio.run(main())
    for i, (handler, tail) in enumerate(tails):
        own = [line for rid, line in lines if rid == f"r{i}"]
        assert tail == "".join(f"{line}\n" for line in own)
        if handler == "app.noop":
            assert own == [] or own == ["app imported"]  # a cold start's import line
        else:
            # The last line was written at C level without a newline; it is still this
            # invocation's, whether the worker wrote a marker after it or not.
            assert own[-1] == "hello from fd 1 without newline"
