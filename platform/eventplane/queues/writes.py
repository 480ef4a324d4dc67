"""Reading one's own writes: a receive right after this process's send finds it.

A send is acknowledged once Kafka has the record; the partition's owner reads it a few
milliseconds later. SQS users write "send, then receive" without a wait (a short poll),
and would find nothing in that gap. So this process remembers the last offset it wrote
to each partition of a queue, and a receive here first waits (up to READ_YOUR_WRITES_S)
until the partitions this replica owns have read that far. Sends through another
replica, and partitions other replicas own, are not waited for: as on SQS, a short
poll may miss a message another client just sent.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from confluent_kafka import Message

from eventplane.queues.queue_def import QueueDef

if TYPE_CHECKING:
    from eventplane.queues.partitions import LocalPartitions

# How long a receive waits for this replica's own partitions to hold what it just wrote.
READ_YOUR_WRITES_S = 1.0


class OwnWrites:
    """The last offset this process wrote to each queue partition, by queue incarnation
    (a queue deleted and created again starts over)."""

    def __init__(self, partitions: LocalPartitions) -> None:
        self._partitions = partitions
        self._written: dict[tuple[str, int], dict[int, int]] = {}

    def wrote(self, qd: QueueDef, messages: Iterable[Message]) -> None:
        """This process wrote ``messages`` (acknowledged) to the queue's partitions."""
        written = self._written.setdefault((qd.name, qd.incarnation), {})
        for m in messages:
            partition, offset = m.partition(), m.offset()
            if partition is not None and offset is not None and offset > written.get(partition, -1):
                written[partition] = offset

    def forget(self, qd: QueueDef) -> None:
        self._written.pop((qd.name, qd.incarnation), None)

    async def caught_up(self, qd: QueueDef, timeout: float = READ_YOUR_WRITES_S) -> None:
        """Wait (up to ``timeout``) until this replica's partitions of the queue hold
        what this process wrote to them."""
        written = self._written.get((qd.name, qd.incarnation))
        if not written:
            return
        queue = qd.name
        deadline = time.monotonic() + timeout
        pulse = self._partitions.pulse(queue)
        while True:
            seen = pulse.generation
            behind = [
                p
                for p, offset in written.items()
                if (owned := self._partitions.owned.get((queue, p))) is not None
                and owned.state.next_offset <= offset
            ]
            remaining = deadline - time.monotonic()
            if not behind or remaining <= 0:
                return
            await pulse.wait(min(remaining, 0.05), since=seen)
