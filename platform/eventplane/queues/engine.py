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
from typing import Any

import grpc
from confluent_kafka import Consumer, KafkaException, TopicPartition

from eventplane import names
from eventplane._gen.v1 import queues_pb2 as pb
from eventplane.errors import EventplaneError, ServiceUnavailable, from_rpc
from eventplane.errors.queues import (
    InvalidAttributeValue,
    PurgeQueueInProgress,
    QueueDoesNotExist,
    QueueNameExists,
)
from eventplane.kafka import naming
from eventplane.kafka.clients import (
    ProduceError,
    consumer_config,
)
from eventplane.kafka.retirement import retire_topics
from eventplane.observability.logging import get_logger
from eventplane.queues import journal, metrics, port, shapes
from eventplane.queues.attributes import parse_create, reference_from_ref
from eventplane.queues.control import check_config, check_tags, ensure_queue_topics
from eventplane.queues.models import Msg, Record
from eventplane.queues.owner import OwnerConsumer
from eventplane.queues.partitions import (
    LocalPartitions,
    new_message_id,
    wall_clock_ms,
)
from eventplane.queues.protobuf import from_shape
from eventplane.queues.queue_def import KIND, QueueDef, QueueDefs
from eventplane.queues.receipts import Receipt, ReceiptSigner
from eventplane.queues.receiving import Receiver
from eventplane.queues.routing import OwnerDirectory, forward_token, forwarder
from eventplane.runtime import ServerContext
from eventplane.security.accounts import caller_account, owned_by

_log = get_logger("eventplane.queues")

