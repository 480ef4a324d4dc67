"""The bus coordinator without Kafka: its state record's codec, and when a scheduled rule
fires (first tick after creation, once per tick, only the latest missed tick after
downtime, never while disabled). ``_commit`` is replaced by a recorder."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from confluent_kafka import KafkaException

from eventplane.bus import coordinator as coordinator_module
from eventplane.bus import entries
from eventplane.bus.coordinator import STATE_TOPIC, Coordinator, _State
from eventplane.bus.models import DEFAULT_BUS, DISABLED, RuleDef, decode_event
from eventplane.config import Settings
from eventplane.kafka import naming

Out = tuple[str, bytes, list[tuple[str, bytes]], str | None]


def ms(text: str) -> int:
    """Epoch ms of a UTC time written ``YYYY-MM-DD HH:MM[:SS]``."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def rfc3339(text: str) -> str:
    return datetime.fromisoformat(text).strftime("%Y-%m-%dT%H:%M:%SZ")


def rule(
    expression: str = "rate(1 minute)", created: str = "2024-03-01 12:00:20", **kwargs: Any
) -> RuleDef:
    return RuleDef.build(DEFAULT_BUS, "tick", None, expression, created_ms=ms(created), **kwargs)


class Harness:
    """A coordinator whose transactions are recorded instead of sent to Kafka."""

    def __init__(self, state: dict[str, _State] | None = None) -> None:
        self.now = 0.0
        self.coordinator = Coordinator(
            Settings(),
            instance_id="test",
            scheduled_rules=list,
            active_replays=list,
            save_replay=lambda replay: None,
            archive_exists=lambda name: True,
            clock=lambda: self.now,
        )
        self.coordinator._state = dict(state or {})
        self.commits: list[list[Out]] = []
        self.recording()

    def recording(self) -> None:
        setattr(self.coordinator, "_commit", self.commits.append)  # noqa: B010

    def fire(self, r: RuleDef, at: str) -> list[str]:
        """Run one tick at ``at``; the event times fired by it."""
        before = len(self.commits)
        self.now = ms(at) / 1000
        self.coordinator._fire(r, ms(at))
        return [self.fired_time(records) for records in self.commits[before:]]

    @staticmethod
    def fired_time(records: list[Out]) -> str:
        (topic, value, headers, key), (state_topic, state_value, state_headers, state_key) = records
        assert topic == naming.bus_topic(DEFAULT_BUS) and key is None
        assert state_topic == STATE_TOPIC
        assert state_key == "schedule/default:tick"
        event = decode_event(value, headers)
        state = _State.decode(state_value, state_headers)
        # The state record says exactly which tick the event is, in the same transaction.
        assert state.last_tick_ms is not None
        assert event.event["time"] == entries.rfc3339(state.last_tick_ms)
        return str(event.event["time"])


# --- _State -----------------------------------------------------------------------------


def test_state_round_trips_through_the_codec() -> None:
    state = _State(
        last_tick_ms=ms("2024-03-01 12:01"),
        positions={3: (10, 20), 0: (0, 7), 1: (5, 5)},
        events_replayed=12,
        last_replayed_ms=1_709_294_400_000,
    )
    assert _State.decode(*state.encode()) == state


def test_empty_state_round_trips() -> None:
    assert _State.decode(*_State().encode()) == _State(None, {}, 0, 0)


def test_schedule_state_round_trips() -> None:
    state = _State(last_tick_ms=0)
    assert _State.decode(*state.encode()).last_tick_ms == 0


# --- scheduled rules --------------------------------------------------------------------


def test_the_first_tick_is_the_first_boundary_after_creation() -> None:
    h = Harness()
    r = rule(created="2024-03-01 12:00:20")
    assert h.fire(r, "2024-03-01 12:00:20") == []
    assert h.fire(r, "2024-03-01 12:00:59.999") == []
    assert h.fire(r, "2024-03-01 12:01:00") == [rfc3339("2024-03-01 12:01:00")]


