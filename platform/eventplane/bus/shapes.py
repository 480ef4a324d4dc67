"""The EventBridge actions' request and result shapes (buses, rules, targets, events).

What the bus core (``operations.BusOperations``) takes and returns: one
``<Action>Request`` / ``<Action>Result`` pair per action, fields in snake_case of
EventBridge's member names, so the gRPC servicer (from protobuf) and the HTTP gateway
(from botocore's model) translate onto them by name alone. Absent strings are "";
absent optional numbers and structures are None.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# --- targets ----------------------------------------------------------------------------------


@dataclass
class InputTransformer:
    input_paths_map: dict[str, str] = field(default_factory=dict)
    input_template: str = ""


@dataclass
class RetryPolicy:
    maximum_retry_attempts: int | None = None
    maximum_event_age_in_seconds: int | None = None


@dataclass
class DeadLetterConfig:
    arn: str = ""


@dataclass
class SqsParameters:
    message_group_id: str = ""


@dataclass
class Target:
    id: str = ""
    arn: str = ""
    input: str = ""
    input_path: str = ""
    input_transformer: InputTransformer | None = None
    retry_policy: RetryPolicy | None = None
    dead_letter_config: DeadLetterConfig | None = None
    sqs_parameters: SqsParameters | None = None


@dataclass
class PutTargetsResultEntry:
    target_id: str
    error_code: str
    error_message: str


@dataclass
class PutTargetsRequest:
    rule: str = ""
    event_bus_name: str = ""
    targets: list[Target] = field(default_factory=list)


@dataclass
class PutTargetsResult:
    failed_entry_count: int
    failed_entries: list[PutTargetsResultEntry]


@dataclass
class RemoveTargetsRequest:
    rule: str = ""
    event_bus_name: str = ""
    ids: list[str] = field(default_factory=list)
    force: bool = False


@dataclass
class RemoveTargetsResult:
    failed_entry_count: int
    failed_entries: list[PutTargetsResultEntry] = field(default_factory=list)


@dataclass
class ListTargetsByRuleRequest:
    rule: str = ""
    event_bus_name: str = ""
    next_token: str = ""
    limit: int = 0


@dataclass
class ListTargetsByRuleResult:
    targets: list[Target]
    next_token: str = ""


# --- tags -------------------------------------------------------------------------------------


@dataclass
class Tag:
    key: str = ""
    value: str = ""


@dataclass
class TagResourceRequest:
    resource_arn: str = ""
    tags: list[Tag] = field(default_factory=list)


@dataclass
class UntagResourceRequest:
    resource_arn: str = ""
    tag_keys: list[str] = field(default_factory=list)


@dataclass
class ListTagsForResourceRequest:
    resource_arn: str = ""


@dataclass
class ListTagsForResourceResult:
    # {"Key": ..., "Value": ...} in EventBridge's spelling: a Mapping's "" is a value it
    # holds (Value may be empty), where a dataclass's "" would mean absent.
    tags: list[dict[str, str]] = field(default_factory=list)


# --- buses ------------------------------------------------------------------------------------


@dataclass
class EventBus:
    name: str
    arn: str
    description: str
    creation_time: dt.datetime
    # eventplane's own setting (not in EventBridge's shape): validate details on put.
    schema_validation: bool = False
    policy: str = ""  # the resource-based policy (PutPermission), JSON text
    last_modified_time: dt.datetime | None = None


@dataclass
class CreateEventBusRequest:
    name: str = ""
    description: str = ""
    schema_validation: bool = False
    tags: list[Tag] = field(default_factory=list)


@dataclass
class CreateEventBusResult:
    event_bus_arn: str
    description: str = ""


@dataclass
class UpdateEventBusRequest:
    name: str = ""
    description: str = ""
    schema_validation: bool = False


UpdateEventBusResult = EventBus


@dataclass
class DescribeEventBusRequest:
    name: str = ""


DescribeEventBusResult = EventBus


@dataclass
class ListEventBusesRequest:
    name_prefix: str = ""
    next_token: str = ""
    limit: int = 0


@dataclass
class ListEventBusesResult:
    event_buses: list[EventBus]
    next_token: str = ""


@dataclass
class DeleteEventBusRequest:
    name: str = ""


@dataclass
class Condition:
    type: str = ""
    key: str = ""
    value: str = ""


@dataclass
class PutPermissionRequest:
    event_bus_name: str = ""
    action: str = ""
    principal: str = ""
    statement_id: str = ""
    condition: Condition | None = None
    policy: str = ""  # a whole document instead of one statement


@dataclass
class RemovePermissionRequest:
    statement_id: str = ""
    remove_all_permissions: bool = False
    event_bus_name: str = ""


@dataclass
class DeleteEventBusResult:
    pass


# --- rules ------------------------------------------------------------------------------------


@dataclass
class Rule:
    name: str
    arn: str
    event_bus_name: str
    event_pattern: str = ""
    schedule_expression: str = ""
    state: str = ""
    description: str = ""
    # The account that put the rule (DescribeRule's CreatedBy; ListRules has no such member).
    created_by: str = ""


@dataclass
class PutRuleRequest:
    name: str = ""
    event_bus_name: str = ""
    event_pattern: str = ""
    schedule_expression: str = ""
    state: str = ""
    description: str = ""
    tags: list[Tag] = field(default_factory=list)  # on creation only


@dataclass
class PutRuleResult:
    rule_arn: str


@dataclass
class DescribeRuleRequest:
    name: str = ""
    event_bus_name: str = ""


DescribeRuleResult = Rule


@dataclass
class ListRulesRequest:
    name_prefix: str = ""
    event_bus_name: str = ""
    next_token: str = ""
    limit: int = 0


@dataclass
class ListRulesResult:
    rules: list[Rule]
    next_token: str = ""


@dataclass
class ListRuleNamesByTargetRequest:
    target_arn: str = ""
    event_bus_name: str = ""
    next_token: str = ""
    limit: int = 0


@dataclass
class ListRuleNamesByTargetResult:
    rule_names: list[str]
    next_token: str = ""


@dataclass
class DeleteRuleRequest:
    name: str = ""
    event_bus_name: str = ""
    force: bool = False


@dataclass
class EnableRuleRequest:
    name: str = ""
    event_bus_name: str = ""


DisableRuleRequest = EnableRuleRequest


@dataclass
class NoResult:
    """The empty answer of DeleteRule, EnableRule and DisableRule."""


# --- events -----------------------------------------------------------------------------------


@dataclass
class PutEventsRequestEntry:
    source: str = ""
    detail_type: str = ""
    detail: str = ""
    resources: list[str] = field(default_factory=list)
    event_bus_name: str = ""
    time: dt.datetime | None = None


@dataclass
class PutEventsRequest:
    entries: list[PutEventsRequestEntry] = field(default_factory=list)


@dataclass
class PutEventsResultEntry:
    event_id: str = ""
    error_code: str = ""
    error_message: str = ""


@dataclass
class PutEventsResult:
    failed_entry_count: int
    entries: list[PutEventsResultEntry]


@dataclass
class TestEventPatternRequest:
    __test__ = False  # not a pytest test class, whatever its name

    event_pattern: str = ""
    event: str = ""


@dataclass
class TestEventPatternResult:
    __test__ = False

    result: bool


# --- archives and replays ------------------------------------------------------------------


@dataclass
class CreateArchiveRequest:
    archive_name: str = ""
    event_source_arn: str = ""
    description: str = ""
    event_pattern: str = ""
    retention_days: int = 0


@dataclass
class DescribeArchiveRequest:
    archive_name: str = ""


@dataclass
class ListArchivesRequest:
    name_prefix: str = ""
    event_source_arn: str = ""
    state: str = ""
    next_token: str = ""
    limit: int = 0


@dataclass
class UpdateArchiveRequest:
    archive_name: str = ""
    description: str | None = None  # None: unchanged
    event_pattern: str | None = None
    retention_days: int | None = None


@dataclass
class DeleteArchiveRequest:
    archive_name: str = ""


@dataclass
class Archive:
    """An archive (CreateArchive, UpdateArchive and DescribeArchive answer its members;
    ListArchives lists them)."""

    archive_name: str
    archive_arn: str
    event_source_arn: str
    description: str
    event_pattern: str
    retention_days: int
    state: str
    event_count: int
    size_bytes: int
    creation_time: dt.datetime | None
    state_reason: str = ""


@dataclass
class ListArchivesResult:
    archives: list[Archive]
    next_token: str = ""


@dataclass
class ReplayDestination:
    arn: str = ""
    filter_arns: list[str] = field(default_factory=list)


@dataclass
class StartReplayRequest:
    replay_name: str = ""
    description: str = ""
    event_source_arn: str = ""
    event_start_time: dt.datetime | None = None
    event_end_time: dt.datetime | None = None
    destination: ReplayDestination | None = None


@dataclass
class DescribeReplayRequest:
    replay_name: str = ""


@dataclass
class ListReplaysRequest:
    name_prefix: str = ""
    state: str = ""
    event_source_arn: str = ""
    next_token: str = ""
    limit: int = 0


@dataclass
class CancelReplayRequest:
    replay_name: str = ""


@dataclass
class Replay:
    """A replay (StartReplay, CancelReplay and DescribeReplay answer its members;
    ListReplays lists them)."""

    replay_name: str
    replay_arn: str
    event_source_arn: str
    description: str
    state: str
    state_reason: str
    event_start_time: dt.datetime | None
    event_end_time: dt.datetime | None
    event_last_replayed_time: dt.datetime | None
    replay_start_time: dt.datetime | None
    replay_end_time: dt.datetime | None
    destination: ReplayDestination
    events_replayed: int = 0


@dataclass
class ListReplaysResult:
    replays: list[Replay]
    next_token: str = ""
