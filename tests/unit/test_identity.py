"""The installation's region and account: settings, and the ARNs built and parsed with them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from eventplane import arn
from eventplane.bus.entries import envelope
from eventplane.config import ConfigError, load_settings
from eventplane.functions.models.functions import validate_role
from eventplane.gateway.sigv4 import SignedRequest, Verifier
from eventplane.security.tokens import Principal
from eventplane.tables.model import parse_stream_arn

REGION, ACCOUNT = "eu-west-1", "123456789012"


@pytest.fixture
def configured() -> Iterator[None]:
    """This process formats ARNs in eu-west-1 / 123456789012, as a server so configured."""
    arn.configure(REGION, ACCOUNT)
    try:
        yield
    finally:
        arn.configure(arn.DEFAULT_REGION, arn.DEFAULT_ACCOUNT)


# --- settings ---------------------------------------------------------------------------


def test_defaults_keep_local_and_zero_account() -> None:
    s = load_settings({})
    assert (s.region, s.account_id) == ("local", "000000000000")


@pytest.mark.parametrize("region", ["eu-west-1", "us-gov-east-1", "ap-southeast-2", "local"])
def test_region_accepts_aws_names_and_local(region: str) -> None:
    assert load_settings({"EVENTPLANE_REGION": region}).region == region


@pytest.mark.parametrize("region", ["EU-WEST-1", "eu-west", "euwest1", "mars", "", "eu-west-1a"])
def test_region_refuses_other_shapes_naming_the_setting(region: str) -> None:
    with pytest.raises(ConfigError, match=r"^EVENTPLANE_REGION: must be a region like") as info:
        load_settings({"EVENTPLANE_REGION": region})
    assert info.value.setting == "EVENTPLANE_REGION"


@pytest.mark.parametrize("account", ["12345678901", "1234567890123", "abcdefghijkl", ""])
def test_account_must_be_12_digits(account: str) -> None:
    with pytest.raises(ConfigError, match=r"^EVENTPLANE_ACCOUNT_ID: must be a 12-digit") as info:
        load_settings({"EVENTPLANE_ACCOUNT_ID": account})
    assert info.value.setting == "EVENTPLANE_ACCOUNT_ID"


def test_yaml_keys_and_environment_precedence(tmp_path: Path) -> None:
    config = tmp_path / "eventplane.yaml"
    config.write_text('region: eu-central-1\naccount_id: "111122223333"\n')
    s = load_settings({"EVENTPLANE_CONFIG": str(config), "EVENTPLANE_REGION": REGION})
    assert (s.region, s.account_id) == (REGION, "111122223333")


# --- ARNs -------------------------------------------------------------------------------


def test_every_builder_writes_the_configured_identity(configured: None) -> None:
    built = [
        arn.queue_arn("q"),
        arn.topic_arn("t"),
        arn.subscription_arn("t", "s1"),
        arn.bus_arn("b"),
        arn.rule_arn("b", "r"),
        arn.archive_arn("a"),
        arn.replay_arn("r"),
        arn.schema_arn("s"),
        arn.function_arn("f", "live"),
        arn.mapping_arn("m"),
        arn.state_machine_arn("sm"),
        arn.execution_arn("sm", "e"),
        arn.activity_arn("act"),
        arn.table_arn("tb"),
        arn.stream_arn("tb", "2026-01-01T00:00:00.000"),
    ]
    for text in built:
        found = arn.resource(text)  # and each parses back as its own kind
        assert (found.arn.region, found.arn.account) == (REGION, ACCOUNT), text
        assert str(found.arn) == text
    assert arn.queue_arn("q") == "arn:aws:sqs:eu-west-1:123456789012:q"


def test_explicit_region_and_account_win_and_empty_ones_stay_empty(configured: None) -> None:
    assert arn.format_arn("sqs", "q", "us-east-1", "999999999999").split(":")[3:5] == [
        "us-east-1",
        "999999999999",
    ]
    iam = arn.parse("arn:aws:iam::123456789012:role/r")
    assert str(iam) == "arn:aws:iam::123456789012:role/r"


def test_other_installations_arns_are_accepted(configured: None) -> None:
    other = "arn:aws:sqs:local:000000000000:orders"
    assert arn.queue_name(other) == "orders"
    assert arn.target("arn:aws-cn:lambda:cn-north-1:210987654321:function:f:prod") is not None
    stream = "arn:aws:dynamodb:us-east-1:999999999999:table/orders/stream/2026-01-01T00:00:00.000"
    assert parse_stream_arn(stream) == ("orders", "2026-01-01T00:00:00.000")


# --- who carries the identity -----------------------------------------------------------


def test_event_envelope_default_role_and_principals_use_it(configured: None) -> None:
    event = envelope(source="s", detail_type="d", detail={}, resources=[], time_ms=0)
    assert (event["region"], event["account"]) == (REGION, ACCOUNT)
    assert validate_role(None) == "arn:aws:iam::123456789012:role/eventplane"
    assert Principal(name="ci").account == ACCOUNT


def test_open_gateway_calls_get_the_configured_account(configured: None) -> None:
    unsigned = Verifier({}, open_access=True).verify(SignedRequest("GET", "/", "", {}, b""))
    assert unsigned.account == ACCOUNT
