"""Asynchronous invocation records on ``eventplane.fn.async``, and how to write one.

Every asynchronous path into a function goes through this topic: Invoke with
InvocationType=Event, topic subscriptions and bus rule targets of protocol/kind
``function``, and function destinations. The bus and topic dispatchers write the record
inside their Kafka transactions, so an event reaches the function's queue of
invocations exactly once; the function runs at least once from there.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Final

from eventplane.kafka import codec, naming

SCHEMA: Final = "eventplane.v1.FunctionInvocation"
ASYNC_TOPIC: Final = naming.FUNCTION_ASYNC
ASYNC_PARTITIONS: Final = 6
FUNCTION_KIND: Final = "function"  # the registry kind of functions (see functions/model.py)


@dataclass(frozen=True)
class Invocation:
    request_id: str
    function: str
    qualifier: str | None
    payload: bytes
    client_context: str | None
    attempt: int
    throttles: int
    first_ms: int
    due_ms: int
    source: str = "invoke"
    last_error: bytes | None = None
    last_function_error: str | None = None


def new_invocation(
    function: str,
    qualifier: str | None,
    payload: bytes,
    *,
    source: str,
    client_context: str | None = None,
    request_id: str | None = None,
    now_ms: int | None = None,
) -> Invocation:
    now = int(time.time() * 1000) if now_ms is None else now_ms
    return Invocation(
        request_id=request_id or str(uuid.uuid4()),
        function=function,
        qualifier=qualifier,
        payload=payload,
        client_context=client_context,
        attempt=0,
        throttles=0,
        first_ms=now,
        due_ms=now,
        source=source,
    )


def encode(inv: Invocation) -> tuple[bytes, list[tuple[str, bytes]]]:
    return codec.encode(SCHEMA, asdict(inv))


def decode(value: bytes, headers: Sequence[tuple[str, bytes | None]]) -> Invocation:
    _, rec = codec.decode(value, headers)
    return Invocation(**rec)
