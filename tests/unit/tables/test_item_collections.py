"""The item-collection limit's setting (tables/item_collections.py); the limit itself is
tested on a real server in tests/integration/tables/test_item_collections.py."""

from __future__ import annotations

import pytest

from eventplane.config import ConfigError
from eventplane.tables.item_collections import DEFAULT_LIMIT_BYTES, LIMIT_ENV, limit_bytes


def test_the_default_limit_is_dynamodbs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LIMIT_ENV, raising=False)
    assert limit_bytes() == DEFAULT_LIMIT_BYTES == 10 * 1024**3


def test_a_bad_limit_setting_names_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LIMIT_ENV, "ten gigabytes")
    with pytest.raises(ConfigError, match=LIMIT_ENV):
        limit_bytes()
