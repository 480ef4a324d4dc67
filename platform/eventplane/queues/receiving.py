"""ReceiveMessage: claim from local partitions, ask remote owners, long-poll, render messages.

Split from the engine so the receive path (long polling, FIFO receive-attempt
replays, the SQS message shape with its system attributes and digests) reads
in one place. Remote owners are asked over the internal forwarding channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, TypeVar

import grpc

from eventplane import names
from eventplane._gen.v1 import queues_pb2 as pb
from eventplane.errors import EventplaneError
from eventplane.errors.queues import MessageNotInflight, ReceiptHandleIsInvalid
from eventplane.observability import stages
from eventplane.observability.logging import get_logger
from eventplane.queues import metrics, shapes
from eventplane.queues.attempts import ATTEMPT_TTL_MS, AttemptJournal
from eventplane.queues.attributes import queue_arn
from eventplane.queues.messages import md5_of_body, md5_of_message_attributes
from eventplane.queues.models import Msg
from eventplane.queues.partitions import Pulse, sequence_number
from eventplane.queues.protobuf import from_shape, to_shape
from eventplane.queues.queue_def import QueueDef
from eventplane.queues.receipts import Receipt

if TYPE_CHECKING:
    from eventplane.queues.engine import QueueEngine

_log = get_logger("eventplane.queues")

T = TypeVar("T")

# A receive waiting on partitions other replicas own asks each owner to tell it when
# something arrives (owner-to-waiter notification): the owner answers a forwarded
# ReceiveMessage that carries AWAIT_KEY (the owner's pulse generation the waiter last
# saw, from PULSE_KEY in the trailers of its forwarded receive) as soon as that
# generation moves on, claiming nothing. Each wait is capped so that a partition that
# moved to another owner meanwhile is looked at again within this long.
AWAIT_CAP_SECONDS = 1.0
# A receive on a queue created less than this long ago first waits, up to
# NEW_QUEUE_WAIT_S, until every partition of it has an owner (Receiver._served).
NEW_QUEUE_WINDOW_MS = 60_000
NEW_QUEUE_WAIT_S = 5.0
PULSE_KEY = "x-eventplane-pulse"
AWAIT_KEY = "x-eventplane-await-since"


class Receiver:
    def __init__(self, engine: QueueEngine) -> None:
        self.engine = engine
        # What this replica answered (from its partitions or remote owners), by (queue,
        # attempt id); the journaled copy is with the partitions (attempts.py).
        self._attempts: dict[tuple[str, str], tuple[int, list[shapes.Message]]] = {}
        self.attempts = AttemptJournal(engine.local)

    async def receive(
        self,
        qd: QueueDef,
        req: shapes.ReceiveMessageRequest,
        n: int,
        *,
        local_only: bool,
        oldest_first: bool = False,
    ) -> list[shapes.Message]:
        engine = self.engine
        local = engine.local
        visibility = (
            req.visibility_timeout
            if req.visibility_timeout is not None
            else qd.config.visibility_timeout
        )
        wait = (
            req.wait_time_seconds
            if req.wait_time_seconds is not None
            else qd.config.receive_message_wait_time_seconds
        )
        attempt_id = req.receive_request_attempt_id if qd.config.fifo else ""
        if attempt_id:
            replayed = await self._replay(qd, req, attempt_id, visibility, local_only=local_only)
            if replayed is not None:
                return replayed
        started = time.monotonic()
        deadline = started + wait
        # A receive right after a queue's creation, or after this replica's own send,
        # finds the message (SQS users write "create, send, receive" without a wait).
        if not local_only:  # a forwarded poll: the asking replica waited for that
            await self._served(qd)
        await local.own_writes.caught_up(qd)
        pulse = local.pulse(qd.name)
        result: list[shapes.Message] = []
        while True:
            seen = pulse.generation
            got = await local.claim(
                qd, n, visibility, engine.to_dead_letter, oldest_first=oldest_first
            )
            result = [self._message(qd, p, m, req) for p, m in got]
            if got:
                answered = time.time()
                for _, m in got:
                    if m.receive_count == 1:
                        stages.observe("owner_adopt_to_receive_answer", m.adopted_at, answered)
            remotes: dict[str, list[int]] = {}
            pulses: dict[str, int] = {}
            all_local = len(local.partitions_of(qd.name)) == qd.config.partitions
            if not result and not local_only and not all_local:
                remotes = await engine.directory.remote_owners(qd.name)
                result, pulses = await self._receive_remote(qd, remotes, req, n, visibility)
            remaining = deadline - time.monotonic()
            if result or remaining <= 0:
                break
            if local_only or not remotes:
                await pulse.wait(remaining if local_only else min(remaining, 0.5), since=seen)
            else:
                await self._await_any(qd, pulse, seen, pulses, min(remaining, AWAIT_CAP_SECONDS))
        if attempt_id and result:
            if got:  # taken here, from partitions this replica owns: journal it with them
                await self.attempts.record(qd, attempt_id, got)
            if not local_only:
                self._attempts[(qd.name, attempt_id)] = (engine.clock() + ATTEMPT_TTL_MS, result)
        if not local_only:  # a forwarded poll is part of another replica's receive
            metrics.RECEIVE_LATENCY.labels(qd.name).observe(time.monotonic() - started)
        return result

    async def _served(self, qd: QueueDef) -> None:
        """Wait (up to NEW_QUEUE_WAIT_S) until a queue created moments ago is served.

        A new queue's partitions reach their owners through a consumer-group
        rebalance, a fraction of a second to a few seconds after CreateQueue answered;
        until then a receive would find nothing, not even a message already sent.
        """
        engine = self.engine
        if engine.clock() - qd.incarnation > NEW_QUEUE_WINDOW_MS:
            return
        deadline = time.monotonic() + NEW_QUEUE_WAIT_S
        force = False  # the directory's cached view first: ask the brokers only on a gap
        while True:
            owned = set(engine.local.partitions_of(qd.name))
            if len(owned) < qd.config.partitions:
                remote = await engine.directory.remote_owners(qd.name, force=force)
                owned.update(p for parts in remote.values() for p in parts)
            if len(owned) >= qd.config.partitions or time.monotonic() >= deadline:
                return
            if force:
                await asyncio.sleep(0.05)
            force = True

    async def _replay(
        self,
        qd: QueueDef,
        req: shapes.ReceiveMessageRequest,
        attempt_id: str,
        visibility: int,
        *,
        local_only: bool,
    ) -> list[shapes.Message] | None:
        """The answer of an earlier receive with this attempt id, renewed; None if there is none.

        This replica's memory answers first (it also holds what remote owners
        returned); then the journaled attempts of the partitions it owns, which a
        crashed owner's partitions bring along. A remote owner is asked with the
        attempt id in the receive loop, and replays its own the same way.
        """
        key = (qd.name, attempt_id)
        result: list[shapes.Message] | None = None
        cached = None if local_only else self._attempts.get(key)
        if cached is not None and cached[0] > self.engine.clock():
            if await self._renew(qd, cached[1], visibility):
                result = cached[1]
            else:
                del self._attempts[key]  # deleted or received again since: start afresh
        if result is None:
            got = await self.attempts.replay(qd, attempt_id, visibility)
            if got is not None:
                result = [self._message(qd, p, m, req) for p, m in got]
                if not local_only:
                    self._attempts[key] = (self.engine.clock() + ATTEMPT_TTL_MS, result)
        if result is not None and not local_only:
            metrics.ATTEMPT_REPLAYS.labels(qd.name).inc()
        return result

    async def _renew(self, qd: QueueDef, messages: list[shapes.Message], visibility: int) -> bool:
        """A retried receive (same attempt id) resets the visibility timeout of what it got.

        False when any of those messages was deleted or received again since.
        """
        try:
            for m in messages:
                await self.engine.change_visibility(qd, m.receipt_handle, visibility)
        except (ReceiptHandleIsInvalid, MessageNotInflight):
            return False
        return True

    async def _receive_remote(
        self,
        qd: QueueDef,
        remotes: dict[str, list[int]],
        req: shapes.ReceiveMessageRequest,
        n: int,
        visibility: int,
    ) -> tuple[list[shapes.Message], dict[str, int]]:
        """Messages from the first remote owner that has some, and each asked owner's
        pulse generation (what to await from it if none had any)."""
        engine = self.engine
        fwd = from_shape(pb.ReceiveMessageRequest, req)
        fwd.queue_url = qd.url
        fwd.max_number_of_messages = n
        fwd.visibility_timeout, fwd.has_visibility_timeout = visibility, True
        fwd.wait_time_seconds, fwd.has_wait_time_seconds = 0, True
        # The attempt id goes along: the owner replays, or journals, the attempt itself.
        fwd.message_system_attribute_names.extend(req.attribute_names)
        pulses: dict[str, int] = {}
        for address in remotes:
            try:
                resp, trailers = await engine.forward_with_trailers(
                    address, engine.forwarder.stub(address).ReceiveMessage, fwd
                )
            except EventplaneError as exc:
                _log.info("forwarded receive failed", owner=address, error=exc.message)
                continue
            with contextlib.suppress(KeyError, ValueError):
                pulses[address] = int(trailers[PULSE_KEY])
            if resp.messages:
                return to_shape(shapes.ReceiveMessageResult, resp).messages, pulses
        return [], pulses

    async def _await_any(
        self, qd: QueueDef, pulse: Pulse, seen: int, pulses: dict[str, int], timeout: float
    ) -> None:
        """Until this replica's pulse or any remote owner's moves on (or ``timeout``)."""
        engine = self.engine
        fwd = pb.ReceiveMessageRequest(queue_url=qd.url)
        fwd.wait_time_seconds, fwd.has_wait_time_seconds = max(1, round(timeout + 0.5)), True
        waits: list[asyncio.Future[object]] = [
            asyncio.ensure_future(pulse.wait(timeout, since=seen))
        ]
        for address, generation in pulses.items():
            md = (*engine.forwarder.metadata(), (AWAIT_KEY, str(generation)))
            waits.append(
                asyncio.ensure_future(
                    engine.forwarder.stub(address).ReceiveMessage(fwd, metadata=md, timeout=timeout)
                )
            )
        try:
            done, _ = await asyncio.wait(
                waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            for finished in done:  # an owner that failed to answer: waited for enough
                with contextlib.suppress(grpc.RpcError, asyncio.CancelledError):
                    finished.result()
        finally:
            for w in waits:
                w.cancel()

    async def await_change(self, qd: QueueDef, since: int, wait: float) -> None:
        """A waiter on another replica asks: return once this replica's pulse for the
        queue has moved past ``since`` (something arrived, became visible or was
        adopted here), or after ``wait`` seconds. Claims nothing."""
        await self.engine.local.pulse(qd.name).wait(wait, since=since)

    def pulse_generation(self, qd: QueueDef) -> int:
        return self.engine.local.pulse(qd.name).generation

    def prune_attempts(self) -> None:
        now = self.engine.clock()
        for key in [k for k, (exp, _) in self._attempts.items() if exp <= now]:
            del self._attempts[key]
        self.attempts.prune()

    def _message(
        self, qd: QueueDef, partition: int, m: Msg, req: shapes.ReceiveMessageRequest
    ) -> shapes.Message:
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
            owner, source = names.unqualify(r.source_queue)  # an internal name
            system["DeadLetterQueueSourceArn"] = queue_arn(source, owner)
        wanted_sys = {*req.message_system_attribute_names, *req.attribute_names}
        if "All" not in wanted_sys:
            system = {k: v for k, v in system.items() if k in wanted_sys}
        attrs = select_attributes(r.attributes, req.message_attribute_names)
        handle = self.engine.signer.encode(
            Receipt(qd.name, qd.incarnation, partition, m.offset, m.generation)
        )
        return shapes.Message(
            message_id=r.message_id,
            receipt_handle=handle,
            md5_of_body=md5_of_body(r.body),
            body=r.body,
            attributes=system,
            md5_of_message_attributes=md5_of_message_attributes(attrs) if attrs else "",
            message_attributes=attrs,
        )


def select_attributes(attrs: Mapping[str, T], names: list[str]) -> dict[str, T]:
    """SQS's MessageAttributeNames: "All", ".*", "prefix.*" or exact names."""
    if not names:
        return {}
    if "All" in names or ".*" in names:
        return dict(attrs)
    prefixes = [n[:-1] for n in names if n.endswith(".*")]
    exact = set(names)
    return {k: v for k, v in attrs.items() if k in exact or any(k.startswith(p) for p in prefixes)}
