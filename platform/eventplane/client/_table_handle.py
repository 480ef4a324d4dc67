"""``tables.table(name)``: one table in plain Python values, like boto3's ``Table``.

Written once, as ``AsyncTable`` over ``AsyncTablesClient``; the blocking ``Table``
runs the same coroutines on the blocking client's core (see ``client._facade``).
Values go in and come out without type tags: str, int/Decimal, bytes, bool, None,
dict, list and sets, converted by ``client._attribute_values``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from eventplane.attribute_values import deserialize_item, serialize, serialize_item
from eventplane.client._facade import blocking
from eventplane.client._table_types import ItemPage

if TYPE_CHECKING:
    from eventplane.client.tables import AsyncTablesClient, TablesClient

__all__ = ["AsyncTable", "Table"]

Item = dict[str, Any]


def _kw(
    names: Mapping[str, str] | None, values: Mapping[str, Any] | None, kw: dict[str, Any]
) -> dict[str, Any]:
    if names:
        kw["expression_attribute_names"] = dict(names)
    if values:
        kw["expression_attribute_values"] = {k: serialize(v) for k, v in values.items()}
    return kw


def _plain(item: Item | None) -> dict[str, Any] | None:
    return deserialize_item(item) if item is not None else None


async def _all(fetch: Callable[[Item | None], Awaitable[ItemPage]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    start: Item | None = None
    while True:
        page = await fetch(start)
        out.extend(deserialize_item(i) for i in page.items)
        if page.last_evaluated_key is None:
            return out
        start = page.last_evaluated_key


class AsyncTable:
    """Plain-Python convenience over one table (asyncio): values without type tags."""

    def __init__(self, client: AsyncTablesClient, name: str) -> None:
        self._c = client
        self.name = name

    async def put_item(
        self,
        item: Mapping[str, Any],
        condition: str = "",
        *,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> dict[str, Any] | None:
        kw = _kw(names, values, kw)
        return _plain(
            await self._c.put_item(
                self.name, serialize_item(item), condition_expression=condition, **kw
            )
        )

    async def get_item(self, key: Mapping[str, Any], **kw: Any) -> dict[str, Any] | None:
        return _plain(await self._c.get_item(self.name, serialize_item(key), **kw))

    async def update_item(
        self,
        key: Mapping[str, Any],
        update: str,
        condition: str = "",
        *,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        return_values: str = "ALL_NEW",
        **kw: Any,
    ) -> dict[str, Any] | None:
        kw = _kw(names, values, kw)
        return _plain(
            await self._c.update_item(
                self.name,
                serialize_item(key),
                update_expression=update,
                condition_expression=condition,
                return_values=return_values,
                **kw,
            )
        )

    async def delete_item(
        self,
        key: Mapping[str, Any],
        condition: str = "",
        *,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> dict[str, Any] | None:
        kw = _kw(names, values, kw)
        return _plain(
            await self._c.delete_item(
                self.name, serialize_item(key), condition_expression=condition, **kw
            )
        )

    async def query(
        self,
        key_condition: str,
        *,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> list[dict[str, Any]]:
        """Every item the key condition selects (follows all pages)."""
        kw = _kw(names, values, kw)
        return await _all(
            lambda start: self._c.query(self.name, key_condition, exclusive_start_key=start, **kw)
        )

    async def scan(
        self,
        *,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> list[dict[str, Any]]:
        """Every item of the table (follows all pages)."""
        kw = _kw(names, values, kw)
        return await _all(lambda start: self._c.scan(self.name, exclusive_start_key=start, **kw))


class Table:
    """Plain-Python convenience over one table: values in and out without type tags.

    A blocking facade over ``AsyncTable`` on the blocking client's core, which
    already runs over the blocking channel.
    """

    def __init__(self, client: TablesClient, name: str) -> None:
        self._core = AsyncTable(client._core, name)
        self.name = name

    put_item = blocking(AsyncTable.put_item)
    get_item = blocking(AsyncTable.get_item)
    update_item = blocking(AsyncTable.update_item)
    delete_item = blocking(AsyncTable.delete_item)
    query = blocking(AsyncTable.query)
    scan = blocking(AsyncTable.scan)
