"""Every gRPC method's IAM action and the resource it acts on: the one table.

Actions are AWS's (``sqs:SendMessage``, ``sns:Publish``, ``lambda:InvokeFunction``, ...):
batch calls are authorized as their single forms, as AWS does (SendMessageBatch needs
``sqs:SendMessage``). Resources are ARNs worked out from the request; ``*`` where AWS
authorizes on ``*`` (list calls, calls whose target hides in an opaque token), the new
resource's ARN for create calls, as AWS does. A call on several resources (PutEvents to
several buses, BatchWriteItem on several tables) is allowed only when every one is.

tests/unit/security/test_actions.py checks that every method of every generated service
has an entry, so no new method can slip past authorization.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eventplane import arn as arns
from eventplane import names

__all__ = [
    "ANY",
    "METHODS",
    "READ_METHODS",
    "READ_PREFIXES",
    "Rule",
    "everything",
    "queue_url_of",
    "rule_for",
    "table_of",
    "topic_of",
]

ANY = "*"
READ_PREFIXES = ("Get", "List", "Describe", "Receive", "Test", "Validate")
READ_METHODS = frozenset({"Query", "Scan", "BatchGetItem", "TransactGetItems", "PartitionStats"})

# A request -> the ARNs the call acts on.
Extract = Callable[[Any], Sequence[str]]


@dataclass(frozen=True)
class Rule:
    action: str
    resources: Extract
    # Whether the call changes something (audited when allowed).
    mutating: bool
    # For calls whose items each need their own action (TransactWriteItems): the
    # (action, ARN) pairs to check instead of ``action`` on ``resources``.
    items: Callable[[Any], Sequence[tuple[str, str]]] | None = None
    # Whether the call creates the resource it names (checked on the new resource's ARN,
    # in the caller's account).
    creates: bool = False

    def checks(self, request: Any, caller: str | None = None) -> Sequence[tuple[str, str]]:
        """The (action, resource ARN) pairs that must all be allowed for ``request``, with
        ``caller`` (the caller's account; default: the installation's) as the account of
        the resources it names by their bare names."""
        if self.items is not None:
            pairs = self.items(request) or ((self.action, ANY),)
        else:
            pairs = tuple((self.action, resource) for resource in self.resources(request))
        return tuple((action, _installed(resource, caller)) for action, resource in pairs)


def _installed(ref: str, caller: str | None = None) -> str:
    """``ref`` with this installation's partition and region, and the account of the
    resource the core will act on: the ARN's where names are per account (``PER_ACCOUNT``;
    a bare name's empty account becomes ``caller``'s), else the installation's (the core
    finds the resource by name whatever account the ARN gives, so a Deny on
    ``arn:aws:sns:local:000000000000:t`` must stop a Publish to
    ``arn:aws:sns:eu-west-1:999999999999:t``). The authorizer then puts the owner's
    account in (``authorize._owned``).
    """
    parts = ref.split(":", 5)
    if not ref.startswith("arn:") or len(parts) != 6:
        return ref
    current = arns.identity()
    if parts[2] in names.PER_ACCOUNT:
        account = parts[4] or caller or current.account
        return ":".join(("arn", arns.PARTITION, parts[2], current.region, account, parts[5]))
    if parts[1] == arns.PARTITION and parts[3] == current.region and parts[4] == current.account:
        return ref  # already the installation's (what the extractors build): as is
    try:
        found = arns.parse(ref)
    except arns.InvalidArn:
        return ref
    return arns.format_arn(found.service, found.resource)


# --- resource references in requests -> ARNs -----------------------------------------------


def _queue(ref: str, owner: str = "") -> str:
    """The queue's ARN: in the account its URL gives, else in ``owner``'s (by default the
    caller's: an empty account, which ``Rule.checks`` fills in)."""
    return arns.queue_ref_arn(ref, owner) if ref else ANY


def _topic_of_subscription(ref: str) -> str:
    found = arns.parse_as(ref, arns.Kind.SUBSCRIPTION)
    return arns.topic_arn(found.name, found.arn.account) if found is not None else (ref or ANY)


def _arn_or(ref: str, make: Callable[[str, str], str]) -> str:
    """``ref`` if an ARN, else the ARN of that name in the caller's account (empty)."""
    return ref if ref.startswith("arn:") else make(ref, "")


def _bus(ref: str) -> str:  # none: the default bus
    return _arn_or(ref or arns.DEFAULT_BUS, arns.bus_arn)


def _rule(bus: str, name: str) -> str:
    """The rule's ARN: on the bus an ARN names, in its account; else the caller's (empty)."""
    if name.startswith("arn:"):
        return name
    found = arns.parse_as(bus, arns.Kind.BUS) if bus.startswith("arn:") else None
    where = (found.name, found.arn.account) if found else (bus or arns.DEFAULT_BUS, "")
    return arns.rule_arn(where[0], name, where[1])


def _function(ref: str, qualifier: str = "") -> str:
    """The function's ARN: in a partial ARN's account, else the caller's (empty, filled in)."""
    if ref.startswith("arn:"):
        return ref
    account, sep, rest = ref.partition(":function:")
    if not sep:
        account, rest = "", ref
    name, _, inline = rest.partition(":")
    return arns.function_arn(name, qualifier or inline or None, account)


def _or_any(value: str, make: Callable[[str], str]) -> str:
    return make(value) if value else ANY


def _one(make: Callable[[Any], str]) -> Extract:
    return lambda request: (make(request),)


def everything(_request: Any) -> Sequence[str]:
    return (ANY,)


def queue_url_of(r: Any) -> Sequence[str]:
    return (_queue(r.queue_url),)


def _queue_name(r: Any) -> Sequence[str]:
    # GetQueueUrl may name the queue's owner (QueueOwnerAWSAccountId).
    return (_queue(r.queue_name, getattr(r, "queue_owner_aws_account_id", "")),)


def _topic_ref(ref: str) -> str:
    # The core takes a topic's bare name too (the caller's); a policy names it by its ARN.
    return _arn_or(ref, arns.topic_arn)


def topic_of(r: Any) -> Sequence[str]:
    return (_or_any(r.topic_arn, _topic_ref),)


def _tagged_topic(r: Any) -> Sequence[str]:
    return (_or_any(r.resource_arn, _topic_ref),)


def _subscription(r: Any) -> Sequence[str]:
    return (_topic_of_subscription(r.subscription_arn),)


def _bus_name(r: Any) -> Sequence[str]:
    return (_bus(r.name),)


def _rule_name(r: Any) -> Sequence[str]:
    return (_rule(r.event_bus_name, r.name),)


def _rule_of_targets(r: Any) -> Sequence[str]:
    return (_rule(r.event_bus_name, r.rule),)


def _put_events(r: Any) -> Sequence[str]:
    return tuple(sorted({_bus(e.event_bus_name) for e in r.entries})) or (_bus(""),)


def _archive(r: Any) -> Sequence[str]:
    return (_or_any(r.archive_name, lambda n: _arn_or(n, arns.archive_arn)),)


def _replay(r: Any) -> Sequence[str]:
    return (_or_any(r.replay_name, lambda n: _arn_or(n, arns.replay_arn)),)


def _schema(r: Any) -> Sequence[str]:
    return (_or_any(r.schema_name, arns.schema_arn),)


def _function_name(r: Any) -> Sequence[str]:
    qualifier = getattr(r, "qualifier", "")
    return (_or_any(r.function_name, lambda n: _function(n, qualifier)),)


def _tagged_function(r: Any) -> Sequence[str]:
    return (_or_any(r.resource, _function),)


def _mapping(r: Any) -> Sequence[str]:
    return (_or_any(r.uuid, arns.mapping_arn),)


def _state_machine_name(r: Any) -> Sequence[str]:  # in the caller's account ("": filled in)
    return (_or_any(r.name, lambda name: arns.state_machine_arn(name, "")),)


def _state_machine(r: Any) -> Sequence[str]:
    return (r.state_machine_arn or ANY,)


def _activity_name(r: Any) -> Sequence[str]:  # in the caller's account ("": filled in)
    return (_or_any(r.name, lambda name: arns.activity_arn(name, "")),)


def _activity(r: Any) -> Sequence[str]:
    return (r.activity_arn or ANY,)


def _execution(r: Any) -> Sequence[str]:
    return (r.execution_arn or ANY,)


def _map_run(r: Any) -> Sequence[str]:
    return (r.map_run_arn or ANY,)


def _executions_of(r: Any) -> Sequence[str]:
    """ListExecutions names a machine, or a Distributed Map's run."""
    return (r.state_machine_arn or r.map_run_arn or ANY,)


def _state_machine_version(r: Any) -> Sequence[str]:
    return (r.state_machine_version_arn or ANY,)


def _state_machine_alias(r: Any) -> Sequence[str]:
    return (r.state_machine_alias_arn or ANY,)


def _new_state_machine_alias(r: Any) -> Sequence[str]:
    """The ARN the alias will have: its versions' machine ARN and its name."""
    routes = [e.state_machine_version_arn for e in r.routing_configuration]
    if not r.name or not routes or routes[0].count(":") < 7:
        return (ANY,)
    return (routes[0].rsplit(":", 1)[0] + ":" + r.name,)


def table_of(r: Any) -> Sequence[str]:
    return (_or_any(r.table_name, arns.table_arn_of),)


def _tables_of_batch(r: Any) -> Sequence[str]:
    return tuple(sorted(arns.table_arn_of(name) for name in r.request_items)) or (ANY,)


_TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


# The AWS shape names each item's kind by the member it sets (``{"Put": {...}}``).
_TRANSACT_MEMBERS = (
    ("put", "Put"),
    ("update", "Update"),
    ("delete", "Delete"),
    ("condition_check", "ConditionCheck"),
)


def _transact_part(item: Any) -> tuple[str, str]:
    """(kind, table name) of a transaction item: the gRPC shape (``table_name``, and
    ``kind`` for writes) or the AWS one (one of put/update/delete/condition_check, or get, set)."""
    if hasattr(item, "table_name"):
        return getattr(item, "kind", ""), item.table_name
    for member, kind in (*_TRANSACT_MEMBERS, ("get", "Get")):
        part = getattr(item, member, None)
        if part is not None:
            return kind, part.table_name
    return "", ""


def _transaction_items(r: Any) -> Sequence[tuple[str, str]]:
    # An unknown kind is checked as PutItem: the engine refuses it anyway.
    pairs = set()
    for kind, table in map(_transact_part, r.transact_items):
        action = _TRANSACT_ACTIONS.get(kind, "dynamodb:PutItem")
        pairs.add((action, _or_any(table, arns.table_arn_of)))
    return tuple(sorted(pairs))


def _transaction_reads(r: Any) -> Sequence[tuple[str, str]]:
    tables = {_transact_part(i)[1] for i in r.transact_items}
    return tuple(sorted({("dynamodb:GetItem", _or_any(t, arns.table_arn_of)) for t in tables}))


def _tables_of_transaction(r: Any) -> Sequence[str]:
    return tuple(sorted({arn for _, arn in _transaction_items(r)})) or (ANY,)


def _stream(r: Any) -> Sequence[str]:
    return (r.stream_arn or ANY,)


def _move_source(r: Any) -> Sequence[str]:
    return (r.source_arn or ANY,)


# --- the table ------------------------------------------------------------------------------

_QUEUES: dict[str, tuple[str, Extract]] = {
    "CreateQueue": ("CreateQueue", _queue_name),
    "GetQueueUrl": ("GetQueueUrl", _queue_name),
    "ListQueues": ("ListQueues", everything),
    "DeleteQueue": ("DeleteQueue", queue_url_of),
    "GetQueueAttributes": ("GetQueueAttributes", queue_url_of),
    "SetQueueAttributes": ("SetQueueAttributes", queue_url_of),
    "SendMessage": ("SendMessage", queue_url_of),
    "SendMessageBatch": ("SendMessage", queue_url_of),
    "ReceiveMessage": ("ReceiveMessage", queue_url_of),
    "DeleteMessage": ("DeleteMessage", queue_url_of),
    "DeleteMessageBatch": ("DeleteMessage", queue_url_of),
    "ChangeMessageVisibility": ("ChangeMessageVisibility", queue_url_of),
    "ChangeMessageVisibilityBatch": ("ChangeMessageVisibility", queue_url_of),
    "PurgeQueue": ("PurgeQueue", queue_url_of),
    "TagQueue": ("TagQueue", queue_url_of),
    "UntagQueue": ("UntagQueue", queue_url_of),
    "ListQueueTags": ("ListQueueTags", queue_url_of),
    "ListDeadLetterSourceQueues": ("ListDeadLetterSourceQueues", queue_url_of),
    "StartMessageMoveTask": ("StartMessageMoveTask", _move_source),
    "ListMessageMoveTasks": ("ListMessageMoveTasks", _move_source),
    "CancelMessageMoveTask": ("CancelMessageMoveTask", everything),  # the handle is opaque
}

_TOPICS: dict[str, tuple[str, Extract]] = {
    "CreateTopic": ("CreateTopic", _one(lambda r: _or_any(r.name, _topic_ref))),
    "DeleteTopic": ("DeleteTopic", topic_of),
    "ListTopics": ("ListTopics", everything),
    "GetTopicAttributes": ("GetTopicAttributes", topic_of),
    "SetTopicAttributes": ("SetTopicAttributes", topic_of),
    "TagResource": ("TagResource", _tagged_topic),
    "UntagResource": ("UntagResource", _tagged_topic),
    "ListTagsForResource": ("ListTagsForResource", _tagged_topic),
    "Subscribe": ("Subscribe", topic_of),
    "ConfirmSubscription": ("ConfirmSubscription", topic_of),
    "Unsubscribe": ("Unsubscribe", _subscription),
    "ListSubscriptions": ("ListSubscriptions", everything),
    "ListSubscriptionsByTopic": ("ListSubscriptionsByTopic", topic_of),
    "GetSubscriptionAttributes": ("GetSubscriptionAttributes", _subscription),
    "SetSubscriptionAttributes": ("SetSubscriptionAttributes", _subscription),
    "Publish": ("Publish", topic_of),
    "PublishBatch": ("Publish", topic_of),
}

_EVENTS: dict[str, tuple[str, Extract]] = {
    "CreateEventBus": ("events:CreateEventBus", _bus_name),
    "UpdateEventBus": ("events:UpdateEventBus", _bus_name),
    "DescribeEventBus": ("events:DescribeEventBus", _bus_name),
    "ListEventBuses": ("events:ListEventBuses", everything),
    "DeleteEventBus": ("events:DeleteEventBus", _bus_name),
    "PutPermission": ("events:PutPermission", _one(lambda r: _bus(r.event_bus_name))),
    "RemovePermission": ("events:RemovePermission", _one(lambda r: _bus(r.event_bus_name))),
    "PutRule": ("events:PutRule", _rule_name),
    "DescribeRule": ("events:DescribeRule", _rule_name),
    "ListRules": ("events:ListRules", everything),
    "DeleteRule": ("events:DeleteRule", _rule_name),
    "EnableRule": ("events:EnableRule", _rule_name),
    "DisableRule": ("events:DisableRule", _rule_name),
    "ListRuleNamesByTarget": ("events:ListRuleNamesByTarget", everything),
    # The bus or rule ARN the request names.
    "TagResource": ("events:TagResource", lambda r: (r.resource_arn or ANY,)),
    "UntagResource": ("events:UntagResource", lambda r: (r.resource_arn or ANY,)),
    "ListTagsForResource": ("events:ListTagsForResource", lambda r: (r.resource_arn or ANY,)),
    "PutTargets": ("events:PutTargets", _rule_of_targets),
    "RemoveTargets": ("events:RemoveTargets", _rule_of_targets),
    "ListTargetsByRule": ("events:ListTargetsByRule", _rule_of_targets),
    "PutEvents": ("events:PutEvents", _put_events),
    "TestEventPattern": ("events:TestEventPattern", everything),
    "CreateArchive": ("events:CreateArchive", _archive),
    "DescribeArchive": ("events:DescribeArchive", _archive),
    "ListArchives": ("events:ListArchives", everything),
    "UpdateArchive": ("events:UpdateArchive", _archive),
    "DeleteArchive": ("events:DeleteArchive", _archive),
    "StartReplay": ("events:StartReplay", _replay),
    "DescribeReplay": ("events:DescribeReplay", _replay),
    "ListReplays": ("events:ListReplays", everything),
    "CancelReplay": ("events:CancelReplay", _replay),
    "CreateSchema": ("schemas:CreateSchema", _schema),
    "UpdateSchema": ("schemas:UpdateSchema", _schema),
    "DescribeSchema": ("schemas:DescribeSchema", _schema),
    "ListSchemas": ("schemas:ListSchemas", everything),
    "DeleteSchema": ("schemas:DeleteSchema", _schema),
}

_FUNCTIONS: dict[str, tuple[str, Extract]] = {
    name: (action, _function_name)
    for name, action in {
        "CreateFunction": "CreateFunction",
        "UpdateFunctionCode": "UpdateFunctionCode",
        "UpdateFunctionConfiguration": "UpdateFunctionConfiguration",
        "GetFunction": "GetFunction",
        "GetFunctionConfiguration": "GetFunctionConfiguration",
        "DeleteFunction": "DeleteFunction",
        "PublishVersion": "PublishVersion",
        "ListVersionsByFunction": "ListVersionsByFunction",
        "CreateAlias": "CreateAlias",
        "UpdateAlias": "UpdateAlias",
        "GetAlias": "GetAlias",
        "ListAliases": "ListAliases",
        "DeleteAlias": "DeleteAlias",
        "Invoke": "InvokeFunction",
        "PutFunctionConcurrency": "PutFunctionConcurrency",
        "GetFunctionConcurrency": "GetFunctionConcurrency",
        "DeleteFunctionConcurrency": "DeleteFunctionConcurrency",
        "PutFunctionEventInvokeConfig": "PutFunctionEventInvokeConfig",
        "UpdateFunctionEventInvokeConfig": "UpdateFunctionEventInvokeConfig",
        "GetFunctionEventInvokeConfig": "GetFunctionEventInvokeConfig",
        "ListFunctionEventInvokeConfigs": "ListFunctionEventInvokeConfigs",
        "DeleteFunctionEventInvokeConfig": "DeleteFunctionEventInvokeConfig",
        "AddPermission": "AddPermission",
        "RemovePermission": "RemovePermission",
        "GetPolicy": "GetPolicy",
    }.items()
} | {
    "ListFunctions": ("ListFunctions", everything),
    "GetAccountSettings": ("GetAccountSettings", everything),
    # The function's ARN the request names (gRPC and the gateway share the member name).
    "TagResource": ("TagResource", _tagged_function),
    "UntagResource": ("UntagResource", _tagged_function),
    "ListTags": ("ListTags", _tagged_function),
    # AWS authorizes mapping creation on "*" (the function is a condition key there).
    "CreateEventSourceMapping": ("CreateEventSourceMapping", everything),
    "UpdateEventSourceMapping": ("UpdateEventSourceMapping", _mapping),
    "GetEventSourceMapping": ("GetEventSourceMapping", _mapping),
    "ListEventSourceMappings": ("ListEventSourceMappings", everything),
    "DeleteEventSourceMapping": ("DeleteEventSourceMapping", _mapping),
}

_WORKFLOWS: dict[str, tuple[str, Extract]] = {
    "CreateStateMachine": ("CreateStateMachine", _state_machine_name),
    "DescribeStateMachine": ("DescribeStateMachine", _state_machine),
    "ListStateMachines": ("ListStateMachines", everything),
    "UpdateStateMachine": ("UpdateStateMachine", _state_machine),
    "DeleteStateMachine": ("DeleteStateMachine", _state_machine),
    "ValidateStateMachineDefinition": ("ValidateStateMachineDefinition", everything),
    # A state machine's or an activity's tags, authorized on that resource's ARN.
    "TagResource": ("TagResource", lambda r: (r.resource_arn or ANY,)),
    "UntagResource": ("UntagResource", lambda r: (r.resource_arn or ANY,)),
    "ListTagsForResource": ("ListTagsForResource", lambda r: (r.resource_arn or ANY,)),
    "StartExecution": ("StartExecution", _state_machine),
    "StartSyncExecution": ("StartSyncExecution", _state_machine),
    "StopExecution": ("StopExecution", _execution),
    "DescribeExecution": ("DescribeExecution", _execution),
    "ListExecutions": ("ListExecutions", _executions_of),
    "GetExecutionHistory": ("GetExecutionHistory", _execution),
    "RedriveExecution": ("RedriveExecution", _execution),
    "PublishStateMachineVersion": ("PublishStateMachineVersion", _state_machine),
    "ListStateMachineVersions": ("ListStateMachineVersions", _state_machine),
    "DeleteStateMachineVersion": ("DeleteStateMachineVersion", _state_machine_version),
    "CreateStateMachineAlias": ("CreateStateMachineAlias", _new_state_machine_alias),
    "DescribeStateMachineAlias": ("DescribeStateMachineAlias", _state_machine_alias),
    "UpdateStateMachineAlias": ("UpdateStateMachineAlias", _state_machine_alias),
    "DeleteStateMachineAlias": ("DeleteStateMachineAlias", _state_machine_alias),
    "ListStateMachineAliases": ("ListStateMachineAliases", _state_machine),
    # Task tokens are opaque: AWS authorizes these on "*" too.
    "SendTaskSuccess": ("SendTaskSuccess", everything),
    "SendTaskFailure": ("SendTaskFailure", everything),
    "SendTaskHeartbeat": ("SendTaskHeartbeat", everything),
    "CreateActivity": ("CreateActivity", _activity_name),
    "DescribeActivity": ("DescribeActivity", _activity),
    "DeleteActivity": ("DeleteActivity", _activity),
    "ListActivities": ("ListActivities", everything),
    "GetActivityTask": ("GetActivityTask", _activity),
    # AWS authorizes TestState on "*": the state's definition names no resource of its own.
    "TestState": ("TestState", everything),
    "DescribeMapRun": ("DescribeMapRun", _map_run),
    "ListMapRuns": ("ListMapRuns", _execution),
    "UpdateMapRun": ("UpdateMapRun", _map_run),
}

_TABLES: dict[str, tuple[str, Extract]] = {
    "CreateTable": ("CreateTable", table_of),
    "DescribeTable": ("DescribeTable", table_of),
    "ListTables": ("ListTables", everything),
    "DeleteTable": ("DeleteTable", table_of),
    "UpdateTable": ("UpdateTable", table_of),
    "UpdateTimeToLive": ("UpdateTimeToLive", table_of),
    "DescribeTimeToLive": ("DescribeTimeToLive", table_of),
    "PutItem": ("PutItem", table_of),
    "GetItem": ("GetItem", table_of),
    "UpdateItem": ("UpdateItem", table_of),
    "DeleteItem": ("DeleteItem", table_of),
    "Query": ("Query", table_of),
    "Scan": ("Scan", table_of),
    "BatchGetItem": ("BatchGetItem", _tables_of_batch),
    "BatchWriteItem": ("BatchWriteItem", _tables_of_batch),
    # AWS checks each item's own action (PutItem, UpdateItem, ...) on its table.
    "TransactWriteItems": ("TransactWriteItems", _tables_of_transaction),
    "TransactGetItems": ("TransactGetItems", _tables_of_transaction),
    # Named by the table's ARN, as on AWS.
    "TagResource": ("TagResource", lambda r: (r.resource_arn or ANY,)),
    "UntagResource": ("UntagResource", lambda r: (r.resource_arn or ANY,)),
    "ListTagsOfResource": ("ListTagsOfResource", lambda r: (r.resource_arn or ANY,)),
    # Replica to replica, for DescribeTable (callers are the trusted principal `replica`).
    "PartitionStats": ("DescribeTable", table_of),
    "ListStreams": ("ListStreams", everything),
    "DescribeStream": ("DescribeStream", _stream),
    "GetShardIterator": ("GetShardIterator", _stream),
    "GetRecords": ("GetRecords", everything),  # the shard iterator is opaque
}

_PLATFORM: dict[str, tuple[str, Extract]] = {
    "GetServerInfo": ("GetServerInfo", everything),
    "ListResources": ("ListResources", everything),
}


# The calls that create the resource they name (an existing one of the caller's account is
# returned, as the cores make creation idempotent).
_CREATES = frozenset(
    {
        "CreateQueue",
        "CreateTopic",
        "CreateEventBus",
        "CreateTable",
        "CreateFunction",
        "CreateStateMachine",
        "CreateActivity",
        "CreateArchive",
        "StartReplay",
        "CreateSchema",
    }
)


def _service(service: str, prefix: str, table: dict[str, tuple[str, Extract]]) -> dict[str, Rule]:
    out: dict[str, Rule] = {}
    for method, (action, extract) in table.items():
        full = action if ":" in action else f"{prefix}:{action}"
        mutating = not method.startswith(READ_PREFIXES) and method not in READ_METHODS
        items = {
            "TransactWriteItems": _transaction_items,
            "TransactGetItems": _transaction_reads,
        }.get(method)
        creates = method in _CREATES
        out[f"/eventplane.v1.{service}/{method}"] = Rule(full, extract, mutating, items, creates)
    return out


METHODS: dict[str, Rule] = {
    **_service("Queues", "sqs", _QUEUES),
    **_service("Topics", "sns", _TOPICS),
    **_service("EventBuses", "events", _EVENTS),
    **_service("Functions", "lambda", _FUNCTIONS),
    **_service("Workflows", "states", _WORKFLOWS),
    **_service("Tables", "dynamodb", _TABLES),
    **_service("Platform", "eventplane", _PLATFORM),
    # Reflection reveals the API's shape, nothing of any resource.
    **{
        f"/grpc.reflection.{v}.ServerReflection/ServerReflectionInfo": Rule(
            "eventplane:DescribeApi", everything, False
        )
        for v in ("v1alpha", "v1")
    },
}


def rule_for(method: str) -> Rule | None:
    """The rule of a full gRPC method name; None for a method no one may call."""
    return METHODS.get(method)
