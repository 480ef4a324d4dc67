"""Transactional producers taken in turn: one transaction never waits on the last one's markers.

A Kafka transaction's commit returns once the coordinator has logged the decision; the
commit markers are written to the partitions afterwards. A transaction begun on the
same transactional id before they are written has its partitions refused with
CONCURRENT_TRANSACTIONS, and librdkafka retries that after a hard-coded 20 ms (not
``retry.backoff.ms``). A writer that commits back to back (a table's owner answering one
conditional write after another, a pump handing on one small batch after another) hit
that on about one transaction in a hundred here: the whole of its p99.

``TransactionLanes`` keeps a few producers, each with its own transactional id derived
from one base id, and hands out the next one for each transaction, so the markers of
one have the whole of the next transaction to be written. Fencing is unchanged: every
id is stable per replica, and a restarted replica initialises them all, which fences
its predecessor's producers and aborts whatever they left open. The caller runs one
transaction at a time (begin on ``advance()``'s producer, commit or abort it, then the
next), so records keep the order of the commits that wrote them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

P = TypeVar("P")

LANES = 2


def lane_ids(transactional_id: str, count: int = LANES) -> list[str]:
    """The transactional id of each lane: the base id itself first (a replica upgraded
    in place still fences the producer its predecessor ran under that id)."""
    return [transactional_id] + [f"{transactional_id}.{i}" for i in range(1, count)]


class TransactionLanes(Generic[P]):
    """``count`` producers made by ``new(transactional_id)`` (which must also
    ``init_transactions``), used in turn."""

    def __init__(self, new: Callable[[str], P], transactional_id: str, count: int = LANES):
        if count < 1:
            raise ValueError("a transaction needs at least one lane")
        self._new = new
        self._ids = lane_ids(transactional_id, count)
        self._producers = [new(i) for i in self._ids]
        self._turn = 0

    @property
    def current(self) -> P:
        """The producer of the transaction begun last (to produce into, commit or abort it)."""
        return self._producers[self._turn]

    def advance(self) -> P:
        """The producer to begin the next transaction on."""
        self._turn = (self._turn + 1) % len(self._producers)
        return self._producers[self._turn]

    def renew(self) -> P:
        """A new producer in place of the current one (fenced, or in a fatal state): its
        ``init_transactions`` aborts whatever the old one left open."""
        producer = self._new(self._ids[self._turn])
        self._producers[self._turn] = producer
        return producer

    def __iter__(self) -> Iterator[P]:
        return iter(list(self._producers))
