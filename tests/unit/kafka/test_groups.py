"""Which group protocol an owner group takes, and the librdkafka settings of each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eventplane.config import ConfigError, load_settings
from eventplane.kafka import groups


@pytest.fixture(autouse=True)
def _fresh_choices() -> Iterator[None]:
    groups._chosen.clear()
    yield
    groups._chosen.clear()


def _brokers_answer(monkeypatch: pytest.MonkeyPatch, problem: str | None) -> list[str]:
    asked: list[str] = []

    def ask(settings: object, group: str) -> str | None:
        asked.append(group)
        return problem

    monkeypatch.setattr(groups, "_ask_session_timeout", ask)
    return asked


def test_auto_takes_the_consumer_protocol_with_the_range_assignor_when_granted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked = _brokers_answer(monkeypatch, None)
    settings = load_settings({"EVENTPLANE_KAFKA_GROUP_PROTOCOL": "auto"})
    conf = groups.owner_group_config(settings, "g")
    assert conf == {"group.protocol": "consumer", "group.remote.assignor": "range"}
    # Decided once per group: the second member of the process does not ask again.
    groups.owner_group_config(settings, "g")
    assert asked == ["g"]


def test_auto_keeps_the_classic_protocol_and_its_6_s_session_when_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _brokers_answer(monkeypatch, "consumer.session.timeout.ms must be in the range 45000 ...")
    auto = load_settings({"EVENTPLANE_KAFKA_GROUP_PROTOCOL": "auto"})
    conf = groups.owner_group_config(auto, "g")
    assert conf["partition.assignment.strategy"] == "cooperative-sticky"
    assert conf["session.timeout.ms"] == 6000
    assert "group.protocol" not in conf


def test_consumer_is_kept_when_configured_even_if_the_timeout_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _brokers_answer(monkeypatch, "refused")
    settings = load_settings({"EVENTPLANE_KAFKA_GROUP_PROTOCOL": "consumer"})
    assert groups.owner_group_config(settings, "g")["group.protocol"] == "consumer"


def test_auto_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _brokers_answer(monkeypatch, None)
    assert groups.group_protocol(load_settings({}), "g") == "consumer"
    assert asked == ["g"]


def test_classic_never_asks_the_brokers(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _brokers_answer(monkeypatch, None)
    settings = load_settings({"EVENTPLANE_KAFKA_GROUP_PROTOCOL": "Classic"})
    assert groups.group_protocol(settings, "g2") == "classic"
    assert asked == []


def test_an_unknown_protocol_is_a_config_error_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match="EVENTPLANE_KAFKA_GROUP_PROTOCOL"):
        load_settings({"EVENTPLANE_KAFKA_GROUP_PROTOCOL": "eager"})


def _record_alterations(monkeypatch: pytest.MonkeyPatch, refuse: str = "") -> list[dict[str, int]]:
    asked: list[dict[str, int]] = []

    def alter(admin: object, settings: object, group: str, values: dict[str, int]) -> str | None:
        asked.append(values)
        return "unknown group config" if refuse and refuse in values else None

    monkeypatch.setattr(groups, "AdminClient", lambda config: object())
    monkeypatch.setattr(groups, "_alter_group", alter)
    return asked


def test_the_owner_groups_ask_for_assignments_without_batching(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked = _record_alterations(monkeypatch)
    assert groups._ask_session_timeout(load_settings({}), "g") is None
    assert asked == [
        {"consumer.session.timeout.ms": 6000, "consumer.heartbeat.interval.ms": 1000},
        {"consumer.assignment.interval.ms": 0},
    ]


def test_a_broker_without_assignment_batching_still_grants_the_consumer_protocol(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Kafka 4.0-4.2 know no consumer.assignment.interval.ms (and assign without delay).
    _record_alterations(monkeypatch, refuse="consumer.assignment.interval.ms")
    assert groups._ask_session_timeout(load_settings({}), "g") is None


def test_a_refused_session_timeout_is_the_problem_and_nothing_more_is_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked = _record_alterations(monkeypatch, refuse="consumer.session.timeout.ms")
    assert groups._ask_session_timeout(load_settings({}), "g") == "unknown group config"
    assert len(asked) == 1
