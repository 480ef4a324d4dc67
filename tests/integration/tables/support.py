"""Helpers of the tables integration tests."""

from __future__ import annotations

from eventplane.client import Client
from eventplane.testing import answers, eventually


def wait_until_known(client: Client, name: str, timeout: float = 30) -> None:
    """Until ``client``'s replica describes table ``name`` (tables are ACTIVE once made).

    A replica's registry view learns of a table a moment after its creation through
    another replica; a write through it before then is ResourceNotFound (CI saw it).
    """
    eventually(lambda: answers(lambda: client.tables.describe_table(name)), timeout=timeout)
