"""Thin, opinionated facades over confluent-kafka's producer, consumer and admin client.

- Producer: acks=all + idempotence always; a background thread serves delivery
  reports so callers get a Future (or await one) per record; trace headers are
  added from the current trace context.
- consumer_config(): the settings every eventplane consumer shares.
- ensure_topics(): idempotent creation with configs.
- wait_for_cluster(): the start-up check that turns "nothing answers" into one
  clear line naming the setting.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition
from confluent_kafka import Producer as _RawProducer
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic, OffsetSpec

from eventplane.config import ENV_PREFIX, Settings
from eventplane.kafka.naming import family
from eventplane.observability import stages
from eventplane.observability.logging import Throttle
from eventplane.observability.metrics import KAFKA_PRODUCE_ERRORS
from eventplane.tracing import kafka_headers

_log = logging.getLogger("eventplane.kafka")
# librdkafka's own lines, "FACILITY [client#instance] [thrd:...]: text": some repeat every
# 100 ms for as long as a condition lasts (an offset reset on a deleted partition).
_log.addFilter(Throttle(lambda record: " ".join(record.getMessage().split(" ", 2)[:2])))


class KafkaUnavailable(RuntimeError):
    """The cluster did not answer in time; the message names the setting to check."""


def client_config(settings: Settings, **extra: Any) -> dict[str, Any]:
    """Settings shared by every librdkafka client eventplane creates."""
    conf: dict[str, Any] = {
        "bootstrap.servers": settings.bootstrap,
        "client.id": "eventplane",
        "logger": _log,
        # Reconnect quickly after a broker restart; never give up.
        "reconnect.backoff.ms": 100,
        "reconnect.backoff.max.ms": 2000,
    }
    conf.update(settings.kafka_client_config)
    conf.update(extra)
    return conf


def consumer_config(settings: Settings, group_id: str, **extra: Any) -> dict[str, Any]:
    return client_config(
        settings,
        **{
            "group.id": group_id,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "enable.partition.eof": False,
            # How long the broker holds a fetch that found nothing new. Records (and a
            # transaction's commit marker, which moves read_committed's end) answer a
            # waiting fetch at once, so a long wait costs no latency; a short one costs
            # the broker one fetch per wait per idle consumer: at 5-10 ms, one idle
            # server's dozen consumers kept the broker at ~20% of a core. 100 ms bounds
            # the delay before a newly assigned partition joins the next fetch.
            "fetch.wait.max.ms": 100,
            **extra,
        },
    )


# Extra config for a consumer that assign()s one partition after another and reads each
# to its end (restores, journal reads, stream reads). The fetch it leaves waiting at the
# broker once it reaches an end holds the next partition's first fetch back for the rest
# of fetch.wait.max.ms, since a consumer has one fetch in flight per broker: 97 ms per
# partition at the default 100 (20 queue journals read one after another: 1.94 s against
# 0.12 s at 5 ms). Unassigned between reads, such a consumer costs the broker nothing idle.
SEQUENTIAL_READER: dict[str, Any] = {"fetch.wait.max.ms": 5}


def take(consumer: Any, limit: int, timeout: float) -> list[Message]:
    """Up to ``limit`` messages: waits up to ``timeout`` for the first, then takes only those
    already fetched. ``Consumer.consume(n, timeout)`` returns early only once it has ``n``
    messages, so a partial batch (the usual case off a busy path) waited out the whole
    timeout: 100-200 ms added to every stream read and HTTP delivery."""
    first = consumer.poll(timeout)
    if first is None:
        return []
    if limit <= 1:
        return [first]
    return [first, *consumer.consume(limit - 1, 0)]


def wait_for_cluster(settings: Settings, timeout: float | None = None) -> None:
    """Block until the cluster answers a metadata request, or raise KafkaUnavailable."""
    timeout = settings.kafka_connect_timeout if timeout is None else timeout
    # log_level 0: the probe's own "connection refused" lines would bury the one
    # line this function exists to print. The last client error (a refused connection,
    # a failed TLS handshake, a SASL failure) says why better than the timeout does.
    errors: list[str] = []
    admin = AdminClient(
        client_config(settings, log_level=0, error_cb=lambda err: errors.append(err.str()))
    )
    try:
        admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        setting = (
            f"{ENV_PREFIX}KAFKA_BOOTSTRAP"
            if settings.kafka_bootstrap
            else f"{ENV_PREFIX}KAFKA_PORT"
        )
        hint = "" if settings.kafka_bootstrap else " (start it with `eventplane kafka start`)"
        reason = exc.args[0].str() if exc.args else str(exc)
        admin.poll(0)  # serves error_cb
        specific = [e for e in errors if not e.endswith("brokers are down")]
        if specific:
            reason = f"{reason}; last error: {specific[-1]}"
        raise KafkaUnavailable(
            f"{setting}: no Kafka broker answered at {settings.bootstrap} "
            f"within {timeout:g}s{hint}: {reason}"
        ) from None


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int = 1
    config: Mapping[str, str] = field(default_factory=dict)


def ensure_topics(settings: Settings, specs: Sequence[TopicSpec], timeout: float = 30.0) -> None:
    """Create the topics that do not exist yet; existing ones are left as they are.

    Retriable errors (a broker that just started, a controller moving) are
    retried until ``timeout``.
    """
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        try:
            _ensure_topics_once(settings, specs, timeout)
            return
        except KafkaException as exc:
            error = exc.args[0]
            if not error.retriable() or time.monotonic() > deadline:
                raise
            _log.info("retrying topic creation: %s", error.str())
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def _ensure_topics_once(settings: Settings, specs: Sequence[TopicSpec], timeout: float) -> None:
    admin = AdminClient(client_config(settings))
    existing = set(admin.list_topics(timeout=timeout).topics)
    missing = [s for s in specs if s.name not in existing]
    if not missing:
        return
    rf = settings.topic_replication_factor
    new = [
        NewTopic(
            s.name,
            num_partitions=s.partitions,
            replication_factor=rf,
            config={"min.insync.replicas": str(settings.topic_min_insync_replicas), **s.config},
        )
        for s in missing
    ]
    for name, fut in admin.create_topics(new, request_timeout=timeout).items():
        try:
            fut.result(timeout=timeout)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
            _log.debug("topic %s created concurrently", name)
    await_leaders(admin, {s.name: s.partitions for s in missing}, timeout)


def await_leaders(admin: AdminClient, topics: Mapping[str, int], timeout: float) -> None:
    """Return once the leader of every partition of ``topics`` serves it.

    CreateTopics answers when the controller has the topic, a moment before the broker
    that leads a partition has applied it; a produce in between fails with
    NOT_LEADER_OR_FOLLOWER and is retried. Kafka before 4.5 (KAFKA-15591) then accepts a
    later in-flight batch of the same idempotent producer as the partition's first (it
    has no producer state there yet), and the retried batch is never written, though
    the producer was told it was: a queue lost the first messages sent to it right
    after CreateQueue. A ListOffsets answered by each partition's leader means the
    broker has applied the creation, so no produce to the topic can meet that window.
    """
    pending = {(t, p) for t, n in topics.items() for p in range(n)}
    deadline = time.monotonic() + timeout
    delay = 0.005
    last = ""
    while pending:
        asked = {TopicPartition(t, p): OffsetSpec.latest() for t, p in sorted(pending)}
        for tp, fut in admin.list_offsets(asked, request_timeout=timeout).items():
            try:
                fut.result(timeout=timeout)
            except KafkaException as exc:
                last = exc.args[0].str()
                continue
            pending.discard((tp.topic, tp.partition))
        if not pending:
            return
        if time.monotonic() + delay > deadline:
            raise KafkaException(
                KafkaError(
                    KafkaError._TIMED_OUT,
                    f"{len(pending)} new partitions have no serving leader after "
                    f"{timeout:g}s (first: {min(pending)}): {last}",
                )
            )
        # The client's own metadata may predate the topic ("no leaders found").
        admin.list_topics(topic=min(pending)[0], timeout=timeout)
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def partition_count(settings: Settings, topic: str, timeout: float = 30.0) -> int:
    """How many partitions ``topic`` has (it exists)."""
    admin = AdminClient(client_config(settings))
    found = admin.list_topics(topic=topic, timeout=timeout).topics.get(topic)
    if found is None or found.error is not None or not found.partitions:
        raise KafkaException(
            KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART, f"topic {topic} has no partitions")
        )
    return len(found.partitions)


def grow_topics(settings: Settings, topics: Mapping[str, int], timeout: float = 30.0) -> None:
    """Give existing topics at least the partitions named (a topic with as many or more is
    left as it is), and return once every new partition's leader serves it."""
    admin = AdminClient(client_config(settings))
    meta = admin.list_topics(timeout=timeout).topics
    grow = {t: n for t, n in topics.items() if t in meta and len(meta[t].partitions) < n}
    if grow:
        asked = [NewPartitions(t, n) for t, n in grow.items()]
        for name, fut in admin.create_partitions(asked, request_timeout=timeout).items():
            try:
                fut.result(timeout=timeout)
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.INVALID_PARTITIONS:  # grown concurrently
                    raise
                _log.debug("partitions of %s added concurrently", name)
    await_leaders(admin, dict(topics), timeout)


