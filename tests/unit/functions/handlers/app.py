"""Handlers the pool tests run in real worker processes (this directory is a code_dir)."""

from __future__ import annotations

import ctypes
import logging
import os
import subprocess
import sys
import time
from typing import Any

print("app imported")  # init-phase output: tagged with the cold start's request id


def echo(event: Any, context: Any) -> dict[str, Any]:
    return {"event": event, "pid": os.getpid()}


def noop(event: Any, context: Any) -> None:
    return None


def context_info(event: Any, context: Any) -> dict[str, Any]:
    first = context.get_remaining_time_in_millis()
    time.sleep(0.05)
    second = context.get_remaining_time_in_millis()
    return {
        "aws_request_id": context.aws_request_id,
        "request_id": context.request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "client_context": None if context.client_context is None else context.client_context.custom,
        "remaining": [first, second],
    }


def fail(event: Any, context: Any) -> None:
    raise ValueError(f"boom {event}")


def sleep(event: Any, context: Any) -> str:
    if "child_pid_file" in event:
        child = subprocess.Popen(["sleep", "60"])
        with open(event["child_pid_file"], "w") as f:
            f.write(str(child.pid))
    print("sleeping", flush=True)
    time.sleep(event["seconds"])
    return "slept"


def exit3(event: Any, context: Any) -> None:
    os._exit(3)


def segfault(event: Any, context: Any) -> None:
    ctypes.string_at(0)


def allocate(event: Any, context: Any) -> int:
    block = bytearray(event["mb"] * 1024 * 1024)
    return len(block)


def unserializable(event: Any, context: Any) -> Any:
    return {1, 2}


def chatty(event: Any, context: Any) -> str:
    print("hello from print")
    logging.getLogger("app").info("hello from logging")
    sys.stderr.write("hello from stderr\n")
    sys.stdout.buffer.write(b"hello from stdout.buffer\n")
    for i in range(event.get("lines", 0)):
        print(f"line {i:05d} " + "x" * 90)
    os.write(1, b"hello from fd 1 without newline")
    return "chatted"


def environment(event: Any, context: Any) -> dict[str, str | None]:
    return {key: os.environ.get(key) for key in event["keys"]}


def use_client(event: Any, context: Any) -> str:
    import eventplane.client

    return eventplane.client.Client.__name__


not_callable = 42