def test_a_rule_created_on_a_boundary_waits_for_the_next_one() -> None:
    h = Harness()
    r = rule(created="2024-03-01 12:00:00")
    assert h.fire(r, "2024-03-01 12:00:00") == []
    assert h.fire(r, "2024-03-01 12:00:30") == []
    assert h.fire(r, "2024-03-01 12:01:00.5") == [rfc3339("2024-03-01 12:01:00")]


def test_each_tick_fires_once() -> None:
    h = Harness()
    r = rule()
    fired = [
        *h.fire(r, "2024-03-01 12:01:00.2"),
        *h.fire(r, "2024-03-01 12:01:00.7"),
        *h.fire(r, "2024-03-01 12:01:59"),
        *h.fire(r, "2024-03-01 12:02:01"),
        *h.fire(r, "2024-03-01 12:02:30"),
        *h.fire(r, "2024-03-01 12:03:00"),
    ]
    assert fired == [
        rfc3339("2024-03-01 12:01:00"),
        rfc3339("2024-03-01 12:02:00"),
        rfc3339("2024-03-01 12:03:00"),
    ]


def test_the_scheduled_event_is_an_eventbridge_scheduled_event_for_the_rule() -> None:
    h = Harness()
    r = rule()
    h.fire(r, "2024-03-01 12:01:03")
    ((_topic, value, headers, _), _state) = h.commits[0]
    event = decode_event(value, headers)
    assert event.scheduled_rule == "tick"
    assert event.replay_name is None and event.rule_filter == ()
    assert not event.archivable
    assert event.ingestion_ms == ms("2024-03-01 12:01:03")
    assert event.event["source"] == "aws.events"
    assert event.event["detail-type"] == "Scheduled Event"
    assert event.event["resources"] == [r.arn]
    assert event.event["detail"] == {}
    assert event.event["version"] == "0"
    assert event.event["time"] == rfc3339("2024-03-01 12:01:00")


def test_after_downtime_only_the_latest_missed_tick_fires() -> None:
    h = Harness()
    r = rule()
    assert h.fire(r, "2024-03-01 12:01:00") == [rfc3339("2024-03-01 12:01:00")]
    # Down from 12:01:30 to 15:42:10: 220 ticks missed, one fires.
    assert h.fire(r, "2024-03-01 15:42:10") == [rfc3339("2024-03-01 15:42:00")]
    assert h.fire(r, "2024-03-01 15:42:50") == []
    assert h.fire(r, "2024-03-01 15:43:00") == [rfc3339("2024-03-01 15:43:00")]


def test_a_rule_never_fired_before_catches_up_with_one_tick() -> None:
    h = Harness()
    r = rule(created="2024-03-01 12:00:20")
    assert h.fire(r, "2024-03-02 08:30:45") == [rfc3339("2024-03-02 08:30:00")]


def test_a_long_gap_with_a_daily_cron_fires_the_latest_day_once() -> None:
    h = Harness()
    r = rule("cron(0 12 * * ? *)", created="2024-03-01 13:00")
    assert h.fire(r, "2024-03-02 11:59:59") == []
    assert h.fire(r, "2024-03-05 12:00:05") == [rfc3339("2024-03-05 12:00")]
    assert h.fire(r, "2024-03-05 18:00") == []
    assert h.fire(r, "2024-03-06 12:00") == [rfc3339("2024-03-06 12:00")]


def test_a_tick_before_the_rule_was_created_never_fires() -> None:
    h = Harness()
    r = rule("rate(1 hour)", created="2024-03-01 12:59:59")
    assert h.fire(r, "2024-03-01 12:59:59") == []  # 12:00 was before the rule
    assert h.fire(r, "2024-03-01 13:00:00") == [rfc3339("2024-03-01 13:00")]


def test_state_of_an_earlier_rule_of_the_same_name_does_not_fire_old_ticks() -> None:
    # A rule deleted and created again: its state still says 09:00.
    old = {"schedule/default:tick": _State(last_tick_ms=ms("2024-03-01 09:00"))}
    h = Harness(old)
    r = rule(created="2024-03-01 12:00:20")
    assert h.fire(r, "2024-03-01 12:00:40") == []
    assert h.fire(r, "2024-03-01 12:01:00") == [rfc3339("2024-03-01 12:01:00")]


