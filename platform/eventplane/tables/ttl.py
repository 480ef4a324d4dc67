"""Time to live: the owner of a partition deletes the items whose expiry has passed.

DynamoDB reads the TTL attribute as a Number of epoch seconds and deletes an item
some time after that moment (items stay readable until then); a missing or
non-Number attribute never expires, nor does one more than five years in the
past (DynamoDB's guard against milliseconds and other units). The sweep here runs
on a cadence on the partition's owner and deletes through the ordinary writer, so
the delete is a durable changelog tombstone plus a REMOVE stream record, marked
as done by the service (``userIdentity``) as DynamoDB marks TTL deletions.

The clock is injected; a server takes an offset from
``EVENTPLANE_TABLES_CLOCK_OFFSET_MS`` (tests move a real server's clock that way)
and the cadence from ``EVENTPLANE_TABLES_TTL_SWEEP_MS``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from eventplane.errors import EventplaneError
from eventplane.observability.logging import get_logger
from eventplane.runtime import Clock, wall_clock_ms
from eventplane.tables import metrics
from eventplane.tables.model import TableDef
from eventplane.tables.store import PartitionStore
from eventplane.tables.writer import Change, Staged

_log = get_logger("eventplane.tables.ttl")

Item = dict[str, Any]

OFFSET_ENV = "EVENTPLANE_TABLES_CLOCK_OFFSET_MS"
SWEEP_ENV = "EVENTPLANE_TABLES_TTL_SWEEP_MS"
DEFAULT_SWEEP_MS = 10_000
MAX_DELETES_PER_STEP = 100  # one writer step (one Kafka transaction) stays small
FIVE_YEARS_S = 5 * 365 * 24 * 3600
TOKEN_WINDOW_MS = 10 * 60 * 1000  # how long a ClientRequestToken is remembered


def clock_from_env() -> Clock:
    offset = int(os.environ.get(OFFSET_ENV, "0") or 0)
    if not offset:
        return wall_clock_ms
    return lambda: wall_clock_ms() + offset


def sweep_seconds() -> float:
    return max(int(os.environ.get(SWEEP_ENV, "") or DEFAULT_SWEEP_MS), 50) / 1000


def expiry_of(item: Item, attribute: str) -> Decimal | None:
    """The item's expiry in epoch seconds, or None when it has no Number there."""
    value = item.get(attribute)
    if not isinstance(value, dict) or set(value) != {"N"}:
        return None
    try:
        return Decimal(str(value["N"]))
    except InvalidOperation:
        return None


def is_expired(item: Item | None, attribute: str, now_ms: int) -> bool:
    if item is None:
        return False
    expiry = expiry_of(item, attribute)
    if expiry is None:
        return False
    now_s = Decimal(now_ms) / 1000
    return now_s - FIVE_YEARS_S <= expiry <= now_s


def expired_keys(
    entries: Iterable[tuple[str, Item]], attribute: str, now_ms: int, limit: int
) -> list[str]:
    """Up to ``limit`` keys of items that look expired.

    The scan covers every item of the partition, so it compares floats (exact to
    well under a millisecond for epoch seconds); the delete step checks each one it
    found again with exact decimals (``is_expired``) before deleting it.
    """
    high = now_ms / 1000
    low = high - FIVE_YEARS_S
    found: list[str] = []
    for key, item in entries:
        value = item.get(attribute)
        if value.__class__ is not dict or len(value) != 1 or "N" not in value:
            continue
        try:
            expiry = float(value["N"])
        except (TypeError, ValueError):
            continue
        if low <= expiry <= high:
            found.append(key)
            if len(found) >= limit:
                break
    return found


def sweep_step(
    table: TableDef, partition: int, keys: list[str], clock: Clock
) -> Callable[[Staged], tuple[list[Change], int]]:
    """A writer step deleting the items that are still expired when it runs (a write
    since the sweep looked may have moved the expiry or removed the item)."""

    def step(staged: Staged) -> tuple[list[Change], int]:
        now = clock()
        changes: list[Change] = []
        for key in keys:
            old = staged.get(table.name, partition, key)
            if old is None or not is_expired(old, table.ttl.attribute_name, now):
                continue
            changes.append(
                Change(
                    table,
                    partition,
                    key,
                    {n: old[n] for n in table.key_names},
                    old,
                    None,
                    by_service=True,
                )
            )
        return changes, len(changes)

    return step


class Sweeper:
    """The background sweep of the partitions this replica owns, on a cadence.

    Each round deletes, per partition of a table with TTL enabled, up to
    ``MAX_DELETES_PER_STEP`` expired items in one writer step (the rest next round),
    and drops ClientRequestToken records older than their 10-minute window.
    """

    def __init__(
        self,
        stores: Callable[[], list[tuple[str, int, PartitionStore]]],
        lookup: Callable[[str], TableDef | None],
        submit: Callable[[Callable[[Staged], tuple[list[Change], int]]], Awaitable[int]],
        clock: Clock,
    ) -> None:
        self._stores = stores
        self._lookup = lookup
        self._submit = submit
        self._clock = clock

    async def run(self, every_seconds: float) -> None:
        while True:
            await asyncio.sleep(every_seconds)
            try:
                await self.sweep()
            except EventplaneError as exc:  # a partition moved, Kafka hiccuped: next round
                _log.info("ttl sweep skipped", error=str(exc))
            except Exception:
                _log.exception("ttl sweep failed")

    async def sweep(self) -> int:
        """One round; returns how many items it deleted."""
        deleted = 0
        for name, partition, store in self._stores():
            table = self._lookup(name)
            if table is None:
                continue
            now = self._clock()
            stale = expired_tokens(store.tokens, now)
            if stale:
                await self._submit(_drop_tokens(table, partition, stale))
            if not table.ttl.enabled:
                continue
            # A large partition takes a while to look through: off the event loop, over a
            # copy of its entries (writes replace item dicts, never change them in place).
            keys = await asyncio.to_thread(
                expired_keys,
                store.entries(),
                table.ttl.attribute_name,
                now,
                MAX_DELETES_PER_STEP,
            )
            if keys:
                done = await self._submit(sweep_step(table, partition, keys, self._clock))
                metrics.TTL_DELETIONS.labels(name).inc(done)
                deleted += done
        return deleted


def expired_tokens(tokens: dict[str, dict[str, Any]], now_ms: int) -> list[str]:
    return [k for k, r in tokens.items() if now_ms - int(r["written_ms"]) >= TOKEN_WINDOW_MS]


def _drop_tokens(
    table: TableDef, partition: int, keys: list[str]
) -> Callable[[Staged], tuple[list[Change], int]]:
    def step(staged: Staged) -> tuple[list[Change], int]:
        return [Change(table, partition, k, {}, None, None) for k in keys], 0

    return step
