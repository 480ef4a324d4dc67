"""Delivery to http/https subscribers: at least once, each subscription on its own.

Every http/https subscription gets a delivery loop on its own thread, reading
the topic's Kafka topic in its own consumer group
(``eventplane.fanout.http.<subscription id>``), so replicas share its
partitions and a slow or failing endpoint only ever holds up itself. A
record's offset is committed after the POST succeeded, or after the retry
policy gave up and the message went to the subscription's dead-letter queue
(or was dropped, as SNS does without one). A crash redelivers, never loses.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException

from eventplane import arn as arns
from eventplane import names
from eventplane.config import Settings
from eventplane.delivery import Payload, Router, TargetUnavailable
from eventplane.kafka import naming
from eventplane.kafka.clients import Producer, consumer_config, take
from eventplane.kafka.lag import LagReporter
from eventplane.kafka.retirement import Holdings
from eventplane.observability.logging import get_logger
from eventplane.registry import Registry
from eventplane.topics import metrics
from eventplane.topics.dispatcher import matches
from eventplane.topics.envelope import http_headers, notification, subscription_confirmation
from eventplane.topics.http_delivery import RetryPolicy, deliver, post
from eventplane.topics.models import (
    SUBSCRIPTION,
    TOPIC,
    Published,
    SubscriptionDef,
    TopicDef,
    decode,
)

_log = get_logger("eventplane.topics.http")


class HttpWorkers:
    """Keeps one delivery loop running per http/https subscription."""

    def __init__(self, settings: Settings, registry: Registry, producer: Producer) -> None:
        self._settings = settings
        self._registry = registry
        self._producer = producer
        self._workers: dict[str, tuple[int, _Worker]] = {}
        self.router = Router(registry)
        self._lock = threading.Lock()

    def reconcile(self) -> None:
        """Start, restart (changed) or stop loops to match the registry."""
        wanted = {
            r.name: r
            for r in self._registry.find(SUBSCRIPTION)
            if r.spec["config"].get("protocol") in ("http", "https")
        }
        with self._lock:
            for key in [k for k in self._workers if k not in wanted]:
                self._workers.pop(key)[1].stop()
            for key, r in wanted.items():
                current = self._workers.get(key)
                if current is not None and current[0] == r.generation:
                    continue
                if current is not None:
                    current[1].stop()
                worker = _Worker(self, SubscriptionDef.from_resource(r))
                self._workers[key] = (r.generation, worker)
                worker.start()

    def close(self) -> None:
        with self._lock:
            workers = [w for _, w in self._workers.values()]
            self._workers.clear()
        for w in workers:
            w.stop()
        for w in workers:
            w.join()

    def topic(self, name: str) -> TopicDef | None:
        r = self._registry.get(TOPIC, name)
        return TopicDef.from_resource(r) if r is not None else None


class Confirmations:
    """POSTs a new http/https subscription's SubscriptionConfirmation message, once.

    eventplane delivers to the subscription whether or not it is confirmed, so this is a
    courtesy to endpoints written for SNS (they read the Token and call
    ConfirmSubscription): one attempt, on the event loop, not retried.
    """

    def __init__(self) -> None:
        self._pending: set[asyncio.Task[None]] = set()

    def send(self, sub: SubscriptionDef) -> None:
        task = asyncio.get_running_loop().create_task(self._post(sub))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def cancel(self) -> None:
        for task in list(self._pending):
            task.cancel()

    @staticmethod
    async def _post(sub: SubscriptionDef) -> None:
        message_id = str(uuid.uuid4())
        topic = sub.topic_arn
        body = subscription_confirmation(
            message_id=message_id,
            topic_arn=topic,
            token=sub.token,
            timestamp_ms=int(time.time() * 1000),
        )
        headers = http_headers(
            message_id=message_id,
            topic_arn=topic,
            subscription_arn=sub.arn,
            raw=False,
            message_type="SubscriptionConfirmation",
        )
        status = await post(sub.config.endpoint, body, headers)
        if not 200 <= status < 300:
            _log.info("subscription confirmation not accepted", subscription=sub.arn, status=status)


class _Worker:
    def __init__(self, owner: HttpWorkers, sub: SubscriptionDef) -> None:
        self._owner = owner
        self._sub = sub
        self._stop = threading.Event()
        self._group = f"{naming.PREFIX}.fanout.http.{sub.sub_id}"
        self._client_id = f"eventplane-http|{sub.sub_id}|{uuid.uuid4().hex[:12]}"
        self._holdings = Holdings("http-subscription", self._group, self._client_id)
        # The topic is wanted while the worker runs; stop() gives it up, so a loop
        # restarting meanwhile never subscribes to a topic being deleted.
        self._holdings.want([naming.topic_topic(sub.topic)])
        self._thread = threading.Thread(
            target=self._run, name=f"http-{sub.sub_id[:8]}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._holdings.want([])

    def join(self, timeout: float = 10.0) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                asyncio.run(self._loop())
            except Exception:
                _log.exception("http delivery loop failed; restarting", subscription=self._sub.arn)
                self._stop.wait(1.0)

    async def _loop(self) -> None:
        settings = self._owner._settings
        lag = LagReporter(self._group)
        consumer = Consumer(
            consumer_config(
                settings,
                self._group,
                **{
                    "client.id": self._client_id,
                    "session.timeout.ms": 6000,
                    "heartbeat.interval.ms": 1000,
                    "topic.metadata.refresh.interval.ms": 1000,
                    **lag.settings,
                },
            )
        )
        # Held before subscribing, and only while still wanted (Holdings.subscribing):
        # retire_topics deletes no topic a consumer is about to subscribe to.
        topics = self._holdings.subscribing([naming.topic_topic(self._sub.topic)])
        if topics:
            consumer.subscribe(topics)
        try:
            while topics and not self._stop.is_set():
                for m in take(consumer, 50, 0.2):
                    if self._stop.is_set():
                        return  # uncommitted: the next owner delivers it
                    err = m.error()
                    if err is not None:
                        if err.code() != KafkaError._PARTITION_EOF:
                            _log.warning("http consumer", error=err.str())
                        continue
                    await self._handle(m)
                    consumer.commit(message=m, asynchronous=False)
        finally:
            try:
                consumer.close()
            except KafkaException as exc:
                _log.warning("closing http consumer", error=str(exc))
            self._holdings.released()
            lag.close()
            self._holdings.released()

    async def _handle(self, m: Any) -> None:
        sub = self._sub
        try:
            published = decode(m.value(), m.headers() or [])
        except Exception as exc:
            _log.error("unreadable topic record", topic=sub.topic, error=str(exc))
            return
        if not matches(sub, published):
            metrics.FILTERED.labels(sub.topic).inc()
            return
        topic = self._owner.topic(sub.topic)
        policy = RetryPolicy.for_subscription(
            sub.config.delivery_policy,
            topic.config.delivery_policy if topic else None,
            time_scale=self._owner._settings.delivery_time_scale,
        )
        text = published.http_message or published.message
        raw = sub.config.raw_message_delivery
        body = text if raw else self._envelope(published, text)
        headers = http_headers(
            message_id=published.message_id,
            topic_arn=sub.topic_arn,
            subscription_arn=sub.arn,
            raw=raw,
            content_type=policy.content_type,
        )
        delivered, attempts = await deliver(sub.config.endpoint, body, headers, policy)
        protocol = sub.config.protocol
        if attempts > 1:
            metrics.RETRIED.labels(sub.topic, protocol).inc(attempts - 1)
        if delivered:
            metrics.DELIVERED.labels(sub.topic, protocol).inc()
            latency = max(0.0, time.time() - published.published_ms / 1000)
            metrics.DELIVERY_LATENCY.labels(protocol).observe(latency)
            return
        metrics.FAILED.labels(sub.topic, protocol).inc()
        _log.warning(
            "http delivery failed after retries",
            subscription=sub.arn,
            attempts=attempts,
            dead_letter=sub.config.redrive_policy,
        )
        if sub.config.redrive_policy:
            await self._dead_letter(published, self._envelope(published, text))

    def _envelope(self, p: Published, text: str) -> str:
        return notification(
            message_id=p.message_id,
            topic_arn=self._sub.topic_arn,
            subject=p.subject,
            message=text,
            timestamp_ms=p.published_ms,
            attributes=p.attributes,
            subscription_arn=self._sub.arn,
        )

    async def _dead_letter(self, p: Published, body: str) -> None:
        name = self._sub.config.redrive_policy or ""  # the queue's internal name
        owner, plain = names.unqualify(name)
        target = arns.Target(arns.TargetKind.QUEUE, name, arns.queue_arn(plain, owner))
        try:
            # A dead-letter queue of another account checks the topic's account.
            dead = Payload(body, origin="destination", source_arn=self._sub.topic_arn)
            out = self._owner.router.record(target, dead)
        except TargetUnavailable as exc:
            _log.error("dead-letter queue unavailable; message dropped", queue=name, error=str(exc))
            return
        # Until Kafka has it, the offset is not committed: a failure retries the message.
        self._owner._producer.produce(out.topic, out.value, **out.produce_kwargs()).result(
            timeout=30
        )
        metrics.DEAD_LETTERED.labels(self._sub.topic).inc()
