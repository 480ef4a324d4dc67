"""Tokens files, TLS settings and the exposure rule, without a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from eventplane.config import ConfigError, load_settings
from eventplane.security import (
    TlsFiles,
    TokenStore,
    check_exposure,
    is_loopback,
    scrypt_hash,
    sha256_hex,
)


def test_sha256_and_scrypt_tokens_find_their_principal() -> None:
    store = TokenStore(
        [
            {"principal": "ci", "account": "111111111111", "sha256": sha256_hex("k1")},
            {"principal": "alice", "scrypt": scrypt_hash("pw", n=2**8)},
        ]
    )
    ci = store.lookup("k1")
    assert ci is not None and (ci.name, ci.account) == ("ci", "111111111111")
    alice = store.lookup("pw")
    assert alice is not None and (alice.name, alice.account) == ("alice", "000000000000")
    assert store.lookup("pw") is alice  # remembered after one derivation
    assert store.lookup("nope") is None


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"account": "111111111111", "sha256": "00" * 32}, "[0].principal"),
        ({"principal": "p", "token": "plain"}, "[0]"),
        ({"principal": "p", "sha256": "xyz"}, "[0].sha256"),
        ({"principal": "p", "account": "12", "sha256": "00" * 32}, "[0].account"),
        ({"principal": "p", "scrypt": "scrypt$1$2"}, "[0].scrypt"),
    ],
)
def test_bad_tokens_entry_names_the_field(entry: dict[str, str], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        TokenStore([entry])
    assert info.value.setting.endswith(field)


def test_tokens_file_may_be_yaml_with_a_tokens_key(tmp_path: Path) -> None:
    path = tmp_path / "tokens.yaml"
    path.write_text(f"tokens:\n  - principal: ci\n    sha256: {sha256_hex('k')}\n")
    assert TokenStore.from_file(str(path)).lookup("k") is not None


def test_half_tls_configuration_names_the_missing_setting() -> None:
    with pytest.raises(ConfigError, match="EVENTPLANE_TLS_KEY_FILE"):
        TlsFiles.from_settings(load_settings({"EVENTPLANE_TLS_CERT_FILE": "/c.pem"}))
    with pytest.raises(ConfigError, match="EVENTPLANE_TLS_CLIENT_CA_FILE"):
        TlsFiles.from_settings(load_settings({"EVENTPLANE_TLS_CLIENT_CA_FILE": "/ca.pem"}))
    assert TlsFiles.from_settings(load_settings({})) is None


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_exposure_rule() -> None:
    open_wide = {"EVENTPLANE_GRPC_HOST": "0.0.0.0"}
    with pytest.raises(ConfigError, match="--insecure"):
        check_exposure(load_settings(open_wide))
    check_exposure(load_settings({**open_wide, "EVENTPLANE_INSECURE": "1"}))
    check_exposure(load_settings({**open_wide, "EVENTPLANE_AUTH_TOKENS_FILE": "/t.yaml"}))
    check_exposure(load_settings({}))
    with pytest.raises(ConfigError, match="EVENTPLANE_INSECURE"):
        load_settings({"EVENTPLANE_INSECURE": "maybe"})


def test_metrics_tls_needs_the_certificate_and_is_off_by_default() -> None:
    from eventplane.security import metrics_tls_context

    assert metrics_tls_context(load_settings({})) is None
    with pytest.raises(ConfigError, match="EVENTPLANE_METRICS_TLS: needs EVENTPLANE_TLS_CERT_FILE"):
        metrics_tls_context(load_settings({"EVENTPLANE_METRICS_TLS": "1"}))
    with pytest.raises(ConfigError, match="EVENTPLANE_METRICS_TLS"):
        load_settings({"EVENTPLANE_METRICS_TLS": "maybe"})
