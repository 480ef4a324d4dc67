"""Raw gRPC baseline: one unary method that echoes its request bytes.

It tells how much of a queue call's cost is gRPC itself in Python. The server
is grpc.aio in its own process (like ``eventplane server`` in the queue
benchmark, so its CPU is not the load generator's), with the same message-size
options as eventplane's server but no interceptors, no protobuf and no work:
requests and responses are raw bytes.

    python -m eventplane.bench.grpc_echo --port 50099   # serves until SIGTERM
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import grpc

from eventplane.testing.harness import free_port

SERVICE = "eventplane.bench.Echo"
METHOD = f"/{SERVICE}/Echo"
READY = "ready"
# The child runs main() this way, not with -m: eventplane.bench imports this module,
# and runpy warns when a package has already imported the module it is asked to run.
_CHILD = "from eventplane.bench.grpc_echo import main; main()"
_MAX_MESSAGE_BYTES = 8 * 1024 * 1024
_OPTIONS = [
    ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES),
]


# --- the server (child process) -----------------------------------------------------------


async def _echo(request: bytes, context: Any) -> bytes:
    return request


async def serve(port: int) -> None:
    """Serve Echo on 127.0.0.1:``port``; print READY once listening; stop on SIGTERM/SIGINT."""
    server = grpc.aio.server(options=[*_OPTIONS, ("grpc.so_reuseport", 0)])
    handler = grpc.method_handlers_generic_handler(
        SERVICE, {"Echo": grpc.unary_unary_rpc_method_handler(_echo)}
    )
    server.add_generic_rpc_handlers((handler,))
    if server.add_insecure_port(f"127.0.0.1:{port}") == 0:
        raise OSError(f"cannot listen on 127.0.0.1:{port}")
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(READY, flush=True)
    await stop.wait()
    await server.stop(0.5)


# --- the load generator (bench process) ---------------------------------------------------


@contextlib.contextmanager
def echo_server(timeout: float = 30.0) -> Iterator[str]:
    """Run the echo server in a child process; yields its ``host:port``."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, "--port", str(port)],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        line = proc.stdout.readline().strip() if ready else ""
        if line != READY:
            raise RuntimeError(f"gRPC echo server did not start (exit code {proc.poll()})")
        yield f"127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def calls_per_second(
    target: str, *, concurrency: int, request_size: int, calls: int
) -> float:
    """Unary echo calls per second: ``concurrency`` channels, each calling in a loop."""
    channels = [grpc.aio.insecure_channel(target, options=_OPTIONS) for _ in range(concurrency)]
    try:
        stubs = [ch.unary_unary(METHOD) for ch in channels]  # bytes in, bytes out
        body = os.urandom(request_size)
        for stub in stubs:  # connect and warm up outside the measurement
            for _ in range(20):
                await stub(body, timeout=10)
        remaining = calls

        async def worker(stub: Any) -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                reply = await stub(body, timeout=10)
                if len(reply) != request_size:
                    raise RuntimeError("gRPC echo returned a different body")

        start = time.perf_counter()
        await asyncio.gather(*(worker(s) for s in stubs))
        return calls / (time.perf_counter() - start)
    finally:
        for ch in channels:
            await ch.close()


async def latencies(target: str, *, request_size: int, calls: int) -> list[float]:
    """Seconds per unary echo call, one after another on one channel (after a warm-up)."""
    async with grpc.aio.insecure_channel(target, options=_OPTIONS) as channel:
        stub = channel.unary_unary(METHOD)
        body = os.urandom(request_size)
        for _ in range(50):
            await stub(body, timeout=10)
        samples = []
        for _ in range(calls):
            start = time.perf_counter()
            await stub(body, timeout=10)
            samples.append(time.perf_counter() - start)
        return samples


def measure(*, concurrency: int, request_size: int, calls: int) -> float:
    """Start the echo server, measure ``calls_per_second`` against it, stop it."""
    with echo_server() as target:
        return asyncio.run(
            calls_per_second(
                target, concurrency=concurrency, request_size=request_size, calls=calls
            )
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="gRPC echo server for `eventplane bench`")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