def delete_topics(settings: Settings, names: Sequence[str], timeout: float = 30.0) -> None:
    """Delete topics; ones that are already gone are fine."""
    if not names:
        return
    admin = AdminClient(client_config(settings))
    for _, fut in admin.delete_topics(list(names), request_timeout=timeout).items():
        try:
            fut.result(timeout=timeout)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise


class ProduceError(RuntimeError):
    """A record could not be delivered (after librdkafka's own retries)."""


class Producer:
    """acks=all, idempotent producer with Future-based delivery reports."""

    def __init__(self, settings: Settings, *, name: str = "eventplane", **extra: Any) -> None:
        conf = client_config(
            settings,
            **{
                "acks": "all",
                "enable.idempotence": True,
                # Every record produced here is awaited by an API call (send, receive's
                # lease, delete, publish, put_events, invoke). A linger, even 0.5 ms, cost
                # each of them 2-3 ms (librdkafka's broker thread wakes on ms timers):
                # queue send 3.7 -> 1.0 ms, put_events -> queue p50 12.7 -> 6.1 ms. Records
                # produced together (a batch) still share requests while earlier ones are
                # in flight; the batched queue cycle's CPU per message rose ~10 %.
                "linger.ms": 0,
                "compression.type": "lz4",
                "message.max.bytes": 8 * 1024 * 1024,
                "client.id": name,
                **extra,
            },
        )
        self._raw = _RawProducer(conf)
        self._closed = threading.Event()
        self._poller = threading.Thread(target=self._poll_loop, name=f"{name}-poll", daemon=True)
        self._poller.start()

    @property
    def raw(self) -> _RawProducer:
        return self._raw

    def _poll_loop(self) -> None:
        # This thread serves every delivery report of the process's shared producer: if it
        # ever stopped, every later produce would wait forever. One callback's failure
        # must not stop it.
        while not self._closed.is_set():
            try:
                self._raw.poll(0.05)
            except Exception:
                _log.exception("a delivery report callback failed")

    def produce(
        self,
        topic: str,
        value: bytes | None,
        *,
        key: bytes | str | None = None,
        headers: Sequence[tuple[str, bytes]] | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
    ) -> concurrent.futures.Future[Message]:
        """Queue one record; the Future resolves with its Message once acks=all confirm it."""
        fut: concurrent.futures.Future[Message] = concurrent.futures.Future()

        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            if err is not None:
                KAFKA_PRODUCE_ERRORS.labels(family(topic)).inc()
            # The caller may have given up on the record (a cancelled request cancels the
            # wrapped future); the report then has no one to tell.
            if not fut.set_running_or_notify_cancel():
                return
            if err is not None:
                fut.set_exception(ProduceError(f"delivery to {topic} failed: {err.str()}"))
            else:
                fut.set_result(msg)

        kwargs: dict[str, Any] = {
            "value": value,
            "key": key,
            "headers": [*kafka_headers(), *(headers or ())],
            "on_delivery": on_delivery,
        }
        if partition is not None:
            kwargs["partition"] = partition
        if timestamp_ms is not None:
            kwargs["timestamp"] = timestamp_ms
        while True:
            try:
                self._raw.produce(topic, **kwargs)
                return fut
            except BufferError:
                # Local queue full: let delivery reports drain it, then retry.
                self._raw.poll(0.01)

    async def send(
        self,
        topic: str,
        value: bytes | None,
        **kwargs: Any,
    ) -> Message:
        """produce() and wait for the acknowledgement without blocking the event loop."""
        (msg,) = await self.send_many([(topic, value, kwargs)])
        return msg

    async def send_many(
        self, records: Sequence[tuple[str, bytes | None, dict[str, Any]]], *, accepted: bool = False
    ) -> list[Message]:
        """Produce several records and wait until Kafka acknowledged all of them.

        One asyncio future and one thread hand-off for the whole batch, instead
        of one per record. Raises ProduceError if any record failed. ``accepted``:
        these are records an API call accepted; they carry their produce time
        (stages.PRODUCED_AT) and the wait for the ack is the accept_to_produce_ack stage.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[list[Message]] = loop.create_future()
        results: list[Message | None] = [None] * len(records)
        pending = [len(records)]
        errors: list[str] = []
        lock = threading.Lock()
        trace = kafka_headers()
        produced_at = time.time()
        if accepted:
            trace = [*trace, stages.stamp(stages.PRODUCED_AT, produced_at)]

        def finish() -> None:
            if done.done():
                return
            if accepted:
                stages.observe("accept_to_produce_ack", produced_at)
            if errors:
                done.set_exception(ProduceError(errors[0]))
            else:
                done.set_result([m for m in results if m is not None])

        for i, (topic, value, kwargs) in enumerate(records):

            def on_delivery(
                err: KafkaError | None, msg: Message, i: int = i, topic: str = topic
            ) -> None:
                with lock:
                    if err is not None:
                        KAFKA_PRODUCE_ERRORS.labels(family(topic)).inc()
                        errors.append(f"delivery to {topic} failed: {err.str()}")
                    else:
                        results[i] = msg
                    pending[0] -= 1
                    last = pending[0] == 0
                if last:
                    loop.call_soon_threadsafe(finish)

            self._produce_raw(topic, value, trace, on_delivery, **kwargs)
        if not records:
            return []
        return await done

    def produce_nowait(
        self,
        topic: str,
        value: bytes | None,
        *,
        key: bytes | str | None = None,
        partition: int | None = None,
    ) -> None:
        """Queue a record nobody waits for (journal tombstones); failures are only counted."""

        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            if err is not None:
                KAFKA_PRODUCE_ERRORS.labels(family(topic)).inc()

        self._produce_raw(topic, value, [], on_delivery, key=key, partition=partition)

    def _produce_raw(
        self,
        topic: str,
        value: bytes | None,
        trace: list[tuple[str, bytes]],
        on_delivery: Any,
        *,
        key: bytes | str | None = None,
        headers: Sequence[tuple[str, bytes]] | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {
            "value": value,
            "key": key,
            "headers": [*trace, *(headers or ())],
            "on_delivery": on_delivery,
        }
        if partition is not None:
            kwargs["partition"] = partition
        if timestamp_ms is not None:
            kwargs["timestamp"] = timestamp_ms
        while True:
            try:
                self._raw.produce(topic, **kwargs)
                return
            except BufferError:
                # Local queue full: let delivery reports drain it, then retry.
                self._raw.poll(0.01)

    def flush(self, timeout: float = 10.0) -> int:
        """Wait for outstanding records; returns how many are still undelivered."""
        return int(self._raw.flush(timeout))

    def close(self, timeout: float = 10.0) -> int:
        remaining = self.flush(timeout)
        self._closed.set()
        self._poller.join(timeout=1.0)
        return remaining
