"""The fan-out dispatcher's FIFO deduplication: one window per owned partition, journaled.

See :mod:`eventplane.topics.fifo` for the design. This module is the Kafka side: it reads
the journal back when the dispatcher is assigned a FIFO topic partition, and writes one
journal entry per accepted message into the dispatcher's open transaction, so an entry
exists exactly when the message's deliveries and consumed offset were committed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, Final

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka import Producer as RawProducer

from eventplane.config import Settings
from eventplane.kafka import naming
from eventplane.kafka.clients import consumer_config
from eventplane.observability.logging import get_logger
from eventplane.registry import Registry
from eventplane.topics import fifo
from eventplane.topics.attributes import FIFO_SUFFIX, TopicConfig
from eventplane.topics.models import TOPIC, DedupEntry, Published, decode_dedup, encode_dedup

_log = get_logger("eventplane.topics.fanout")

TOPIC_PREFIX = naming.topic_topic("")
# How long a take-over waits for the journal; an open transaction of a crashed replica
# holds read_committed readers for at most the producers' transaction timeout (10 s).
READ_TIMEOUT_S = 60.0

Partition = tuple[str, int]  # (Kafka topic of a topic, partition)


def is_fifo(kafka_topic: str) -> bool:
    return kafka_topic.endswith(FIFO_SUFFIX)


def _journal_of(kafka_topic: str) -> str:
    return fifo.journal_topic(kafka_topic[len(TOPIC_PREFIX) :])


class FifoDedup:
    def __init__(self, settings: Settings, registry: Registry, *, instance_id: str) -> None:
        self._settings = settings
        self._registry = registry
        self._instance = instance_id
        self._windows: dict[Partition, fifo.DedupWindow] = {}
        self._touched: set[Partition] = set()
        self._configs: dict[str, tuple[int, TopicConfig]] = {}

    # --- ownership (from the consumer's rebalance callbacks) -------------------------------
    def assigned(self, partitions: Iterable[Partition]) -> None:
        """Rebuild the windows of newly assigned FIFO topic partitions from their journal."""
        wanted = [p for p in partitions if is_fifo(p[0])]
        if wanted:
            self._windows.update(read_windows(self._settings, wanted, self._instance))

    def revoked(self, partitions: Iterable[Partition]) -> None:
        for p in partitions:
            self._windows.pop(p, None)
            self._touched.discard(p)

    # --- one batch (one transaction) ------------------------------------------------------
    def admit(self, producer: RawProducer, m: Any, published: Published) -> bool:
        """Whether to deliver this record of a FIFO topic; journals it if so.

        Must be called inside the open transaction, in offset order.
        """
        if published.dedup_id is None:
            return True  # not written by a FIFO Publish; nothing to compare
        key = (m.topic(), m.partition())
        window = self._windows.get(key)
        if window is None:  # a record fetched just around a rebalance
            self.assigned([key])
            window = self._windows[key]
        group = published.group_id or ""
        scope = self._config(key[0][len(TOPIC_PREFIX) :]).fifo_throughput_scope
        self._touched.add(key)
        if not window.offer(scope, group, published.dedup_id, published.published_ms):
            return False
        entry = DedupEntry(
            dedup_id=published.dedup_id,
            message_id=published.message_id,
            sequence_number=fifo.sequence_number(m.partition(), m.offset()),
            expires_ms=published.published_ms + fifo.DEDUP_WINDOW_MS,
        )
        value, headers = encode_dedup(entry)
        producer.produce(
            _journal_of(key[0]),
            value,
            key=fifo.journal_key(group, published.dedup_id),
            headers=list(headers),
            partition=m.partition(),
        )
        return True

    def committed(self) -> None:
        for key in self._touched:
            window = self._windows.get(key)
            if window is not None:
                window.commit()
        self._touched.clear()

    def aborted(self) -> None:
        for key in self._touched:
            window = self._windows.get(key)
            if window is not None:
                window.rollback()
        self._touched.clear()

    def _config(self, topic: str) -> TopicConfig:
        r = self._registry.get(TOPIC, topic)
        if r is None:
            return TopicConfig(fifo=True)  # being deleted: the default scope will do
        cached = self._configs.get(topic)
        if cached is None or cached[0] != r.generation:
            cached = (r.generation, TopicConfig.from_spec(r.spec["config"]))
            self._configs[topic] = cached
        return cached[1]


def read_windows(
    settings: Settings, partitions: list[Partition], instance_id: str = ""
) -> dict[Partition, fifo.DedupWindow]:
    """The dedup windows of FIFO topic partitions, read from their journals.

    Reads each journal partition up to the high watermark seen at the start, read_committed,
    so entries of transactions still open then are waited for (committed) or skipped
    (aborted).
    """
    windows = {p: fifo.DedupWindow() for p in partitions}
    reader = Consumer(
        consumer_config(
            settings,
            f"{naming.PREFIX}.fanout-dedup-reader",  # assign() only: never joins the group
            **{"enable.partition.eof": True, "client.id": f"eventplane-dedup|{instance_id}"},
        )
    )
    try:
        ends: dict[tuple[str, int], int] = {}
        for kafka_topic, partition in partitions:
            tp = TopicPartition(_journal_of(kafka_topic), partition)
            watermarks = _watermarks(reader, tp)
            if watermarks is None:
                _log.warning("FIFO topic has no dedup journal", topic=kafka_topic)
                continue
            low, high = watermarks
            if high > low:
                ends[(tp.topic, partition)] = high
        if ends:
            reader.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t, p in ends])
            _read(reader, ends, windows)
    finally:
        reader.close()
    for window in windows.values():
        window.commit()  # drops what expired long ago
    _log.info(
        "FIFO dedup windows rebuilt",
        partitions=len(partitions),
        entries=sum(len(w) for w in windows.values()),
    )
    return windows


# Right after a topic is created its partitions may have no leader, or the metadata may not
# have reached every broker yet: worth waiting for, not worth restarting the dispatcher.
_NOT_YET: Final = frozenset(
    {
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
    }
)


def _watermarks(reader: Consumer, tp: TopicPartition) -> tuple[int, int] | None:
    """(low, high) of a journal partition; None if the journal does not exist."""
    deadline = time.monotonic() + 10.0
    while True:
        try:
            low, high = reader.get_watermark_offsets(tp, timeout=10, cached=False)
            return int(low), int(high)
        except KafkaException as exc:
            error = exc.args[0]
            if error.code() not in _NOT_YET and not error.retriable():
                raise
            if time.monotonic() > deadline:
                if error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                    return None
                raise
            time.sleep(0.2)


def _read(
    reader: Consumer,
    ends: dict[tuple[str, int], int],
    windows: dict[Partition, fifo.DedupWindow],
) -> None:
    deadline = time.monotonic() + READ_TIMEOUT_S
    suffix = len(".dedup")
    while ends:
        if time.monotonic() > deadline:
            raise TimeoutError(f"dedup journal not read to its end in {READ_TIMEOUT_S:.0f} s")
        m: Any = reader.poll(0.2)
        if m is None:
            # Past the end without an EOF event (the end was a transaction marker).
            for tp in reader.position([TopicPartition(t, p) for t, p in ends]):
                if tp.offset >= ends[(tp.topic, tp.partition)]:
                    ends.pop((tp.topic, tp.partition))
            continue
        where = (m.topic(), m.partition())
        err = m.error()
        if err is not None:
            if err.code() != KafkaError._PARTITION_EOF:
                if err.fatal() or not err.retriable():
                    raise KafkaException(err)
                _log.info("reading the dedup journal", error=err.str())  # librdkafka retries
                continue
            if m.offset() >= ends.get(where, 0):
                ends.pop(where, None)
            continue
        window = windows[(m.topic()[:-suffix], m.partition())]
        try:
            entry = decode_dedup(m.value(), m.headers() or [])
        except Exception as exc:  # one unreadable entry must not stop the topic
            _log.error("unreadable dedup entry", topic=m.topic(), offset=m.offset(), error=str(exc))
            continue
        group, dedup_id = fifo.parse_journal_key(m.key().decode())
        window.restore(group, dedup_id, entry.expires_ms)
