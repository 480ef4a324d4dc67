"""Partition ownership for tables: a consumer group decides which replica serves which partition.

This mirrors ``queues/owner.py`` (the queue mechanism is bound to queue records
and lease journals, so it is not reused as is): every replica runs one member of
``eventplane.table-owners`` subscribed to the changelog topics of every table.
When Kafka assigns it a partition, the member restores the partition's items
from the compacted changelog (read_committed, to its end) and hands them to the
loop; from then on the owner is the partition's only writer, so the member
pauses the partition instead of reading its own writes back. On revocation the
store is dropped; a crashed owner's partitions go to a survivor, which restores
the same items from the same changelog.
"""

from __future__ import annotations

import asyncio
import json
import queue as stdlib_queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
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
from eventplane.kafka import codec, naming
from eventplane.kafka.clients import consumer_config, take
from eventplane.kafka.groups import owner_group_config
from eventplane.kafka.membership import Membership
from eventplane.kafka.retirement import Holdings
from eventplane.observability.logging import get_logger
from eventplane.tables.expr.values import decode_json_item, encode_json_item

_log = get_logger("eventplane.tables.owner")

Item = dict[str, Any]
ITEM_SCHEMA = "eventplane.v1.TableItem"


@dataclass
class Restored:
    """A partition handed to this replica, with every item its changelog holds."""

    table: str
    partition: int
    items: dict[str, Item]  # canonical key -> item


class OwnerListener:
    """What the loop side implements (the table engine's partitions)."""

    async def adopt(self, restored: Restored) -> None:
        raise NotImplementedError

    async def relinquish(self, partitions: list[tuple[str, int]]) -> None:
        raise NotImplementedError


