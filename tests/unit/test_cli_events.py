"""`eventplane events ...` against the in-process fake EventBuses server."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_harness import as_json, cli_runner, usage_error
from test_client_events import (
    BUS_ARN,
    DLQ_ARN,
    MAY_1_MS,
    PATTERN,
    QUEUE_ARN,
    RULE_ARN,
    SCHEMA_DOC,
    FakeEvents,
    pb_archive,
    pb_bus,
    pb_replay,
    pb_rule,
    pb_schema,
    serve_fake,
)

from eventplane._gen.v1 import events_pb2 as pb
from eventplane.bus.errors import InvalidEventPattern
from eventplane.cli import main
from eventplane.errors import ResourceNotFound


@pytest.fixture
def served() -> Iterator[tuple[FakeEvents, str]]:
    with serve_fake() as pair:
        yield pair


@pytest.fixture
def fake(served: tuple[FakeEvents, str]) -> FakeEvents:
    return served[0]


@pytest.fixture
def run(served: tuple[FakeEvents, str], capsys: pytest.CaptureFixture[str]) -> Any:
    """Run `eventplane events <args> --endpoint <fake>`; returns (exit code, stdout, stderr)."""

    return cli_runner("events", served[1], capsys)


# --- buses -----------------------------------------------------------------------------


def test_create_bus(fake: FakeEvents, run: Any) -> None:
    fake.responses["CreateEventBus"] = pb.CreateEventBusResponse(event_bus_arn=BUS_ARN)
    result = run(
        "create-bus", "orders", "--description", "shop", "--schema-validation",
        "--tag", "team=shop", "--tag", "cost=42", "--json",
    )  # fmt: skip
    assert as_json(result) == {"event_bus_arn": BUS_ARN}
    req = fake.only("CreateEventBus")
    assert (req.name, req.description, req.schema_validation) == ("orders", "shop", True)
    assert dict(req.tags) == {"team": "shop", "cost": "42"}
    assert run("create-bus", "orders") == (0, BUS_ARN + "\n", "")
    plain = fake.calls[-1][1]
    assert (plain.description, plain.schema_validation, dict(plain.tags)) == ("", False, {})


def test_describe_bus(fake: FakeEvents, run: Any) -> None:
    fake.responses["DescribeEventBus"] = pb_bus()
    code, out, _ = run("describe-bus")
    assert code == 0
    assert out == (
        "name: orders\n"
        f"arn: {BUS_ARN}\n"
        "description: shop orders\n"
        "schema_validation: True\n"
        f"creation_time_ms: 2024-05-01T00:00:00.000Z ({MAY_1_MS})\n"
    )
    assert fake.only("DescribeEventBus").name == ""  # the default bus
    assert as_json(run("describe-bus", "orders", "--json")) == {
        "name": "orders",
        "arn": BUS_ARN,
        "description": "shop orders",
        "schema_validation": True,
        "creation_time_ms": MAY_1_MS,
        "policy": "",
    }
    assert fake.calls[-1][1].name == "orders"


def test_put_and_remove_permission(fake: FakeEvents, run: Any) -> None:
    assert run(
        "put-permission", "--bus", "orders", "--statement-id", "ci", "--principal", "111122223333",
        "--org-id", "o-abcdefghij",
    ) == (0, "updated the policy of bus orders\n", "")  # fmt: skip
    req = fake.only("PutPermission")
    assert (req.event_bus_name, req.statement_id, req.principal, req.action) == (
        "orders",
        "ci",
        "111122223333",
        "events:PutEvents",
    )
    assert (req.condition_key, req.condition_value) == ("aws:PrincipalOrgID", "o-abcdefghij")
    run("put-permission", "--policy", '{"Statement": []}')
    whole = fake.calls[-1][1]
    assert (whole.event_bus_name, whole.policy, whole.action) == ("", '{"Statement": []}', "")
    with pytest.raises(SystemExit) as info:
        run("put-permission", "--bus", "orders")
    assert info.value.code == 2
    run("remove-permission", "--bus", "orders", "--statement-id", "ci")
    assert fake.calls[-1][1].statement_id == "ci"
    run("remove-permission", "--all")
    assert fake.calls[-1][1].remove_all_permissions
    with pytest.raises(SystemExit) as info:
        run("remove-permission", "--all", "--statement-id", "ci")
    assert info.value.code == 2


def test_list_buses_follows_pages(fake: FakeEvents, run: Any) -> None:
    pages = {
        "": pb.ListEventBusesResponse(event_buses=[pb_bus("default")], next_token="t"),
        "t": pb.ListEventBusesResponse(event_buses=[pb_bus("orders")]),
    }
    fake.responses["ListEventBuses"] = lambda req: pages[req.next_token]
    code, out, _ = run("list-buses", "--prefix", "o")
    assert code == 0
    assert out == f"default  {BUS_ARN.replace('orders', 'default')}\norders  {BUS_ARN}\n"
    assert [r.name_prefix for _, r in fake.calls] == ["o", "o"]
    listed = as_json(run("list-buses", "--json"))
    assert [b["name"] for b in listed["event_buses"]] == ["default", "orders"]


def test_delete_bus(fake: FakeEvents, run: Any) -> None:
    assert run("delete-bus", "orders") == (0, "deleted bus orders\n", "")
    assert fake.only("DeleteEventBus").name == "orders"
    assert as_json(run("delete-bus", "orders", "--json")) == {"deleted": "orders"}


# --- rules -----------------------------------------------------------------------------


def test_put_rule_with_pattern(fake: FakeEvents, run: Any) -> None:
    fake.responses["PutRule"] = pb.PutRuleResponse(rule_arn=RULE_ARN)
    text = json.dumps(PATTERN, indent=1)
    result = run(
        "put-rule", "big", "--pattern", text, "--bus", "orders", "--description", "over 100",
        "--json",
    )  # fmt: skip
    assert as_json(result) == {"rule_arn": RULE_ARN}
    req = fake.only("PutRule")
    assert (req.name, req.event_bus_name, req.description) == ("big", "orders", "over 100")
    assert (req.event_pattern, req.schedule_expression, req.state) == (text, "", "ENABLED")


def test_put_rule_pattern_from_a_file_or_stdin(
    fake: FakeEvents, run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.responses["PutRule"] = pb.PutRuleResponse(rule_arn=RULE_ARN)
    path = tmp_path / "pattern.json"
    path.write_text(json.dumps(PATTERN))
    assert run("put-rule", "big", "--pattern", f"@{path}") == (0, RULE_ARN + "\n", "")
    monkeypatch.setattr("sys.stdin", io.StringIO('{"source": ["stdin"]}'))
    run("put-rule", "big", "--pattern", "@-")
    (_, from_file), (_, from_stdin) = fake.calls
    assert json.loads(from_file.event_pattern) == PATTERN
    assert from_stdin.event_pattern == '{"source": ["stdin"]}'


def test_put_rule_schedule_disabled(fake: FakeEvents, run: Any) -> None:
    run("put-rule", "tick", "--schedule", "rate(5 minutes)", "--disabled")
    req = fake.only("PutRule")
    assert (req.event_pattern, req.schedule_expression) == ("", "rate(5 minutes)")
    assert (req.state, req.event_bus_name) == ("DISABLED", "")


@pytest.mark.parametrize(
    ("pattern", "complaint"),
    [
        ("{", "not valid JSON"),
        ("[1]", "expected a JSON object"),
        ("@/no/such/pattern.json", "cannot read /no/such/pattern.json"),
    ],
)
def test_put_rule_bad_pattern_is_a_usage_error(
    fake: FakeEvents,
    run: Any,
    capsys: pytest.CaptureFixture[str],
    pattern: str,
    complaint: str,
) -> None:
    err = usage_error(run, capsys, "put-rule", "big", "--pattern", pattern)
    assert "--pattern" in err and complaint in err
    assert fake.calls == []


def test_describe_and_list_rules(fake: FakeEvents, run: Any) -> None:
    fake.responses["DescribeRule"] = pb_rule()
    code, out, _ = run("describe-rule", "big", "--bus", "orders")
    assert code == 0
    assert f"event_pattern: {json.dumps(PATTERN)}\n" in out
    assert "state: ENABLED\n" in out and "schedule_expression" not in out
    req = fake.only("DescribeRule")
    assert (req.name, req.event_bus_name) == ("big", "orders")

    fake.responses["ListRules"] = pb.ListRulesResponse(
        rules=[
            pb_rule("big"),
            pb.Rule(name="tick", state="DISABLED", schedule_expression="rate(1 day)"),
        ]
    )
    code, out, _ = run("list-rules", "--bus", "orders", "--prefix", "b")
    assert out == f"big  ENABLED  {json.dumps(PATTERN)}\ntick  DISABLED  rate(1 day)\n"
    req = fake.calls[-1][1]
    assert (req.event_bus_name, req.name_prefix) == ("orders", "b")
    rules = as_json(run("list-rules", "--json"))["rules"]
    assert rules[1] == {
        "name": "tick",
        "arn": "",
        "event_bus_name": "",
        "event_pattern": None,
        "schedule_expression": "rate(1 day)",
        "state": "DISABLED",
        "description": "",
    }


def test_rules_by_target_and_tags(fake: FakeEvents, run: Any) -> None:
    fake.responses["ListRuleNamesByTarget"] = pb.ListRuleNamesByTargetResponse(
        rule_names=["a", "b"]
    )
    assert run("rules-by-target", QUEUE_ARN, "--bus", "orders") == (0, "a\nb\n", "")
    req = fake.only("ListRuleNamesByTarget")
    assert (req.target_arn, req.event_bus_name) == (QUEUE_ARN, "orders")
    assert run("tag", BUS_ARN, "team=shop", "env=dev")[0] == 0
    assert dict(fake.calls[-1][1].tags) == {"team": "shop", "env": "dev"}
    assert run("untag", BUS_ARN, "env")[0] == 0
    assert list(fake.calls[-1][1].tag_keys) == ["env"]
    fake.responses["ListTagsForResource"] = pb.ListBusResourceTagsResponse(tags={"team": "shop"})
    assert run("tags", BUS_ARN) == (0, "team=shop\n", "")
    assert run("put-rule", "big", "--pattern", "{}", "--tag", "cost=42")[0] == 0
    assert dict(fake.calls[-1][1].tags) == {"cost": "42"}


def test_delete_enable_disable_rule(fake: FakeEvents, run: Any) -> None:
    assert run("delete-rule", "big", "--bus", "orders", "--force") == (
        0,
        "deleted rule big\n",
        "",
    )
    assert run("enable-rule", "big") == (0, "enabled rule big\n", "")
    assert as_json(run("disable-rule", "big", "--bus", "orders", "--json")) == {
        "rule": "big",
        "state": "DISABLED",
    }
    (_, delete), (_, enable), (_, disable) = fake.calls
    assert (delete.name, delete.event_bus_name, delete.force) == ("big", "orders", True)
    assert (enable.name, enable.event_bus_name) == ("big", "")
    assert (disable.name, disable.event_bus_name) == ("big", "orders")


# --- targets ---------------------------------------------------------------------------


def test_put_targets_shared_options_apply_to_every_target(fake: FakeEvents, run: Any) -> None:
    code, out, _ = run(
        "put-targets", "big", "--bus", "orders",
        "--target", f"q1={QUEUE_ARN}.fifo",
        "--target", "hook=https://example.com/hook?a=b",
        "--input-path", "$.detail",
        "--max-retries", "3", "--max-age", "600",
        "--dlq", DLQ_ARN, "--message-group-id", "g",
    )  # fmt: skip
    assert (code, out) == (0, "put 2 target(s) on rule big\n")
    req = fake.only("PutTargets")
    assert (req.rule, req.event_bus_name) == ("big", "orders")
    q1, hook = req.targets
    assert (q1.id, q1.arn, hook.id, hook.arn) == (
        "q1",
        QUEUE_ARN + ".fifo",
        "hook",
        "https://example.com/hook?a=b",
    )
    for t in (q1, hook):
        assert (t.input, t.input_path) == ("", "$.detail")
        assert t.retry_policy.maximum_retry_attempts == 3
        assert t.retry_policy.maximum_event_age_in_seconds == 600
        assert t.dead_letter_config.arn == DLQ_ARN
        assert t.sqs_parameters.message_group_id == "g"


def test_put_targets_plain_sets_nothing_else(fake: FakeEvents, run: Any) -> None:
    run("put-targets", "big", "--target", f"q={QUEUE_ARN}")
    req = fake.only("PutTargets")
    assert req.event_bus_name == ""
    (t,) = req.targets
    for sub in ("input_transformer", "retry_policy", "dead_letter_config", "sqs_parameters"):
        assert not t.HasField(sub), sub
    assert (t.input, t.input_path) == ("", "")


def test_put_targets_input_and_transformer(fake: FakeEvents, run: Any) -> None:
    run("put-targets", "big", "--target", f"q={QUEUE_ARN}", "--input", '"constant"')
    transformer = {"InputPathsMap": {"id": "$.detail.id"}, "InputTemplate": '{"order": <id>}'}
    run(
        "put-targets", "big", "--target", f"q={QUEUE_ARN}",
        "--input-transformer", json.dumps(transformer), "--max-age", "60",
    )  # fmt: skip
    (_, constant), (_, transformed) = fake.calls
    assert constant.targets[0].input == '"constant"'  # JSON text, as written
    t = transformed.targets[0]
    assert dict(t.input_transformer.input_paths_map) == {"id": "$.detail.id"}
    assert t.input_transformer.input_template == '{"order": <id>}'
    assert not t.retry_policy.HasField("maximum_retry_attempts")
    assert t.retry_policy.maximum_event_age_in_seconds == 60


def test_put_targets_from_json(fake: FakeEvents, run: Any, tmp_path: Path) -> None:
    targets = [
        {"Id": "a", "Arn": QUEUE_ARN, "Input": {"k": 1}},
        {"Id": "b", "Arn": QUEUE_ARN, "DeadLetterConfig": {"Arn": DLQ_ARN}},
    ]
    path = tmp_path / "targets.json"
    path.write_text(json.dumps(targets))
    assert as_json(run("put-targets", "big", "--targets", f"@{path}", "--json")) == {
        "failed_entry_count": 0,
        "failed_entries": [],
    }
    a, b = fake.only("PutTargets").targets
    assert (a.id, a.input, b.id, b.dead_letter_config.arn) == ("a", '{"k": 1}', "b", DLQ_ARN)


def test_put_targets_failures_exit_1(fake: FakeEvents, run: Any) -> None:
    fake.responses["PutTargets"] = pb.PutTargetsResponse(
        failed_entry_count=1,
        failed_entries=[
            pb.TargetError(target_id="b", error_code="ValidationException", error_message="bad")
        ],
    )
    code, out, _ = run("put-targets", "big", "--target", "a=x", "--target", "b=y")
    assert (code, out) == (1, "FAILED b: ValidationException: bad\n")
    code, out, _ = run("put-targets", "big", "--target", "a=x", "--json")
    assert code == 1
    assert json.loads(out)["failed_entries"] == [
        {"target_id": "b", "error_code": "ValidationException", "error_message": "bad"}
    ]


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        ([], "give --target ID=ARN (repeatable) or --targets JSON"),
        (["--target", "noarn"], "expected ID=ARN"),
        (["--target", "=arn"], "expected ID=ARN"),
        (["--targets", "[]", "--target", "a=b"], "--targets cannot be combined with --target"),
        (["--targets", "[]", "--dlq", "x", "--max-age", "60"], "with --max-age, --dlq"),
        (["--targets", "{}"], "expected a JSON list"),
        (["--target", "a=b", "--input", "{}", "--input-path", "$"], "not allowed with"),
        (["--target", "a=b", "--max-retries", "many"], "--max-retries"),
        (["--target", "a=b", "--input", "{nope"], "not valid JSON"),
    ],
)
def test_put_targets_usage_errors(
    fake: FakeEvents,
    run: Any,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    complaint: str,
) -> None:
    assert complaint in usage_error(run, capsys, "put-targets", "big", *args)
    assert fake.calls == []


def test_put_targets_bad_key_in_json_is_one_line(fake: FakeEvents, run: Any) -> None:
    code, out, err = run("put-targets", "big", "--targets", '[{"Id": "a", "Arn": "x", "Rol": 1}]')
    assert (code, out) == (1, "")
    assert err.count("\n") == 1
    assert err.startswith("eventplane: InvalidParameterValue: target 0: unknown key(s) Rol")
    assert fake.calls == []


def test_remove_and_list_targets(fake: FakeEvents, run: Any) -> None:
    assert run("remove-targets", "big", "a", "b", "--bus", "orders", "--force") == (
        0,
        "removed 2 target(s) from rule big\n",
        "",
    )
    req = fake.only("RemoveTargets")
    assert (req.rule, list(req.ids), req.event_bus_name, req.force) == (
        "big",
        ["a", "b"],
        "orders",
        True,
    )
    fake.responses["ListTargetsByRule"] = pb.ListTargetsByRuleResponse(
        targets=[
            pb.Target(id="a", arn=QUEUE_ARN, retry_policy=pb.RetryPolicy(maximum_retry_attempts=1))
        ]
    )
    assert run("list-targets", "big")[1] == f"a  {QUEUE_ARN}\n"
    listed = as_json(run("list-targets", "big", "--bus", "orders", "--json"))
    assert listed == {
        "targets": [
            {
                "id": "a",
                "arn": QUEUE_ARN,
                "input": None,
                "input_path": None,
                "input_transformer": None,
                "retry_policy": {
                    "maximum_retry_attempts": 1,
                    "maximum_event_age_in_seconds": None,
                },
                "dead_letter_arn": None,
                "sqs_message_group_id": None,
            }
        ]
    }
    assert fake.calls[-1][1].event_bus_name == "orders"


def test_remove_targets_failures_exit_1(fake: FakeEvents, run: Any) -> None:
    fake.responses["RemoveTargets"] = pb.RemoveTargetsResponse(
        failed_entry_count=1,
        failed_entries=[pb.TargetError(target_id="zz", error_code="ResourceNotFoundException")],
    )
    assert run("remove-targets", "big", "zz")[:2] == (1, "FAILED zz: ResourceNotFoundException: \n")


# --- events ----------------------------------------------------------------------------


def test_put_one_event(fake: FakeEvents, run: Any) -> None:
    fake.responses["PutEvents"] = pb.PutEventsResponse(
        entries=[pb.PutEventsResultEntry(event_id="e-1")]
    )
    code, out, _ = run(
        "put-events", "--bus", "orders", "--source", "shop", "--detail-type", "OrderPlaced",
        "--detail", '{"total": 250}', "--resource", "arn:a", "--resource", "arn:b",
        "--time", "2024-05-01T00:00:00Z",
    )  # fmt: skip
    assert (code, out) == (0, "e-1\n")
    (entry,) = fake.only("PutEvents").entries
    assert (entry.source, entry.detail_type, entry.detail) == (
        "shop",
        "OrderPlaced",
        '{"total": 250}',
    )
    assert (list(entry.resources), entry.event_bus_name, entry.time_ms) == (
        ["arn:a", "arn:b"],
        "orders",
        MAY_1_MS,
    )


def test_put_one_event_defaults(fake: FakeEvents, run: Any) -> None:
    run("put-events", "--source", "shop", "--detail-type", "Ping")
    (entry,) = fake.only("PutEvents").entries
    assert (entry.detail, entry.event_bus_name, list(entry.resources)) == ("{}", "", [])
    assert not entry.HasField("time_ms")


def test_put_events_from_entries(
    fake: FakeEvents, run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.responses["PutEvents"] = pb.PutEventsResponse(
        failed_entry_count=1,
        entries=[
            pb.PutEventsResultEntry(event_id="e-1"),
            pb.PutEventsResultEntry(error_code="InvalidArgument", error_message="bad detail"),
        ],
    )
    entries = [
        {"Source": "shop", "DetailType": "A", "Detail": {"n": 1}, "Time": "2024-05-01"},
        {"Source": "shop", "DetailType": "B", "Detail": "{}", "EventBusName": "other"},
    ]
    path = tmp_path / "entries.json"
    path.write_text(json.dumps(entries))
    code, out, _ = run("put-events", "--entries", f"@{path}", "--bus", "orders")
    assert (code, out) == (1, "e-1\nFAILED InvalidArgument: bad detail\n")
    first, second = fake.only("PutEvents").entries
    assert (first.event_bus_name, first.detail, first.time_ms) == ("orders", '{"n": 1}', MAY_1_MS)
    assert second.event_bus_name == "other"  # --bus only fills in what is not given

    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(entries[:1])))
    code, out, _ = run("put-events", "--entries", "@-", "--json")
    assert code == 1
    assert json.loads(out) == {
        "failed_entry_count": 1,
        "entries": [
            {"event_id": "e-1", "error_code": None, "error_message": None},
            {"event_id": None, "error_code": "InvalidArgument", "error_message": "bad detail"},
        ],
    }
    assert fake.calls[-1][1].entries[0].event_bus_name == ""


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--detail-type", "x"], "give --source (or --entries JSON)"),
        ([], "give --source and --detail-type"),
        (["--entries", "[]", "--source", "s"], "--entries cannot be combined with --source"),
        (["--entries", "{}"], "expected a JSON list"),
        (["--source", "s", "--detail-type", "d", "--detail", "[]"], "expected a JSON object"),
        (["--source", "s", "--detail-type", "d", "--time", "soon"], "ISO 8601"),
    ],
)
def test_put_events_usage_errors(
    fake: FakeEvents,
    run: Any,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    complaint: str,
) -> None:
    assert complaint in usage_error(run, capsys, "put-events", *args)
    assert fake.calls == []


def test_put_events_bad_entry_is_one_line(fake: FakeEvents, run: Any) -> None:
    code, out, err = run("put-events", "--entries", '[{"Source": "s", "Detial": {}}]')
    assert (code, out) == (1, "")
    assert err == (
        "eventplane: InvalidParameterValue: entry 0: unknown key(s) Detial; eventplane accepts "
        "Source, DetailType, Detail, Resources, EventBusName, Time, TraceHeader\n"
    )
    assert fake.calls == []


def test_test_pattern_answers_like_grep(fake: FakeEvents, run: Any, tmp_path: Path) -> None:
    event = {"source": "shop", "detail": {"total": 250}}
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    fake.responses["TestEventPattern"] = pb.TestEventPatternResponse(result=True)
    assert run("test-pattern", "--pattern", json.dumps(PATTERN), "--event", f"@{path}") == (
        0,
        "true\n",
        "",
    )
    req = fake.only("TestEventPattern")
    assert (json.loads(req.event_pattern), json.loads(req.event)) == (PATTERN, event)

    fake.responses["TestEventPattern"] = pb.TestEventPatternResponse(result=False)
    assert run("test-pattern", "--pattern", "{}", "--event", "{}") == (1, "false\n", "")
    code, out, _ = run("test-pattern", "--pattern", "{}", "--event", "{}", "--json")
    assert (code, json.loads(out)) == (1, {"result": False})


def test_test_pattern_error_exits_2(fake: FakeEvents, run: Any) -> None:
    fake.errors["TestEventPattern"] = InvalidEventPattern("Event pattern is not valid.")
    code, out, err = run("test-pattern", "--pattern", '{"a": 1}', "--event", "{}")
    assert (code, out) == (2, "")
    assert err == "eventplane: InvalidEventPatternException: Event pattern is not valid.\n"


# --- archives --------------------------------------------------------------------------


def test_create_archive(fake: FakeEvents, run: Any) -> None:
    fake.responses["CreateArchive"] = pb_archive()
    code, out, _ = run("create-archive", "orders-all")
    assert (code, out) == (0, pb_archive().archive_arn + "\n")
    req = fake.only("CreateArchive")
    assert (req.archive_name, req.event_source_arn, req.retention_days) == (
        "orders-all",
        "default",
        0,
    )
    assert (req.event_pattern, req.description) == ("", "")
    result = run(
        "create-archive", "orders-all", "--bus", "orders", "--pattern", '{"source": ["shop"]}',
        "--description", "all", "--retention-days", "7", "--json",
    )  # fmt: skip
    created = as_json(result)
    assert (created["archive_name"], created["event_count"]) == ("orders-all", 12)
    req = fake.calls[-1][1]
    assert (req.event_source_arn, req.event_pattern) == ("orders", '{"source": ["shop"]}')
    assert (req.description, req.retention_days) == ("all", 7)


def test_describe_list_delete_archive(fake: FakeEvents, run: Any) -> None:
    fake.responses["DescribeArchive"] = pb_archive()
    code, out, _ = run("describe-archive", "orders-all")
    assert code == 0 and "event_count: 12\nsize_bytes: 3400\n" in out
    assert "event_pattern" not in out and "description" not in out
    fake.responses["ListArchives"] = pb.ListArchivesResponse(archives=[pb_archive()])
    assert run("list-archives", "--bus", "orders", "--prefix", "o")[1] == (
        f"orders-all  ENABLED  12 events  {BUS_ARN}\n"
    )
    req = fake.calls[-1][1]
    assert (req.event_source_arn, req.name_prefix) == ("orders", "o")
    run("list-archives")
    assert fake.calls[-1][1].event_source_arn == ""  # every bus
    assert run("delete-archive", "orders-all") == (0, "deleted archive orders-all\n", "")
    assert fake.calls[-1][1].archive_name == "orders-all"


def test_update_archive_sends_only_what_is_given(
    fake: FakeEvents, run: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.responses["UpdateArchive"] = pb_archive()
    assert run("update-archive", "orders-all", "--retention-days", "0") == (
        0,
        "updated archive orders-all\n",
        "",
    )
    req = fake.only("UpdateArchive")
    assert req.HasField("retention_days") and req.retention_days == 0
    assert not req.HasField("description") and not req.HasField("event_pattern")
    err = usage_error(run, capsys, "update-archive", "orders-all")
    assert "give --description, --pattern or --retention-days" in err


# --- replays ---------------------------------------------------------------------------


def test_start_replay(fake: FakeEvents, run: Any) -> None:
    fake.responses["StartReplay"] = pb_replay()
    code, out, _ = run(
        "start-replay", "again", "--archive", "orders-all",
        "--start", "2024-05-01T02:00:00+02:00", "--end", str(MAY_1_MS + 3_600_000),
        "--rule", RULE_ARN, "--rule", RULE_ARN + "2", "--destination", BUS_ARN,
        "--description", "after the fix",
    )  # fmt: skip
    assert (code, out) == (0, "replay again STARTING\n")
    req = fake.only("StartReplay")
    assert (req.replay_name, req.event_source_arn) == ("again", "orders-all")
    assert (req.event_start_time_ms, req.event_end_time_ms) == (MAY_1_MS, MAY_1_MS + 3_600_000)
    assert list(req.filter_arns) == [RULE_ARN, RULE_ARN + "2"]
    assert (req.destination_arn, req.description) == (BUS_ARN, "after the fix")


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--start", "0", "--end", "1"], "--archive"),
        (["--archive", "a", "--end", "1"], "--start"),
        (["--archive", "a", "--start", "May 1st", "--end", "1"], "--start: time: expected ISO"),
    ],
)
def test_start_replay_usage_errors(
    fake: FakeEvents,
    run: Any,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    complaint: str,
) -> None:
    assert complaint in usage_error(run, capsys, "start-replay", "again", *args)
    assert fake.calls == []


def test_describe_list_cancel_replay(fake: FakeEvents, run: Any) -> None:
    fake.responses["DescribeReplay"] = pb_replay(state="RUNNING")
    code, out, _ = run("describe-replay", "again")
    assert code == 0
    assert "state: RUNNING\n" in out and f"filter_arns: {RULE_ARN}\n" in out
    assert "replay_end_time_ms" not in out and "state_reason" not in out
    fake.responses["ListReplays"] = pb.ListReplaysResponse(replays=[pb_replay()])
    code, out, _ = run("list-replays", "--state", "RUNNING", "--archive", "orders-all")
    assert out == f"again  STARTING  0 events  {pb_replay().event_source_arn}\n"
    req = fake.calls[-1][1]
    assert (req.state, req.event_source_arn) == ("RUNNING", "orders-all")
    fake.responses["CancelReplay"] = pb_replay(state="CANCELLING")
    assert run("cancel-replay", "again") == (0, "replay again CANCELLING\n", "")
    cancelled = as_json(run("cancel-replay", "again", "--json"))
    assert (cancelled["state"], cancelled["filter_arns"]) == ("CANCELLING", [RULE_ARN])


# --- schemas ---------------------------------------------------------------------------


def test_create_and_update_schema(fake: FakeEvents, run: Any, tmp_path: Path) -> None:
    path = tmp_path / "order.json"
    path.write_text(json.dumps(SCHEMA_DOC))
    fake.responses["CreateSchema"] = pb_schema()
    code, out, _ = run(
        "create-schema", "order", "--type", "JSONSchemaDraft4", "--content", f"@{path}",
        "--source", "shop", "--detail-type", "OrderPlaced", "--description", "v1",
    )  # fmt: skip
    assert (code, out) == (0, "schema order version 1\n")
    req = fake.only("CreateSchema")
    assert (req.schema_name, req.type, json.loads(req.content)) == (
        "order",
        "JSONSchemaDraft4",
        SCHEMA_DOC,
    )
    assert (req.source, req.detail_type, req.description) == ("shop", "OrderPlaced", "v1")

    fake.responses["UpdateSchema"] = pb_schema(version=2)
    updated = as_json(run("update-schema", "order", "--content", '{"type": "object"}', "--json"))
    assert updated["version"] == 2
    req = fake.calls[-1][1]
    assert (req.schema_name, req.content, req.description) == ("order", '{"type": "object"}', "")


def test_create_schema_type_is_checked(
    fake: FakeEvents, run: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    err = usage_error(run, capsys, "create-schema", "s", "--type", "XML", "--content", "{}")
    assert "--type" in err
    assert fake.calls == []


def test_describe_list_delete_schema(fake: FakeEvents, run: Any) -> None:
    fake.responses["DescribeSchema"] = pb_schema(version=3)
    code, out, _ = run("describe-schema", "order", "--version", "3")
    assert code == 0
    assert f"content: {json.dumps(SCHEMA_DOC)}\nversion: 3\nsource: shop\n" in out
    assert fake.only("DescribeSchema").version == 3
    run("describe-schema", "order")
    assert fake.calls[-1][1].version == 0
    fake.responses["ListSchemas"] = pb.ListSchemasResponse(schemas=[pb_schema()])
    assert run("list-schemas", "--prefix", "o")[1] == "order  v1  JSONSchemaDraft4\n"
    assert fake.calls[-1][1].name_prefix == "o"
    assert run("delete-schema", "order") == (0, "deleted schema order\n", "")


# --- every command, --json, errors -----------------------------------------------------

EVERY_COMMAND = [
    ["create-bus", "orders"],
    ["describe-bus", "orders"],
    ["list-buses"],
    ["delete-bus", "orders"],
    ["put-permission", "--statement-id", "ci", "--principal", "*"],
    ["remove-permission", "--all"],
    ["put-rule", "big", "--pattern", "{}"],
    ["describe-rule", "big"],
    ["list-rules"],
    ["rules-by-target", QUEUE_ARN],
    ["tag", BUS_ARN, "team=shop"],
    ["untag", BUS_ARN, "team"],
    ["tags", BUS_ARN],
    ["delete-rule", "big"],
    ["enable-rule", "big"],
    ["disable-rule", "big"],
    ["put-targets", "big", "--target", "a=b"],
    ["remove-targets", "big", "a"],
    ["list-targets", "big"],
    ["put-events", "--source", "s", "--detail-type", "d"],
    ["test-pattern", "--pattern", "{}", "--event", "{}"],
    ["create-archive", "a"],
    ["describe-archive", "a"],
    ["list-archives"],
    ["update-archive", "a", "--description", "d"],
    ["delete-archive", "a"],
    ["start-replay", "r", "--archive", "a", "--start", "0", "--end", "1"],
    ["describe-replay", "r"],
    ["list-replays"],
    ["cancel-replay", "r"],
    ["create-schema", "s", "--type", "Avro", "--content", "{}"],
    ["update-schema", "s", "--content", "{}"],
    ["describe-schema", "s"],
    ["list-schemas"],
    ["delete-schema", "s"],
]


@pytest.mark.parametrize("args", EVERY_COMMAND, ids=lambda a: a[0])
def test_every_command_prints_one_json_document(
    fake: FakeEvents, run: Any, args: list[str]
) -> None:
    fake.responses["TestEventPattern"] = pb.TestEventPatternResponse(result=True)
    code, out, err = run(*args, "--json")
    assert (code, err) == (0, "")
    assert isinstance(json.loads(out), dict)
    assert len(fake.calls) == 1


def test_every_command_is_tested_here(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["events", "--help"])
    help_text = capsys.readouterr().out
    # Actions are indented by exactly 4 spaces; their wrapped help by more.
    listed = set(re.findall(r"^ {4}([a-z][a-z-]+)", help_text, re.MULTILINE))
    assert listed == {args[0] for args in EVERY_COMMAND}


@pytest.mark.parametrize(
    "args",
    [
        ["describe-bus", "nope"],
        ["delete-rule", "nope"],
        ["list-targets", "nope"],
        ["describe-replay", "nope"],
        ["put-events", "--source", "s", "--detail-type", "d"],
    ],
    ids=lambda a: a[0],
)
def test_error_exits_1_with_one_line(fake: FakeEvents, run: Any, args: list[str]) -> None:
    for rpc in (
        "DescribeEventBus",
        "DeleteRule",
        "ListTargetsByRule",
        "DescribeReplay",
        "PutEvents",
    ):
        fake.errors[rpc] = ResourceNotFound("nope does not exist.")
    code, out, err = run(*args, "--json")
    assert (code, out) == (1, "")
    assert err == "eventplane: ResourceNotFoundException: nope does not exist.\n"


def test_endpoint_from_the_environment(
    served: tuple[FakeEvents, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake, target = served
    monkeypatch.setenv("EVENTPLANE_ENDPOINT", target)
    fake.responses["ListEventBuses"] = pb.ListEventBusesResponse(event_buses=[pb_bus()])
    assert main(["events", "list-buses"]) == 0
    assert capsys.readouterr().out == f"orders  {BUS_ARN}\n"


def test_events_needs_an_action(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["events"])
    assert info.value.code == 2
    assert "ACTION" in capsys.readouterr().err
