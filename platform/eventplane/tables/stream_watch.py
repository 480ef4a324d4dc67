"""Wake-ups for stream readers from commits this process did not make.

:mod:`.stream_signals` wakes a waiting reader when *this* process commits to its shard.
A change committed by another replica, or by another worker process of the same server,
was found only by the reader's next poll (250 ms): with two replicas, half the changes
reached their function a poll late. ``StreamWatch`` closes that gap with one
read_committed consumer per process, on a thread of its own: it follows every shard a
reader here waits on, from the end that reader found, and the first record Kafka shows
there (committed, whoever wrote it) notifies the shard's signal as a local commit does.

A shard is followed only while someone waits on it: the watch ends with the first record
it sees (the woken readers read it themselves, and wait again, watching again, once they
are through), or when no reader has asked for it for ``FORGET_S``. So a busy shard is not
read twice, and a stream no mapping waits on costs nothing.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from eventplane.config import Settings
from eventplane.kafka import naming
from eventplane.kafka.clients import consumer_config
from eventplane.observability.logging import get_logger
from eventplane.tables.stream_signals import Shard, ShardSignals

_log = get_logger("eventplane.tables.stream_watch")

# How long one poll of the watching consumer lasts: a new watch is taken up after it.
POLL_S = 0.01
# The broker holds an empty fetch this long (it answers at once when a record comes): a
# shard assigned meanwhile joins the next fetch. 40 fetches a second while anyone waits.
FETCH_WAIT_MS = 25
# A watch no reader renewed (they renew it on every wait) for this long is dropped.
FORGET_S = 10.0


class StreamWatch:
    def __init__(
        self,
        settings: Settings,
        signals: ShardSignals,
        consumer: Callable[[], Any] | None = None,
    ) -> None:
        self._settings = settings
        self._signals = signals
        self._new_consumer = consumer or self._consumer
        # On the loop: shard -> (the lowest offset a reader waits from, when last asked).
        self._wanted: dict[Shard, tuple[int, float]] = {}
        # Handed to the thread: shard -> offset to watch from, or None to stop watching.
        self._lock = threading.Lock()
        self._requests: dict[Shard, int | None] = {}
        self._asked = threading.Event()
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def _consumer(self) -> Consumer:
        group = f"{naming.PREFIX}.stream-watch.{uuid.uuid4().hex}"
        # A position past the log's end (a table created again) watches from the end,
        # never from the earliest record kept.
        extra = {"fetch.wait.max.ms": FETCH_WAIT_MS, "auto.offset.reset": "latest"}
        return Consumer(consumer_config(self._settings, group, **extra))

    # --- on the event loop --------------------------------------------------------------
    def watch(self, shard: Shard, offset: int) -> None:
        """Notify ``shard``'s signal once a record at or after ``offset`` is visible."""
        now = time.monotonic()
        found = self._wanted.get(shard)
        lowest = offset if found is None else min(found[0], offset)
        self._wanted[shard] = (lowest, now)
        if found is None or found[0] != lowest:
            self._ask(shard, lowest)
        for other in [s for s, (_, at) in self._wanted.items() if now - at > FORGET_S]:
            del self._wanted[other]
            self._ask(other, None)
        if self._thread is None and not self._stopping.is_set():
            self._loop = asyncio.get_running_loop()
            self._thread = threading.Thread(target=self._run, name="stream-watch", daemon=True)
            self._thread.start()

    def watching(self) -> set[Shard]:
        return set(self._wanted)

    def _ask(self, shard: Shard, offset: int | None) -> None:
        with self._lock:
            self._requests[shard] = offset
        self._asked.set()

    def seen(self, shard: Shard, offset: int) -> None:
        """A record at ``offset`` of ``shard`` is visible: wake the shard's readers."""
        found = self._wanted.get(shard)
        if found is None or offset < found[0]:
            return
        del self._wanted[shard]
        self._ask(shard, None)
        self._signals.notify(shard)

    # --- the watching thread ------------------------------------------------------------
    def _run(self) -> None:
        consumer: Any = self._new_consumer()
        assigned: set[Shard] = set()
        try:
            while not self._stopping.is_set():
                if not assigned:
                    self._asked.wait(1.0)
                self._asked.clear()
                with self._lock:
                    requests, self._requests = self._requests, {}
                _reassign(consumer, assigned, requests)
                if not assigned:
                    continue
                message = consumer.poll(POLL_S)
                if message is None or message.error() or self._loop is None:
                    continue
                where = (str(message.topic()), int(message.partition()))
                self._loop.call_soon_threadsafe(self.seen, where, int(message.offset()))
        except Exception:
            _log.exception("stream watch stopped; readers fall back to their poll")
        finally:
            consumer.close()

    def close(self) -> None:
        self._stopping.set()
        self._asked.set()
        if self._thread is not None:
            self._thread.join(10)


def _reassign(consumer: Any, assigned: set[Shard], requests: dict[Shard, int | None]) -> None:
    """Apply the loop's requests: stop watching a shard, or watch it from an offset."""
    drop = [s for s, offset in requests.items() if s in assigned]
    if drop:
        consumer.incremental_unassign([TopicPartition(t, p) for t, p in drop])
        assigned.difference_update(drop)
    add = {s: offset for s, offset in requests.items() if offset is not None}
    if add:
        consumer.incremental_assign([TopicPartition(t, p, o) for (t, p), o in add.items()])
        assigned.update(add)
