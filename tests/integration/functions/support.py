"""Helpers shared by the functions integration tests: handler packages, ARNs, uniquely
named resources that clean up after themselves, and reading what handlers recorded.

Handler packages live in ``handlers/<package>/`` with a module named after no other
package's (mypy sees them all), and are sent zipped (``zip_directory=``), so their code
goes through the code store on the broker. Handlers keep cross-attempt state in files
whose paths come in the event or the environment: every worker is a separate process.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventplane.client import Client, Message
from eventplane.errors import EventplaneError

HANDLERS = Path(__file__).parent / "handlers"
BASICS = HANDLERS / "basics"
VERSIONED = HANDLERS / "versioned"
CALLER = HANDLERS / "caller"

ACCOUNT = "local:000000000000"

# What the functions tests' servers run with: async retry waits of 1/100 (about 0.6 s,
# then 1.2 s instead of 1 and 2 minutes), throttle backoff likewise.
FUNCTIONS_ENV = {"EVENTPLANE_DELIVERY_TIME_SCALE": "0.01"}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{ACCOUNT}:function:{name}"


def queue_arn(name: str) -> str:
    return f"arn:aws:sqs:{ACCOUNT}:{name}"


def lines(path: Path) -> list[str]:
    """The lines a handler appended to ``path`` so far (none when it does not exist)."""
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:
        return []


def json_lines(path: Path) -> list[Any]:
    return [json.loads(line) for line in lines(path)]


def drain(client: Client, url: str, expected: int, *, timeout: float = 60.0) -> list[Message]:
    """Receive (with all attributes) and delete until ``expected`` messages arrived."""
    got: list[Message] = []
    deadline = time.monotonic() + timeout
    while len(got) < expected and time.monotonic() < deadline:
        batch = client.queues.receive_message(
            url,
            max_number_of_messages=10,
            wait_time_seconds=1,
            message_attribute_names=["All"],
            message_system_attribute_names=["All"],
        )
        for m in batch:
            client.queues.delete_message(url, m.receipt_handle)
        got += batch
    return got


@dataclass(frozen=True)
class Queue:
    name: str
    url: str
    arn: str


class Resources:
    """Creates uniquely named resources on one server and deletes them afterwards.

    The registry lives on the broker: a mapping or subscription left behind would keep
    invoking functions for every later server on that broker.
    """

    def __init__(self, client: Client) -> None:
        self.client = client
        self._mappings: list[str] = []
        self._rules: list[tuple[str, str]] = []
        self._buses: list[str] = []
        self._topics: list[str] = []
        self._functions: list[str] = []
        self._queues: list[str] = []

    def function(
        self,
        handler: str,
        *,
        package: Path | None = BASICS,
        directory: Path | None = None,
        prefix: str = "fn",
        **kwargs: Any,
    ) -> str:
        """A new function from a handler package (zipped by the SDK); returns its name."""
        name = unique(prefix)
        self._functions.append(name)
        if directory is not None:
            self.client.functions.create_function(name, handler, directory=str(directory), **kwargs)
        else:
            self.client.functions.create_function(name, handler, zip_directory=package, **kwargs)
        return name

    def adopt_function(self, name: str) -> None:
        """Delete ``name`` afterwards (a function a test created by other means)."""
        self._functions.append(name)

    def queue(self, prefix: str = "q", **attributes: str) -> Queue:
        name = unique(prefix)
        url = self.client.queues.create_queue(name, attributes=attributes)
        self._queues.append(url)
        return Queue(name, url, queue_arn(name))

    def mapping(self, queue: Queue, function: str, **kwargs: Any) -> str:
        m = self.client.functions.create_event_source_mapping(queue.arn, function, **kwargs)
        self._mappings.append(m.uuid)
        return m.uuid

    def topic(self) -> str:
        arn = self.client.topics.create_topic(unique("t"))
        self._topics.append(arn)
        return arn

    def bus(self) -> str:
        name = unique("bus")
        self.client.events.create_event_bus(name)
        self._buses.append(name)
        return name

    def rule(self, bus: str, pattern: Mapping[str, Any], targets: list[Mapping[str, Any]]) -> str:
        name = unique("r")
        self.client.events.put_rule(name, event_pattern=pattern, event_bus_name=bus)
        self._rules.append((name, bus))
        result = self.client.events.put_targets(name, targets, event_bus_name=bus)
        assert result.failed_entry_count == 0, result.failed_entries
        return name

    def cleanup(self) -> None:
        fns = self.client.functions
        ev = self.client.events
        steps: list[Callable[[], Any]] = [
            *((lambda u=u: fns.delete_event_source_mapping(u)) for u in self._mappings),
            *(
                (lambda r=r, b=b: ev.delete_rule(r, event_bus_name=b, force=True))
                for r, b in self._rules
            ),
            *((lambda b=b: ev.delete_event_bus(b)) for b in self._buses),
            *((lambda t=t: self.client.topics.delete_topic(t)) for t in self._topics),
            *((lambda f=f: fns.delete_function(f)) for f in self._functions),
            *((lambda u=u: self.client.queues.delete_queue(u)) for u in self._queues),
        ]
        for step in steps:
            with contextlib.suppress(EventplaneError):
                step()
