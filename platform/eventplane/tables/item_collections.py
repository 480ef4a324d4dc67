"""The item-collection limit of tables with local secondary indexes.

An item collection is every item of one partition-key value plus their entries in
the table's LSIs. DynamoDB keeps it under 10 GB on such tables (LSIs live with the
items, so the collection cannot be split) and refuses a write that would grow it
past that with ItemCollectionSizeLimitExceededException; tables without LSIs have
no such limit. Our owner holds the collection in one partition's store likewise, so
it tracks each collection's bytes as items change and checks every growing write.

The limit is ``Settings.tables_item_collection_limit_bytes``
(``EVENTPLANE_TABLES_ITEM_COLLECTION_LIMIT_BYTES``, which tests lower); the default is
DynamoDB's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from eventplane.config import Settings
from eventplane.tables.expr import item_size
from eventplane.tables.keys import canonical_value
from eventplane.tables.model import TableDef

Item = dict[str, Any]

DEFAULT_LIMIT_BYTES: int = Settings.tables_item_collection_limit_bytes
MESSAGE = "Collection size exceeded"

# (table, partition, canonical partition-key value)
CollectionKey = tuple[str, int, str]


def weigher(table: TableDef) -> Callable[[Item], int] | None:
    """An item's bytes in its collection (item plus LSI entries); None without LSIs."""
    lsis = table.lsis
    if not lsis:
        return None
    keys = table.key_names

    def weigh(item: Item) -> int:
        return item_size(item) + sum(
            item_size(lsi.project(item, keys)) for lsi in lsis if lsi.holds(item)
        )

    return weigh


def growth(table: TableDef, old: Item | None, new: Item | None) -> tuple[str, int] | None:
    """(partition-key value, bytes the change adds to its collection), None without LSIs."""
    weigh = weigher(table)
    if weigh is None or (old is None and new is None):
        return None
    some = new if new is not None else old
    assert some is not None
    hk = canonical_value(some[table.hash_key])
    return hk, (weigh(new) if new is not None else 0) - (weigh(old) if old is not None else 0)


def exceeds(
    committed: Callable[[CollectionKey], int],
    pending: dict[CollectionKey, int],
    changes: Iterable[Any],
    limit: int,
) -> bool:
    """Whether ``changes`` (writer Changes, in order) grow some collection past ``limit``.

    ``pending`` holds the growth of changes staged before these; it is not modified.
    A change that shrinks or keeps its collection always passes, as on DynamoDB a
    delete or a smaller item is accepted from a collection already over the limit.
    """
    mine: dict[CollectionKey, int] = {}
    for c in changes:
        if c.is_token:
            continue
        grown = growth(c.table, c.old, c.new)
        if grown is None:
            continue
        hk, delta = grown
        key = (c.table.name, c.partition, hk)
        mine[key] = mine.get(key, 0) + delta
        if delta > 0 and committed(key) + pending.get(key, 0) + mine[key] > limit:
            return True
    return False
