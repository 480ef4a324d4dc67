"""QueueEngine: the queues capability behind the gRPC service.

Control plane: queue definitions in the registry, one Kafka topic per queue
plus its co-partitioned ``.state`` journal. Data plane: standard sends produce
directly from any replica; everything that touches lease state (receive,
delete, visibility, FIFO sends with their dedup window, purge) runs on the
partition's owner, locally or forwarded (routing.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import grpc
from confluent_kafka import Consumer, KafkaException, TopicPartition

from eventplane._gen.v1 import queues_pb2 as pb
from eventplane.errors import EventplaneError, ServiceUnavailable, from_rpc
from eventplane.kafka import naming
from eventplane.kafka.clients import (
    ProduceError,
    TopicSpec,
    consumer_config,
    delete_topics,
    ensure_topics,
)
from eventplane.observability.logging import get_logger
from eventplane.queues import journal, metrics, port
from eventplane.queues.attributes import QueueConfig, name_from_ref, parse_create, queue_arn
from eventplane.queues.errors import (
    InvalidAttributeValue,
    MessageNotInflight,
    PurgeQueueInProgress,
    QueueDoesNotExist,
    QueueNameExists,
    ReceiptHandleIsInvalid,
)
from eventplane.queues.messages import md5_of_body, md5_of_message_attributes
from eventplane.queues.models import Msg, Record
from eventplane.queues.owner import OwnerConsumer
from eventplane.queues.partitions import (
    LocalPartitions,
    new_message_id,
    sequence_number,
    wall_clock_ms,
)
from eventplane.queues.queue_def import KIND, QueueDef, QueueDefs
from eventplane.queues.receipts import Receipt, ReceiptSigner
from eventplane.queues.routing import Forwarder, OwnerDirectory, forward_token
from eventplane.runtime import ServerContext

_log = get_logger("eventplane.queues")

T = TypeVar("T")

TICK_SECONDS = 0.05
COMMIT_EVERY_TICKS = 10
ATTEMPT_TTL_MS = 5 * 60 * 1000
PURGE_INTERVAL_MS = 60 * 1000
# While a receive waits, how often it asks the other replicas' partitions.
REMOTE_POLL_SECONDS = 0.1
OWNER_WAIT_SECONDS = 10.0


class QueueEngine:
    def __init__(self, ctx: ServerContext, clock: Callable[[], int] = wall_clock_ms) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.clock = clock
        self.address = ctx.settings.advertise
        self.signer = ReceiptSigner(ctx.settings.receipt_secret)
        self.local = LocalPartitions(ctx.producer, self.lookup, clock)
        self.directory = OwnerDirectory(ctx.settings, self.address)
        self._owner: OwnerConsumer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._round_robin = itertools.count()
        self._attempts: dict[tuple[str, str], tuple[int, list[pb.Message]]] = {}
        self._last_purge: dict[str, int] = {}
        self._watermarks: Consumer | None = None
        self._depth: metrics.DepthCollector | None = None
        self._defs = QueueDefs(ctx.registry)
        self.forward_token = forward_token(ctx.settings.receipt_secret)
        self.forwarder = Forwarder(self.forward_token)

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._owner = OwnerConsumer(
            self.settings,
            self.local,
            self._loop,
            advertise=self.address,
            instance_id=self.ctx.instance_id,
            exists=lambda q: self.ctx.registry.get(KIND, q) is not None,
        )
        self.ctx.registry.subscribe(self._on_registry_change)
        self._sync_subscription()
        self._owner.start()
        self._ticker = asyncio.create_task(self._tick_forever(), name="queues-tick")
        self._depth = metrics.register_depth(self._depth_rows)

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self._owner is not None:
            self._owner.commit(self.local.commit_offsets())
            await asyncio.to_thread(self._owner.close)
        if self._depth is not None:
            metrics.unregister_depth(self._depth)
        if self._watermarks is not None:
            await asyncio.to_thread(self._watermarks.close)
        await self.forwarder.close()

    def _on_registry_change(self, kind: str, name: str, resource: Any) -> None:
        # Called on the registry's thread.
        if kind == KIND and self._loop is not None:
            self._loop.call_soon_threadsafe(self._sync_subscription)

    def _sync_subscription(self) -> None:
        if self._owner is not None:
            self._owner.subscribe([naming.queue_topic(q.name) for q in self.queues()])

    async def _tick_forever(self) -> None:
        for n in itertools.count():
            await asyncio.sleep(TICK_SECONDS)
            try:
                self.local.tick()
                if n % COMMIT_EVERY_TICKS == 0 and self._owner is not None:
                    self.local.expire_retention()
                    self._owner.commit(self.local.commit_offsets())
                    self._prune_attempts()
            except Exception:
                _log.exception("queue maintenance failed")

    def _depth_rows(self) -> list[metrics.DepthRow]:
        now = self.clock()
        rows = []
        for q in {q for q, _ in self.local.owned}:
            qd = self.lookup(q)
            if qd is None:
                continue
            c = self.local.counts(qd)
            age = (now - c.oldest_sent_ms) / 1000 if c.oldest_sent_ms is not None else 0.0
            rows.append((q, c.visible, c.not_visible, c.delayed, max(age, 0.0)))
        return rows

    # --- control plane ------------------------------------------------------------------------
    def lookup(self, name: str) -> QueueDef | None:
        return self._defs.get(name)

    def get(self, ref: str, field: str = "QueueUrl") -> QueueDef:
        name = name_from_ref(ref, field=field)
        qd = self.lookup(name)
        if qd is None:
            raise QueueDoesNotExist("The specified queue does not exist.")
        return qd

    def queues(self) -> list[QueueDef]:
        return [QueueDef.from_resource(r) for r in self.ctx.registry.find(KIND)]

    def _check_config(self, config: QueueConfig, explicit_partitions: bool) -> QueueConfig:
        if config.fifo and config.deduplication_scope == "queue":
            # Queue-wide dedup is exact only within one partition.
            if explicit_partitions and config.partitions != 1:
                raise InvalidAttributeValue(
                    "Invalid value for the parameter Partitions. Reason: a FIFO queue with "
                    "DeduplicationScope=queue has 1 partition; use DeduplicationScope="
                    "messageGroup for more."
                )
            config = dataclasses.replace(config, partitions=1)
        if config.redrive_policy is not None:
            target = name_from_ref(
                config.redrive_policy.dead_letter_target_arn, field="RedrivePolicy"
            )
            dlq = self.lookup(target)
            if dlq is None:
                raise InvalidAttributeValue(
                    "Value for parameter RedrivePolicy is invalid. Reason: Dead letter target "
                    f"{target} does not exist."
                )
            if dlq.config.fifo != config.fifo:
                raise InvalidAttributeValue(
                    "Value for parameter RedrivePolicy is invalid. Reason: Dead-letter queue "
                    "must be the same type of queue as the source."
                )
        return config

    async def create_queue(
        self, name: str, attributes: Mapping[str, str], tags: Mapping[str, str]
    ) -> QueueDef:
        config = self._check_config(parse_create(name, attributes), "Partitions" in attributes)
        existing = self.lookup(name)
        if existing is not None:
            diff = existing.config.differs_from(config, names=list(attributes))
            if diff is not None:
                raise QueueNameExists(
                    f"A queue already exists with the same name and a different value for "
                    f"attribute {diff}"
                )
            return existing
        await asyncio.to_thread(self._ensure_topics, name, config)
        now = self.clock()
        spec = {"config": config.to_spec(), "incarnation": now, "tags": dict(tags)}
        resource = await asyncio.to_thread(self.ctx.registry.put, KIND, name, spec)
        _log.info("queue created", queue=name, fifo=config.fifo, partitions=config.partitions)
        return QueueDef.from_resource(resource)

    def _ensure_topics(self, name: str, config: QueueConfig) -> None:
        retention_ms = (config.message_retention_period + 86_400) * 1000
        ensure_topics(
            self.settings,
            [
                TopicSpec(
                    naming.queue_topic(name), config.partitions, {"retention.ms": str(retention_ms)}
                ),
                TopicSpec(
                    naming.queue_state_topic(name),
                    config.partitions,
                    {
                        "cleanup.policy": "compact,delete",
                        "retention.ms": str(retention_ms),
                        "min.compaction.lag.ms": "60000",
                        "segment.ms": "3600000",
                    },
                ),
            ],
        )

    async def set_attributes(self, qd: QueueDef, attributes: Mapping[str, str]) -> None:
        config = self._check_config(qd.config.with_updates(attributes), False)
        if config.partitions != qd.config.partitions:
            raise InvalidAttributeValue(
                "Invalid value for the parameter DeduplicationScope. Reason: a FIFO queue with "
                f"{qd.config.partitions} partitions needs DeduplicationScope=messageGroup."
            )
        spec = {"config": config.to_spec(), "incarnation": qd.incarnation, "tags": qd.tags}
        await asyncio.to_thread(self.ctx.registry.put, KIND, qd.name, spec)

    async def delete_queue(self, qd: QueueDef) -> None:
        await asyncio.to_thread(self.ctx.registry.delete, KIND, qd.name)
        topics = [naming.queue_topic(qd.name), naming.queue_state_topic(qd.name)]
        await asyncio.to_thread(delete_topics, self.settings, topics)
        _log.info("queue deleted", queue=qd.name)

    def dead_letter_sources(self, qd: QueueDef) -> list[QueueDef]:
        return [
            q
            for q in self.queues()
            if q.config.redrive_policy is not None
            and name_from_ref(q.config.redrive_policy.dead_letter_target_arn, field="RedrivePolicy")
            == qd.name
        ]

    # --- owners ---------------------------------------------------------------------------
    def owns(self, qd: QueueDef, partition: int) -> bool:
        return (qd.name, partition) in self.local.owned

    async def _owner_of(self, qd: QueueDef, partition: int) -> str:
        """The address of the partition's owner, waiting out a rebalance for a while."""
        deadline = time.monotonic() + OWNER_WAIT_SECONDS
        force = False
        while True:
            if self.owns(qd, partition):
                return self.address
            address = await self.directory.owner_of(qd.name, partition, force=force)
            if address is not None and address != self.address:
                return address
            if time.monotonic() > deadline:
                raise ServiceUnavailable(
                    f"no replica owns partition {partition} of queue {qd.name} yet; retry"
                )
            force = True
            await asyncio.sleep(0.1)

    async def _forward(self, address: str, call: Callable[..., Any], request: Any) -> Any:
        try:
            return await call(request, metadata=self.forwarder.metadata(), timeout=30)
        except grpc.RpcError as exc:
            raise from_rpc(exc) from None

    # --- send -------------------------------------------------------------------------------
    async def send(self, qd: QueueDef, record: Record) -> tuple[str, str]:
        """Write one validated message; returns (message id, sequence number or "")."""
        (outcome,) = await self.send_many(qd, [record])
        if isinstance(outcome, EventplaneError):
            raise outcome
        return outcome

    async def send_many(
        self, qd: QueueDef, records: list[Record]
    ) -> list[tuple[str, str] | EventplaneError]:
        """Write validated messages together; per record (message id, sequence) or its error.

        Standard: straight to Kafka from this replica, spread over partitions.
        FIFO: each group's partition owner checks the dedup window and writes them
        in order (here, or forwarded as one batch per owner).
        """
        if not qd.config.fifo:
            batch = []
            for r in records:
                value, headers = journal.encode_record(r)
                partition = next(self._round_robin) % qd.config.partitions
                batch.append(
                    (
                        naming.queue_topic(qd.name),
                        value,
                        {"headers": headers, "partition": partition},
                    )
                )
            try:
                await self.ctx.producer.send_many(batch)
            except ProduceError as exc:
                error = ServiceUnavailable(f"could not write to Kafka: {exc}")
                return [error] * len(records)
            metrics.SENT.labels(qd.name).inc(len(records))
            return [(r.message_id, "") for r in records]
        outcomes: list[tuple[str, str] | EventplaneError] = [
            ServiceUnavailable("not sent") for _ in records
        ]
        by_partition: dict[int, list[int]] = {}
        for i, r in enumerate(records):
            p = port.partition_for(r.group_id or "", qd.config.partitions)
            by_partition.setdefault(p, []).append(i)

        async def one_partition(partition: int, idx: list[int]) -> None:
            try:
                address = await self._owner_of(qd, partition)
                if address == self.address:
                    done = await self.local.send_fifo(qd, partition, [records[i] for i in idx])
                    metrics.SENT.labels(qd.name).inc(len(idx))
                    for i, result in zip(idx, done, strict=True):
                        outcomes[i] = result
                    return
                req = pb.SendMessageBatchRequest(
                    queue_url=qd.url,
                    entries=[_forwarded_entry(str(i), records[i]) for i in idx],
                )
                resp = await self._forward(
                    address, self.forwarder.stub(address).SendMessageBatch, req
                )
                for ok in resp.successful:
                    outcomes[int(ok.id)] = (ok.message_id, ok.sequence_number)
                for bad in resp.failed:
                    outcomes[int(bad.id)] = EventplaneError.from_code(bad.code, bad.message)
            except EventplaneError as exc:
                for i in idx:
                    outcomes[i] = exc

        await asyncio.gather(*(one_partition(p, idx) for p, idx in by_partition.items()))
        return outcomes

    async def _to_dead_letter(self, qd: QueueDef, msgs: list[Msg]) -> None:
        assert qd.config.redrive_policy is not None
        dlq = self.lookup(name_from_ref(qd.config.redrive_policy.dead_letter_target_arn))
        if dlq is None:
            raise QueueDoesNotExist("the dead-letter queue does not exist")
        sends = []
        for m in msgs:
            r = dataclasses.replace(
                m.record, delay_seconds=0, source_queue=m.record.source_queue or qd.name
            )
            value, headers = journal.encode_record(r)
            partition = (
                port.partition_for(r.group_id or "", dlq.config.partitions)
                if dlq.config.fifo
                else next(self._round_robin) % dlq.config.partitions
            )
            sends.append(
                self.ctx.producer.send(
                    naming.queue_topic(dlq.name), value, headers=headers, partition=partition
                )
            )
        await asyncio.gather(*sends)

    # --- receive --------------------------------------------------------------------------
    async def receive(
        self,
        qd: QueueDef,
        req: pb.ReceiveMessageRequest,
        *,
        local_only: bool,
        oldest_first: bool = False,
    ) -> list[pb.Message]:
        n = req.max_number_of_messages or 1
        visibility = (
            req.visibility_timeout if req.has_visibility_timeout else qd.config.visibility_timeout
        )
        wait = (
            req.wait_time_seconds
            if req.has_wait_time_seconds
            else qd.config.receive_message_wait_time_seconds
        )
        attempt = (
            (qd.name, req.receive_request_attempt_id)
            if qd.config.fifo and req.receive_request_attempt_id
            else None
        )
        if attempt is not None:
            cached = self._attempts.get(attempt)
            if cached is not None and cached[0] > self.clock():
                if await self._renew(qd, cached[1], visibility):
                    return cached[1]
                del self._attempts[attempt]  # deleted or received again since: start afresh
        started = time.monotonic()
        deadline = started + wait
        pulse = self.local.pulse(qd.name)
        result: list[pb.Message] = []
        while True:
            seen = pulse.generation
            got = await self.local.claim(
                qd, n, visibility, self._to_dead_letter, oldest_first=oldest_first
            )
            result = [self._message(qd, p, m, req) for p, m in got]
            remotes: dict[str, list[int]] = {}
            all_local = len(self.local.partitions_of(qd.name)) == qd.config.partitions
            if not result and not local_only and not all_local:
                remotes = await self.directory.remote_owners(qd.name)
                result = await self._receive_remote(remotes, req, n, visibility)
            remaining = deadline - time.monotonic()
            if result or remaining <= 0:
                break
            step = (
                remaining if local_only else min(remaining, REMOTE_POLL_SECONDS if remotes else 0.5)
            )
            await pulse.wait(step, since=seen)
        if attempt is not None:
            self._attempts[attempt] = (self.clock() + ATTEMPT_TTL_MS, result)
        if not local_only:  # a forwarded poll is part of another replica's receive
            metrics.RECEIVE_LATENCY.labels(qd.name).observe(time.monotonic() - started)
        return result

    async def _renew(self, qd: QueueDef, messages: list[pb.Message], visibility: int) -> bool:
        """A retried receive (same attempt id) resets the visibility timeout of what it got.

        False when any of those messages was deleted or received again since.
        """
        try:
            for m in messages:
                await self.change_visibility(qd, m.receipt_handle, visibility)
        except (ReceiptHandleIsInvalid, MessageNotInflight):
            return False
        return True

    async def _receive_remote(
        self, remotes: dict[str, list[int]], req: pb.ReceiveMessageRequest, n: int, visibility: int
    ) -> list[pb.Message]:
        for address in remotes:
            fwd = pb.ReceiveMessageRequest()
            fwd.CopyFrom(req)
            fwd.max_number_of_messages = n
            fwd.visibility_timeout, fwd.has_visibility_timeout = visibility, True
            fwd.wait_time_seconds, fwd.has_wait_time_seconds = 0, True
            fwd.receive_request_attempt_id = ""
            try:
                resp = await self._forward(
                    address, self.forwarder.stub(address).ReceiveMessage, fwd
                )
            except EventplaneError as exc:
                _log.info("forwarded receive failed", owner=address, error=exc.message)
                continue
            if resp.messages:
                return list(resp.messages)
        return []

    def _prune_attempts(self) -> None:
        now = self.clock()
        for key in [k for k, (exp, _) in self._attempts.items() if exp <= now]:
            del self._attempts[key]

    def _message(
        self, qd: QueueDef, partition: int, m: Msg, req: pb.ReceiveMessageRequest
    ) -> pb.Message:
        r = m.record
        system = {
            "SenderId": "eventplane",
            "SentTimestamp": str(r.sent_ms),
            "ApproximateReceiveCount": str(m.receive_count),
            "ApproximateFirstReceiveTimestamp": str(m.first_receive),
        }
        if r.group_id is not None:
            system["MessageGroupId"] = r.group_id
        if qd.config.fifo:
            system["MessageDeduplicationId"] = r.dedup_id or ""
            system["SequenceNumber"] = sequence_number(partition, m.offset)
        if r.source_queue:
            system["DeadLetterQueueSourceArn"] = queue_arn(r.source_queue)
        wanted_sys = set(req.message_system_attribute_names)
        if "All" not in wanted_sys:
            system = {k: v for k, v in system.items() if k in wanted_sys}
        attrs = _select_attributes(r.attributes, list(req.message_attribute_names))
        handle = self.signer.encode(
            Receipt(qd.name, qd.incarnation, partition, m.offset, m.generation)
        )
        return pb.Message(
            message_id=r.message_id,
            receipt_handle=handle,
            md5_of_body=md5_of_body(r.body),
            body=r.body,
            attributes=system,
            md5_of_message_attributes=md5_of_message_attributes(attrs) if attrs else "",
            message_attributes={
                k: pb.MessageAttributeValue(
                    data_type=a.data_type,
                    string_value=a.string_value or "",
                    binary_value=a.binary_value or b"",
                )
                for k, a in attrs.items()
            },
        )

    # --- delete / visibility ---------------------------------------------------------------
    def receipt(self, qd: QueueDef, handle: str) -> Receipt:
        return self.signer.decode(handle, qd.name, qd.incarnation)

    async def delete(self, qd: QueueDef, handle: str) -> None:
        r = self.receipt(qd, handle)
        address = await self._owner_of(qd, r.partition)
        if address == self.address:
            await self.local.delete(qd, r.partition, r.offset, r.generation)
        else:
            req = pb.DeleteMessageRequest(queue_url=qd.url, receipt_handle=handle)
            await self._forward(address, self.forwarder.stub(address).DeleteMessage, req)

    async def delete_batch(self, qd: QueueDef, handles: list[str]) -> list[EventplaneError | None]:
        """Delete many messages: one journal write per partition, one call per owner."""
        outcomes: list[EventplaneError | None] = [None] * len(handles)
        by_partition: dict[int, list[tuple[int, Receipt]]] = {}
        for i, handle in enumerate(handles):
            try:
                r = self.receipt(qd, handle)
            except EventplaneError as exc:
                outcomes[i] = exc
                continue
            by_partition.setdefault(r.partition, []).append((i, r))

        async def one_partition(partition: int, items: list[tuple[int, Receipt]]) -> None:
            try:
                address = await self._owner_of(qd, partition)
                if address == self.address:
                    results = await self.local.delete_many(
                        qd, partition, [(r.offset, r.generation) for _, r in items]
                    )
                else:
                    req = pb.DeleteMessageBatchRequest(
                        queue_url=qd.url,
                        entries=[
                            pb.DeleteMessageBatchRequestEntry(id=str(i), receipt_handle=handles[i])
                            for i, _ in items
                        ],
                    )
                    resp = await self._forward(
                        address, self.forwarder.stub(address).DeleteMessageBatch, req
                    )
                    failed = {
                        int(f.id): EventplaneError.from_code(f.code, f.message) for f in resp.failed
                    }
                    results = [failed.get(i) for i, _ in items]
            except EventplaneError as exc:
                results = [exc] * len(items)
            for (i, _), outcome in zip(items, results, strict=True):
                outcomes[i] = outcome

        await asyncio.gather(*(one_partition(p, items) for p, items in by_partition.items()))
        return outcomes

    async def change_visibility(self, qd: QueueDef, handle: str, timeout: int) -> None:
        r = self.receipt(qd, handle)
        address = await self._owner_of(qd, r.partition)
        if address == self.address:
            await self.local.change_visibility(qd, r.partition, r.offset, r.generation, timeout)
        else:
            req = pb.ChangeMessageVisibilityRequest(
                queue_url=qd.url, receipt_handle=handle, visibility_timeout=timeout
            )
            await self._forward(address, self.forwarder.stub(address).ChangeMessageVisibility, req)

    # --- purge and counts -------------------------------------------------------------------
    async def purge(self, qd: QueueDef, *, local_only: bool) -> None:
        now = self.clock()
        if not local_only:
            last = self._last_purge.get(qd.name)
            if last is not None and now - last < PURGE_INTERVAL_MS:
                raise PurgeQueueInProgress(
                    f"Only one PurgeQueue operation on {qd.name} is allowed every 60 seconds."
                )
            self._last_purge[qd.name] = now
        marks = await asyncio.to_thread(self._high_watermarks, qd)
        await self.local.purge(qd, marks)
        if not local_only:
            for address in await self.directory.remote_owners(qd.name, force=True):
                req = pb.PurgeQueueRequest(queue_url=qd.url)
                await self._forward(address, self.forwarder.stub(address).PurgeQueue, req)
        self.local.pulse(qd.name).fire()

    def _high_watermarks(self, qd: QueueDef) -> dict[int, int]:
        if self._watermarks is None:
            self._watermarks = Consumer(consumer_config(self.settings, "eventplane.watermarks"))
        marks = {}
        for p in self.local.partitions_of(qd.name):
            try:
                _, high = self._watermarks.get_watermark_offsets(
                    TopicPartition(naming.queue_topic(qd.name), p), timeout=10
                )
            except KafkaException as exc:
                raise ServiceUnavailable(f"cannot read offsets: {exc}") from None
            marks[p] = high
        return marks

    async def counts(self, qd: QueueDef, *, local_only: bool) -> dict[str, int]:
        c = self.local.counts(qd)
        totals = {
            "ApproximateNumberOfMessages": c.visible,
            "ApproximateNumberOfMessagesNotVisible": c.not_visible,
            "ApproximateNumberOfMessagesDelayed": c.delayed,
        }
        if not local_only:
            for address in await self.directory.remote_owners(qd.name):
                req = pb.GetQueueAttributesRequest(queue_url=qd.url, attribute_names=list(totals))
                try:
                    resp = await self._forward(
                        address, self.forwarder.stub(address).GetQueueAttributes, req
                    )
                except EventplaneError as exc:
                    _log.info("forwarded count failed", owner=address, error=exc.message)
                    continue
                for k in totals:
                    totals[k] += int(resp.attributes.get(k, "0"))
        return totals


