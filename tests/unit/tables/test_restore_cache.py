"""The restore cache file: what it keeps, and every case in which it must not be trusted;
and the restore's fast paths (decoding records, loading an empty store). Nothing running
is needed (restore_cache.py is SQLite only)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from eventplane.tables.expr import item_size
from eventplane.tables.owner import decode_record, encode_item
from eventplane.tables.restore_cache import CacheDir, PartitionCache, TopicMarker
from eventplane.tables.store import PartitionStore

TOPIC = "eventplane.tbl.users"
MARKER = TopicMarker("topic-id-1", delete_retention_ms=86_400_000)
NOW = 1_800_000_000_000


def fresh(tmp_path: Path) -> PartitionCache:
    cache = CacheDir(str(tmp_path)).open(TOPIC, 0)
    assert cache.resume(MARKER, 0, 0, NOW) is None  # a new file: nothing to trust
    return cache


def rows(cache: PartitionCache) -> dict[bytes, tuple[bytes, bytes | None]]:
    return {k: (v, s) for k, v, s in cache.rows()}


def written(tmp_path: Path, offset: int = 10, synced: int = NOW) -> PartitionCache:
    cache = fresh(tmp_path)
    cache.stage(b"a", b"A1", b"fp")
    cache.stage(b"b", b"B1", b"fp")
    cache.stage(b"a", b"A2", b"fp")  # the latest record of a key wins
    assert cache.flush(offset, synced)
    cache.close()
    return CacheDir(str(tmp_path)).open(TOPIC, 0)


def test_keeps_the_latest_record_per_key_and_its_offset(tmp_path: Path) -> None:
    cache = written(tmp_path)
    assert cache.resume(MARKER, 0, 12, NOW + 1000) == 10
    assert rows(cache) == {b"a": (b"A2", b"fp"), b"b": (b"B1", b"fp")}


def test_a_tombstone_removes_its_key(tmp_path: Path) -> None:
    cache = written(tmp_path)
    assert cache.resume(MARKER, 0, 10, NOW) == 10
    cache.stage(b"a", None, None)
    cache.stage(b"c", b"C1", b"fp")
    assert cache.flush(13, NOW)
    cache.close()
    again = CacheDir(str(tmp_path)).open(TOPIC, 0)
    assert again.resume(MARKER, 0, 13, NOW) == 13
    assert rows(again) == {b"b": (b"B1", b"fp"), b"c": (b"C1", b"fp")}


@pytest.mark.parametrize(
    ("marker", "low", "high", "now"),
    [
        (TopicMarker("topic-id-2"), 0, 12, NOW),  # the table was deleted and created again
        (MARKER, 11, 12, NOW),  # the log now starts past the file's offset
        (MARKER, 0, 9, NOW),  # the log ends before it (another log)
        (MARKER, 0, 12, NOW + 43_200_001),  # older than half the tombstones' retention
    ],
    ids=["other-topic-id", "below-log-start", "past-log-end", "older-than-retention"],
)
def test_a_doubtful_file_starts_over_empty(
    tmp_path: Path, marker: TopicMarker, low: int, high: int, now: int
) -> None:
    cache = written(tmp_path)
    assert cache.resume(marker, low, high, now) is None
    assert rows(cache) == {}
    # and the new file is trusted once brought to the end of the log
    cache.stage(b"z", b"Z", b"fp")
    assert cache.flush(high, now)
    cache.close()
    again = CacheDir(str(tmp_path)).open(TOPIC, 0)
    assert again.resume(marker, low, high, now) == high
    assert rows(again) == {b"z": (b"Z", b"fp")}


def test_a_file_not_brought_to_the_end_is_not_trusted(tmp_path: Path) -> None:
    """A restore that stopped half-way flushed with synced 0: the next one reads it all."""
    cache = fresh(tmp_path)
    cache.stage(b"a", b"A", b"fp")
    assert cache.flush(5, 0)
    cache.close()
    assert CacheDir(str(tmp_path)).open(TOPIC, 0).resume(MARKER, 0, 10, NOW) is None


def test_a_corrupt_file_is_replaced(tmp_path: Path) -> None:
    cache = written(tmp_path)
    cache.close()
    cache.path.write_bytes(b"this is not an SQLite database" * 200)
    for suffix in ("-wal", "-shm"):
        Path(f"{cache.path}{suffix}").unlink(missing_ok=True)
    again = CacheDir(str(tmp_path)).open(TOPIC, 0)
    assert again.resume(MARKER, 0, 12, NOW) is None
    again.stage(b"a", b"A", b"fp")
    assert again.flush(12, NOW)
    assert rows(again) == {b"a": (b"A", b"fp")}


def test_a_file_damaged_while_read_is_discarded(tmp_path: Path) -> None:
    cache = written(tmp_path)
    assert cache.resume(MARKER, 0, 12, NOW) == 10
    with sqlite3.connect(cache.path) as other:
        other.execute("DROP TABLE records")
    with pytest.raises(sqlite3.Error):
        list(cache.rows())
    cache.discard(sqlite3.DatabaseError("damaged"))
    assert not cache.path.exists()
    assert cache.resume(MARKER, 0, 12, NOW) is None


def test_a_flush_for_a_re_created_topic_is_dropped(tmp_path: Path) -> None:
    """A tail reader of the old topic must not write into the new topic's file."""
    old = written(tmp_path)
    assert old.resume(MARKER, 0, 10, NOW) == 10
    new = CacheDir(str(tmp_path)).open(TOPIC, 0)
    assert new.resume(TopicMarker("topic-id-2"), 0, 0, NOW) is None
    old.stage(b"stale", b"S", b"fp")
    assert not old.flush(11, NOW)
    assert rows(new) == {}


