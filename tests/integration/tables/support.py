"""Helpers of the tables integration tests."""

from __future__ import annotations

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.testing import eventually


def wait_until_known(client: Client, name: str, timeout: float = 30) -> None:
    """Until ``client``'s replica describes table ``name`` as ACTIVE.

    A replica's registry view learns of a table a moment after its creation through
    another replica; a write through it before then is ResourceNotFound (CI saw it).
    """

    def known() -> bool:
        try:
            return client.tables.describe_table(name).table_status == "ACTIVE"
        except EventplaneError:
            return False

    eventually(known, timeout=timeout)