def _forwarded_entry(entry_id: str, r: Record) -> pb.SendMessageBatchRequestEntry:
    """A FIFO message as its owner receives it: already validated, dedup id resolved."""
    return pb.SendMessageBatchRequestEntry(
        id=entry_id,
        message_body=r.body,
        message_attributes={
            k: pb.MessageAttributeValue(
                data_type=a.data_type,
                string_value=a.string_value or "",
                binary_value=a.binary_value or b"",
            )
            for k, a in r.attributes.items()
        },
        message_deduplication_id=r.dedup_id or "",
        message_group_id=r.group_id or "",
    )


def _select_attributes(attrs: Mapping[str, T], names: list[str]) -> dict[str, T]:
    """SQS's MessageAttributeNames: "All", ".*", "prefix.*" or exact names."""
    if not names:
        return {}
    if "All" in names or ".*" in names:
        return dict(attrs)
    prefixes = [n[:-1] for n in names if n.endswith(".*")]
    exact = set(names)
    return {k: v for k, v in attrs.items() if k in exact or any(k.startswith(p) for p in prefixes)}


def new_record(
    body: str,
    attributes: Mapping[str, Any],
    *,
    delay_seconds: int,
    group_id: str | None,
    dedup_id: str | None,
    now_ms: int,
) -> Record:
    return Record(
        message_id=new_message_id(),
        body=body,
        attributes=dict(attributes),
        sent_ms=now_ms,
        delay_seconds=delay_seconds,
        group_id=group_id,
        dedup_id=dedup_id,
    )
