"""Helpers shared by the event bus tests: ARNs, uniquely named resources that clean up
after themselves, draining queues, and a real local HTTP endpoint."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from eventplane.client import Client, Message
from eventplane.errors import EventplaneError
from eventplane.testing import EventplaneProcess, unique_cluster

T = TypeVar("T")

ARN = "local:000000000000"

# What the bus tests' servers run with: sub-minute schedules, and retry waits of 1/100
# (a backoff base of 1 s becomes 10 ms).
BUS_ENV = {
    "EVENTPLANE_SCHEDULE_MIN_RATE_SECONDS": "1",
    "EVENTPLANE_DELIVERY_TIME_SCALE": "0.01",
}


def start_replicas(bootstrap: str, n: int = 2) -> list[EventplaneProcess]:
    """``n`` server processes on one broker (replicas of one cluster), started at once."""
    cluster = unique_cluster()
    servers = [EventplaneProcess(bootstrap, env=BUS_ENV, cluster=cluster) for _ in range(n)]
    errors: list[BaseException] = []

    def start(server: EventplaneProcess) -> None:
        try:
            server.start()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(s,)) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        stop_all(servers)
        raise errors[0]
    return servers


def stop_all(servers: Iterable[EventplaneProcess]) -> None:
    """SIGTERM every server and wait for all of them at once (each drains for a while)."""
    threads = [threading.Thread(target=s.stop) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def queue_arn(name: str) -> str:
    return f"arn:aws:sqs:{ARN}:{name}"


def topic_arn(name: str) -> str:
    return f"arn:aws:sns:{ARN}:{name}"


def bus_arn(name: str) -> str:
    return f"arn:aws:events:{ARN}:event-bus/{name}"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def retrying(call: Callable[[], T], *, timeout: float = 60.0) -> T:
    """Repeat a call while the server answers with a retriable error (a replica restarting)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except EventplaneError as exc:
            if not exc.retriable or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def drain(
    client: Client, url: str, expected: int, *, timeout: float = 30.0, settle: int = 0
) -> list[Message]:
    """Receive (with message attributes) and delete until ``expected`` messages arrived.

    With ``settle``, then look that many seconds longer for extra ones (returned too): for
    "exactly these" and "nothing" checks.
    """
    got: list[Message] = []
    deadline = time.monotonic() + timeout

    def receive(wait: int) -> list[Message]:
        batch: list[Message] = client.queues.receive_message(
            url,
            max_number_of_messages=10,
            wait_time_seconds=wait,
            message_attribute_names=["All"],
        )
        if batch:
            client.queues.delete_message_batch(
                url,
                [{"id": str(i), "receipt_handle": m.receipt_handle} for i, m in enumerate(batch)],
            )
        return batch

    while len(got) < expected and time.monotonic() < deadline:
        got += receive(1)
    if settle:
        while batch := receive(settle):
            got += batch
    return got


def events(messages: Iterable[Message]) -> list[dict[str, Any]]:
    """The bodies of messages that carry whole events, parsed."""
    return [json.loads(m.body) for m in messages]


@dataclass(frozen=True)
class Queue:
    name: str
    url: str
    arn: str


@dataclass(frozen=True)
class RuleRef:
    name: str
    arn: str
    bus: str


class Resources:
    """Creates uniquely named resources on one server and deletes them afterwards.

    The registry lives on the broker, so a rule left behind would keep matching (or, for
    a schedule, firing) for every later server on that broker.
    """

    def __init__(self, client: Client) -> None:
        self.client = client
        self._rules: list[RuleRef] = []
        self._buses: list[str] = []
        self._queues: list[str] = []
        self._topics: list[str] = []
        self._archives: list[str] = []
        self._schemas: list[str] = []

    def bus(self, *, schema_validation: bool = False) -> str:
        name = unique("bus")
        self.client.events.create_event_bus(name, schema_validation=schema_validation)
        self._buses.append(name)
        return name

    def queue(self, prefix: str = "q", **attributes: str) -> Queue:
        name = unique(prefix)
        url = self.client.queues.create_queue(name, attributes=attributes)
        self._queues.append(url)
        return Queue(name, url, queue_arn(name))

    def missing_queue(self) -> Queue:
        """A queue name that exists nowhere (never created)."""
        name = unique("gone")
        return Queue(name, f"eventplane://queues/{name}", queue_arn(name))

    def topic(self) -> str:
        arn = self.client.topics.create_topic(unique("t"))
        self._topics.append(arn)
        return arn

    def rule(
        self,
        bus: str | None,
        targets: Iterable[Mapping[str, Any]] = (),
        *,
        pattern: Mapping[str, Any] | str | None = None,
        schedule: str | None = None,
        state: str | None = None,
    ) -> RuleRef:
        name = unique("r")
        arn = self.client.events.put_rule(
            name,
            event_pattern=pattern,
            schedule_expression=schedule,
            state=state,
            event_bus_name=bus,
        )
        ref = RuleRef(name, arn, bus or "default")
        self._rules.append(ref)
        targets = list(targets)
        if targets:
            result = self.client.events.put_targets(name, targets, event_bus_name=bus)
            assert result.failed_entry_count == 0, result.failed_entries
        return ref

    def archive(self, bus: str, **kwargs: Any) -> str:
        name = unique("a")
        self.client.events.create_archive(name, bus_arn(bus), **kwargs)
        self._archives.append(name)
        return name

    def schema_name(self) -> str:
        name = unique("s")
        self._schemas.append(name)
        return name

    def cleanup(self) -> None:
        ev = self.client.events
        steps: list[Callable[[], Any]] = [
            *(
                (lambda r=r: ev.delete_rule(r.name, event_bus_name=r.bus, force=True))
                for r in self._rules
            ),
            *((lambda a=a: ev.delete_archive(a)) for a in self._archives),
            *((lambda s=s: ev.delete_schema(s)) for s in self._schemas),
            *((lambda b=b: ev.delete_event_bus(b)) for b in self._buses),
            *((lambda t=t: self.client.topics.delete_topic(t)) for t in self._topics),
            *((lambda u=u: self.client.queues.delete_queue(u)) for u in self._queues),
        ]
        for step in steps:
            with contextlib.suppress(EventplaneError):
                step()


class Endpoint:
    """A real local HTTP server that records every POST body per path and answers per plan.

    ``plan[path]`` lists the statuses of the first answers (then 200);
    ``always[path]`` is the status of every answer.
    """

    def __init__(self) -> None:
        self.bodies: dict[str, list[str]] = {}
        self.plan: dict[str, list[int]] = {}
        self.always: dict[str, int] = {}
        self.lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                with endpoint.lock:
                    seen = endpoint.bodies.setdefault(self.path, [])
                    seen.append(body)
                    planned = endpoint.plan.get(self.path, [])
                    status = endpoint.always.get(
                        self.path, planned[len(seen) - 1] if len(seen) <= len(planned) else 200
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Endpoint:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def posts(self, path: str) -> list[str]:
        with self.lock:
            return list(self.bodies.get(path, []))

    def event_ids(self, path: str) -> list[str]:
        return [json.loads(body)["id"] for body in self.posts(path)]
