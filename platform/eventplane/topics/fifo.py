"""FIFO topics: message groups on partitions, sequence numbers and the deduplication window.

Pure (no Kafka), so every rule is unit-testable with plain numbers for time.

Where deduplication happens: the fan-out dispatcher is the only reader of a topic partition
(one consumer group member owns it), so it decides, in offset order, which messages are
duplicates, and delivers only the others. A decision compares the message's own
``published_ms`` with the window, never the dispatcher's clock, so reading the same records
again gives the same answers. Each accepted message's dedup id is journaled to the
co-partitioned ``eventplane.t.<topic>.dedup`` topic in the same Kafka transaction as its
deliveries and the consumed offset; a dispatcher that takes over a partition rebuilds the
window from that journal, so the window survives restarts and failover exactly.

The Publish path keeps :class:`RecentPublishes`, a per-replica memory of its own answers,
only to answer a retried publish with the original MessageId and SequenceNumber as SNS
does; it never decides what is delivered.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Final, TypeVar

from eventplane.kafka import naming

# A group's partition and its sequence numbers follow the same rule as a FIFO queue's.
from eventplane.kafka.fifo import partition_for as partition_for
from eventplane.kafka.fifo import sequence_number as sequence_number

K = TypeVar("K")

DEDUP_WINDOW_MS: Final = 5 * 60 * 1000
# How long the dedup journal keeps an entry after it is written. It must outlast the window
# by the largest lag the dispatcher may have when a partition changes hands (here 10 min);
# a rebuild reads at most this much (plus one segment) of the journal.
JOURNAL_RETENTION_MS: Final = 15 * 60 * 1000
JOURNAL_SEGMENT_MS: Final = 5 * 60 * 1000
# FifoThroughputScope: deduplicate across the whole topic, or within each message group.
SCOPE_TOPIC: Final = "Topic"
SCOPE_MESSAGE_GROUP: Final = "MessageGroup"
THROUGHPUT_SCOPES: Final = (SCOPE_TOPIC, SCOPE_MESSAGE_GROUP)
# Entries are dropped this long after they expire, relative to the newest message seen:
# messages from publishers whose clocks run a little behind still find their window.
_SLACK_MS: Final = 60_000
_SEP: Final = "\x00"  # cannot occur in a group or dedup id (printable ASCII only)


def journal_topic(topic: str) -> str:
    """The dedup journal of FIFO topic ``topic``, co-partitioned with its Kafka topic.

    Topic names have no dots except ``.fifo``, so this never collides with a topic's name.
    """
    return f"{naming.topic_topic(topic)}.dedup"


def journal_key(group_id: str, dedup_id: str) -> str:
    """The key of a dedup journal entry: the group and the dedup id, both needed by scope."""
    return f"{group_id}{_SEP}{dedup_id}"


def parse_journal_key(key: str) -> tuple[str, str]:
    group_id, _, dedup_id = key.partition(_SEP)
    return group_id, dedup_id


class DedupWindow:
    """The dedup ids one topic partition accepted in the last five minutes.

    Changes made while a batch is processed can be undone (``rollback``) when its Kafka
    transaction aborts, and become final with ``commit``. Both scopes are indexed, so a
    topic that switches from Topic to MessageGroup scope keeps its window.
    """

    def __init__(self, window_ms: int = DEDUP_WINDOW_MS) -> None:
        self._window_ms = window_ms
        self._by_id: dict[str, int] = {}  # dedup id -> expires_ms
        self._by_group: dict[tuple[str, str], int] = {}  # (group, dedup id) -> expires_ms
        self._horizon = 0  # newest published_ms seen
        self._undo: list[tuple[str, tuple[str, str], int | None, int | None, int]] = []

    def __len__(self) -> int:
        return len(self._by_group)

    def offer(self, scope: str, group_id: str, dedup_id: str, published_ms: int) -> bool:
        """True if the message is new (it is then remembered), False for a duplicate."""
        expires = (
            self._by_group.get((group_id, dedup_id))
            if scope == SCOPE_MESSAGE_GROUP
            else self._by_id.get(dedup_id)
        )
        if expires is not None and published_ms < expires:
            return False
        self._undo.append(
            (
                dedup_id,
                (group_id, dedup_id),
                self._by_id.get(dedup_id),
                self._by_group.get((group_id, dedup_id)),
                self._horizon,
            )
        )
        self._remember(group_id, dedup_id, published_ms + self._window_ms)
        return True

    def restore(self, group_id: str, dedup_id: str, expires_ms: int) -> None:
        """An accepted message read back from the journal (oldest first)."""
        self._remember(group_id, dedup_id, expires_ms)

    def _remember(self, group_id: str, dedup_id: str, expires_ms: int) -> None:
        self._by_id[dedup_id] = expires_ms
        self._by_group[(group_id, dedup_id)] = expires_ms
        self._horizon = max(self._horizon, expires_ms - self._window_ms)

    def commit(self) -> None:
        """The batch's transaction committed: keep its entries, forget expired ones."""
        self._undo.clear()
        limit = self._horizon - _SLACK_MS
        for key in [k for k, e in self._by_id.items() if e < limit]:
            del self._by_id[key]
        for pair in [k for k, e in self._by_group.items() if e < limit]:
            del self._by_group[pair]

    def rollback(self) -> None:
        """The batch's transaction aborted: back to the state at the last ``commit``."""
        while self._undo:
            dedup_id, pair, by_id, by_group, horizon = self._undo.pop()
            _put(self._by_id, dedup_id, by_id)
            _put(self._by_group, pair, by_group)
            self._horizon = horizon


