"""Deleting a Kafka topic only after this process's consumers have let go of it.

librdkafka (2.16, cooperative-sticky groups) mishandles a topic that is deleted while
one of its consumers is still subscribed to it or still holds its partitions: the
deleted partitions stay in the consumer's assignment for good (an "offset reset ...
Unknown topic or partition" warning every 100 ms, and a busy thread), and now and
then the broker thread dies with a segfault that takes the whole server down. A
deleted queue, topic, bus or table used to delete its Kafka topics right after
writing the registry tombstone, racing the consumers that were still dropping them.

So every group consumer that follows a changing set of topics keeps a ``Holdings``
(what it wants, what it last subscribed to, which partitions it is assigned), and
``retire_topics`` deletes the topics only once no consumer of this process holds them
and no member of those consumers' groups (the other replicas' consumers, which drop
the topics when their registry view sees the tombstone) is assigned a partition of
them, as the group coordinator describes it. Both waits are bounded: a consumer that
never lets go delays a deletion, it does not prevent it.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Collection, Iterable, Sequence

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from eventplane.config import Settings
from eventplane.kafka.clients import client_config, delete_topics
from eventplane.observability.logging import get_logger
from eventplane.observability.metrics import KAFKA_PARTITIONS_HELD

_log = get_logger("eventplane.kafka.retirement")

_changed = threading.Condition()
_all: weakref.WeakSet[Holdings] = weakref.WeakSet()


class Holdings:
    """The topics one consumer wants, subscribed to last, and holds partitions of.

    ``want`` is called by whoever decides the subscription; ``subscribed``,
    ``assigned`` and ``revoked`` by the consumer's thread (the last two from its
    rebalance callbacks).
    """

    def __init__(self, name: str, group: str, client_id: str) -> None:
        self.name = name  # the consumer label of eventplane_kafka_partitions_held
        self.group = group
        self.client_id = client_id  # how the group coordinator names this member
        self._held = KAFKA_PARTITIONS_HELD.labels(name)
        self._wanted: frozenset[str] = frozenset()
        self._subscribed: frozenset[str] = frozenset()
        self._assigned: set[tuple[str, int]] = set()
        with _changed:
            _all.add(self)

    def want(self, topics: Iterable[str]) -> None:
        with _changed:
            self._wanted = frozenset(topics)
            _changed.notify_all()

    def subscribed(self, topics: Iterable[str]) -> None:
        with _changed:
            self._subscribed = frozenset(topics)
            _changed.notify_all()

    def subscribing(self, topics: Iterable[str]) -> list[str]:
        """Of ``topics``, those still wanted, recorded as subscribed *before* the consumer
        subscribes to them (one step under the lock ``retire_topics`` checks under).

        A consumer thread acting on a topic list read a moment earlier could subscribe to a
        topic whose resource was deleted meanwhile, after ``retire_topics`` had found no
        holder and deleted it: librdkafka then aborted the server (a CI run, a bus deleted
        250 ms after its creation). A topic no longer wanted is left out instead, and one
        kept is held before ``retire_topics`` can look.
        """
        with _changed:
            kept = [t for t in topics if t in self._wanted]
            self._subscribed = frozenset(kept)
            _changed.notify_all()
            return kept

    def assigned(self, partitions: Iterable[tuple[str, int]]) -> None:
        with _changed:
            before = len(self._assigned)
            self._assigned.update(partitions)
            self._held.inc(len(self._assigned) - before)
            _changed.notify_all()

    def revoked(self, partitions: Iterable[tuple[str, int]]) -> None:
        with _changed:
            before = len(self._assigned)
            self._assigned.difference_update(partitions)
            self._held.dec(before - len(self._assigned))
            _changed.notify_all()

    def released(self) -> None:
        """The consumer is closed: it is subscribed to nothing and holds nothing."""
        with _changed:
            self._subscribed = frozenset()
            self._held.dec(len(self._assigned))
            self._assigned.clear()
            _changed.notify_all()

    def holds(self, topics: Collection[str]) -> bool:
        with _changed:
            return any(t in self._wanted or t in self._subscribed for t in topics) or any(
                t in topics for t, _ in self._assigned
            )


def holders_of(topics: Collection[str]) -> list[str]:
    """The client ids of this process's consumers that still hold any of ``topics``."""
    with _changed:
        return sorted(h.client_id for h in list(_all) if h.holds(topics))


def group_holders(
    admin: AdminClient,
    groups: Collection[str],
    topics: Collection[str],
    ignore: Collection[str] = (),
) -> list[str]:
    """The members (client ids) of ``groups`` the coordinator has assigned any of ``topics``.

    Members named in ``ignore`` are left out.
    """
    if not groups:
        return []
    found = []
    for future in admin.describe_consumer_groups(sorted(groups), request_timeout=5).values():
        try:
            group = future.result()
        except KafkaException:
            continue  # a group that does not exist (yet) holds nothing
        for member in group.members:
            assignment = member.assignment.topic_partitions if member.assignment else []
            if member.client_id not in ignore and any(tp.topic in topics for tp in assignment):
                found.append(member.client_id)
    return sorted(found)


def retire_topics(settings: Settings, names: Sequence[str], *, timeout: float = 15.0) -> None:
    """Delete ``names`` once no consumer holds them any more (waiting at most ``timeout``).

    Call it after the registry tombstone that makes the consumers drop the topics.
    """
    wanted = set(names)
    deadline = time.monotonic() + timeout
    with _changed:
        _changed.wait_for(lambda: not any(h.holds(wanted) for h in list(_all)), timeout=timeout)
        local = list(_all)
    holders = holders_of(wanted)
    if not holders:
        # This process's members let go already (the coordinator learns it at their next
        # join, or at once from a member that left the group): ask about the others.
        groups = {h.group for h in local}
        mine = {h.client_id for h in local}
        admin = AdminClient(client_config(settings))
        while (
            holders := group_holders(admin, groups, wanted, ignore=mine)
        ) and time.monotonic() < deadline:
            time.sleep(0.05)
    if holders:
        _log.warning(
            "deleting topics that consumers still hold",
            topics=sorted(wanted),
            consumers=holders,
            waited_s=timeout,
        )
    delete_topics(settings, names)
