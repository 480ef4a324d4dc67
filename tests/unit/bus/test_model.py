"""Bus definitions: names and ARNs, targets (kinds, retry policy, dead letters, input),
rules (pattern and schedule compiled once), archives, and the Kafka records' codecs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from eventplane.arn import DEFAULT_ACCOUNT as ACCOUNT
from eventplane.arn import DEFAULT_REGION as REGION
from eventplane.bus.errors import InvalidEventPattern
from eventplane.bus.models import (
    ARCHIVE,
    DEFAULT_BUS,
    DISABLED,
    ENABLED,
    RULE,
    ArchiveDef,
    BusEvent,
    Delivery,
    RetryPolicy,
    RuleDef,
    TargetDef,
    archive_arn,
    bus_arn,
    bus_name_from_ref,
    decode_delivery,
    decode_event,
    encode_delivery,
    encode_event,
    rule_arn,
    rule_name_from_arn,
)
from eventplane.bus.schedule import CronSchedule, RateSchedule
from eventplane.errors import ValidationException
from eventplane.registry import Resource

PREFIX = f"arn:aws:events:{REGION}:{ACCOUNT}:"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders"
DLQ_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders-dlq"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:handler"

EVENT = {
    "version": "0",
    "id": "e-1",
    "detail-type": "Order placed",
    "source": "com.shop",
    "account": ACCOUNT,
    "time": "2024-01-01T00:00:00Z",
    "region": REGION,
    "resources": [],
    "detail": {"id": "o-1", "total": 30},
}


def invalid(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ValidationException) as caught:
        call(*args, **kwargs)
    assert caught.value.code == "ValidationException"
    return caught.value.message


def stored(kind: str, name: str, spec: Mapping[str, Any], created_at: int = 1_000) -> Resource:
    """A resource as the registry hands it back: the spec went through JSON."""
    spec = json.loads(json.dumps(spec, sort_keys=True))
    return Resource(kind, name, spec, 1, created_at, created_at)


# --- names and ARNs ---------------------------------------------------------------------


def test_an_empty_bus_reference_is_the_default_bus() -> None:
    assert bus_name_from_ref("") == DEFAULT_BUS == "default"


@pytest.mark.parametrize("name", ["orders", "team.orders", "a-b_c", "partner/x"])
def test_a_bus_name_or_its_arn_names_the_bus(name: str) -> None:
    assert bus_name_from_ref(name) == name
    assert bus_name_from_ref(bus_arn(name)) == name


def test_a_bus_arn_of_another_account_or_region_still_names_the_bus() -> None:
    assert bus_name_from_ref("arn:aws:events:eu-west-1:123456789012:event-bus/orders") == "orders"


def test_an_arn_that_is_not_a_bus_arn_is_refused_naming_the_field() -> None:
    message = invalid(bus_name_from_ref, rule_arn("orders", "r"), "Destination.Arn")
    assert message.startswith("Destination.Arn is not a valid event bus ARN")


@pytest.mark.parametrize("name", ["bad name", "a*b", "x" * 257])
def test_an_invalid_bus_name_is_refused_naming_the_field(name: str) -> None:
    assert invalid(bus_name_from_ref, name).startswith("EventBusName ")
    assert invalid(bus_name_from_ref, name, "Name").startswith("Name ")


def test_rule_arns_leave_the_default_bus_out() -> None:
    assert rule_arn(DEFAULT_BUS, "nightly") == f"{PREFIX}rule/nightly"
    assert rule_arn("orders", "big") == f"{PREFIX}rule/orders/big"


@pytest.mark.parametrize(("bus", "rule"), [(DEFAULT_BUS, "nightly"), ("orders", "big.ones")])
def test_rule_name_from_arn_round_trips(bus: str, rule: str) -> None:
    assert rule_name_from_arn(rule_arn(bus, rule)) == (bus, rule)


@pytest.mark.parametrize("ref", ["nightly", bus_arn("orders"), f"{PREFIX}rule/"])
def test_rule_name_from_arn_refuses_what_is_not_a_rule_arn(ref: str) -> None:
    assert "is not a valid rule ARN" in invalid(rule_name_from_arn, ref)


def test_rule_name_from_arn_round_trips_on_a_bus_name_with_a_slash() -> None:
    assert rule_name_from_arn(rule_arn("team/orders", "big")) == ("team/orders", "big")


def test_archive_arn() -> None:
    assert archive_arn("all") == f"{PREFIX}archive/all"


# --- targets ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "kind", "endpoint"),
    [
        (QUEUE_ARN, "sqs", "orders"),
        (TOPIC_ARN, "sns", "alerts"),
        (bus_arn("other"), "bus", "other"),
        ("https://example.com/hooks/orders?x=1", "http", "https://example.com/hooks/orders?x=1"),
        ("http://localhost:8080/", "http", "http://localhost:8080/"),
    ],
)
def test_target_kind_comes_from_its_arn(arn: str, kind: str, endpoint: str) -> None:
    target = TargetDef.parse({"Id": "t1", "Arn": arn})
    assert (target.id, target.arn, target.kind, target.endpoint) == ("t1", arn, kind, endpoint)


def test_a_function_target_names_the_function_and_its_qualifier() -> None:
    target = TargetDef.parse({"Id": "t1", "Arn": FUNCTION_ARN})
    assert (target.kind, target.endpoint) == ("function", "handler")
    aliased = TargetDef.parse({"Id": "t2", "Arn": FUNCTION_ARN + ":live"})
    assert (aliased.kind, aliased.endpoint) == ("function", "handler:live")


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:kinesis:us-east-1:000000000000:stream/s",
        "arn:aws:events:local:000000000000:rule/r",
        "ftp://example.com/",
    ],
)
def test_an_unsupported_target_arn_is_refused(arn: str) -> None:
    message = invalid(TargetDef.parse, {"Id": "t1", "Arn": arn})
    assert arn in message
    assert "is not supported" in message


def test_a_target_needs_an_arn_and_a_valid_id() -> None:
    assert "Arn" in invalid(TargetDef.parse, {"Id": "t1", "Arn": ""})
    assert "'Targets.member.Id'" in invalid(TargetDef.parse, {"Arn": QUEUE_ARN})
    assert "'Targets.member.Id'" in invalid(TargetDef.parse, {"Id": "bad id", "Arn": QUEUE_ARN})
    assert "'Targets.member.Id'" in invalid(TargetDef.parse, {"Id": "x" * 65, "Arn": QUEUE_ARN})


def test_retry_policy_defaults_to_185_attempts_and_a_day() -> None:
    target = TargetDef.parse({"Id": "t1", "Arn": QUEUE_ARN})
    assert target.retry == RetryPolicy(185, 86_400)
    assert target.dead_letter_arn is None


@pytest.mark.parametrize(("attempts", "age"), [(0, 60), (185, 86_400), (3, 3600)])
def test_retry_policy_within_bounds_is_kept(attempts: int, age: int) -> None:
    policy = {"MaximumRetryAttempts": attempts, "MaximumEventAgeInSeconds": age}
    target = TargetDef.parse({"Id": "t1", "Arn": QUEUE_ARN, "RetryPolicy": policy})
    assert target.retry == RetryPolicy(attempts, age)


def test_retry_policy_may_set_one_field_only() -> None:
    only_attempts = {"MaximumRetryAttempts": 0}
    target = TargetDef.parse({"Id": "t1", "Arn": QUEUE_ARN, "RetryPolicy": only_attempts})
    assert target.retry == RetryPolicy(0, 86_400)
    only_age = {"MaximumEventAgeInSeconds": 60}
    target = TargetDef.parse({"Id": "t1", "Arn": QUEUE_ARN, "RetryPolicy": only_age})
    assert target.retry == RetryPolicy(185, 60)


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        ({"MaximumRetryAttempts": -1}, "RetryPolicy.MaximumRetryAttempts"),
        ({"MaximumRetryAttempts": 186}, "RetryPolicy.MaximumRetryAttempts"),
        ({"MaximumEventAgeInSeconds": 59}, "RetryPolicy.MaximumEventAgeInSeconds"),
        ({"MaximumEventAgeInSeconds": 86_401}, "RetryPolicy.MaximumEventAgeInSeconds"),
        ({"MaximumEventAgeInSeconds": 0}, "RetryPolicy.MaximumEventAgeInSeconds"),
    ],
)
def test_retry_policy_out_of_bounds_names_the_field_and_target(
    policy: dict[str, int], field: str
) -> None:
    message = invalid(TargetDef.parse, {"Id": "to-queue", "Arn": QUEUE_ARN, "RetryPolicy": policy})
    assert message.startswith(field)
    assert "(target to-queue)" in message
    assert str(next(iter(policy.values()))) in message


def test_dead_letter_config_takes_a_queue_arn() -> None:
    spec = {"Id": "t1", "Arn": TOPIC_ARN, "DeadLetterConfig": {"Arn": DLQ_ARN}}
    assert TargetDef.parse(spec).dead_letter_arn == DLQ_ARN


@pytest.mark.parametrize("arn", [TOPIC_ARN, bus_arn("other"), "https://example.com/", "orders"])
def test_dead_letter_config_refuses_anything_but_a_queue_arn(arn: str) -> None:
    spec = {"Id": "t1", "Arn": QUEUE_ARN, "DeadLetterConfig": {"Arn": arn}}
    message = invalid(TargetDef.parse, spec)
    assert message.startswith("DeadLetterConfig.Arn must be a queue ARN")
    assert "(target t1)" in message


def test_an_empty_dead_letter_config_means_none() -> None:
    spec = {"Id": "t1", "Arn": QUEUE_ARN, "DeadLetterConfig": {}}
    assert TargetDef.parse(spec).dead_letter_arn is None


def test_target_spec_round_trips() -> None:
    spec = {
        "Id": "t1",
        "Arn": QUEUE_ARN,
        "InputTransformer": {
            "InputPathsMap": {"order": "$.detail.id"},
            "InputTemplate": '{"order": <order>, "rule": <aws.events.rule-name>}',
        },
        "RetryPolicy": {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 120},
        "DeadLetterConfig": {"Arn": DLQ_ARN},
        "SqsParameters": {"MessageGroupId": "g1"},
    }
    target = TargetDef.parse(spec)
    assert target.message_group_id == "g1"
    assert target.to_spec() == spec
    again = TargetDef.parse(json.loads(json.dumps(target.to_spec())))
    assert again == target
    assert again.compiled is not None


@pytest.mark.parametrize("extra", [{}, {"Input": '{"constant": true}'}, {"InputPath": "$.detail"}])
def test_target_spec_round_trips_for_each_input_kind(extra: dict[str, str]) -> None:
    target = TargetDef.parse({"Id": "t1", "Arn": "https://example.com/", **extra})
    assert TargetDef.parse(target.to_spec()) == target
    assert target.to_spec()["RetryPolicy"] == {
        "MaximumRetryAttempts": 185,
        "MaximumEventAgeInSeconds": 86_400,
    }


def render(target: TargetDef, event: Mapping[str, Any] = EVENT) -> str:
    return target.compiled.render(
        event,
        rule_arn=rule_arn(DEFAULT_BUS, "r"),
        rule_name="r",
        ingestion_ms=1_704_067_200_000,
    )


def test_target_input_is_compiled_when_parsed() -> None:
    whole = TargetDef.parse({"Id": "t1", "Arn": QUEUE_ARN})
    assert json.loads(render(whole)) == EVENT
    constant = TargetDef.parse({"Id": "t1", "Arn": QUEUE_ARN, "Input": '{"c": 1}'})
    assert json.loads(render(constant)) == {"c": 1}
    path = TargetDef.parse({"Id": "t1", "Arn": QUEUE_ARN, "InputPath": "$.detail"})
    assert json.loads(render(path)) == EVENT["detail"]
    transformer = {
        "InputPathsMap": {"order": "$.detail.id", "total": "$.detail.total"},
        "InputTemplate": '{"order": <order>, "total": <total>, "rule": <aws.events.rule-name>}',
    }
    shaped = TargetDef.parse({"Id": "t1", "Arn": QUEUE_ARN, "InputTransformer": transformer})
    assert json.loads(render(shaped)) == {"order": "o-1", "total": 30, "rule": "r"}


@pytest.mark.parametrize(
    "extra",
    [
        {"InputTransformer": {"InputTemplate": "<undefined>"}},
        {"InputTransformer": {"InputPathsMap": {"a": "detail"}, "InputTemplate": "<a>"}},
        {"InputPath": "detail"},
        {"Input": "{not json"},
        {"Input": "{}", "InputPath": "$.detail"},
    ],
)
def test_target_input_errors_carry_the_target_id(extra: dict[str, Any]) -> None:
    message = invalid(TargetDef.parse, {"Id": "shaped-7", "Arn": QUEUE_ARN, **extra})
    assert message.endswith("(target shaped-7)")


# --- rules ------------------------------------------------------------------------------


def test_rule_pattern_is_compiled_when_built() -> None:
    rule = RuleDef.build(
        "orders",
        "big",
        '{"source": ["com.shop"], "detail": {"total": [{"numeric": [">", 10]}]}}',
        None,
    )
    assert rule.pattern is not None and rule.schedule is None
    assert rule.pattern.matches(EVENT)
    assert not rule.pattern.matches({**EVENT, "detail": {"total": 5}})
    assert rule.enabled and rule.state == ENABLED
    assert rule.arn == f"{PREFIX}rule/orders/big"
    assert rule.key == "orders:big"


@pytest.mark.parametrize(
    "pattern",
    ['{"source": [{"prefix": 1}]}', "not json", '{"source": "com.shop"}', "[1]"],
)
def test_an_invalid_pattern_is_invalid_event_pattern(pattern: str) -> None:
    with pytest.raises(InvalidEventPattern) as caught:
        RuleDef.build(DEFAULT_BUS, "r", pattern, None)
    assert caught.value.code == "InvalidEventPatternException"
    assert caught.value.message.startswith("Event pattern is not valid. Reason: ")
    assert len(caught.value.message) > len("Event pattern is not valid. Reason: ")


def test_invalid_pattern_reason_names_the_key_path() -> None:
    with pytest.raises(InvalidEventPattern) as caught:
        RuleDef.build(DEFAULT_BUS, "r", '{"detail": {"name": [{"prefix": 1}]}}', None)
    assert "detail.name" in caught.value.message


def test_rule_schedule_is_parsed_with_the_minimum_rate() -> None:
    rule = RuleDef.build(DEFAULT_BUS, "tick", None, "rate(5 minutes)")
    assert rule.pattern is None
    assert rule.schedule == RateSchedule("rate(5 minutes)", 300_000)
    cron = RuleDef.build(DEFAULT_BUS, "noon", None, "cron(0 12 * * ? *)")
    assert isinstance(cron.schedule, CronSchedule)
    with pytest.raises(ValidationException):
        RuleDef.build(DEFAULT_BUS, "fast", None, "rate(30 seconds)")
    fast = RuleDef.build(DEFAULT_BUS, "fast", None, "rate(30 seconds)", min_rate_seconds=1)
    assert fast.schedule == RateSchedule("rate(30 seconds)", 30_000)


def test_an_invalid_schedule_is_refused() -> None:
    message = invalid(RuleDef.build, DEFAULT_BUS, "r", None, "every minute")
    assert message.startswith("Parameter ScheduleExpression is not valid.")


def test_empty_pattern_and_schedule_mean_none() -> None:
    rule = RuleDef.build(DEFAULT_BUS, "r", "", "")
    assert rule.event_pattern is None and rule.schedule_expression is None
    assert rule.pattern is None and rule.schedule is None


def test_a_disabled_rule_is_not_enabled() -> None:
    assert not RuleDef.build(DEFAULT_BUS, "r", '{"source": ["x"]}', None, state=DISABLED).enabled


def test_rule_round_trips_through_the_registry() -> None:
    targets = [
        TargetDef.parse({"Id": "q", "Arn": QUEUE_ARN, "InputPath": "$.detail"}),
        TargetDef.parse(
            {"Id": "h", "Arn": "https://example.com/", "RetryPolicy": {"MaximumRetryAttempts": 2}}
        ),
    ]
    rule = RuleDef.build(
        "orders",
        "big",
        '{"source": ["com.shop"]}',
        None,
        state=DISABLED,
        description="big orders",
        targets=targets,
        created_ms=1_234,
    )
    back = RuleDef.from_resource(stored(RULE, rule.key, rule.to_spec(), created_at=1_234))
    assert back == rule
    assert back.created_ms == 1_234
    assert back.pattern is not None and back.pattern.matches(EVENT)
    assert all(t.compiled is not None for t in back.targets)
    assert json.loads(render(back.targets[0])) == EVENT["detail"]


def test_scheduled_rule_round_trips_with_the_minimum_rate() -> None:
    rule = RuleDef.build(
        DEFAULT_BUS, "tick", None, "rate(10 seconds)", created_ms=5, min_rate_seconds=1
    )
    back = RuleDef.from_resource(stored(RULE, rule.key, rule.to_spec(), 5), min_rate_seconds=1)
    assert back == rule
    assert back.schedule == RateSchedule("rate(10 seconds)", 10_000)


# --- archives ---------------------------------------------------------------------------


def test_archive_retention_zero_is_indefinite() -> None:
    assert ArchiveDef.build("all", DEFAULT_BUS).retention_ms == -1
    assert ArchiveDef.build("week", DEFAULT_BUS, retention_days=7).retention_ms == 7 * 86_400_000


def test_archive_negative_retention_is_refused() -> None:
    message = invalid(ArchiveDef.build, "all", DEFAULT_BUS, retention_days=-1)
    assert "RetentionDays" in message


def test_archive_pattern_is_compiled_and_checked() -> None:
    archive = ArchiveDef.build("shop", DEFAULT_BUS, event_pattern='{"source": ["com.shop"]}')
    assert archive.pattern is not None and archive.pattern.matches(EVENT)
    assert ArchiveDef.build("all", DEFAULT_BUS, event_pattern="").pattern is None
    with pytest.raises(InvalidEventPattern):
        ArchiveDef.build("bad", DEFAULT_BUS, event_pattern='{"source": "x"}')


def test_archive_round_trips_through_the_registry() -> None:
    archive = ArchiveDef.build(
        "shop",
        "orders",
        description="d",
        event_pattern='{"source": ["com.shop"]}',
        retention_days=30,
        created_ms=9,
    )
    back = ArchiveDef.from_resource(stored(ARCHIVE, "shop", archive.to_spec(), 9))
    assert back == archive
    assert back.arn == f"{PREFIX}archive/shop"
    assert back.pattern is not None


# --- records on Kafka -------------------------------------------------------------------


def test_only_events_put_on_the_bus_are_archivable() -> None:
    assert BusEvent(EVENT, 1).archivable
    assert BusEvent(EVENT, 1, rule_filter=("a",)).archivable
    assert not BusEvent(EVENT, 1, replay_name="again").archivable
    assert not BusEvent(EVENT, 1, scheduled_rule="tick").archivable


def test_bus_event_round_trips_through_the_codec() -> None:
    event = BusEvent(
        EVENT, 1_700_000_000_000, replay_name="again", rule_filter=("a", "b"), scheduled_rule="t"
    )
    value, headers = encode_event(event)
    back = decode_event(value, headers)
    assert back.event == EVENT
    assert (back.ingestion_ms, back.replay_name, back.rule_filter, back.scheduled_rule) == (
        1_700_000_000_000,
        "again",
        ("a", "b"),
        "t",
    )
    assert back.text is not None and json.loads(back.text) == EVENT


def test_bus_event_defaults_round_trip() -> None:
    value, headers = encode_event(BusEvent(EVENT, 7))
    back = decode_event(value, headers)
    assert back.replay_name is None and back.scheduled_rule is None and back.rule_filter == ()
    assert back.archivable


def test_bus_event_keeps_the_text_it_was_read_with() -> None:
    text = '{"id": "e-1",  "detail": {"b": 1, "a": 2}}'
    value, headers = encode_event(BusEvent(json.loads(text), 7, text=text))
    back = decode_event(value, headers)
    assert back.text == text
    assert back.event_json == text


def test_delivery_round_trips_through_the_codec() -> None:
    delivery = Delivery(
        bus="orders",
        rule="big",
        target_id="h",
        event_id="e-1",
        event=json.dumps(EVENT),
        payload='{"id":"o-1"}',
        attempt=3,
        first_ms=1_000,
        due_ms=61_000,
        last_error_code="ConnectionError",
        last_error="refused",
    )
    assert decode_delivery(*encode_delivery(delivery)) == delivery
    fresh = Delivery("b", "r", "t", "e", "{}", "{}", 0, 1, 1)
    assert decode_delivery(*encode_delivery(fresh)) == fresh
