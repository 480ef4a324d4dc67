"""The restore cache on a real broker: a restore with a current file reads only the
changelog's tail, and gets exactly the items a full read gets.

- the tail reader brings the file up to date from the changelog, including records
  another writer put there (the future transaction coordinator) and not records of an
  aborted transaction;
- a server restarted with its cache folder restores every item, reading from Kafka only
  what was written while it was down (deletes included);
- a table deleted and created again under the same name shows none of the old items.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import tempfile
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from eventplane.config import Settings, load_settings
from eventplane.kafka.clients import (
    TopicSpec,
    client_config,
    consumer_config,
    delete_topics,
    ensure_topics,
)
from eventplane.tables.cache_tail import CacheTail, topic_marker
from eventplane.tables.keys import canonical_key
from eventplane.tables.owner import encode_item, read_partition, restore_partition
from eventplane.tables.restore_cache import CacheDir
from eventplane.testing import EventplaneProcess, eventually, retrying, unique_cluster

pytestmark = pytest.mark.integration


def _item(i: int, n: int = 0) -> dict[str, Any]:
    return {"pk": {"S": f"k{i}"}, "n": {"N": str(n)}}


def _produce(producer: Producer, topic: str, i: int, n: int | None) -> None:
    """An item image (n) or a tombstone (None) for key k<i>, as the owner writes them."""
    key = canonical_key(_item(i), ("pk",)).encode()
    if n is None:
        producer.produce(topic, None, key=key, partition=0)
    else:
        value, headers = encode_item(_item(i, n), 0)
        producer.produce(topic, value, key=key, partition=0, headers=list(headers))


def _cached_offset(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT next_offset FROM meta").fetchone()[0])


def _end(settings: Settings, topic: str) -> int:
    reader = Consumer(consumer_config(settings, f"t.{uuid.uuid4().hex}"))
    try:
        return int(reader.get_watermark_offsets(TopicPartition(topic, 0), 10, cached=False)[1])
    finally:
        reader.close()


@pytest.fixture
def changelog(eventplane_kafka: str) -> Iterator[tuple[Settings, str]]:
    settings = load_settings({"EVENTPLANE_KAFKA_BOOTSTRAP": eventplane_kafka})
    topic = f"eventplane.tbl.cache-{uuid.uuid4().hex[:10]}"
    ensure_topics(settings, [TopicSpec(topic, 1, {"cleanup.policy": "compact"})])
    yield settings, topic
    delete_topics(settings, [topic])


def test_the_tail_reader_keeps_the_file_current(
    changelog: tuple[Settings, str], tmp_path: Path
) -> None:
    settings, topic = changelog
    producer = Producer(client_config(settings))
    for i in range(100):
        _produce(producer, topic, i, 1)
    producer.flush(30)
    marker = topic_marker(AdminClient(client_config(settings)), topic)
    folder = CacheDir(str(tmp_path))
    reader = Consumer(consumer_config(settings, f"t.{uuid.uuid4().hex}"))
    tail = CacheTail(settings)
    try:
        cache = folder.open(topic, 0)
        first = read_partition(reader, topic, 0, cache=cache, marker=marker)
        assert (first.cache, first.from_cache, first.from_log) == ("miss", 0, 100)
        tail.follow(topic, 0, cache, first.next_offset)

        # Another writer: deletes, new items, updates; and a transaction it aborts.
        for i in range(5):
            _produce(producer, topic, i, None)
        for i in (100, 101, 102, 10, 11):
            _produce(producer, topic, i, 2)
        producer.flush(30)
        aborting = Producer(
            client_config(settings, **{"transactional.id": f"t-{uuid.uuid4().hex}"})
        )
        aborting.init_transactions(30)
        aborting.begin_transaction()
        _produce(aborting, topic, 999, 9)
        _produce(aborting, topic, 20, None)
        aborting.flush(30)
        aborting.abort_transaction(30)

        # 100 + 10 records, 2 aborted ones and the abort marker (written after
        # abort_transaction returns: the end is polled too).
        def caught_up() -> bool:
            tail.pump()
            return _cached_offset(cache.path) == _end(settings, topic) == 113

        eventually(caught_up, timeout=30)
        tail.drop([(topic, 0)])

        again = read_partition(reader, topic, 0, cache=folder.open(topic, 0), marker=marker)
        assert (again.cache, again.from_cache, again.from_log) == ("hit", 98, 0)
        assert again.items == restore_partition(reader, topic, 0)  # what a full read gets
        assert '["S:k0"]' not in again.items and '["S:k999"]' not in again.items
        assert '["S:k20"]' in again.items
        assert again.items['["S:k10"]']["n"] == {"N": "2"}
    finally:
        tail.close()
        reader.close()


def _metric(server: EventplaneProcess, name: str, **labels: str) -> float:
    text = urllib.request.urlopen(server.metrics_url, timeout=10).read().decode()
    for line in text.splitlines():
        m = re.match(rf"{name}\{{(.*)\}} (\S+)$", line)
        if m and all(f'{k}="{v}"' in m.group(1) for k, v in labels.items()):
            return float(m.group(2))
    return 0.0


def _cache_file(folder: str, table: str) -> Path:
    found = list(Path(folder).glob(f"*.tbl.{table}-0.sqlite"))
    assert len(found) == 1, found
    return found[0]


def _wait_cached(settings: Settings, folder: str, table: str) -> None:
    """Until the server's tail reader has brought the file to the changelog's end."""
    path = _cache_file(folder, table)
    topic = path.name[: -len("-0.sqlite")]
    eventually(lambda: _cached_offset(path) == _end(settings, topic), timeout=30)


def _create(client: Any, name: str) -> None:
    client.tables.create_table(
        name,
        key_schema=[("pk", "HASH")],
        attribute_definitions=[("pk", "S")],
        partitions=1,
    )


@contextlib.contextmanager
def _stopped_after_caching(
    eventplane_kafka: str, items: int
) -> Iterator[tuple[Settings, str, str, str, EventplaneProcess]]:
    """A server with a cache folder that wrote ``items`` items to a new table, cached
    them, and stopped: (settings, folder, cluster, table, server)."""
    settings = load_settings({"EVENTPLANE_KAFKA_BOOTSTRAP": eventplane_kafka})
    folder = tempfile.mkdtemp(prefix="eventplane-cache-")
    cluster = unique_cluster()
    env = {"EVENTPLANE_TABLES_CACHE_DIR": folder}
    name = f"t-{uuid.uuid4().hex[:12]}"
    with EventplaneProcess(eventplane_kafka, roles="tables", cluster=cluster, env=env) as server:
        with server.client() as client:
            _create(client, name)
            for i in range(items):
                client.tables.put_item(name, _item(i, 1))
            _wait_cached(settings, folder, name)
        server.stop()
        yield settings, folder, cluster, name, server


def test_a_restart_reads_only_what_was_written_while_down(eventplane_kafka: str) -> None:
    with _stopped_after_caching(eventplane_kafka, 50) as (settings, folder, _, name, server):
        # While it is down another writer changes the changelog: 5 deletes, 2 updates,
        # 3 new items (10 records).
        topic = _cache_file(folder, name).name[: -len("-0.sqlite")]
        producer = Producer(client_config(settings))
        for i in range(5):
            _produce(producer, topic, i, None)
        for i in (10, 11, 50, 51, 52):
            _produce(producer, topic, i, 2)
        producer.flush(30)
        server.restart()
        with server.client() as client:
            items = {
                it["pk"]["S"]: it["n"]["N"]
                for it in eventually(lambda: client.tables.scan(name).items, timeout=30)
            }
            expected = {f"k{i}": "1" for i in range(5, 50)} | {
                f"k{i}": "2" for i in (10, 11, 50, 51, 52)
            }
            assert items == expected
            assert client.tables.get_item(name, {"pk": {"S": "k0"}}) is None
            assert (
                _metric(
                    server, "eventplane_table_restore_records_total", table=name, source="cache"
                )
                == 50
            )
            assert (
                _metric(
                    server, "eventplane_table_restore_records_total", table=name, source="changelog"
                )
                == 10
            )
            assert (
                _metric(server, "eventplane_table_restore_seconds_count", table=name, cache="hit")
                == 1
            )


def test_a_table_re_created_while_down_shows_none_of_the_old_items(
    eventplane_kafka: str,
) -> None:
    """Its old file is still there (this replica did not see the deletion): only the
    topic id tells it from the new table's."""
    with _stopped_after_caching(eventplane_kafka, 20) as (_, folder, cluster, name, server):
        other = EventplaneProcess(eventplane_kafka, roles="tables", cluster=cluster)
        with other, other.client() as client:
            client.tables.delete_table(name)
            retrying(lambda: _create(client, name), timeout=30)
            retrying(lambda: client.tables.put_item(name, _item(100, 3)), timeout=30)
            # More records than the old table had: its file's offset lies inside
            # the new changelog, so only the topic id can tell the two apart.
            for i in range(101, 130):
                client.tables.put_item(name, _item(i, 3))
        assert _cached_offset(_cache_file(folder, name)) > 0  # the old table's file
        server.restart()
        with server.client() as client:
            got = eventually(lambda: client.tables.scan(name).items, timeout=30)
            assert sorted(it["pk"]["S"] for it in got) == sorted(f"k{i}" for i in range(100, 130))
            assert (
                _metric(server, "eventplane_table_restore_seconds_count", table=name, cache="miss")
                == 1
            )