TICK_SECONDS = 0.05
COMMIT_EVERY_TICKS = 10
PURGE_INTERVAL_MS = 60 * 1000
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
        self.receiver = Receiver(self)
        self._last_purge: dict[str, int] = {}
        self._watermarks: Consumer | None = None
        self._depth: metrics.DepthCollector | None = None
        self._defs = QueueDefs(ctx.registry)
        self.forward_token = forward_token(ctx.settings.receipt_secret)
        self.forwarder = forwarder(self.forward_token, ctx.settings)

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
                    self.receiver.prune_attempts()
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
        """The queue of internal name ``name`` (``eventplane.names``)."""
        return self._defs.get(name)

    def find(
        self, ref: str, field: str = "QueueUrl", *, account: str | None = None
    ) -> QueueDef | None:
        """The queue ``ref`` names: a bare name in ``account`` (default: the caller's), a
        URL or an ARN in the account it gives (``eventplane.names.candidates``); None when
        there is none."""
        named, name = reference_from_ref(ref, field=field)
        for internal in names.candidates(name, named, account or caller_account()):
            qd = self.lookup(internal)
            if qd is not None:
                return qd
        return None

    def get(self, ref: str, field: str = "QueueUrl") -> QueueDef:
        qd = self.find(ref, field)
        if qd is None:
            raise QueueDoesNotExist("The specified queue does not exist.")
        return qd

    def queues(self) -> list[QueueDef]:
        return [QueueDef.from_resource(r) for r in self.ctx.registry.find(KIND)]

    async def create_queue(
        self, name: str, attributes: Mapping[str, str], tags: Mapping[str, str]
    ) -> QueueDef:
        check_tags(tags)
        account = caller_account()
        config = check_config(
            parse_create(name, attributes),
            "Partitions" in attributes,
            lambda ref: self.find(ref, "RedrivePolicy", account=account),
            account,
        )
        # Names are per account: the caller's account's queue of this name, if any.
        name = names.qualify(name, account)
        existing = self.lookup(name)
        if existing is not None:
            diff = existing.config.differs_from(config, names=list(attributes))
            if diff is not None:
                raise QueueNameExists(
                    f"A queue already exists with the same name and a different value for "
                    f"attribute {diff}"
                )
            return existing
        await asyncio.to_thread(ensure_queue_topics, self.settings, name, config)
        now = self.clock()
        spec = {"config": config.to_spec(), "incarnation": now, "tags": dict(tags)}
        spec = owned_by(spec, account)
        resource = await asyncio.to_thread(self.ctx.registry.put, KIND, name, spec)
        _log.info("queue created", queue=name, fifo=config.fifo, partitions=config.partitions)
        return QueueDef.from_resource(resource)

    async def set_attributes(self, qd: QueueDef, attributes: Mapping[str, str]) -> None:
        config = check_config(
            qd.config.with_updates(attributes),
            False,
            lambda ref: self.find(ref, "RedrivePolicy", account=qd.account),
            qd.account,
        )
        if config.partitions != qd.config.partitions:
            raise InvalidAttributeValue(
                "Invalid value for the parameter DeduplicationScope. Reason: a FIFO queue with "
                f"{qd.config.partitions} partitions needs DeduplicationScope=messageGroup."
            )
        spec = qd.spec(config, qd.tags)
        await asyncio.to_thread(self.ctx.registry.put, KIND, qd.name, spec)

    async def set_tags(self, qd: QueueDef, tags: Mapping[str, str]) -> None:
        """Replace the queue's tags (TagQueue and UntagQueue compute the new set)."""
        check_tags(tags)
        spec = qd.spec(qd.config, dict(tags))
        await asyncio.to_thread(self.ctx.registry.put, KIND, qd.name, spec)

    async def delete_queue(self, qd: QueueDef) -> None:
        await asyncio.to_thread(self.ctx.registry.delete, KIND, qd.name)
        self.local.own_writes.forget(qd)
        topics = [naming.queue_topic(qd.name), naming.queue_state_topic(qd.name)]
        await asyncio.to_thread(retire_topics, self.settings, topics)
        _log.info("queue deleted", queue=qd.name)

    def dead_letter_sources(self, qd: QueueDef) -> list[QueueDef]:
        return [
            q
            for q in self.queues()
            if q.config.redrive_policy is not None and self._dead_letter_queue(q) == qd
        ]

    def _dead_letter_queue(self, qd: QueueDef) -> QueueDef | None:
        """The queue ``qd``'s redrive policy names (its ARN gives the account)."""
        policy = qd.config.redrive_policy
        if policy is None:
            return None
        return self.find(policy.dead_letter_target_arn, "RedrivePolicy", account=qd.account)

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
                    f"no replica owns partition {partition} of queue {qd.plain} yet; retry"
                )
            force = True
            await asyncio.sleep(0.1)

    async def forward(self, address: str, call: Callable[..., Any], request: Any) -> Any:
        response, _ = await self.forward_with_trailers(address, call, request)
        return response

    async def forward_with_trailers(
        self, address: str, call: Callable[..., Any], request: Any
    ) -> tuple[Any, dict[str, str]]:
        """The owner's answer and its trailing metadata (e.g. its pulse generation)."""
        try:
            pending = call(request, metadata=self.forwarder.metadata(), timeout=30)
            response = await pending
            trailers = await pending.trailing_metadata()
        except grpc.RpcError as exc:
            raise from_rpc(exc) from None
        return response, {str(k): str(v) for k, v in trailers or ()}

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
                written = await self.ctx.producer.send_many(batch, accepted=True)
            except ProduceError as exc:
                error = ServiceUnavailable(f"could not write to Kafka: {exc}")
                return [error] * len(records)
            self.local.own_writes.wrote(qd, written)
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
                resp = await self.forward(
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

    async def to_dead_letter(self, qd: QueueDef, msgs: list[Msg]) -> None:
        assert qd.config.redrive_policy is not None
        dlq = self._dead_letter_queue(qd)
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
        req: shapes.ReceiveMessageRequest,
        n: int,
        *,
        local_only: bool,
        oldest_first: bool = False,
    ) -> list[shapes.Message]:
        """Up to ``n`` messages, waiting as the request (or the queue) says."""
        return await self.receiver.receive(
            qd, req, n, local_only=local_only, oldest_first=oldest_first
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
            await self.forward(address, self.forwarder.stub(address).DeleteMessage, req)

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
                    resp = await self.forward(
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
            await self.forward(address, self.forwarder.stub(address).ChangeMessageVisibility, req)

    # --- purge and counts -------------------------------------------------------------------
    async def purge(self, qd: QueueDef, *, local_only: bool) -> None:
        """Purge every partition of the queue, at most once a minute.

        The time of the last purge is journaled with each partition, so the rule holds
        whichever replica is asked and after a restart. A forwarded purge checks the
        owner's own partitions too, and is sent before this replica purges its own, so
        a refusal there leaves the queue untouched.
        """
        now = self.clock()
        remotes = {} if local_only else await self._all_owners(qd)
        last = max(
            (
                t
                for t in (self._last_purge.get(qd.name), self.local.last_purge(qd))
                if t is not None
            ),
            default=None,
        )
        if last is not None and now - last < PURGE_INTERVAL_MS:
            raise PurgeQueueInProgress(
                f"Only one PurgeQueue operation on {qd.plain} is allowed every 60 seconds."
            )
        if not local_only:
            self._last_purge[qd.name] = now
            try:
                for address in remotes:
                    req = pb.PurgeQueueRequest(queue_url=qd.url)
                    await self.forward(address, self.forwarder.stub(address).PurgeQueue, req)
            except EventplaneError:
                if self._last_purge.get(qd.name) == now:
                    del self._last_purge[qd.name]  # nothing of ours was purged: no minute to wait
                raise
        marks = await asyncio.to_thread(self._high_watermarks, qd)
        await self.local.purge(qd, marks)
        self.local.pulse(qd.name).fire()

    async def _all_owners(self, qd: QueueDef) -> dict[str, list[int]]:
        """The other replicas' partitions of the queue, once every partition has an owner.

        A purge must reach every partition: one in hand-over (or of a queue created a
        moment ago, not yet assigned) would silently keep its messages. So this waits a
        little for the owners, then answers ServiceUnavailable, which clients retry.
        """
        deadline = time.monotonic() + OWNER_WAIT_SECONDS
        while True:
            remotes = await self.directory.remote_owners(qd.name, force=True)
            covered = set(self.local.partitions_of(qd.name))
            covered.update(p for ps in remotes.values() for p in ps)
            if len(covered) >= qd.config.partitions:
                return remotes
            if time.monotonic() > deadline:
                raise ServiceUnavailable(
                    f"partitions of queue {qd.plain} are moving between replicas; retry"
                )
            await asyncio.sleep(0.1)

    def _high_watermarks(self, qd: QueueDef) -> dict[int, int]:
        if self._watermarks is None:
            self._watermarks = Consumer(
                consumer_config(self.settings, f"{naming.PREFIX}.watermarks")
            )
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
                    resp = await self.forward(
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
    entry = shapes.SendMessageBatchRequestEntry(
        id=entry_id,
        message_body=r.body,
        message_attributes=dict(r.attributes),
        message_deduplication_id=r.dedup_id or "",
        message_group_id=r.group_id or "",
    )
    return from_shape(pb.SendMessageBatchRequestEntry, entry)


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
