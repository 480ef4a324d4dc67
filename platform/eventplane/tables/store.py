"""The materialized items of one owned table partition, in memory.

Rebuilt from the changelog on adoption, changed only after the owner's Kafka
transaction committed, so a read never sees a write that could still vanish.
Items are grouped by partition-key value, which is what Query reads.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from eventplane.tables.keys import canonical_value

# The prefix of ClientRequestToken records in the changelog (see idempotency.py).
TOKEN_PREFIX = "#token:"

Item = dict[str, Any]


class PartitionStore:
    def __init__(
        self,
        table: str,
        partition: int,
        hash_key: str,
        weigh: Callable[[Item], int] | None = None,
        layout: int = 0,
    ) -> None:
        self.table = table
        self.partition = partition
        # The partition count this partition's items follow (``repartition.py``): the
        # store serves a table only while the table routes keys by that count.
        self.layout = layout
        self._hash_key = hash_key
        self._items: dict[str, Item] = {}
        self._by_hash: dict[str, dict[str, Item]] = {}
        self.size_bytes = 0
        # Tables with LSIs: each item collection's bytes (items and their LSI entries) by
        # partition-key value, for the 10 GB limit (``item_collections.py``).
        self._weigh = weigh
        self._collections: dict[str, int] = {}
        # Versions tell an item written away and back from an unchanged one (a
        # TransactGetItems over several replicas compares two reads): each change takes
        # the next number; every absent item shares the number of the latest delete.
        # The incarnation sets this store apart from the partition's other owners.
        self._incarnation = uuid.uuid4().hex[:12]
        self._seq = 0
        self._versions: dict[str, int] = {}
        self._last_delete = 0
        # ClientRequestToken records of this partition (key "#token:..."), not items.
        self.tokens: dict[str, dict[str, Any]] = {}
        # Each GSI's entries among this partition's items, by index partition-key value:
        # built from the items on the first read of the index (the backfill), then kept
        # in step with every put and delete. Keyed by index name; the key names tell an
        # index deleted and created again under the same name from the old one.
        self._gsis: dict[str, tuple[tuple[str, ...], dict[str, dict[str, Item]]]] = {}

    def load(self, items: dict[str, Item], size: Any) -> None:
        """Add a restore's items. Into an empty store (the restore's case) this is put()
        without what only a change of an existing item or a built GSI needs: it runs on
        the event loop, once per item of the partition."""
        if self._items or self._gsis or self._weigh is not None:
            for key, item in items.items():
                if key.startswith(TOKEN_PREFIX):
                    self.tokens[key] = item
                else:
                    self.put(key, item, size)
            return
        own, versions, by_hash, hash_key = (
            self._items,
            self._versions,
            self._by_hash,
            self._hash_key,
        )
        seq = self._seq
        total = 0
        for key, item in items.items():
            if key.startswith(TOKEN_PREFIX):
                self.tokens[key] = item
                continue
            seq += 1
            versions[key] = seq
            own[key] = item
            hk = canonical_value(item[hash_key])
            group = by_hash.get(hk)
            if group is None:
                by_hash[hk] = {key: item}
            else:
                group[key] = item
            total += size(item)
        self._seq = seq
        self.size_bytes += total

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> Item | None:
        return self._items.get(key)

    def collection_bytes(self, hash_canonical: str) -> int:
        """The committed bytes of one item collection (0 on tables without LSIs)."""
        return self._collections.get(hash_canonical, 0)

    def _weigh_in(self, item: Item, sign: int) -> None:
        if self._weigh is None:
            return
        hk = canonical_value(item[self._hash_key])
        total = self._collections.get(hk, 0) + sign * self._weigh(item)
        if total > 0:
            self._collections[hk] = total
        else:
            self._collections.pop(hk, None)

    def version(self, key: str) -> str:
        v = self._versions.get(key)
        return (
            f"{self._incarnation}:{v}"
            if v is not None
            else f"{self._incarnation}:d{self._last_delete}"
        )

    def put(self, key: str, item: Item, size: Any) -> None:
        self._seq += 1
        self._versions[key] = self._seq
        old = self._items.get(key)
        if old is not None:
            self.size_bytes -= size(old)
            self._unindex(key, old)
            self._weigh_in(old, -1)
        self._items[key] = item
        self._weigh_in(item, 1)
        self._by_hash.setdefault(canonical_value(item[self._hash_key]), {})[key] = item
        self.size_bytes += size(item)
        self._index(key, item)

    def delete(self, key: str, size: Any) -> None:
        old = self._items.pop(key, None)
        if old is None:
            return
        self._seq += 1
        self._last_delete = self._seq
        self._versions.pop(key, None)
        self.size_bytes -= size(old)
        self._unindex(key, old)
        self._weigh_in(old, -1)
        hk = canonical_value(old[self._hash_key])
        group = self._by_hash.get(hk)
        if group is not None:
            group.pop(key, None)
            if not group:
                del self._by_hash[hk]

    def _index(self, key: str, item: Item) -> None:
        for names, groups in self._gsis.values():
            if all(n in item for n in names):
                groups.setdefault(canonical_value(item[names[0]]), {})[key] = item

    def _unindex(self, key: str, old: Item) -> None:
        for names, groups in self._gsis.values():
            value = old.get(names[0])
            if value is None:
                continue
            hv = canonical_value(value)
            group = groups.get(hv)
            if group is not None:
                group.pop(key, None)
                if not group:
                    del groups[hv]

    def _gsi(self, name: str, names: tuple[str, ...]) -> dict[str, dict[str, Item]]:
        built = self._gsis.get(name)
        if built is None or built[0] != names:
            groups: dict[str, dict[str, Item]] = {}
            for key, item in self._items.items():
                if all(n in item for n in names):
                    groups.setdefault(canonical_value(item[names[0]]), {})[key] = item
            built = (names, groups)
            self._gsis[name] = built
        return built[1]

    def gsi_group(self, name: str, names: tuple[str, ...], hash_canonical: str) -> list[Item]:
        """The items of this partition in a GSI with that index partition-key value."""
        return list(self._gsi(name, names).get(hash_canonical, {}).values())

    def keep_indexes(self, names: set[str]) -> None:
        """Forget the entries of GSIs no longer defined (or being deleted)."""
        for name in [n for n in self._gsis if n not in names]:
            del self._gsis[name]

    def index_items(self, names: tuple[str, ...], gsi: str = "") -> list[Item]:
        """Every item of this partition an index holds (sparse: the ones with its keys)."""
        if gsi:
            return [i for group in self._gsi(gsi, names).values() for i in group.values()]
        return [i for i in self._items.values() if all(n in i for n in names)]

    def entries(self) -> list[tuple[str, Item]]:
        """Every item, unordered (the TTL sweep's view)."""
        return list(self._items.items())

    def with_hash(self, hash_canonical: str) -> list[tuple[str, Item]]:
        return list(self._by_hash.get(hash_canonical, {}).items())

    def scan(self) -> Iterator[tuple[str, Item]]:
        """Every item in a stable order (by canonical key), so scan pages resume exactly."""
        for key in sorted(self._items):
            yield key, self._items[key]


def json_size(item: Item) -> int:
    return len(json.dumps(item, separators=(",", ":")).encode())