def test_a_new_leader_does_not_fire_a_tick_the_old_one_committed() -> None:
    first = Harness()
    r = rule()
    first.fire(r, "2024-03-01 12:01:00")
    (_event, (_topic, value, headers, key)) = first.commits[0]
    assert key is not None
    second = Harness({key: _State.decode(value, headers)})
    assert second.fire(r, "2024-03-01 12:01:30") == []
    assert second.fire(r, "2024-03-01 12:02:00") == [rfc3339("2024-03-01 12:02:00")]


def test_a_failed_transaction_fires_the_same_tick_again() -> None:
    h = Harness()
    r = rule()

    def fail(records: list[Out]) -> None:
        raise KafkaException("fenced")

    setattr(h.coordinator, "_commit", fail)  # noqa: B010
    with pytest.raises(KafkaException):
        h.coordinator._fire(r, ms("2024-03-01 12:01:00"))
    assert h.coordinator._state == {}
    h.recording()
    assert h.fire(r, "2024-03-01 12:01:10") == [rfc3339("2024-03-01 12:01:00")]


def test_a_disabled_rule_never_fires() -> None:
    h = Harness()
    r = rule(created="2024-03-01 12:00:20", state=DISABLED)
    for at in ["2024-03-01 12:01:00", "2024-03-01 12:02:00", "2024-03-03 00:00:00"]:
        assert h.fire(r, at) == []
    assert h.coordinator._state == {}


def test_a_rule_without_a_schedule_never_fires() -> None:
    h = Harness()
    r = RuleDef.build(DEFAULT_BUS, "tick", '{"source": ["x"]}', None, created_ms=0)
    assert h.fire(r, "2024-03-01 12:01:00") == []


def test_a_cron_whose_years_are_over_never_fires() -> None:
    h = Harness()
    r = rule("cron(0 12 * * ? 2020)", created="2024-03-01 12:00")
    assert h.fire(r, "2024-03-02 12:00") == []


def test_catch_up_walks_a_bounded_number_of_ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coordinator_module, "CATCH_UP_LIMIT", 10)
    h = Harness()
    r = rule(created="2024-03-01 12:00:20")
    # With the walk cut short the tick fired is still one that is due, and only one.
    fired = h.fire(r, "2024-03-01 13:00:30")
    assert len(fired) == 1
    assert rfc3339("2024-03-01 12:01") <= fired[0] <= rfc3339("2024-03-01 13:00")


def test_a_rule_enabled_again_does_not_fire_ticks_from_while_it_was_disabled() -> None:
    h = Harness()
    r = rule("rate(1 hour)", created="2024-03-01 09:30")
    assert h.fire(r, "2024-03-01 10:00") == [rfc3339("2024-03-01 10:00")]
    # Disabled at 10:10, enabled again at 12:30: the 11:00 and 12:00 ticks are gone.
    enabled = rule(
        "rate(1 hour)", created="2024-03-01 09:30", schedule_since_ms=ms("2024-03-01 12:30")
    )
    assert h.fire(enabled, "2024-03-01 12:30:05") == []
    assert h.fire(enabled, "2024-03-01 13:00") == [rfc3339("2024-03-01 13:00")]


def test_a_changed_schedule_counts_from_the_change() -> None:
    h = Harness()
    assert h.fire(rule("rate(1 hour)", created="2024-03-01 09:30"), "2024-03-01 10:00") == [
        rfc3339("2024-03-01 10:00")
    ]
    faster = rule(
        "rate(1 minute)", created="2024-03-01 09:30", schedule_since_ms=ms("2024-03-01 10:20:30")
    )
    assert h.fire(faster, "2024-03-01 10:20:40") == []
    assert h.fire(faster, "2024-03-01 10:21:00") == [rfc3339("2024-03-01 10:21")]