def test_once_a_restore_takes_the_file_over_an_earlier_holder_cannot_flush(
    tmp_path: Path,
) -> None:
    """The previous owner's tail reader (another worker process of the pod) must not put
    its later offset over the new restore's records."""
    before = written(tmp_path)
    assert before.resume(MARKER, 0, 10, NOW) == 10
    after = CacheDir(str(tmp_path)).open(TOPIC, 0)
    assert after.resume(MARKER, 0, 10, NOW) == 10
    before.stage(b"c", b"C", b"fp")
    assert not before.flush(20, NOW)
    after.stage(b"d", b"D", b"fp")
    assert after.flush(11, NOW)
    again = CacheDir(str(tmp_path)).open(TOPIC, 0)
    assert again.resume(MARKER, 0, 11, NOW) == 11
    assert set(rows(again)) == {b"a", b"b", b"d"}


def test_forget_removes_only_that_topics_files(tmp_path: Path) -> None:
    folder = CacheDir(str(tmp_path))
    for topic in (TOPIC, TOPIC + "-archive"):
        for p in (0, 1):
            c = folder.open(topic, p)
            c.resume(MARKER, 0, 0, NOW)
            c.close()
    folder.forget(TOPIC)
    left = sorted(p.name for p in tmp_path.glob("*.sqlite"))
    assert left == [f"{TOPIC}-archive-0.sqlite", f"{TOPIC}-archive-1.sqlite"]


def test_a_record_decodes_to_the_item_written_binaries_and_nesting_included() -> None:
    item = {
        "pk": {"S": "ké"},
        "n": {"N": "1.50"},
        "b": {"B": b"\x00\xff"},
        "bs": {"BS": [b"a", b"b"]},
        "m": {"M": {"x": {"B": b"\x01"}, "l": {"L": [{"S": "s"}, {"B": b"\x02"}]}}},
        "ss": {"SS": ["a"]},
        "ok": {"BOOL": True},
        "none": {"NULL": True},
    }
    value, headers = encode_item(item, 0)
    assert decode_record(value, list(headers)) == item
    # the item field read without the Avro reader: long (multi-byte length) and non-ASCII
    for text in ("", "é" * 5000, "x" * 63, "x" * 64, "x" * 100_000):
        big = {"pk": {"S": "k"}, "t": {"S": text}}
        value, headers = encode_item(big, 1_800_000_000_000)
        assert decode_record(value, list(headers)) == big


def test_loading_an_empty_store_matches_putting_item_by_item() -> None:
    items = {
        f'["S:h{i % 3}","N:{i}"]': {"h": {"S": f"h{i % 3}"}, "r": {"N": str(i)}} for i in range(9)
    }
    items["#token:abc"] = {"fingerprint": "f", "written_ms": 1}
    loaded = PartitionStore("t", 0, "h")
    loaded.load(items, item_size)
    one_by_one = PartitionStore("t", 0, "h")
    for key, item in items.items():
        if not key.startswith("#token:"):
            one_by_one.put(key, item, item_size)
    assert len(loaded) == len(one_by_one) == 9
    assert loaded.size_bytes == one_by_one.size_bytes
    assert loaded.tokens == {"#token:abc": items["#token:abc"]}
    assert sorted(loaded.with_hash("S:h1")) == sorted(one_by_one.with_hash("S:h1"))
    assert [loaded.version(k).split(":")[1] for k in items if k[0] != "#"] == [
        one_by_one.version(k).split(":")[1] for k in items if k[0] != "#"
    ]
