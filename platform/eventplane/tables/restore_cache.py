"""A local on-disk copy of table changelog partitions, so a restore reads only the log's tail.

Never the source of truth: the file holds, per (changelog topic, partition), the latest
record of every key exactly as the changelog holds it (value bytes and the schema header
the codec needs; a tombstone removes the key) and the offset it is complete up to. A
restore loads it, reads the changelog from that offset to the end, and a tail reader
keeps it current while the partition is owned, from the changelog itself: records a
cross-replica coordinator writes reach it as the owner's own do.

Anything doubtful throws the file away and the restore reads the whole partition:

- another topic id (the table was deleted and created again under the same name);
- a cached offset below the partition's log start offset, or past its end;
- a file last brought up to date more than half of the topic's ``delete.retention.ms``
  ago: compaction may since have removed tombstones of keys the file still holds;
- another file format, or a file SQLite cannot read.

Replaying a stretch of the log twice is harmless (each record sets its key to the same
value again), and each flush writes its records and its offset in one SQLite
transaction, so a crash between flushes only costs re-reading what followed. Each
restore takes the file over (``resume``): only its own flushes are accepted after that.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventplane.observability.logging import get_logger

_log = get_logger("eventplane.tables.restore_cache")

FORMAT = 1
# The part of delete.retention.ms a file may be old before it is not trusted: clocks of
# replicas and brokers differ, and a tombstone's retention starts when the cleaner first
# sees it, which is after it was written.
RETENTION_SHARE = 0.5
DEFAULT_DELETE_RETENTION_MS = 86_400_000  # Kafka's default

Row = tuple[bytes, bytes, bytes | None]  # key, value, ep-schema header


@dataclass(frozen=True)
class TopicMarker:
    """What tells this changelog topic from an older one of the same name, and how long
    its tombstones are kept."""

    topic_id: str
    delete_retention_ms: int = DEFAULT_DELETE_RETENTION_MS


def now_ms() -> int:
    return int(time.time() * 1000)


class PartitionCache:
    """The cache file of one changelog partition. Used by one thread at a time.

    Every method swallows SQLite's errors: the file is then removed and the cache
    reports a miss (``resume`` answers None) or drops the write, never a wrong answer.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._holder = ""  # set by resume: this cache's claim to be the file's writer
        self._pending: dict[bytes, tuple[bytes, bytes | None] | None] = {}
        self.flushed_at = time.monotonic()

    # --- the file ---------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                # Consistent after a crash, perhaps missing the last flushes: a shorter
                # prefix of the log, which the next restore reads again.
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("PRAGMA busy_timeout=10000")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), "
                    "format INTEGER NOT NULL, topic_id TEXT NOT NULL, "
                    "next_offset INTEGER NOT NULL, synced_ms INTEGER NOT NULL, "
                    "holder TEXT NOT NULL)"
                )
                db.execute(
                    "CREATE TABLE IF NOT EXISTS records (key BLOB PRIMARY KEY, "
                    "value BLOB NOT NULL, schema BLOB) WITHOUT ROWID"
                )
            except sqlite3.Error:
                db.close()
                raise
            self._db = db
        return self._db

    def _discard(self, why: str, exc: BaseException | None = None) -> None:
        """Remove the file (unreadable or not trusted); the next use starts a new one."""
        _log.info(
            "table restore cache discarded",
            file=str(self.path),
            reason=why,
            error=str(exc) if exc else None,
        )
        self.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.path}{suffix}").unlink()

    def close(self) -> None:
        self._pending.clear()
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None

    # --- restore ----------------------------------------------------------------------------
    def resume(self, marker: TopicMarker, low: int, high: int, now: int) -> int | None:
        """The offset the file is complete up to, if it can be trusted for this topic whose
        partition now spans [low, high); else None, and the file starts over empty.

        Either way this cache becomes the file's one writer: a flush by any earlier holder
        (a tail reader of the partition's previous owner in another worker process of
        the pod, or of an older topic of the same name) is refused from now on, so it can
        never put a later offset over records it does not have.
        """
        self._holder = uuid.uuid4().hex
        self._pending.clear()
        for attempt in (1, 2):
            try:
                db = self._open()
                db.execute("BEGIN IMMEDIATE")
                try:
                    offset = self._take_over(db, marker, low, high, now)
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                return offset
            except sqlite3.Error as exc:
                self._discard("unreadable" if attempt == 1 else "cannot be written", exc)
        self._holder = ""
        return None

    def _take_over(
        self, db: sqlite3.Connection, marker: TopicMarker, low: int, high: int, now: int
    ) -> int | None:
        row = db.execute(
            "SELECT format, topic_id, next_offset, synced_ms FROM meta WHERE id = 1"
        ).fetchone()
        why = self._doubt(row, marker, low, high, now)
        if why is None:
            db.execute("UPDATE meta SET holder = ? WHERE id = 1", (self._holder,))
            return int(row[2])
        if row is not None:
            _log.info("table restore cache not trusted", file=str(self.path), reason=why)
        db.execute("DELETE FROM records")
        # synced 0: not trusted until a flush has brought it to the end of the log
        db.execute(
            "INSERT OR REPLACE INTO meta VALUES (1, ?, ?, 0, 0, ?)",
            (FORMAT, marker.topic_id, self._holder),
        )
        return None

    @staticmethod
    def _doubt(row: Any, marker: TopicMarker, low: int, high: int, now: int) -> str | None:
        if row is None:
            return "empty"
        fmt, topic_id, offset, synced = row
        if fmt != FORMAT:
            return "another format"
        if topic_id != marker.topic_id:
            return "another topic id (table re-created)"
        if offset < low:
            return "older than the log start offset"
        if offset > high:
            return "past the end of the log"
        if now - synced > marker.delete_retention_ms * RETENTION_SHARE:
            return "older than the tombstones' retention"
        return None

    def rows(self) -> Iterator[Row]:
        """Every cached record; raises sqlite3.Error on a damaged file (see ``discard``)."""
        cursor = self._open().execute("SELECT key, value, schema FROM records")
        while True:
            chunk = cursor.fetchmany(10_000)
            if not chunk:
                return
            yield from chunk

    def discard(self, exc: BaseException) -> None:
        """The file failed while being read: remove it (the restore reads the whole log)."""
        self._discard("unreadable", exc)

    # --- keeping it current -----------------------------------------------------------------
    def stage(self, key: bytes, value: bytes | None, schema: bytes | None) -> None:
        self._pending[key] = None if value is None else (value, schema)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self, next_offset: int, synced_ms: int) -> bool:
        """Write the staged records and the offset they bring the file to, in one SQLite
        transaction. Dropped (False) when the file is gone or belongs to another topic id."""
        staged, self._pending = self._pending, {}
        self.flushed_at = time.monotonic()
        if not self._holder:
            return False
        try:
            db = self._open()
            db.execute("BEGIN IMMEDIATE")
            done = db.execute(
                "UPDATE meta SET next_offset = ?, synced_ms = MAX(synced_ms, ?) "
                "WHERE id = 1 AND holder = ? AND format = ?",
                (next_offset, synced_ms, self._holder, FORMAT),
            ).rowcount
            if done != 1:
                db.execute("ROLLBACK")
                return False
            db.executemany(
                "INSERT OR REPLACE INTO records VALUES (?, ?, ?)",
                ((k, v[0], v[1]) for k, v in staged.items() if v is not None),
            )
            db.executemany(
                "DELETE FROM records WHERE key = ?",
                ((k,) for k, v in staged.items() if v is None),
            )
            db.execute("COMMIT")
            return True
        except sqlite3.Error as exc:
            self._discard("cannot be written", exc)
            self._holder = ""
            return False


class CacheDir:
    """The folder of cache files: one per changelog partition, named after both."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def file(self, topic: str, partition: int) -> Path:
        return self.path / f"{topic}-{partition}.sqlite"

    def open(self, topic: str, partition: int) -> PartitionCache:
        return PartitionCache(self.file(topic, partition))

    def forget(self, topic: str) -> None:
        """Remove the files of a changelog topic no longer wanted (its table was deleted)."""
        for path in self.path.glob(f"{topic}-*.sqlite*"):
            rest = path.name[len(topic) + 1 :].split(".", 1)[0]
            if rest.isdigit():
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
