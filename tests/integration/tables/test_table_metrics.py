"""eventplane_table_* metrics on /metrics of a real server."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.tables.errors import ConditionalCheckFailedException
from eventplane.testing import EventplaneProcess, eventually

pytestmark = pytest.mark.integration


def metric(server: EventplaneProcess, name: str, table: str) -> float:
    text = urllib.request.urlopen(server.metrics_url, timeout=10).read().decode()
    for line in text.splitlines():
        if line.startswith(f'{name}{{table="{table}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_reads_writes_failures_and_items_are_counted(
    client: Client, tables_server: EventplaneProcess, make_table: Callable[..., Any]
) -> None:
    name = make_table(view=None).table_name
    for i in range(3):
        client.tables.put_item(name, {"pk": {"S": f"k{i}"}})
    client.tables.put_item(name, {"pk": {"S": "k0"}})  # no change: not a write
    with pytest.raises(ConditionalCheckFailedException):
        client.tables.put_item(
            name, {"pk": {"S": "k0"}}, condition_expression="attribute_not_exists(pk)"
        )
    client.tables.get_item(name, {"pk": {"S": "k1"}})
    client.tables.scan(name)
    assert metric(tables_server, "eventplane_table_writes_total", name) == 3
    assert metric(tables_server, "eventplane_table_conditional_check_failures_total", name) == 1
    assert metric(tables_server, "eventplane_table_reads_total", name) == 4  # 1 get + 3 scanned
    eventually(lambda: metric(tables_server, "eventplane_table_items", name) == 3)
    assert metric(tables_server, "eventplane_table_size_bytes", name) > 0
