"""The resource registry: every definition on one compacted topic, materialized by every replica.

Each replica reads ``eventplane.resources`` from the beginning at start (so a
restarted server sees everything that existed before) and then follows it
live. Writes are read-your-writes: ``put`` and ``delete`` return only once this
replica's view includes the change, so a client that creates a queue and then
sends to it through the same replica never sees "does not exist". A lookup that
misses first catches up with the topic's end (``catch_up``), so a resource created
through *another* replica a moment ago is found too, not answered "does not exist".

Keys are ``<kind>/<name>``; a tombstone (null value) deletes. The topic has a
single partition: definitions change rarely and a total order keeps every
replica's view identical.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from eventplane.config import Settings
from eventplane.kafka import codec, naming
from eventplane.kafka.clients import Producer, TopicSpec, consumer_config, ensure_topics
from eventplane.observability.logging import get_logger
from eventplane.observability.metrics import REGISTRY_RESOURCES

_log = get_logger("eventplane.registry")

SCHEMA = "eventplane.v1.Resource"
# After a catch-up that failed (the broker away or slow), misses answer from the view at
# once for this long: each would otherwise block its caller, often an event loop, for
# the whole timeout while the broker is away.
CATCH_UP_BACKOFF_S = 10.0

Listener = Callable[[str, str, "Resource | None"], None]


@dataclass(frozen=True)
class Resource:
    kind: str
    name: str
    spec: Mapping[str, Any]
    generation: int
    created_at: int  # epoch ms
    updated_at: int  # epoch ms


def _headers(msg: Message) -> list[tuple[str, bytes | None]]:
    raw = msg.headers() or []
    items = raw.items() if isinstance(raw, dict) else raw
    return [(k, v.encode() if isinstance(v, str) else v) for k, v in items]


def _key(kind: str, name: str) -> str:
    return f"{kind}/{name}"


class Registry:
    """A live, read-your-writes view of every resource definition."""

    def __init__(self, settings: Settings, producer: Producer) -> None:
        self._settings = settings
        self._producer = producer
        self._resources: dict[str, Resource] = {}
        self._applied = -1  # offset of the last record applied to the view
        # Moves twice per record applied: with the view, and once the listeners have it.
        self._changes = 0
        self._cond = threading.Condition()
        self._listeners: list[Listener] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._consumer: Consumer | None = None
        # Misses catch up with the topic's end: one watermark query at a time, shared by
        # every caller that arrived before it started (see catch_up).
        self._ends: Consumer | None = None
        self._sync_lock = threading.Lock()
        self._synced_from = -1.0  # monotonic time the last end query started
        self._synced_end = 0
        self._failed_at: float | None = None  # monotonic time the last catch-up failed

    # --- lifecycle ---------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> None:
        """Create the topic if needed, load every definition, then follow live."""
        ensure_topics(
            self._settings,
            [
                TopicSpec(
                    naming.RESOURCES,
                    1,
                    {"cleanup.policy": "compact", "min.compaction.lag.ms": "60000"},
                )
            ],
        )
        self._consumer = Consumer(
            consumer_config(self._settings, f"{naming.PREFIX}.registry.{uuid.uuid4().hex}")
        )
        tp = TopicPartition(naming.RESOURCES, 0, OFFSET_BEGINNING)
        self._consumer.assign([tp])
        deadline = time.monotonic() + timeout
        while True:
            try:
                _, high = self._consumer.get_watermark_offsets(tp, timeout=timeout)
                break
            except KafkaException:
                # A broker that just started, or a topic another replica has just created,
                # may not have a partition leader yet (NOT_LEADER_FOR_PARTITION, which
                # librdkafka does not mark retriable): retry until the deadline.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        while self._applied < high - 1:
            if time.monotonic() > deadline:
                raise TimeoutError(f"loading {naming.RESOURCES} did not finish in {timeout:g}s")
            self._poll_once(0.2)
        _log.info("registry loaded", resources=len(self._resources), offset=self._applied)
        self._ends = Consumer(
            consumer_config(self._settings, f"{naming.PREFIX}.registry-ends.{uuid.uuid4().hex}")
        )
        self._thread = threading.Thread(target=self._follow, name="registry", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
        if self._ends is not None:
            self._ends.close()
            self._ends = None

    def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                self._poll_once(0.2)
            except Exception:  # never let one bad record stop the view
                _log.exception("registry follower error")

    def _poll_once(self, timeout: float) -> None:
        assert self._consumer is not None
        msg = self._consumer.poll(timeout)
        if msg is None:
            return
        err = msg.error()
        if err is not None:
            if err.code() != KafkaError._PARTITION_EOF:
                _log.warning("registry consumer", error=err.str())
            return
        raw_key = msg.key()
        key = raw_key.decode() if isinstance(raw_key, bytes) else str(raw_key or "")
        kind, _, name = key.partition("/")
        resource: Resource | None = None
        value = msg.value()
        if value is not None:
            try:
                _, rec = codec.decode(value, _headers(msg))
                resource = Resource(
                    kind=rec["kind"],
                    name=rec["name"],
                    spec=json.loads(rec["spec"]),
                    generation=rec["generation"],
                    created_at=rec["created_at"],
                    updated_at=rec["updated_at"],
                )
            except (codec.CodecError, ValueError) as exc:
                _log.error("unreadable resource record", key=key, error=str(exc))
        with self._cond:
            if resource is None:
                self._resources.pop(key, None)
            else:
                self._resources[key] = resource
            self._applied = msg.offset() or 0
            self._changes += 1  # with the view: a write that has returned has moved it
            REGISTRY_RESOURCES.labels(kind).set(
                sum(1 for k in self._resources if k.startswith(kind + "/"))
            )
            self._cond.notify_all()
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(kind, name, resource)
            except Exception:
                _log.exception("registry listener failed", key=key)
        self._changes += 1  # and after the listeners: caches they keep are current too

    # --- reads -------------------------------------------------------------------------
    def version(self) -> int:
        """A number that changes whenever the view (and what its listeners keep) does.

        Read it before a lookup and remember the answer under it: while it has not
        changed, neither has the answer (authorization's owner and policy lookups).
        """
        return self._changes

    def get(self, kind: str, name: str) -> Resource | None:
        """The definition, or None if it does not exist.

        A miss is answered only after this replica's view has caught up with every
        record written before the call (by any replica): a queue created through one
        replica is found through another as soon as its CreateQueue has returned.
        """
        key = _key(kind, name)
        with self._cond:
            found = self._resources.get(key)
        if found is not None or not self.catch_up():
            return found
        with self._cond:
            return self._resources.get(key)

    def peek(self, kind: str, name: str) -> Resource | None:
        """The definition as this replica's view holds it, without catching up on a miss.

        For lookups on every call where absence is the usual answer (a function's
        resource policy, read to authorize each invoke): ``get`` would ask Kafka for the
        registry topic's end on each of them. The view follows the topic continuously, so
        it lags a write made through another replica by milliseconds.
        """
        with self._cond:
            return self._resources.get(_key(kind, name))

    def catch_up(self, timeout: float = 5.0) -> bool:
        """Wait until the view includes every record written before this call.

        Returns False (and the caller answers from the view as it is) when the view is
        not following yet, when called from the follower itself (a listener), when the
        topic's end cannot be learnt or reached within ``timeout``, or for
        ``CATCH_UP_BACKOFF_S`` after that last happened (callers waiting on the lock then
        give up too, so an outage blocks one caller, not each in turn).
        """
        ends = self._ends
        if ends is None or threading.current_thread() is self._thread or self._backing_off():
            return False
        arrival = time.monotonic()
        try:
            with self._sync_lock:
                if self._backing_off():  # the query this caller waited for failed
                    return False
                if self._synced_from < arrival:  # no query started since we arrived
                    started = time.monotonic()
                    _, end = ends.get_watermark_offsets(
                        TopicPartition(naming.RESOURCES, 0), timeout=timeout
                    )
                    self._synced_from, self._synced_end = started, end
                end = self._synced_end
        except (KafkaException, RuntimeError) as exc:
            self._failed_at = time.monotonic()
            _log.warning("registry catch-up: end offset unknown", error=str(exc))
            return False
        with self._cond:
            caught_up = self._cond.wait_for(lambda: self._applied >= end - 1, timeout=timeout)
        if not caught_up:
            self._failed_at = time.monotonic()
            _log.warning("registry catch-up timed out", end=end, applied=self._applied)
        return caught_up

    def _backing_off(self) -> bool:
        failed = self._failed_at
        return failed is not None and time.monotonic() - failed < CATCH_UP_BACKOFF_S

    def find(self, kind: str, prefix: str = "") -> list[Resource]:
        start = _key(kind, prefix)
        with self._cond:
            found = [r for k, r in self._resources.items() if k.startswith(start)]
        return sorted(found, key=lambda r: r.name)

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(kind, name, resource_or_None)`` for every change from now on."""
        with self._cond:
            self._listeners.append(listener)

    # --- writes ------------------------------------------------------------------------
    def put(self, kind: str, name: str, spec: Mapping[str, Any]) -> Resource:
        """Create or replace a definition; returns it once this replica's view has it."""
        now = int(time.time() * 1000)
        existing = self.get(kind, name)
        resource = Resource(
            kind=kind,
            name=name,
            spec=dict(spec),
            generation=(existing.generation + 1) if existing else 1,
            created_at=existing.created_at if existing else now,
            updated_at=now,
        )
        value, headers = codec.encode(
            SCHEMA,
            {
                "kind": kind,
                "name": name,
                "spec": json.dumps(resource.spec, sort_keys=True, separators=(",", ":")),
                "generation": resource.generation,
                "created_at": resource.created_at,
                "updated_at": resource.updated_at,
            },
        )
        self._write(_key(kind, name), value, headers)
        return resource

    def delete(self, kind: str, name: str) -> bool:
        """Delete a definition (a tombstone); returns False if it did not exist."""
        if self.get(kind, name) is None:
            return False
        self._write(_key(kind, name), None, [])
        return True

    def _write(self, key: str, value: bytes | None, headers: list[tuple[str, bytes]]) -> None:
        msg = self._producer.produce(naming.RESOURCES, value, key=key, headers=headers).result(
            timeout=30.0
        )
        offset = msg.offset() or 0
        with self._cond:
            if not self._cond.wait_for(lambda: self._applied >= offset, timeout=30.0):
                raise TimeoutError(f"the registry did not see its own write of {key} in 30s")
