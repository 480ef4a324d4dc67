"""The EventBuses SDK against an in-process gRPC server that records what it is sent."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fake_grpc import FakeService, run_async, serve, snake

from eventplane._gen.v1 import events_pb2 as pb
from eventplane._gen.v1 import events_pb2_grpc
from eventplane.bus.errors import IllegalStatus, InvalidEventPattern
from eventplane.client import (
    Archive,
    AsyncClient,
    Client,
    EventBus,
    InputTransformer,
    PutEventsEntry,
    PutEventsResult,
    PutEventsResultEntry,
    PutTargetsResult,
    Replay,
    RetryPolicy,
    Rule,
    Schema,
    Target,
    TargetError,
)
from eventplane.client.events import AsyncEventsClient, EventsClient
from eventplane.errors import EventplaneError, InvalidParameterValue, ResourceNotFound

SERVICE = pb.DESCRIPTOR.services_by_name["EventBuses"]
RPCS = [m.name for m in SERVICE.methods]
ACCOUNT = "arn:aws:events:local:000000000000"
BUS_ARN = f"{ACCOUNT}:event-bus/orders"
RULE_ARN = f"{ACCOUNT}:rule/orders/big"
QUEUE_ARN = "arn:aws:sqs:local:000000000000:big-orders"
DLQ_ARN = "arn:aws:sqs:local:000000000000:big-orders-dlq"
ARCHIVE_ARN = f"{ACCOUNT}:archive/orders-all"
PATTERN = {"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}}
MAY_1 = datetime(2024, 5, 1, tzinfo=UTC)
MAY_1_MS = 1714521600000


class FakeEvents(FakeService, events_pb2_grpc.EventBusesServicer):
    def __init__(self) -> None:
        super().__init__(pb, "EventBuses")


@contextmanager
def serve_fake() -> Iterator[tuple[FakeEvents, str]]:
    """A real gRPC server on a free local port, serving a FakeEvents."""
    fake = FakeEvents()
    with serve(fake, events_pb2_grpc.add_EventBusesServicer_to_server) as target:
        yield fake, target


@pytest.fixture
def served() -> Iterator[tuple[FakeEvents, str]]:
    with serve_fake() as pair:
        yield pair


@pytest.fixture
def fake(served: tuple[FakeEvents, str]) -> FakeEvents:
    return served[0]


@pytest.fixture
def ep(served: tuple[FakeEvents, str]) -> Iterator[Client]:
    with Client(served[1], timeout=5) as client:
        yield client


# Responses as a server would send them, and what the SDK makes of them.


def pb_bus(name: str = "orders") -> pb.EventBus:
    return pb.EventBus(
        name=name,
        arn=f"{ACCOUNT}:event-bus/{name}",
        description="shop orders",
        schema_validation=True,
        creation_time_ms=MAY_1_MS,
    )


def bus(name: str = "orders") -> EventBus:
    return EventBus(name, f"{ACCOUNT}:event-bus/{name}", "shop orders", True, MAY_1_MS)


def pb_rule(name: str = "big") -> pb.Rule:
    return pb.Rule(
        name=name,
        arn=f"{ACCOUNT}:rule/orders/{name}",
        event_bus_name="orders",
        event_pattern=json.dumps(PATTERN),
        state="ENABLED",
    )


def rule(name: str = "big") -> Rule:
    return Rule(
        name, f"{ACCOUNT}:rule/orders/{name}", "orders", json.dumps(PATTERN), None, "ENABLED", ""
    )


def pb_archive(name: str = "orders-all") -> pb.Archive:
    return pb.Archive(
        archive_name=name,
        archive_arn=f"{ACCOUNT}:archive/{name}",
        event_source_arn=BUS_ARN,
        retention_days=7,
        state="ENABLED",
        event_count=12,
        size_bytes=3400,
        creation_time_ms=MAY_1_MS,
    )


def archive(name: str = "orders-all") -> Archive:
    arn = f"{ACCOUNT}:archive/{name}"
    return Archive(name, arn, BUS_ARN, "", None, 7, "ENABLED", 12, 3400, MAY_1_MS)


def pb_replay(name: str = "again", state: str = "STARTING") -> pb.Replay:
    return pb.Replay(
        replay_name=name,
        replay_arn=f"{ACCOUNT}:replay/{name}",
        event_source_arn=ARCHIVE_ARN,
        state=state,
        event_start_time_ms=MAY_1_MS,
        event_end_time_ms=MAY_1_MS + 3_600_000,
        replay_start_time_ms=MAY_1_MS + 10,
        destination_arn=BUS_ARN,
        filter_arns=[RULE_ARN],
    )


def replay(name: str = "again", state: str = "STARTING") -> Replay:
    return Replay(
        name,
        f"{ACCOUNT}:replay/{name}",
        ARCHIVE_ARN,
        "",
        state,
        None,
        MAY_1_MS,
        MAY_1_MS + 3_600_000,
        None,
        MAY_1_MS + 10,
        None,
        BUS_ARN,
        (RULE_ARN,),
        0,
    )


SCHEMA_DOC = {"type": "object", "required": ["total"]}


def pb_schema(name: str = "order", version: int = 1) -> pb.Schema:
    return pb.Schema(
        schema_name=name,
        schema_arn=f"{ACCOUNT}:schema/{name}",
        type="JSONSchemaDraft4",
        content=json.dumps(SCHEMA_DOC),
        version=version,
        source="shop",
        last_modified_ms=MAY_1_MS,
    )


def schema(name: str = "order", version: int = 1) -> Schema:
    return Schema(
        name,
        f"{ACCOUNT}:schema/{name}",
        "JSONSchemaDraft4",
        json.dumps(SCHEMA_DOC),
        version,
        "shop",
        None,
        "",
        MAY_1_MS,
    )


# --- surface ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [EventsClient, AsyncEventsClient])
def test_one_method_per_rpc(cls: type) -> None:
    missing = [snake(rpc) for rpc in RPCS if not callable(getattr(cls, snake(rpc), None))]
    assert missing == []


def test_clients_expose_events(served: tuple[FakeEvents, str]) -> None:
    with Client(served[1]) as client:
        assert isinstance(client.events, EventsClient)

    async def check(client: AsyncClient) -> None:
        assert isinstance(client.events, AsyncEventsClient)

    run_async(served[1], check)


# --- what each call sends --------------------------------------------------------------

# (call, rpc, request fields). Dict-form JSON arrives as json.dumps of it; text-form
# arrives exactly as written.
REQUESTS: list[tuple[Callable[[EventsClient], Any], str, dict[str, Any]]] = [
    (
        lambda c: c.create_event_bus(
            "orders", description="shop", schema_validation=True, tags={"team": "shop"}
        ),
        "CreateEventBus",
        {"name": "orders", "description": "shop", "schema_validation": True},
    ),
    (
        lambda c: c.create_event_bus("orders"),
        "CreateEventBus",
        {"name": "orders", "description": "", "schema_validation": False},
    ),
    (
        lambda c: c.update_event_bus("orders", description="new", schema_validation=False),
        "UpdateEventBus",
        {"name": "orders", "description": "new", "schema_validation": False},
    ),
    (lambda c: c.describe_event_bus(), "DescribeEventBus", {"name": ""}),
    (lambda c: c.describe_event_bus(BUS_ARN), "DescribeEventBus", {"name": BUS_ARN}),
    (lambda c: c.delete_event_bus("orders"), "DeleteEventBus", {"name": "orders"}),
    (
        lambda c: c.put_permission(
            event_bus_name="orders",
            statement_id="ci",
            principal="111122223333",
            condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-1"},
        ),
        "PutPermission",
        {
            "event_bus_name": "orders",
            "statement_id": "ci",
            "principal": "111122223333",
            "action": "events:PutEvents",
            "condition_type": "StringEquals",
            "condition_key": "aws:PrincipalOrgID",
            "condition_value": "o-1",
            "policy": "",
        },
    ),
    (
        lambda c: c.remove_permission(remove_all_permissions=True),
        "RemovePermission",
        {"event_bus_name": "", "statement_id": "", "remove_all_permissions": True},
    ),
    (
        lambda c: c.put_rule(
            "big",
            event_pattern=PATTERN,
            state="DISABLED",
            description="over 100",
            event_bus_name="orders",
            tags={"team": "shop"},
        ),
        "PutRule",
        {
            "name": "big",
            "event_bus_name": "orders",
            "event_pattern": json.dumps(PATTERN),
            "schedule_expression": "",
            "state": "DISABLED",
            "description": "over 100",
        },
    ),
    (
        lambda c: c.put_rule("big", event_pattern='{"source":  ["shop"]}'),
        "PutRule",
        {"event_bus_name": "", "event_pattern": '{"source":  ["shop"]}', "state": ""},
    ),
    (
        lambda c: c.put_rule("tick", schedule_expression="rate(5 minutes)"),
        "PutRule",
        {"event_pattern": "", "schedule_expression": "rate(5 minutes)"},
    ),
    (
        lambda c: c.describe_rule("big", event_bus_name="orders"),
        "DescribeRule",
        {"name": "big", "event_bus_name": "orders"},
    ),
    (
        lambda c: c.delete_rule("big", event_bus_name="orders", force=True),
        "DeleteRule",
        {"name": "big", "event_bus_name": "orders", "force": True},
    ),
    (
        lambda c: c.delete_rule("big"),
        "DeleteRule",
        {"name": "big", "event_bus_name": "", "force": False},
    ),
    (
        lambda c: c.enable_rule("big", event_bus_name="orders"),
        "EnableRule",
        {"name": "big", "event_bus_name": "orders"},
    ),
    (lambda c: c.disable_rule("big"), "DisableRule", {"name": "big", "event_bus_name": ""}),
    (
        lambda c: c.remove_targets("big", ["a", "b"], event_bus_name="orders", force=True),
        "RemoveTargets",
        {"rule": "big", "event_bus_name": "orders", "ids": ["a", "b"], "force": True},
    ),
    (
        lambda c: c.test_event_pattern(PATTERN, {"source": "shop"}),
        "TestEventPattern",
        {"event_pattern": json.dumps(PATTERN), "event": json.dumps({"source": "shop"})},
    ),
    (
        lambda c: c.test_event_pattern('{"source": ["shop"]}', '{"source": "shop"}'),
        "TestEventPattern",
        {"event_pattern": '{"source": ["shop"]}', "event": '{"source": "shop"}'},
    ),
    (
        lambda c: c.create_archive(
            "orders-all", "orders", description="all", event_pattern=PATTERN, retention_days=7
        ),
        "CreateArchive",
        {
            "archive_name": "orders-all",
            "event_source_arn": "orders",
            "description": "all",
            "event_pattern": json.dumps(PATTERN),
            "retention_days": 7,
        },
    ),
    (
        lambda c: c.create_archive("orders-all", BUS_ARN),
        "CreateArchive",
        {"event_source_arn": BUS_ARN, "event_pattern": "", "retention_days": 0},
    ),
    (
        lambda c: c.describe_archive("orders-all"),
        "DescribeArchive",
        {"archive_name": "orders-all"},
    ),
    (lambda c: c.delete_archive("orders-all"), "DeleteArchive", {"archive_name": "orders-all"}),
    (
        lambda c: c.start_replay(
            "again",
            "orders-all",
            MAY_1,
            MAY_1_MS + 3_600_000,
            destination_arn=BUS_ARN,
            filter_arns=[RULE_ARN],
            description="after the fix",
        ),
        "StartReplay",
        {
            "replay_name": "again",
            "event_source_arn": "orders-all",
            "event_start_time_ms": MAY_1_MS,
            "event_end_time_ms": MAY_1_MS + 3_600_000,
            "destination_arn": BUS_ARN,
            "filter_arns": [RULE_ARN],
            "description": "after the fix",
        },
    ),
    (
        lambda c: c.start_replay("again", ARCHIVE_ARN, "2024-05-01T00:00:00Z", "1714525200000"),
        "StartReplay",
        {
            "event_start_time_ms": MAY_1_MS,
            "event_end_time_ms": MAY_1_MS + 3_600_000,
            "destination_arn": "",
            "filter_arns": [],
        },
    ),
    (lambda c: c.describe_replay("again"), "DescribeReplay", {"replay_name": "again"}),
    (lambda c: c.cancel_replay("again"), "CancelReplay", {"replay_name": "again"}),
    (
        lambda c: c.create_schema(
            "order",
            "JSONSchemaDraft4",
            SCHEMA_DOC,
            source="shop",
            detail_type="OrderPlaced",
            description="v1",
        ),
        "CreateSchema",
        {
            "schema_name": "order",
            "type": "JSONSchemaDraft4",
            "content": json.dumps(SCHEMA_DOC),
            "source": "shop",
            "detail_type": "OrderPlaced",
            "description": "v1",
        },
    ),
    (
        lambda c: c.create_schema("order", "Avro", '{"type": "record"}'),
        "CreateSchema",
        {"type": "Avro", "content": '{"type": "record"}', "source": "", "detail_type": ""},
    ),
    (
        lambda c: c.update_schema("order", SCHEMA_DOC, description="v2"),
        "UpdateSchema",
        {"schema_name": "order", "content": json.dumps(SCHEMA_DOC), "description": "v2"},
    ),
    (
        lambda c: c.describe_schema("order", version=3),
        "DescribeSchema",
        {"schema_name": "order", "version": 3},
    ),
    (
        lambda c: c.describe_schema("order"),
        "DescribeSchema",
        {"schema_name": "order", "version": 0},
    ),
    (lambda c: c.delete_schema("order"), "DeleteSchema", {"schema_name": "order"}),
    (
        lambda c: c.tag_resource(BUS_ARN, {"team": "shop"}),
        "TagResource",
        {"resource_arn": BUS_ARN, "tags": {"team": "shop"}},
    ),
    (
        lambda c: c.untag_resource(BUS_ARN, ["team"]),
        "UntagResource",
        {"resource_arn": BUS_ARN, "tag_keys": ["team"]},
    ),
    (lambda c: c.list_tags_for_resource(BUS_ARN), "ListTagsForResource", {"resource_arn": BUS_ARN}),
]


@pytest.mark.parametrize(("call", "rpc", "fields"), REQUESTS)
def test_request_fields(
    fake: FakeEvents, ep: Client, call: Callable[[EventsClient], Any], rpc: str, fields: dict
) -> None:
    call(ep.events)
    req = fake.only(rpc)
    for name, value in fields.items():
        got = getattr(req, name)
        if name in ("ids", "filter_arns", "tag_keys"):
            got = list(got)
        elif name == "tags":
            got = dict(got)
        assert got == value, name


def test_every_rpc_has_a_request_case() -> None:
    covered = {rpc for _, rpc, _ in REQUESTS}
    # These build their requests from entries/targets/pages, tested on their own below.
    tested_elsewhere = {
        "PutTargets",
        "PutEvents",
        "UpdateArchive",
        "ListEventBuses",
        "ListRules",
        "ListTargetsByRule",
        "ListRuleNamesByTarget",
        "ListArchives",
        "ListReplays",
        "ListSchemas",
    }
    assert set(RPCS) - covered == tested_elsewhere


def test_tags_are_sent(fake: FakeEvents, ep: Client) -> None:
    ep.events.create_event_bus("orders", tags={"team": "shop"})
    ep.events.put_rule("big", event_pattern=PATTERN, tags={"cost": "42"})
    (_, create), (_, put) = fake.calls
    assert (dict(create.tags), dict(put.tags)) == ({"team": "shop"}, {"cost": "42"})


def test_update_archive_sends_only_what_is_given(fake: FakeEvents, ep: Client) -> None:
    fake.responses["UpdateArchive"] = pb_archive()
    assert ep.events.update_archive("orders-all", retention_days=0) == archive()
    req = fake.only("UpdateArchive")
    assert req.archive_name == "orders-all"
    assert req.HasField("retention_days") and req.retention_days == 0
    assert not req.HasField("description") and not req.HasField("event_pattern")

    fake.calls.clear()
    ep.events.update_archive("orders-all", description="", event_pattern=PATTERN)
    req = fake.only("UpdateArchive")
    assert req.HasField("description") and req.description == ""
    assert req.event_pattern == json.dumps(PATTERN)
    assert not req.HasField("retention_days")


# --- results ---------------------------------------------------------------------------


def test_results_are_converted(fake: FakeEvents, ep: Client) -> None:
    fake.responses.update(
        {
            "CreateEventBus": pb.CreateEventBusResponse(event_bus_arn=BUS_ARN),
            "DescribeEventBus": pb_bus(),
            "PutRule": pb.PutRuleResponse(rule_arn=RULE_ARN),
            "DescribeRule": pb_rule(),
            "TestEventPattern": pb.TestEventPatternResponse(result=True),
            "CreateArchive": pb_archive(),
            "DescribeArchive": pb_archive(),
            "StartReplay": pb_replay(),
            "CancelReplay": pb_replay(state="CANCELLING"),
            "CreateSchema": pb_schema(),
            "UpdateSchema": pb_schema(version=2),
            "DescribeSchema": pb_schema(),
        }
    )
    e = ep.events
    assert e.create_event_bus("orders") == BUS_ARN
    assert e.describe_event_bus("orders") == bus()
    assert e.put_rule("big", event_pattern=PATTERN) == RULE_ARN
    assert e.describe_rule("big") == rule()
    assert e.test_event_pattern(PATTERN, {}) is True
    assert e.create_archive("orders-all", "orders") == archive()
    assert e.describe_archive("orders-all") == archive()
    assert e.start_replay("again", "orders-all", 0, 1) == replay()
    assert e.cancel_replay("again") == replay(state="CANCELLING")
    assert e.create_schema("order", "JSONSchemaDraft4", SCHEMA_DOC) == schema()
    assert e.update_schema("order", SCHEMA_DOC) == schema(version=2)
    assert e.describe_schema("order") == schema()


def test_test_event_pattern_no_match(fake: FakeEvents, ep: Client) -> None:
    assert ep.events.test_event_pattern(PATTERN, {"source": "other"}) is False


def test_optional_fields_are_none_when_absent_and_set_when_present(
    fake: FakeEvents, ep: Client
) -> None:
    fake.responses["DescribeRule"] = pb.Rule(
        name="tick", schedule_expression="rate(1 minute)", state="DISABLED", description="d"
    )
    scheduled = ep.events.describe_rule("tick")
    assert (scheduled.event_pattern, scheduled.schedule_expression) == (None, "rate(1 minute)")
    assert (scheduled.state, scheduled.description) == ("DISABLED", "d")

    finished = pb_replay(state="FAILED")
    finished.state_reason = "archive deleted"
    finished.event_last_replayed_time_ms = MAY_1_MS + 5
    finished.replay_end_time_ms = MAY_1_MS + 99
    finished.events_replayed = 4
    fake.responses["DescribeReplay"] = finished
    r = ep.events.describe_replay("again")
    assert (r.state, r.state_reason, r.events_replayed) == ("FAILED", "archive deleted", 4)
    assert (r.event_last_replayed_time_ms, r.replay_end_time_ms) == (MAY_1_MS + 5, MAY_1_MS + 99)

    patterned = pb_archive()
    patterned.event_pattern = '{"source": ["shop"]}'
    fake.responses["DescribeArchive"] = patterned
    assert ep.events.describe_archive("orders-all").event_pattern == '{"source": ["shop"]}'


# --- update_event_bus ------------------------------------------------------------------


def test_update_event_bus_with_both_fields_is_one_call(fake: FakeEvents, ep: Client) -> None:
    fake.responses["UpdateEventBus"] = pb_bus()
    assert ep.events.update_event_bus("orders", description="", schema_validation=True) == bus()
    req = fake.only("UpdateEventBus")
    assert (req.description, req.schema_validation) == ("", True)


@pytest.mark.parametrize(
    ("kwargs", "sent"),
    [
        ({"description": "new"}, ("new", True)),  # validation kept on
        ({"schema_validation": False}, ("shop orders", False)),  # description kept
        ({}, ("shop orders", True)),
    ],
)
def test_update_event_bus_keeps_what_is_left_out(
    fake: FakeEvents, ep: Client, kwargs: dict[str, Any], sent: tuple[str, bool]
) -> None:
    fake.responses["DescribeEventBus"] = pb_bus()
    ep.events.update_event_bus("orders", **kwargs)
    (_, describe), (_, update) = fake.calls
    assert [rpc for rpc, _ in fake.calls] == ["DescribeEventBus", "UpdateEventBus"]
    assert describe.name == update.name == "orders"
    assert (update.description, update.schema_validation) == sent


# --- paging ----------------------------------------------------------------------------

# (call, rpc, response type, items field, one pb item per page number, expected converted)
LISTS: list[tuple[Callable[[EventsClient], Any], str, Any, str, Callable[[int], Any], Any]] = [
    (
        lambda c: c.list_event_buses(name_prefix="or"),
        "ListEventBuses",
        pb.ListEventBusesResponse,
        "event_buses",
        lambda n: pb_bus(f"b{n}"),
        lambda n: bus(f"b{n}"),
    ),
    (
        lambda c: c.list_rules(event_bus_name="orders", name_prefix="b"),
        "ListRules",
        pb.ListRulesResponse,
        "rules",
        lambda n: pb_rule(f"r{n}"),
        lambda n: rule(f"r{n}"),
    ),
    (
        lambda c: c.list_targets_by_rule("big", event_bus_name="orders"),
        "ListTargetsByRule",
        pb.ListTargetsByRuleResponse,
        "targets",
        lambda n: pb.Target(id=f"t{n}", arn=QUEUE_ARN),
        lambda n: Target(f"t{n}", QUEUE_ARN),
    ),
    (
        lambda c: c.list_archives(name_prefix="o", event_source_arn="orders"),
        "ListArchives",
        pb.ListArchivesResponse,
        "archives",
        lambda n: pb_archive(f"a{n}"),
        lambda n: archive(f"a{n}"),
    ),
    (
        lambda c: c.list_replays(name_prefix="a", state="RUNNING", event_source_arn="orders-all"),
        "ListReplays",
        pb.ListReplaysResponse,
        "replays",
        lambda n: pb_replay(f"r{n}"),
        lambda n: replay(f"r{n}"),
    ),
    (
        lambda c: c.list_rule_names_by_target(QUEUE_ARN, event_bus_name="orders"),
        "ListRuleNamesByTarget",
        pb.ListRuleNamesByTargetResponse,
        "rule_names",
        lambda n: f"r{n}",
        lambda n: f"r{n}",
    ),
    (
        lambda c: c.list_schemas(name_prefix="o"),
        "ListSchemas",
        pb.ListSchemasResponse,
        "schemas",
        lambda n: pb_schema(f"s{n}"),
        lambda n: schema(f"s{n}"),
    ),
]

# The filters each list call above passes, which must be on every page's request.
LIST_FILTERS = {
    "ListEventBuses": {"name_prefix": "or"},
    "ListRules": {"event_bus_name": "orders", "name_prefix": "b"},
    "ListTargetsByRule": {"rule": "big", "event_bus_name": "orders"},
    "ListRuleNamesByTarget": {"target_arn": QUEUE_ARN, "event_bus_name": "orders"},
    "ListArchives": {"name_prefix": "o", "event_source_arn": "orders"},
    "ListReplays": {"name_prefix": "a", "state": "RUNNING", "event_source_arn": "orders-all"},
    "ListSchemas": {"name_prefix": "o"},
}


@pytest.mark.parametrize(("call", "rpc", "response", "items", "item", "expected"), LISTS)
def test_lists_follow_every_page_with_the_same_filters(
    fake: FakeEvents,
    ep: Client,
    call: Callable[[EventsClient], Any],
    rpc: str,
    response: Any,
    items: str,
    item: Callable[[int], Any],
    expected: Callable[[int], Any],
) -> None:
    pages = {
        "": response(**{items: [item(1), item(2)]}, next_token="t1"),
        "t1": response(**{items: [item(3)]}, next_token="t2"),
        "t2": response(),
    }
    fake.responses[rpc] = lambda req: pages[req.next_token]
    assert call(ep.events) == [expected(1), expected(2), expected(3)]
    assert [req.next_token for _, req in fake.calls] == ["", "t1", "t2"]
    for _, req in fake.calls:
        for name, value in LIST_FILTERS[rpc].items():
            assert getattr(req, name) == value


def test_lists_stop_when_the_token_repeats(fake: FakeEvents, ep: Client) -> None:
    fake.responses["ListRules"] = lambda req: pb.ListRulesResponse(
        rules=[pb_rule()], next_token="same"
    )
    assert ep.events.list_rules() == [rule(), rule()]
    assert [req.next_token for _, req in fake.calls] == ["", "same"]


def test_list_filters_default_to_empty(fake: FakeEvents, ep: Client) -> None:
    ep.events.list_event_buses()
    ep.events.list_rules()
    ep.events.list_archives()
    ep.events.list_replays()
    ep.events.list_schemas()
    buses, rules, archives, replays, schemas = (req for _, req in fake.calls)
    assert buses.name_prefix == rules.event_bus_name == rules.name_prefix == ""
    assert archives.name_prefix == archives.event_source_arn == ""
    assert replays.state == replays.event_source_arn == schemas.name_prefix == ""


def test_error_while_paging_reaches_the_caller(fake: FakeEvents, ep: Client) -> None:
    def first_page(req: pb.ListArchivesRequest) -> pb.ListArchivesResponse:
        fake.errors["ListArchives"] = ResourceNotFound("gone")  # for the second page
        return pb.ListArchivesResponse(archives=[pb_archive()], next_token="t1")

    fake.responses["ListArchives"] = first_page
    with pytest.raises(ResourceNotFound, match="gone"):
        ep.events.list_archives()


# --- targets ---------------------------------------------------------------------------

FULL_TARGET = {
    "Id": "q",
    "Arn": QUEUE_ARN + ".fifo",
    "InputTransformer": {
        "InputPathsMap": {"id": "$.detail.id", "total": "$.detail.total"},
        "InputTemplate": '{"order": <id>, "total": <total>}',
    },
    "RetryPolicy": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60},
    "DeadLetterConfig": {"Arn": DLQ_ARN},
    "SqsParameters": {"MessageGroupId": "orders"},
}


def test_put_targets_sends_boto3_dicts(fake: FakeEvents, ep: Client) -> None:
    result = ep.events.put_targets(
        "big",
        [
            FULL_TARGET,
            {"Id": "const", "Arn": QUEUE_ARN, "Input": {"kind": "big"}},
            {"Id": "text", "Arn": QUEUE_ARN, "Input": '"just text"'},
            {"Id": "part", "Arn": "https://example.com/hook", "InputPath": "$.detail"},
        ],
        event_bus_name="orders",
    )
    assert result == PutTargetsResult(0, [])
    req = fake.only("PutTargets")
    assert (req.rule, req.event_bus_name) == ("big", "orders")
    full, const, text, part = req.targets
    assert (full.id, full.arn) == ("q", QUEUE_ARN + ".fifo")
    assert dict(full.input_transformer.input_paths_map) == {
        "id": "$.detail.id",
        "total": "$.detail.total",
    }
    assert full.input_transformer.input_template == '{"order": <id>, "total": <total>}'
    assert full.retry_policy.HasField("maximum_retry_attempts")  # 0 is a value, not "unset"
    assert full.retry_policy.maximum_retry_attempts == 0
    assert full.retry_policy.maximum_event_age_in_seconds == 60
    assert full.dead_letter_config.arn == DLQ_ARN
    assert full.sqs_parameters.message_group_id == "orders"
    assert (full.input, full.input_path) == ("", "")
    assert const.input == json.dumps({"kind": "big"})
    assert text.input == '"just text"'
    assert (part.arn, part.input_path) == ("https://example.com/hook", "$.detail")
    for plain in (const, text, part):
        for sub in ("input_transformer", "retry_policy", "dead_letter_config", "sqs_parameters"):
            assert not plain.HasField(sub), sub


def test_put_targets_sends_dataclasses_and_mixes(fake: FakeEvents, ep: Client) -> None:
    ep.events.put_targets(
        "big",
        [
            Target(
                "q",
                QUEUE_ARN,
                input_transformer=InputTransformer({"msg": "<id>"}, {"id": "$.id"}),
                retry_policy=RetryPolicy(maximum_event_age_in_seconds=3600),
                dead_letter_arn=DLQ_ARN,
                sqs_message_group_id="g",
            ),
            # A boto3 dict inside a dataclass is accepted too.
            Target("r", QUEUE_ARN, retry_policy={"MaximumRetryAttempts": 2}),  # type: ignore[arg-type]
            {"Id": "s", "Arn": QUEUE_ARN, "RetryPolicy": RetryPolicy(5)},
        ],
    )
    first, second, third = fake.only("PutTargets").targets
    assert first.input_transformer.input_template == json.dumps({"msg": "<id>"})
    assert dict(first.input_transformer.input_paths_map) == {"id": "$.id"}
    assert not first.retry_policy.HasField("maximum_retry_attempts")
    assert first.retry_policy.maximum_event_age_in_seconds == 3600
    assert (first.dead_letter_config.arn, first.sqs_parameters.message_group_id) == (DLQ_ARN, "g")
    assert second.retry_policy.maximum_retry_attempts == 2
    assert third.retry_policy.maximum_retry_attempts == 5


def test_put_targets_reports_failures(fake: FakeEvents, ep: Client) -> None:
    fake.responses["PutTargets"] = pb.PutTargetsResponse(
        failed_entry_count=1,
        failed_entries=[
            pb.TargetError(target_id="b", error_code="ValidationException", error_message="arn")
        ],
    )
    result = ep.events.put_targets("big", [{"Id": "a", "Arn": QUEUE_ARN}, {"Id": "b", "Arn": "x"}])
    assert result == PutTargetsResult(1, [TargetError("b", "ValidationException", "arn")])


def test_remove_targets_reports_failures(fake: FakeEvents, ep: Client) -> None:
    fake.responses["RemoveTargets"] = pb.RemoveTargetsResponse(
        failed_entry_count=1,
        failed_entries=[
            pb.TargetError(target_id="zz", error_code="ResourceNotFoundException", error_message="")
        ],
    )
    result = ep.events.remove_targets("big", ("a", "zz"))
    assert result == PutTargetsResult(1, [TargetError("zz", "ResourceNotFoundException", "")])
    assert list(fake.only("RemoveTargets").ids) == ["a", "zz"]


def test_list_targets_converts_every_part(fake: FakeEvents, ep: Client) -> None:
    full = pb.Target(
        id="q",
        arn=QUEUE_ARN,
        input_transformer=pb.InputTransformer(
            input_paths_map={"id": "$.id"}, input_template="<id>"
        ),
        retry_policy=pb.RetryPolicy(maximum_event_age_in_seconds=120),
        dead_letter_config=pb.DeadLetterConfig(arn=DLQ_ARN),
        sqs_parameters=pb.SqsParameters(message_group_id="g"),
    )
    fake.responses["ListTargetsByRule"] = pb.ListTargetsByRuleResponse(
        targets=[full, pb.Target(id="c", arn=QUEUE_ARN, input='{"k": 1}', input_path="")]
    )
    assert ep.events.list_targets_by_rule("big") == [
        Target(
            "q",
            QUEUE_ARN,
            input_transformer=InputTransformer("<id>", {"id": "$.id"}),
            retry_policy=RetryPolicy(None, 120),
            dead_letter_arn=DLQ_ARN,
            sqs_message_group_id="g",
        ),
        Target("c", QUEUE_ARN, input='{"k": 1}'),
    ]


@pytest.mark.parametrize(
    ("target", "complaint"),
    [
        ({"Id": "a", "Arn": QUEUE_ARN, "RoleArn": "r"}, "target 0: unknown key(s) RoleArn"),
        ({"Id": "a", "Arn": QUEUE_ARN, "id": "b"}, "unknown key(s) id"),
        ({"Id": "a"}, "target 0: missing Arn"),
        ({"Arn": QUEUE_ARN}, "target 0: missing Id"),
        (
            {"Id": "a", "Arn": QUEUE_ARN, "RetryPolicy": {"MaxRetries": 1}},
            "target 0 RetryPolicy: unknown key(s) MaxRetries",
        ),
        (
            {"Id": "a", "Arn": QUEUE_ARN, "InputTransformer": {"InputPathsMap": {}}},
            "target 0 InputTransformer: missing InputTemplate",
        ),
        (
            {"Id": "a", "Arn": QUEUE_ARN, "InputTransformer": {"Template": "x"}},
            "InputTransformer: unknown key(s) Template",
        ),
        (
            {
                "Id": "a",
                "Arn": QUEUE_ARN,
                "InputTransformer": {"InputTemplate": "x", "InputPathsMap": ["$.id"]},
            },
            "InputPathsMap: expected a dict",
        ),
        ({"Id": "a", "Arn": QUEUE_ARN, "DeadLetterConfig": {}}, "DeadLetterConfig: missing Arn"),
        ({"Id": "a", "Arn": QUEUE_ARN, "DeadLetterConfig": DLQ_ARN}, "expected a dict with Arn"),
        (
            {"Id": "a", "Arn": QUEUE_ARN, "SqsParameters": {"MessageGroupId": "g", "X": 1}},
            "SqsParameters: unknown key(s) X",
        ),
        (
            {"Id": "a", "Arn": QUEUE_ARN, "RetryPolicy": {"MaximumRetryAttempts": "3"}},
            "MaximumRetryAttempts: expected an int",
        ),
        ({"Id": "a", "Arn": QUEUE_ARN, "Input": {1, 2}}, "Input: expected JSON text"),
        (("a", QUEUE_ARN), "expected a Target or a dict"),
    ],
)
def test_put_targets_rejects_malformed_targets_before_calling(
    fake: FakeEvents, ep: Client, target: Any, complaint: str
) -> None:
    with pytest.raises(ValueError) as info:
        ep.events.put_targets("big", [{"Id": "ok", "Arn": QUEUE_ARN}, target])
    assert complaint.replace("target 0", "target 1") in str(info.value)
    assert fake.calls == []


def test_put_targets_wants_a_list(fake: FakeEvents, ep: Client) -> None:
    with pytest.raises(ValueError, match="targets: expected a list, got dict"):
        not_a_list: Any = {"Id": "a", "Arn": QUEUE_ARN}
        ep.events.put_targets("big", not_a_list)
    assert fake.calls == []


def test_argument_errors_are_also_eventplane_errors(ep: Client) -> None:
    # `except ValueError` and `except EventplaneError` (and the CLI) all catch them.
    with pytest.raises(InvalidParameterValue) as info:
        ep.events.put_targets("big", [{"Id": "a", "Arn": QUEUE_ARN, "Bogus": 1}])
    assert isinstance(info.value, ValueError)
    assert info.value.code == "InvalidParameterValue"
    assert "Bogus" in info.value.message


# --- put_events ------------------------------------------------------------------------


def test_put_events_sends_boto3_dicts_and_dataclasses(fake: FakeEvents, ep: Client) -> None:
    fake.responses["PutEvents"] = pb.PutEventsResponse(
        failed_entry_count=1,
        entries=[
            pb.PutEventsResultEntry(event_id="e-1"),
            pb.PutEventsResultEntry(
                error_code="InvalidArgument", error_message="Detail is not valid"
            ),
            pb.PutEventsResultEntry(event_id="e-3"),
        ],
    )
    result = ep.events.put_events(
        [
            {
                "Source": "shop",
                "DetailType": "OrderPlaced",
                "Detail": {"id": 7, "total": 250},
                "Resources": [QUEUE_ARN],
                "EventBusName": "orders",
                "Time": MAY_1,
                "TraceHeader": "Root=1-abc",
            },
            {"Source": "shop", "DetailType": "OrderPlaced", "Detail": "{not json"},
            PutEventsEntry("shop", "OrderShipped", '{"id": 7}', event_bus_name=BUS_ARN),
        ]
    )
    assert result == PutEventsResult(
        1,
        [
            PutEventsResultEntry("e-1", None, None),
            PutEventsResultEntry(None, "InvalidArgument", "Detail is not valid"),
            PutEventsResultEntry("e-3", None, None),
        ],
    )
    first, second, third = fake.only("PutEvents").entries
    assert (first.source, first.detail_type) == ("shop", "OrderPlaced")
    assert first.detail == json.dumps({"id": 7, "total": 250})
    assert (list(first.resources), first.event_bus_name) == ([QUEUE_ARN], "orders")
    assert (first.time_ms, first.trace_header) == (MAY_1_MS, "Root=1-abc")
    # Text goes as written: the server, not the SDK, judges the detail.
    assert (second.detail, second.event_bus_name, list(second.resources)) == ("{not json", "", [])
    assert not second.HasField("time_ms")
    assert (third.detail_type, third.detail, third.event_bus_name) == (
        "OrderShipped",
        '{"id": 7}',
        BUS_ARN,
    )


@pytest.mark.parametrize(
    ("time", "ms"),
    [
        (MAY_1, MAY_1_MS),
        (datetime(2024, 5, 1), MAY_1_MS),  # naive: UTC
        (datetime(2024, 5, 1, 2, tzinfo=timezone(timedelta(hours=2))), MAY_1_MS),
        (datetime(2024, 5, 1, 0, 0, 0, 1500, tzinfo=UTC), MAY_1_MS + 1),
        (MAY_1_MS, MAY_1_MS),
        (0, 0),
        ("2024-05-01T00:00:00Z", MAY_1_MS),
        ("2024-05-01T00:00:00.250+00:00", MAY_1_MS + 250),
        (str(MAY_1_MS), MAY_1_MS),
    ],
)
def test_put_events_time_forms(fake: FakeEvents, ep: Client, time: Any, ms: int) -> None:
    ep.events.put_events([{"Source": "s", "DetailType": "d", "Detail": {}, "Time": time}])
    entry = fake.only("PutEvents").entries[0]
    assert entry.HasField("time_ms") and entry.time_ms == ms


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        (
            {"Source": "s", "DetailType": "d", "Detail": {}, "Bus": "x"},
            "entry 0: unknown key(s) Bus",
        ),
        ({"source": "s", "DetailType": "d", "Detail": {}}, "unknown key(s) source"),
        ({"Source": "s", "Detail": {}}, "entry 0: missing DetailType"),
        ({"Source": "s", "DetailType": "d"}, "entry 0: missing Detail"),
        ({"Source": "s", "DetailType": "d", "Detail": {}, "Resources": "arn:x"}, "Resources"),
        ({"Source": "s", "DetailType": "d", "Detail": {}, "Time": "yesterday"}, "ISO 8601"),
        ({"Source": "s", "DetailType": "d", "Detail": {}, "Time": True}, "got bool"),
        ({"Source": "s", "DetailType": "d", "Detail": {}, "Time": 1.5}, "got float"),
        ({"Source": "s", "DetailType": "d", "Detail": {"at": MAY_1}}, "not JSON-serializable"),
        ("shop", "expected a PutEventsEntry or a dict"),
    ],
)
def test_put_events_rejects_malformed_entries_before_calling(
    fake: FakeEvents, ep: Client, entry: Any, complaint: str
) -> None:
    with pytest.raises(ValueError) as info:
        ep.events.put_events([entry])
    assert complaint in str(info.value)
    assert fake.calls == []


def test_put_events_wants_a_list(fake: FakeEvents, ep: Client) -> None:
    not_a_list: Any = {"Source": "s", "DetailType": "d", "Detail": {}}
    with pytest.raises(ValueError, match="entries: expected a list, got dict"):
        ep.events.put_events(not_a_list)
    assert fake.calls == []


@pytest.mark.parametrize(
    ("call", "complaint"),
    [
        (lambda c: c.put_rule("r", event_pattern=42), "event_pattern: expected JSON text"),
        (lambda c: c.test_event_pattern(PATTERN, b"{}"), "event: expected JSON text"),
        (lambda c: c.create_schema("s", "Avro", {"x": {1, 2}}), "content: not JSON"),
        (lambda c: c.start_replay("r", "a", "soon", 1), "event_start_time: expected ISO 8601"),
        (lambda c: c.start_replay("r", "a", 0, 1, filter_arns=RULE_ARN), "filter_arns"),
        (lambda c: c.update_archive("a", retention_days="7"), "retention_days: expected an int"),
        (lambda c: c.remove_targets("r", "abc"), "ids: expected a list of strings"),
    ],
)
def test_other_malformed_arguments_fail_before_calling(
    fake: FakeEvents, ep: Client, call: Callable[[EventsClient], Any], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        call(ep.events)
    assert fake.calls == []


# --- errors ----------------------------------------------------------------------------


def test_invalid_pattern_arrives_as_its_class(fake: FakeEvents, ep: Client) -> None:
    message = "Event pattern is not valid. Reason: prefix match pattern must be a string"
    fake.errors["PutRule"] = InvalidEventPattern(message)
    with pytest.raises(InvalidEventPattern) as info:
        ep.events.put_rule("big", event_pattern={"source": [{"prefix": 1}]})
    assert (info.value.code, info.value.message) == ("InvalidEventPatternException", message)


def test_illegal_status_arrives_as_its_class(fake: FakeEvents, ep: Client) -> None:
    fake.errors["CancelReplay"] = IllegalStatus("Replay again is already COMPLETED")
    with pytest.raises(IllegalStatus, match="COMPLETED"):
        ep.events.cancel_replay("again")


def test_typed_error_on_a_call_without_a_result(fake: FakeEvents, ep: Client) -> None:
    fake.errors["DeleteEventBus"] = ResourceNotFound("Event bus nope does not exist.")
    with pytest.raises(ResourceNotFound, match="nope"):
        ep.events.delete_event_bus("nope")


def test_sdk_alone_maps_bus_codes_to_their_classes() -> None:
    # A fresh interpreter that imports only the SDK: the bus error classes must be
    # registered without the program importing them itself.
    import subprocess
    import sys

    code = (
        "import eventplane.client\n"
        "from eventplane.errors import EventplaneError as E\n"
        "print(type(E.from_code('InvalidEventPatternException', 'x')).__name__,"
        " type(E.from_code('IllegalStatusException', 'x')).__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["InvalidEventPattern", "IllegalStatus"]


# --- async -----------------------------------------------------------------------------


def test_async_bus_rule_targets_events(served: tuple[FakeEvents, str]) -> None:
    fake, target = served
    fake.responses["CreateEventBus"] = pb.CreateEventBusResponse(event_bus_arn=BUS_ARN)
    fake.responses["PutRule"] = pb.PutRuleResponse(rule_arn=RULE_ARN)
    fake.responses["PutEvents"] = pb.PutEventsResponse(
        entries=[pb.PutEventsResultEntry(event_id="e-1")]
    )
    fake.responses["TestEventPattern"] = pb.TestEventPatternResponse(result=True)

    async def use(client: AsyncClient) -> tuple[Any, ...]:
        e = client.events
        arn = await e.create_event_bus("orders", schema_validation=True)
        rule_arn = await e.put_rule("big", event_pattern=PATTERN, event_bus_name="orders")
        put = await e.put_targets("big", [FULL_TARGET], event_bus_name="orders")
        sent = await e.put_events(
            [{"Source": "shop", "DetailType": "OrderPlaced", "Detail": {"total": 250}}]
        )
        matched = await e.test_event_pattern(PATTERN, '{"source": "shop"}')
        return arn, rule_arn, put, sent, matched

    assert run_async(target, use) == (
        BUS_ARN,
        RULE_ARN,
        PutTargetsResult(0, []),
        PutEventsResult(0, [PutEventsResultEntry("e-1", None, None)]),
        True,
    )
    (_, create), (_, put_rule), (_, put_targets), (_, put_events), (_, test) = fake.calls
    assert (create.name, create.schema_validation) == ("orders", True)
    assert put_rule.event_pattern == json.dumps(PATTERN)
    assert put_targets.targets[0].dead_letter_config.arn == DLQ_ARN
    assert put_events.entries[0].detail == json.dumps({"total": 250})
    assert test.event == '{"source": "shop"}'


def test_async_lists_follow_pages(served: tuple[FakeEvents, str]) -> None:
    fake, target = served
    rule_pages = {
        "": pb.ListRulesResponse(rules=[pb_rule("a")], next_token="t"),
        "t": pb.ListRulesResponse(rules=[pb_rule("b")]),
    }
    target_pages = {
        "": pb.ListTargetsByRuleResponse(targets=[pb.Target(id="x", arn="a")], next_token="t"),
        "t": pb.ListTargetsByRuleResponse(targets=[pb.Target(id="y", arn="b")]),
    }
    fake.responses["ListRules"] = lambda req: rule_pages[req.next_token]
    fake.responses["ListTargetsByRule"] = lambda req: target_pages[req.next_token]
    fake.responses["ListReplays"] = pb.ListReplaysResponse(replays=[pb_replay()])

    async def use(client: AsyncClient) -> tuple[Any, ...]:
        return (
            await client.events.list_rules(event_bus_name="orders"),
            await client.events.list_targets_by_rule("big"),
            await client.events.list_replays(state="RUNNING"),
        )

    rules, targets, replays = run_async(target, use)
    assert rules == [rule("a"), rule("b")]
    assert targets == [Target("x", "a"), Target("y", "b")]
    assert replays == [replay()]
    assert [r.event_bus_name for rpc, r in fake.calls if rpc == "ListRules"] == ["orders"] * 2
    assert [r.state for rpc, r in fake.calls if rpc == "ListReplays"] == ["RUNNING"]


def test_async_update_bus_archive_replay_schema(served: tuple[FakeEvents, str]) -> None:
    fake, target = served
    fake.responses["DescribeEventBus"] = pb_bus()
    fake.responses["UpdateEventBus"] = pb_bus()
    fake.responses["UpdateArchive"] = pb_archive()
    fake.responses["StartReplay"] = pb_replay()
    fake.responses["DescribeSchema"] = pb_schema(version=3)

    async def use(client: AsyncClient) -> tuple[Any, ...]:
        e = client.events
        return (
            await e.update_event_bus("orders", schema_validation=False),
            await e.update_archive("orders-all", event_pattern=PATTERN),
            await e.start_replay("again", "orders-all", MAY_1, "2024-05-01T01:00:00Z"),
            await e.describe_schema("order", version=3),
        )

    assert run_async(target, use) == (bus(), archive(), replay(), schema(version=3))
    rpcs = [rpc for rpc, _ in fake.calls]
    assert rpcs == [
        "DescribeEventBus",
        "UpdateEventBus",
        "UpdateArchive",
        "StartReplay",
        "DescribeSchema",
    ]
    _, update_bus, update_archive, start, describe = (req for _, req in fake.calls)
    assert (update_bus.description, update_bus.schema_validation) == ("shop orders", False)
    assert update_archive.event_pattern == json.dumps(PATTERN)
    assert not update_archive.HasField("retention_days")
    assert (start.event_start_time_ms, start.event_end_time_ms) == (MAY_1_MS, MAY_1_MS + 3_600_000)
    assert describe.version == 3


def test_async_errors(served: tuple[FakeEvents, str]) -> None:
    fake, target = served
    fake.errors["DescribeRule"] = ResourceNotFound("Rule big does not exist.")

    async def missing(client: AsyncClient) -> None:
        await client.events.describe_rule("big")

    with pytest.raises(ResourceNotFound, match="big"):
        run_async(target, missing)

    async def malformed(client: AsyncClient) -> None:
        await client.events.put_events([{"Source": "s", "DetailType": "d", "Detial": {}}])

    with pytest.raises(ValueError, match="Detial"):
        run_async(target, malformed)
    assert [rpc for rpc, _ in fake.calls] == ["DescribeRule"]


def test_unknown_server_code_keeps_its_text(fake: FakeEvents, ep: Client) -> None:
    fake.errors["DescribeSchema"] = EventplaneError.from_code("NotFoundException", "no schema")
    with pytest.raises(EventplaneError) as info:
        ep.events.describe_schema("x")
    assert (info.value.code, info.value.message) == ("NotFoundException", "no schema")