class TableOwners:
    """The replica's member of eventplane.table-owners, on its own thread."""

    def __init__(
        self,
        settings: Settings,
        listener: OwnerListener,
        loop: asyncio.AbstractEventLoop,
        *,
        advertise: str,
        instance_id: str,
        exists: Callable[[str], bool],
    ) -> None:
        self._settings = settings
        self._listener = listener
        self._loop = loop
        self._exists = exists  # is the table still defined? (registry, thread-safe)
        self.client_id = f"eventplane-table-owner|{advertise}|{instance_id}"
        self._topics: list[str] = []
        self._subscribe: stdlib_queue.SimpleQueue[list[str]] = stdlib_queue.SimpleQueue()
        self.holdings = Holdings("table-owner", naming.TABLE_OWNERS_GROUP, self.client_id)
        self._to_pause: list[TopicPartition] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="table-owner", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def subscribe(self, topics: list[str]) -> None:
        if sorted(topics) != self._topics:
            self._topics = sorted(topics)
            self.holdings.want(self._topics)
            self._subscribe.put(list(self._topics))

    def close(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    # --- the consumer thread ---------------------------------------------------------
    def _run(self) -> None:
        reader = Consumer(
            consumer_config(self._settings, f"{naming.PREFIX}.table-restore.{uuid.uuid4().hex}")
        )

        def on_assign(c: Consumer, partitions: list[TopicPartition]) -> None:
            self.holdings.assigned((tp.topic, tp.partition) for tp in partitions)
            for tp in partitions:
                if self._adopt(reader, tp):
                    self._to_pause.append(TopicPartition(tp.topic, tp.partition))

        def on_revoke(c: Consumer, partitions: list[TopicPartition]) -> None:
            fut = asyncio.run_coroutine_threadsafe(
                self._listener.relinquish(
                    [(naming.table_of(tp.topic), tp.partition) for tp in partitions]
                ),
                self._loop,
            )
            try:
                fut.result(timeout=30)
            except Exception:
                _log.exception("relinquish failed")
            finally:
                self.holdings.revoked((tp.topic, tp.partition) for tp in partitions)

        member = Membership(
            consumer_config(
                self._settings,
                naming.TABLE_OWNERS_GROUP,
                **{
                    "client.id": self.client_id,
                    **owner_group_config(self._settings, naming.TABLE_OWNERS_GROUP),
                    "topic.metadata.refresh.interval.ms": 1000,
                },
            ),
            self.holdings,
            on_assign=on_assign,
            on_revoke=on_revoke,
            on_lost=on_revoke,
        )
        try:
            self._loop_forever(member)
        except Exception:
            _log.exception("table owner consumer crashed")
        finally:
            member.leave()
            reader.close()

    def _loop_forever(self, member: Membership) -> None:
        while not self._stop.is_set():
            while True:
                try:
                    topics = self._subscribe.get_nowait()
                except stdlib_queue.Empty:
                    break
                member.follow(topics)  # with no table left, leaves the group
            consumer = member.consumer
            if consumer is None:
                time.sleep(0.05)
                continue
            # Polling keeps the membership alive; the records are this replica's own
            # writes (the partitions are paused once adopted), so they are dropped.
            msg = consumer.poll(0.1)
            err = msg.error() if msg is not None else None
            if err is not None and err.code() not in (
                KafkaError._PARTITION_EOF,
                KafkaError.UNKNOWN_TOPIC_OR_PART,
            ):
                _log.warning("table owner consumer", error=err.str())
            if self._to_pause:
                pause, self._to_pause = self._to_pause, []
                try:
                    consumer.pause(pause)
                except KafkaException as exc:
                    _log.debug("pause failed", error=str(exc))

    def _adopt(self, reader: Consumer, tp: TopicPartition) -> bool:
        table = naming.table_of(tp.topic)
        # Serving a partition without all of its items would answer "not found" for
        # items that exist and let conditions pass that must fail: retry the restore
        # until it reads (the group keeps this member alive) or the server stops.
        delay = 0.2
        started = time.monotonic()
        while True:
            try:
                items = restore_partition(reader, tp.topic, tp.partition)
                break
            except (KafkaException, TimeoutError) as exc:
                if self._stop.is_set() or not self._exists(table):
                    _log.info("partition of a deleted table not adopted", table=table)
                    return False
                _log.warning(
                    "cannot restore table partition yet; retrying",
                    table=table,
                    partition=tp.partition,
                    error=str(exc),
                )
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        fut = asyncio.run_coroutine_threadsafe(
            self._listener.adopt(Restored(table, tp.partition, items)), self._loop
        )
        fut.result(timeout=60)
        _log.info(
            "table partition adopted",
            table=table,
            partition=tp.partition,
            items=len(items),
            restore_seconds=round(time.monotonic() - started, 3),
        )
        return True


def restore_partition(
    reader: Consumer, topic: str, partition: int, timeout: float = 120.0
) -> dict[str, Item]:
    """Every live item of one changelog partition, read (read_committed) to its end.

    The end is the high watermark when the restore starts; a transaction a dead
    owner left open holds read_committed readers below it until it is aborted,
    so the restore never answers before knowing whether that write happened.
    """
    items: dict[str, Item] = {}
    tp = TopicPartition(topic, partition)
    try:
        low, high = reader.get_watermark_offsets(tp, timeout=10, cached=False)
    except KafkaException as exc:
        if exc.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
            return items
        raise
    if high <= low:
        return items
    reader.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)])
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"restoring {topic}[{partition}] took over {timeout:g}s")
            batch = take(reader, 1000, 0.2)
            for m in batch:
                if m.error():
                    continue
                key = (m.key() or b"").decode()
                value = m.value()
                if value is None:
                    items.pop(key, None)
                else:
                    items[key] = decode_record(value, message_headers(m))
            pos = reader.position([tp])[0].offset
            if pos != OFFSET_INVALID and pos >= high:
                break
    finally:
        reader.unassign()
    return items


def message_headers(m: Any) -> list[tuple[str, bytes | None]]:
    raw = m.headers() or []
    pairs = raw.items() if isinstance(raw, dict) else raw
    return [(k, v.encode() if isinstance(v, str) else v) for k, v in pairs]


def encode_item(item: Item, written_ms: int) -> tuple[bytes, list[tuple[str, bytes]]]:
    text = json.dumps(encode_json_item(item), separators=(",", ":"), ensure_ascii=False)
    return codec.encode(ITEM_SCHEMA, {"item": text, "written_ms": written_ms})


def decode_item(value: bytes, headers: list[tuple[str, bytes | None]]) -> Item:
    _, rec = codec.decode(value, headers)
    return decode_json_item(json.loads(rec["item"]))


def decode_record(value: bytes, headers: list[tuple[str, bytes | None]]) -> Item:
    """A changelog record: an item, or (another schema) a ClientRequestToken record as is."""
    schema, rec = codec.decode(value, headers)
    if schema != ITEM_SCHEMA:
        return dict(rec)
    return decode_json_item(json.loads(rec["item"]))
