"""Where stream mappings keep their place, and which replica reads which shard.

One compacted topic, ``<prefix>.fn.stream-checkpoints``, holds the checkpoint of every
(mapping, shard): the position after the last batch fully processed (and, with
TumblingWindowInSeconds, the open window and its state as of that position), keyed
``<mapping uuid>/<shard id>``; a key always lands in the same partition (its *slot*).
The runner replicas share the topic's partitions through the consumer group
``<prefix>.stream-mapping-owners``: the replica assigned a slot reads that partition to
its end (its checkpoints), then reads the shards of every (mapping, shard) in the slot
and writes their checkpoints there, as the queue owners journal to their state topic.
So each shard of each mapping has one reader at a time, and a replica that dies (or is
SIGKILLed) hands its slots to one that resumes after the last checkpoint: at most the
batch in flight is processed again.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_INVALID,
    Consumer,
    KafkaError,
    KafkaException,
    TopicPartition,
)

from eventplane.config import Settings
from eventplane.kafka import naming
from eventplane.kafka.clients import (
    SEQUENTIAL_READER,
    Producer,
    TopicSpec,
    consumer_config,
    ensure_topics,
    take,
)
from eventplane.observability.logging import get_logger

_log = get_logger("eventplane.functions.stream_checkpoints")

CHECKPOINT_TOPIC = naming.FUNCTION_STREAM_CHECKPOINTS
CHECKPOINT_PARTITIONS = 6
OWNERS_GROUP = naming.STREAM_MAPPING_OWNERS_GROUP


def checkpoint_key(mapping_uuid: str, shard: str) -> str:
    return f"{mapping_uuid}/{shard}"


def slot_of(mapping_uuid: str, shard: str) -> int:
    """The checkpoint partition of one (mapping, shard), which decides its reader."""
    return zlib.crc32(checkpoint_key(mapping_uuid, shard).encode()) % CHECKPOINT_PARTITIONS


class Checkpoints:
    """The slots this replica owns and the checkpoints in them.

    A consumer thread keeps the group membership; ``on_change`` is called (on the
    thread) whenever the owned slots change, so the runner reconciles its readers.
    """

    def __init__(self, settings: Settings, producer: Producer, on_change: Callable[[], None]):
        self._settings = settings
        self._producer = producer
        self._on_change = on_change
        self._lock = threading.Lock()
        self._owned: set[int] = set()
        self._positions: dict[str, int] = {}
        self._slots: dict[str, int] = {}  # the slot each checkpoint was read from or saved to
        self._windows: dict[str, dict[str, Any]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stream-checkpoints", daemon=True)

    async def start(self) -> None:
        await asyncio.to_thread(
            ensure_topics,
            self._settings,
            [
                TopicSpec(
                    CHECKPOINT_TOPIC,
                    CHECKPOINT_PARTITIONS,
                    {"cleanup.policy": "compact", "segment.ms": "3600000"},
                )
            ],
        )
        self._thread.start()

    def close(self, timeout: float = 15.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def owned(self) -> set[int]:
        with self._lock:
            return set(self._owned)

    def position(self, mapping_uuid: str, shard: str) -> int | None:
        with self._lock:
            return self._positions.get(checkpoint_key(mapping_uuid, shard))

    def window(self, mapping_uuid: str, shard: str) -> dict[str, Any] | None:
        """The tumbling window open at the checkpoint (start, end, state), if any."""
        with self._lock:
            return self._windows.get(checkpoint_key(mapping_uuid, shard))

    async def save(
        self,
        mapping_uuid: str,
        shard: str,
        position: int,
        window: dict[str, Any] | None = None,
        *,
        root: str = "",
    ) -> None:
        """Durable (acknowledged by every in-sync replica) when this returns; ``window``
        is the tumbling window open at ``position`` (None: none). ``root``: the first
        ancestor of a shard split from a parent, whose slot the whole lineage shares (its
        reader must see the parent's checkpoint)."""
        key = checkpoint_key(mapping_uuid, shard)
        found: dict[str, Any] = {"position": position}
        if window is not None:
            found["window"] = window
        value = json.dumps(found).encode()
        slot = slot_of(mapping_uuid, root or shard)
        future = self._producer.produce(CHECKPOINT_TOPIC, value, key=key, partition=slot)
        await asyncio.wrap_future(future)
        with self._lock:
            self._slots[key] = slot
            self._positions[key] = position
            if window is None:
                self._windows.pop(key, None)
            else:
                self._windows[key] = window

    async def forget(self, mapping_uuid: str, shard: str, *, root: str = "") -> None:
        """A deleted mapping's checkpoint: a tombstone, so compaction drops it."""
        key = checkpoint_key(mapping_uuid, shard)
        future = self._producer.produce(
            CHECKPOINT_TOPIC, None, key=key, partition=slot_of(mapping_uuid, root or shard)
        )
        await asyncio.wrap_future(future)
        with self._lock:
            self._positions.pop(key, None)
            self._windows.pop(key, None)

    # --- the consumer thread ---------------------------------------------------------
    def _run(self) -> None:
        consumer = Consumer(
            consumer_config(
                self._settings,
                OWNERS_GROUP,
                **{
                    "partition.assignment.strategy": "cooperative-sticky",
                    "session.timeout.ms": 6000,
                    "heartbeat.interval.ms": 1000,
                },
            )
        )
        reader = Consumer(  # one assigned partition after another: SEQUENTIAL_READER
            consumer_config(
                self._settings,
                f"{naming.PREFIX}.checkpoint-restore.{uuid.uuid4().hex}",
                **SEQUENTIAL_READER,
            )
        )
        to_pause: list[TopicPartition] = []

        def on_assign(c: Consumer, partitions: list[TopicPartition]) -> None:
            for tp in partitions:
                found = self._restore(reader, tp.partition)
                with self._lock:
                    for key, value in found.items():
                        self._slots[key] = tp.partition
                        self._positions[key] = int(value["position"])
                        if value.get("window"):
                            self._windows[key] = value["window"]
                        else:
                            self._windows.pop(key, None)
                    self._owned.add(tp.partition)
                to_pause.append(TopicPartition(tp.topic, tp.partition))
            if partitions:
                self._on_change()

        def on_revoke(c: Consumer, partitions: list[TopicPartition]) -> None:
            lost = {tp.partition for tp in partitions}
            with self._lock:
                self._owned -= lost
                for key in [k for k in self._positions if self._slot(k) in lost]:
                    del self._positions[key]
                    self._slots.pop(key, None)
                    self._windows.pop(key, None)
            if partitions:
                self._on_change()

        try:
            consumer.subscribe(
                [CHECKPOINT_TOPIC], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke
            )
            while not self._stop.is_set():
                # Polling keeps the membership; the records are read by the restore.
                msg = consumer.poll(0.1)
                err = msg.error() if msg is not None else None
                if err is not None and err.code() != KafkaError._PARTITION_EOF:
                    _log.warning("stream checkpoint consumer", error=err.str())
                if to_pause:
                    pause, to_pause[:] = list(to_pause), []
                    try:
                        consumer.pause(pause)
                    except KafkaException as exc:
                        _log.debug("pause failed", error=str(exc))
        except Exception:
            _log.exception("stream checkpoint consumer crashed")
        finally:
            with self._lock:
                self._owned.clear()
            try:
                consumer.close()
            except KafkaException as exc:
                _log.warning("closing the stream checkpoint consumer", error=str(exc))
            reader.close()

    def _slot(self, key: str) -> int:
        found = self._slots.get(key)
        return found if found is not None else _slot_of_key(key)

    def _restore(self, reader: Consumer, partition: int) -> dict[str, dict[str, Any]]:
        """Every checkpoint in one slot, read to the end it had when the restore began;
        retried until it reads (a slot must never be served without its checkpoints)."""
        while not self._stop.is_set():
            try:
                return _read_slot(reader, partition)
            except (KafkaException, TimeoutError) as exc:
                _log.warning("cannot read stream checkpoints yet", error=str(exc))
                time.sleep(0.5)
        return {}


def _slot_of_key(key: str) -> int:
    mapping_uuid, _, shard = key.partition("/")
    return slot_of(mapping_uuid, shard)


def _read_slot(
    reader: Consumer, partition: int, timeout: float = 60.0
) -> dict[str, dict[str, Any]]:
    """The last checkpoint of every key in one slot: ``{"position": n[, "window": ...]}``."""
    found: dict[str, dict[str, Any]] = {}
    tp = TopicPartition(CHECKPOINT_TOPIC, partition)
    low, high = reader.get_watermark_offsets(tp, timeout=10, cached=False)
    if high <= low:
        return found
    reader.assign([TopicPartition(CHECKPOINT_TOPIC, partition, OFFSET_BEGINNING)])
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading stream checkpoints [{partition}] took too long")
            for m in take(reader, 1000, 0.2):
                if m.error():
                    continue
                key = (m.key() or b"").decode()
                value = m.value()
                if value is None:
                    found.pop(key, None)
                else:
                    found[key] = json.loads(value)
            pos = reader.position([tp])[0].offset
            if pos != OFFSET_INVALID and pos >= high:
                return found
    finally:
        reader.unassign()
