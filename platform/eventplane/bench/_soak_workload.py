"""The mixed workload of `bench soak`: five paths into five queues, and who got what.

Every message carries ``SOAK:<path>:<id>:<perf_counter>:END`` somewhere in what reaches
its queue (the body, an event's detail, a function's destination record), so one
consumer per queue finds the id and the send time again whatever wraps it:

- ``queue``: SendMessage to a standard queue;
- ``fifo``: SendMessage to a FIFO queue, 8 message groups, a unique deduplication id;
- ``topic``: Publish to a topic with a raw-delivery queue subscription;
- ``bus``: PutEvents to a bus whose rule targets a queue;
- ``function``: an Event invoke of a function whose OnSuccess destination is a queue
  (the destination record embeds the request payload).

An id counts as sent once its call was acknowledged; as lost if it was sent and never
received; a second receipt of an id is a duplicate (standard queues are at-least-once).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from eventplane.bench._stats import percentile
from eventplane.client import AsyncClient, DeleteMessageBatchEntry
from eventplane.errors import EventplaneError

PATHS = ("queue", "fifo", "topic", "bus", "function")
FIFO_GROUPS = 8
_MARK = re.compile(r"SOAK:([a-z]+):([0-9a-f]{32}):(\d+\.\d+):END")
_ARN = "arn:aws:sqs:local:000000000000:{}"
HANDLER = '''
def handler(event, context):
    """Returns the event: the OnSuccess record carries it back to the queue."""
    return event
'''


class Rejected(Exception):
    """A call that answered but did not accept the message (a failed PutEvents entry)."""


@dataclass
class Tracker:
    """Ids in flight, acknowledged and received; latencies of the current interval."""

    attempted: dict[str, tuple[str, float]] = field(default_factory=dict)  # id -> path, t
    acked: set[str] = field(default_factory=set)
    received: set[str] = field(default_factory=set)
    warm_ids: set[str] = field(default_factory=set)
    warm_paths: set[str] = field(default_factory=set)
    duplicates: int = 0
    send_errors: int = 0
    receive_errors: int = 0
    interval: list[float] = field(default_factory=list)
    by_path: dict[str, list[float]] = field(default_factory=dict)

    def mark(self, path: str, *, warm: bool = False) -> str:
        uid = uuid.uuid4().hex
        now = time.perf_counter()
        if warm:
            self.warm_ids.add(uid)
        else:
            self.attempted[uid] = (path, now)
        return f"SOAK:{path}:{uid}:{now:.6f}:END"

    def arrived(self, text: str, now: float) -> None:
        # A destination record embeds the request twice (request and response payload):
        # one message, one count.
        for path, uid, _sent in set(_MARK.findall(text)):
            if uid in self.warm_ids:
                self.warm_paths.add(path)
            elif uid in self.received:
                self.duplicates += 1
            elif uid in self.attempted:
                self.received.add(uid)
                latency = now - self.attempted[uid][1]
                self.interval.append(latency)
                self.by_path.setdefault(path, []).append(latency)

    def lost(self) -> set[str]:
        return self.acked - self.received

    def take_interval(self) -> list[float]:
        taken, self.interval = self.interval, []
        return taken

    def path_counts(self) -> dict[str, dict[str, float | None]]:
        out: dict[str, dict[str, float | None]] = {}
        for p in PATHS:
            acked = {u for u in self.acked if self.attempted[u][0] == p}
            samples = self.by_path.get(p, [])
            out[p] = {
                "sent": len(acked),
                "received": len(samples),
                "lost": len(acked - self.received),
                "p50_ms": round(percentile(samples, 50) * 1000, 1) if samples else None,
                "p99_ms": round(percentile(samples, 99) * 1000, 1) if samples else None,
            }
        return out


@dataclass
class Resources:
    """What the workload sends to and reads from (queue URLs by path)."""

    queues: dict[str, str]
    topic_arn: str
    bus: str
    rule: str
    function: str


async def create(c: AsyncClient, code: Path) -> Resources:
    suffix = uuid.uuid4().hex[:8]
    names = {p: f"soak-{suffix}-{p}" for p in PATHS}
    names["fifo"] += ".fifo"
    queues: dict[str, str] = {}
    for path, name in names.items():
        attributes = {"FifoQueue": True} if path == "fifo" else None
        queues[path] = await c.queues.create_queue(name, attributes=attributes)
    topic = await c.topics.create_topic(f"soak-{suffix}")
    await c.topics.subscribe(
        topic, "sqs", _ARN.format(names["topic"]), attributes={"RawMessageDelivery": True}
    )
    bus = rule = f"soak-{suffix}"
    await c.events.create_event_bus(bus)
    await c.events.put_rule(rule, event_pattern={"source": ["soak"]}, event_bus_name=bus)
    await c.events.put_targets(
        rule, [{"Id": "queue", "Arn": _ARN.format(names["bus"])}], event_bus_name=bus
    )
    function = f"soak-{suffix}"
    (code / "app.py").write_text(HANDLER)
    await c.functions.create_function(function, "app.handler", zip_directory=code, timeout=10)
    await c.functions.put_function_event_invoke_config(
        function,
        maximum_retry_attempts=0,
        destination_config={"OnSuccess": {"Destination": _ARN.format(names["function"])}},
    )
    return Resources(queues, topic, bus, rule, function)


async def remove(c: AsyncClient, r: Resources) -> None:
    steps: list[Callable[[], Awaitable[object]]] = [
        lambda: c.functions.delete_function(r.function),
        lambda: c.events.delete_rule(r.rule, event_bus_name=r.bus, force=True),
        lambda: c.events.delete_event_bus(r.bus),
        lambda: c.topics.delete_topic(r.topic_arn),
        *[lambda url=url: c.queues.delete_queue(url) for url in r.queues.values()],
    ]
    for step in steps:
        with contextlib.suppress(EventplaneError):
            await step()


async def send(c: AsyncClient, r: Resources, path: str, mark: str, n: int) -> None:
    """One message on ``path``; raises EventplaneError or Rejected when not accepted."""
    if path == "queue":
        await c.queues.send_message(r.queues[path], mark)
    elif path == "fifo":
        await c.queues.send_message(
            r.queues[path],
            mark,
            message_group_id=f"g{n % FIFO_GROUPS}",
            message_deduplication_id=mark.split(":")[2],
        )
    elif path == "topic":
        await c.topics.publish(r.topic_arn, mark)
    elif path == "bus":
        entry = {"Source": "soak", "DetailType": "tick", "Detail": {"m": mark}}
        result = await c.events.put_events([{**entry, "EventBusName": r.bus}])
        if result.failed_entry_count:
            raise Rejected(f"PutEvents failed: {result.entries}")
    else:
        await c.functions.invoke(
            r.function, json.dumps({"m": mark}).encode(), invocation_type="Event"
        )


async def consume(c: AsyncClient, queue: str, tracker: Tracker) -> None:
    """Receive, record and delete until cancelled."""
    while True:
        try:
            got = await c.queues.receive_message(
                queue, max_number_of_messages=10, wait_time_seconds=2
            )
            now = time.perf_counter()
            for m in got:
                tracker.arrived(m.body, now)
            if got:
                await c.queues.delete_message_batch(
                    queue,
                    [DeleteMessageBatchEntry(str(i), m.receipt_handle) for i, m in enumerate(got)],
                )
        except EventplaneError:
            tracker.receive_errors += 1
            await asyncio.sleep(0.5)
