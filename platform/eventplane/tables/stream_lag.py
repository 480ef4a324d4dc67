"""How far the stream mappings reading a shard in this process are behind its end.

A mapping reads a shard from its checkpoint, so a read from position p says the
reader has not finished the records from p to the shard's end: its lag is end - p
(in Kafka offsets: each write's transaction marker takes one too)
until its next read (a batch that keeps failing keeps that lag: it is not re-read
while retried). Readers are not named to the stream source, but each follows a
chain: a read from p answers the next position n, and the reader's next read starts
at n (or at p again after a failure). So each reader's last read is the entry keyed
by n; a read from p replaces the entry p. The shard's lag is the largest among its
live entries (the slowest mapping); an entry no read continued within ``STALE_MS``
(a deleted mapping, a reader moved to another replica) is dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

STALE_MS = 5 * 60 * 1000

# (table, shard id) -> {next position: (offsets behind the end, when read)}
_Entries = dict[int, tuple[int, int]]


class StreamLag:
    def __init__(self, clock: Callable[[], int]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._shards: dict[tuple[str, str], _Entries] = {}

    def read(self, table: str, shard: str, position: int, following: int, end: int) -> None:
        """A reader read ``shard`` from ``position``; it continues at ``following``."""
        with self._lock:
            entries = self._shards.setdefault((table, shard), {})
            entries.pop(position, None)
            entries[following] = (max(0, end - position), self._clock())

    def forget(self, table: str) -> None:
        with self._lock:
            for key in [k for k in self._shards if k[0] == table]:
                del self._shards[key]

    def rows(self) -> list[tuple[str, str, int]]:
        """(table, shard, offsets behind) of every shard a live reader reads."""
        now = self._clock()
        out = []
        with self._lock:
            for key, entries in list(self._shards.items()):
                for position in [p for p, (_, at) in entries.items() if now - at > STALE_MS]:
                    del entries[position]
                if not entries:
                    del self._shards[key]
                    continue
                out.append((key[0], key[1], max(lag for lag, _ in entries.values())))
        return out