def _put(d: dict[K, int], key: K, value: int | None) -> None:
    if value is None:
        d.pop(key, None)
    else:
        d[key] = value


@dataclass(frozen=True, slots=True)
class Answer:
    """What Publish answered for a FIFO message."""

    message_id: str
    sequence_number: str
    expires_ms: int


class RecentPublishes:
    """The answers this replica gave for FIFO publishes of the last five minutes.

    Bounded: beyond ``max_entries`` the oldest are forgotten (a retry then gets new ids,
    but is still not delivered twice: the dispatcher decides that).
    """

    def __init__(self, window_ms: int = DEDUP_WINDOW_MS, max_entries: int = 100_000) -> None:
        self._window_ms = window_ms
        self._max = max_entries
        self._by_id: OrderedDict[tuple[str, str], Answer] = OrderedDict()
        self._by_group: OrderedDict[tuple[str, str, str], Answer] = OrderedDict()

    def answer(
        self,
        topic: str,
        scope: str,
        group_id: str,
        dedup_id: str,
        published_ms: int,
        fresh: tuple[str, str],
    ) -> tuple[str, str]:
        """(message id, sequence number) to return: the original ones for a duplicate,
        else ``fresh``, which is then remembered."""
        earlier = (
            self._by_group.get((topic, group_id, dedup_id))
            if scope == SCOPE_MESSAGE_GROUP
            else self._by_id.get((topic, dedup_id))
        )
        if earlier is not None and published_ms < earlier.expires_ms:
            return earlier.message_id, earlier.sequence_number
        entry = Answer(fresh[0], fresh[1], published_ms + self._window_ms)
        _push(self._by_id, (topic, dedup_id), entry, self._max, published_ms)
        _push(self._by_group, (topic, group_id, dedup_id), entry, self._max, published_ms)
        return fresh

    def forget(self, topic: str) -> None:
        """Drop a deleted topic's answers (a new topic of that name starts afresh)."""
        for by_id in [k for k in self._by_id if k[0] == topic]:
            del self._by_id[by_id]
        for by_group in [k for k in self._by_group if k[0] == topic]:
            del self._by_group[by_group]

    def __len__(self) -> int:
        return len(self._by_group)


def _push(
    table: OrderedDict[K, Answer], key: K, entry: Answer, max_entries: int, now_ms: int
) -> None:
    """Insert ``entry`` as the newest; drop the oldest beyond the bound or past expiry."""
    table.pop(key, None)
    table[key] = entry
    while table and (len(table) > max_entries or next(iter(table.values())).expires_ms <= now_ms):
        table.popitem(last=False)
