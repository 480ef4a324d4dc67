"""Gateway settings: port, access keys from env or YAML, open mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from eventplane.config import ConfigError, load_settings


def test_defaults() -> None:
    s = load_settings({})
    assert (s.gateway_port, s.gateway_open, dict(s.gateway_credentials)) == (4566, False, {})
    assert s.gateway_url == "http://127.0.0.1:4566"
    assert load_settings({"EVENTPLANE_GATEWAY_PORT": "0"}).gateway_url == ""


def test_credentials_from_env_and_yaml(tmp_path: Path) -> None:
    env = {"EVENTPLANE_GATEWAY_CREDENTIALS": "AK1:s1:111122223333, AK2:s:2:444455556666"}
    with pytest.raises(ConfigError, match="EVENTPLANE_GATEWAY_CREDENTIALS"):
        load_settings(env)
    env = {"EVENTPLANE_GATEWAY_CREDENTIALS": "AK1:s1:111122223333,AK2:s2:444455556666:ci"}
    # The fourth field names the principal whose policies apply; by default the key id.
    assert dict(load_settings(env).gateway_credentials) == {
        "AK1": ("s1", "111122223333", "AK1"),
        "AK2": ("s2", "444455556666", "ci"),
    }
    path = tmp_path / "c.yaml"
    path.write_text(
        "gateway_credentials:\n"
        "  AK3: {secret: s3, account: '777788889999'}\n"
        "  AK4: {secret: s4, account: '777788889999', principal: deployer}\n"
    )
    loaded = load_settings({"EVENTPLANE_CONFIG": str(path)})
    assert dict(loaded.gateway_credentials) == {
        "AK3": ("s3", "777788889999", "AK3"),
        "AK4": ("s4", "777788889999", "deployer"),
    }
    with pytest.raises(ConfigError, match="must not be empty"):
        load_settings({"EVENTPLANE_GATEWAY_CREDENTIALS": "AK1:s1:111122223333:"})
    with pytest.raises(ConfigError, match="12 digits"):
        load_settings({"EVENTPLANE_GATEWAY_CREDENTIALS": "AK1:s1:12"})


def test_open_mode_and_bad_values() -> None:
    assert load_settings({"EVENTPLANE_GATEWAY_OPEN": "true"}).gateway_open
    with pytest.raises(ConfigError, match="EVENTPLANE_GATEWAY_OPEN"):
        load_settings({"EVENTPLANE_GATEWAY_OPEN": "maybe"})
    with pytest.raises(ConfigError, match="EVENTPLANE_GATEWAY_PORT"):
        load_settings({"EVENTPLANE_GATEWAY_PORT": "70000"})
