"""TTL: which items expire, the sweep over owned partitions with a fixed clock, the stream
record of a TTL deletion, and the TTL setting's rules. Nothing running is needed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from eventplane.errors import ValidationException
from eventplane.kafka import codec
from eventplane.runtime import FixedClock
from eventplane.tables import ttl
from eventplane.tables.expr import item_size
from eventplane.tables.keys import canonical_key
from eventplane.tables.model import (
    AttributeDefinition,
    CreateTableInput,
    KeySchemaElement,
    StreamSpecification,
    TableDef,
    TimeToLive,
    new_table,
)
from eventplane.tables.store import PartitionStore
from eventplane.tables.streams import encode_change, to_record
from eventplane.tables.table_updates import update_time_to_live
from eventplane.tables.writer import Change, Staged

NOW_S = 1_800_000_000
NOW_MS = NOW_S * 1000


def table(ttl_on: bool = True) -> TableDef:
    t = new_table(
        CreateTableInput(
            "sessions",
            [KeySchemaElement("id", "HASH")],
            [AttributeDefinition("id", "S")],
            StreamSpecification(True, "NEW_AND_OLD_IMAGES"),
            1,
        ),
        NOW_MS - 1000,
    )
    return update_time_to_live(t, TimeToLive("expires", True)) if ttl_on else t


def item(ident: str, expires: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": {"S": ident}}
    if expires is not None:
        out["expires"] = expires
    return out


def test_only_numbers_of_epoch_seconds_in_the_past_expire() -> None:
    attr = "expires"
    assert ttl.is_expired(item("a", {"N": str(NOW_S - 1)}), attr, NOW_MS)
    assert ttl.is_expired(item("a", {"N": str(NOW_S)}), attr, NOW_MS)
    assert ttl.is_expired(item("a", {"N": f"{NOW_S - 1}.5"}), attr, NOW_MS)
    assert not ttl.is_expired(item("a", {"N": str(NOW_S + 1)}), attr, NOW_MS)
    assert not ttl.is_expired(item("a"), attr, NOW_MS)  # no attribute
    assert not ttl.is_expired(item("a", {"S": str(NOW_S - 10)}), attr, NOW_MS)  # a string
    assert not ttl.is_expired(item("a", {"NS": [str(NOW_S - 10)]}), attr, NOW_MS)  # a set
    # Milliseconds by mistake look like the far future; over five years ago is ignored.
    assert not ttl.is_expired(item("a", {"N": str(NOW_MS)}), attr, NOW_MS)
    assert not ttl.is_expired(item("a", {"N": str(NOW_S - 6 * 365 * 86400)}), attr, NOW_MS)
    assert ttl.is_expired(item("a", {"N": str(NOW_S - 4 * 365 * 86400)}), attr, NOW_MS)


def _store(t: TableDef, items: list[dict[str, Any]]) -> PartitionStore:
    store = PartitionStore(t.name, 0, t.hash_key)
    store.load({canonical_key(i, t.key_names): i for i in items}, item_size)
    return store


class FakeWriter:
    """Runs steps like the writer does (against the store, then applies)."""

    def __init__(self, store: PartitionStore) -> None:
        self.store = store
        self.committed: list[Change] = []

    async def submit(self, step: Callable[[Staged], tuple[list[Change], Any]]) -> Any:
        def read(table: str, partition: int, key: str) -> Any:
            return self.store.tokens.get(key) if key.startswith("#") else self.store.get(key)

        changes, result = step(Staged(read))
        for c in changes:
            if c.is_token:
                self.store.tokens.pop(c.key, None)
            elif c.new is None:
                self.store.delete(c.key, item_size)
        self.committed.extend(changes)
        return result


def _sweeper(t: TableDef, store: PartitionStore, clock: FixedClock) -> tuple[Any, FakeWriter]:
    writer = FakeWriter(store)
    sweeper = ttl.Sweeper(
        lambda: [(t.name, 0, store)],
        lambda name: t if name == t.name else None,
        writer.submit,
        clock,
    )
    return sweeper, writer


def test_the_sweep_deletes_what_expired_and_only_when_the_clock_reaches_it() -> None:
    t = table()
    store = _store(
        t,
        [
            item("soon", {"N": str(NOW_S + 60)}),
            item("later", {"N": str(NOW_S + 3600)}),
            item("never"),
            item("text", {"S": "1"}),
        ],
    )
    clock = FixedClock(NOW_MS)
    sweeper, writer = _sweeper(t, store, clock)
    assert asyncio.run(sweeper.sweep()) == 0
    assert len(store) == 4
    clock.advance(61_000)
    assert asyncio.run(sweeper.sweep()) == 1
    assert store.get(canonical_key(item("soon"), t.key_names)) is None
    (change,) = writer.committed
    assert change.by_service and change.new is None and change.keys == {"id": {"S": "soon"}}
    assert change.old is not None and change.old["expires"] == {"N": str(NOW_S + 60)}
    clock.advance(3600_000)
    assert asyncio.run(sweeper.sweep()) == 1
    assert sorted(k for k, _ in store.entries()) == sorted(
        canonical_key(item(i), t.key_names) for i in ("never", "text")
    )


def test_a_table_without_ttl_is_left_alone() -> None:
    t = table(ttl_on=False)
    store = _store(t, [item("old", {"N": "1700000000"})])
    sweeper, writer = _sweeper(t, store, FixedClock(NOW_MS))
    assert asyncio.run(sweeper.sweep()) == 0
    assert len(store) == 1 and not writer.committed


def test_the_step_rechecks_an_item_rewritten_since_the_sweep_looked() -> None:
    t = table()
    key = canonical_key(item("a"), t.key_names)
    current = item("a", {"N": str(NOW_S + 3600)})  # extended meanwhile
    step = ttl.sweep_step(t, 0, [key], FixedClock(NOW_MS))
    changes, deleted = step(Staged(lambda table, p, k: current))
    assert changes == [] and deleted == 0


def test_one_sweep_deletes_at_most_a_bounded_batch_per_partition() -> None:
    t = table()
    many = [item(f"i{n}", {"N": str(NOW_S - 10)}) for n in range(ttl.MAX_DELETES_PER_STEP + 5)]
    store = _store(t, many)
    sweeper, _ = _sweeper(t, store, FixedClock(NOW_MS))
    assert asyncio.run(sweeper.sweep()) == ttl.MAX_DELETES_PER_STEP
    assert asyncio.run(sweeper.sweep()) == 5
    assert len(store) == 0


def test_a_ttl_deletion_is_a_remove_by_the_service_on_the_stream() -> None:
    t = table()
    old = item("a", {"N": str(NOW_S - 1)})
    change = Change(t, 0, canonical_key(old, t.key_names), {"id": old["id"]}, old, None, True)
    value, headers = encode_change(change, NOW_MS, "e1")
    _, rec = codec.decode(value, headers)
    record = to_record(rec, 7)
    assert record["eventName"] == "REMOVE"
    assert record["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert record["dynamodb"]["OldImage"] == json.loads(json.dumps(old))
    user = Change(t, 0, change.key, {"id": old["id"]}, old, None)
    _, rec = codec.decode(*encode_change(user, NOW_MS, "e2"))
    assert "userIdentity" not in to_record(rec, 8)


def test_expired_request_tokens_are_dropped_by_the_sweep() -> None:
    t = table(ttl_on=False)
    store = _store(t, [])
    store.tokens["#token:old"] = {"fingerprint": "x", "written_ms": NOW_MS - 11 * 60_000}
    store.tokens["#token:new"] = {"fingerprint": "y", "written_ms": NOW_MS - 60_000}
    sweeper, writer = _sweeper(t, store, FixedClock(NOW_MS))
    asyncio.run(sweeper.sweep())
    assert list(store.tokens) == ["#token:new"]
    assert [(c.key, c.new) for c in writer.committed] == [("#token:old", None)]


def test_update_time_to_live_follows_dynamodb_rules() -> None:
    t = table(ttl_on=False)
    on = update_time_to_live(t, TimeToLive("expires", True))
    assert on.ttl == TimeToLive("expires", True)
    assert TableDef.from_spec(on.name, on.to_spec()).ttl == on.ttl  # survives the registry
    with pytest.raises(ValidationException, match=r"TimeToLive is already enabled$"):
        update_time_to_live(on, TimeToLive("expires", True))
    with pytest.raises(ValidationException, match=r"different AttributeName.*expires"):
        update_time_to_live(on, TimeToLive("other", True))
    with pytest.raises(ValidationException, match="different AttributeName"):
        update_time_to_live(on, TimeToLive("other", False))
    off = update_time_to_live(on, TimeToLive("expires", False))
    assert not off.ttl.enabled
    with pytest.raises(ValidationException, match=r"TimeToLive is already disabled$"):
        update_time_to_live(off, TimeToLive("expires", False))
    with pytest.raises(ValidationException, match="attributeName"):
        update_time_to_live(off, TimeToLive("", True))
    assert update_time_to_live(off, TimeToLive("other", True)).ttl.attribute_name == "other"


def test_the_clock_offset_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ttl.OFFSET_ENV, str(86_400_000))
    moved = ttl.clock_from_env()()
    monkeypatch.delenv(ttl.OFFSET_ENV)
    assert moved - ttl.clock_from_env()() >= 86_400_000 - 5_000
    monkeypatch.setenv(ttl.SWEEP_ENV, "200")
    assert ttl.sweep_seconds() == 0.2
