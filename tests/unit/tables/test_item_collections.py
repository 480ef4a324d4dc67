"""The item-collection limit's setting (Settings.tables_item_collection_limit_bytes); the
limit itself is tested on a real server in tests/integration/tables/test_item_collections.py."""

from __future__ import annotations

import pytest

from eventplane.config import ConfigError, load_settings
from eventplane.tables.item_collections import DEFAULT_LIMIT_BYTES

SETTING = "EVENTPLANE_TABLES_ITEM_COLLECTION_LIMIT_BYTES"


def test_the_default_limit_is_dynamodbs() -> None:
    assert load_settings({}).tables_item_collection_limit_bytes == 10 * 1024**3
    assert DEFAULT_LIMIT_BYTES == 10 * 1024**3


def test_the_environment_lowers_the_limit() -> None:
    assert load_settings({SETTING: "4000"}).tables_item_collection_limit_bytes == 4000


@pytest.mark.parametrize(
    ("raw", "fragment"), [("ten gigabytes", "whole number"), ("0", "at least 1")]
)
def test_a_bad_limit_setting_names_itself(raw: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment) as info:
        load_settings({SETTING: raw})
    assert info.value.setting == SETTING
