"""The method table: every generated gRPC method has an action and a resource."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest

import eventplane._gen.v1 as gen
from eventplane._gen.v1 import (
    events_pb2,
    functions_pb2,
    queues_pb2,
    tables_pb2,
    topics_pb2,
    workflows_pb2,
)
from eventplane.security.actions import METHODS, rule_for


def _generated_methods() -> list[str]:
    found = []
    for info in pkgutil.iter_modules(gen.__path__):
        if not info.name.endswith("_pb2"):
            continue
        module = importlib.import_module(f"{gen.__name__}.{info.name}")
        for service in module.DESCRIPTOR.services_by_name.values():
            found += [f"/{service.full_name}/{m.name}" for m in service.methods]
    return found


def test_every_generated_method_has_a_rule() -> None:
    methods = _generated_methods()
    assert len(methods) > 100  # the descriptors were found
    missing = [m for m in methods if rule_for(m) is None]
    assert missing == []


Q = "arn:aws:sqs:local:000000000000"


@pytest.mark.parametrize(
    ("method", "request_", "checks"),
    [
        (
            "Queues/SendMessage",
            queues_pb2.SendMessageRequest(queue_url="eventplane://queues/orders-1"),
            [("sqs:SendMessage", f"{Q}:orders-1")],
        ),
        (
            "Queues/SendMessageBatch",
            queues_pb2.SendMessageBatchRequest(queue_url=f"{Q}:orders-1"),
            [("sqs:SendMessage", f"{Q}:orders-1")],
        ),
        (
            "Queues/DeleteQueue",
            queues_pb2.DeleteQueueRequest(
                queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/billing"
            ),
            # Queue names are per account: the URL's account is the queue's.
            [("sqs:DeleteQueue", "arn:aws:sqs:local:123456789012:billing")],
        ),
        (
            "Queues/CreateQueue",
            queues_pb2.CreateQueueRequest(queue_name="new"),
            [("sqs:CreateQueue", f"{Q}:new")],
        ),
        ("Queues/ListQueues", queues_pb2.ListQueuesRequest(), [("sqs:ListQueues", "*")]),
        (
            "Queues/UntagQueue",
            queues_pb2.UntagQueueRequest(queue_url="eventplane://queues/orders-1"),
            [("sqs:UntagQueue", f"{Q}:orders-1")],
        ),
        (
            "Topics/TagResource",
            topics_pb2.TagResourceRequest(resource_arn="arn:aws:sns:local:000000000000:t"),
            [("sns:TagResource", "arn:aws:sns:local:000000000000:t")],
        ),
        (
            "Topics/ListTagsForResource",  # a bare topic name is checked as its ARN
            topics_pb2.ListTagsForResourceRequest(resource_arn="t"),
            [("sns:ListTagsForResource", "arn:aws:sns:local:000000000000:t")],
        ),
        (
            "Topics/Publish",
            topics_pb2.PublishRequest(topic_arn="arn:aws:sns:local:000000000000:t"),
            [("sns:Publish", "arn:aws:sns:local:000000000000:t")],
        ),
        (
            "Topics/Publish",  # by bare name: checked as the topic's ARN
            topics_pb2.PublishRequest(topic_arn="t"),
            [("sns:Publish", "arn:aws:sns:local:000000000000:t")],
        ),
        (
            # The core finds a topic by name in an ARN of any region and account: the
            # check is on the ARN of the topic it will act on.
            "Topics/DeleteTopic",
            topics_pb2.DeleteTopicRequest(topic_arn="arn:aws-cn:sns:eu-west-1:999999999999:t"),
            # Topic names are per account: the ARN's account is the topic's.
            [("sns:DeleteTopic", "arn:aws:sns:local:999999999999:t")],
        ),
        (
            "Functions/Invoke",
            functions_pb2.InvokeRequest(
                function_name="arn:aws:lambda:us-east-1:123456789012:function:pay:prod"
            ),
            [("lambda:InvokeFunction", "arn:aws:lambda:local:123456789012:function:pay:prod")],
        ),
        (
            "Topics/Unsubscribe",
            topics_pb2.UnsubscribeRequest(subscription_arn="arn:aws:sns:local:000000000000:t:abc"),
            [("sns:Unsubscribe", "arn:aws:sns:local:000000000000:t")],
        ),
        (
            "EventBuses/PutEvents",
            events_pb2.PutEventsRequest(
                entries=[
                    events_pb2.PutEventsRequestEntry(event_bus_name="orders"),
                    events_pb2.PutEventsRequestEntry(),
                ]
            ),
            [
                ("events:PutEvents", "arn:aws:events:local:000000000000:event-bus/default"),
                ("events:PutEvents", "arn:aws:events:local:000000000000:event-bus/orders"),
            ],
        ),
        (
            "EventBuses/PutRule",
            events_pb2.PutRuleRequest(name="r", event_bus_name="orders"),
            [("events:PutRule", "arn:aws:events:local:000000000000:rule/orders/r")],
        ),
        (
            "Functions/Invoke",
            functions_pb2.InvokeRequest(function_name="pay", qualifier="prod"),
            [("lambda:InvokeFunction", "arn:aws:lambda:local:000000000000:function:pay:prod")],
        ),
        (
            "Functions/GetFunction",
            functions_pb2.GetFunctionRequest(function_name="pay"),
            [("lambda:GetFunction", "arn:aws:lambda:local:000000000000:function:pay")],
        ),
        (
            "Functions/TagResource",
            functions_pb2.TagFunctionRequest(
                resource="arn:aws:lambda:us-east-1:123456789012:function:pay"
            ),
            [("lambda:TagResource", "arn:aws:lambda:local:123456789012:function:pay")],
        ),
        (
            "Functions/ListTags",
            functions_pb2.ListFunctionTagsRequest(resource="pay"),
            [("lambda:ListTags", "arn:aws:lambda:local:000000000000:function:pay")],
        ),
        (
            "Functions/ListFunctionEventInvokeConfigs",
            functions_pb2.ListFunctionEventInvokeConfigsRequest(function_name="pay"),
            [
                (
                    "lambda:ListFunctionEventInvokeConfigs",
                    "arn:aws:lambda:local:000000000000:function:pay",
                )
            ],
        ),
        (
            "Functions/GetAccountSettings",
            functions_pb2.GetAccountSettingsRequest(),
            [("lambda:GetAccountSettings", "*")],
        ),
        (
            "Workflows/StartExecution",
            workflows_pb2.StartExecutionRequest(
                state_machine_arn="arn:aws:states:local:000000000000:stateMachine:sm"
            ),
            [("states:StartExecution", "arn:aws:states:local:000000000000:stateMachine:sm")],
        ),
        (
            "Tables/PutItem",
            tables_pb2.PutItemRequest(table_name="users"),
            [("dynamodb:PutItem", "arn:aws:dynamodb:local:000000000000:table/users")],
        ),
        (
            "Tables/TransactWriteItems",
            tables_pb2.TransactWriteItemsRequest(
                transact_items=[
                    tables_pb2.TransactWriteItem(kind="Put", table_name="a"),
                    tables_pb2.TransactWriteItem(kind="Delete", table_name="b"),
                ]
            ),
            [
                ("dynamodb:DeleteItem", "arn:aws:dynamodb:local:000000000000:table/b"),
                ("dynamodb:PutItem", "arn:aws:dynamodb:local:000000000000:table/a"),
            ],
        ),
        (
            "Tables/TagResource",
            tables_pb2.TagTableRequest(
                resource_arn="arn:aws:dynamodb:eu-west-1:999999999999:table/users"
            ),
            # Table names are per account: the ARN's account is the table's.
            [("dynamodb:TagResource", "arn:aws:dynamodb:local:999999999999:table/users")],
        ),
        (
            "Tables/ListTagsOfResource",
            tables_pb2.ListTableTagsRequest(),
            [("dynamodb:ListTagsOfResource", "*")],
        ),
    ],
)
def test_actions_and_resources_of_requests(
    method: str, request_: Any, checks: list[tuple[str, str]]
) -> None:
    rule = rule_for(f"/eventplane.v1.{method}")
    assert rule is not None
    assert sorted(rule.checks(request_)) == sorted(checks)


@pytest.mark.parametrize(
    ("method", "mutating"),
    [
        ("Queues/SendMessage", True),
        ("Queues/DeleteQueue", True),
        ("Queues/ReceiveMessage", False),
        ("Queues/GetQueueAttributes", False),
        ("Queues/TagQueue", True),
        ("Queues/ListQueueTags", False),
        ("Topics/ListTagsForResource", False),
        ("Tables/Query", False),
        ("Tables/TransactGetItems", False),
        ("Tables/TransactWriteItems", True),
        ("Tables/PutItem", True),
        ("Tables/TagResource", True),
        ("Tables/UntagResource", True),
        ("Tables/ListTagsOfResource", False),
        ("Functions/Invoke", True),
        ("Functions/UntagResource", True),
        ("Functions/UpdateFunctionEventInvokeConfig", True),
        ("Functions/GetFunctionConfiguration", False),
        ("Functions/ListTags", False),
        ("EventBuses/TestEventPattern", False),
        ("Platform/GetServerInfo", False),
    ],
)
def test_mutating_calls_are_told_apart(method: str, mutating: bool) -> None:
    rule = rule_for(f"/eventplane.v1.{method}")
    assert rule is not None and rule.mutating is mutating


def test_transact_get_checks_get_item_on_each_table() -> None:
    class _Get:
        def __init__(self, table_name: str) -> None:
            self.table_name = table_name

    class _Request:  # TransactGetItemsRequest's shape, whatever the generated code holds
        transact_items = (_Get("a"), _Get("b"), _Get("a"))

    rule = rule_for("/eventplane.v1.Tables/TransactGetItems")
    assert rule is not None
    assert list(rule.checks(_Request())) == [
        ("dynamodb:GetItem", "arn:aws:dynamodb:local:000000000000:table/a"),
        ("dynamodb:GetItem", "arn:aws:dynamodb:local:000000000000:table/b"),
    ]


def test_actions_are_service_qualified() -> None:
    services = {"sqs", "sns", "events", "schemas", "lambda", "states", "dynamodb", "eventplane"}
    for method, rule in METHODS.items():
        assert rule.action.split(":")[0] in services, method


@pytest.mark.parametrize(
    "ref",
    [
        "arn:aws:sqs:local:000000000000:orders",
        "arn:aws:lambda:local:000000000000:function:pay:prod",
        "arn:aws:sqs:eu-west-1:000000000000:orders",
        "arn:aws:schemas:local:999999999999:schema/eventplane/m",  # unique per installation
        "arn:aws-cn:sqs:local:000000000000:orders",
        "arn:aws:SQS:local:000000000000:orders",
        "arn:aws:sqs:local:000000000000:",
        "arn:aws:sqs:local",
        "orders",
    ],
)
def test_an_arn_already_the_installations_is_kept_as_parsing_would_give_it(ref: str) -> None:
    from eventplane import arn as arns
    from eventplane.security.actions import _installed

    try:
        parsed = arns.parse(ref)
    except arns.InvalidArn:
        expected = ref
    else:
        expected = arns.format_arn(parsed.service, parsed.resource)
    assert _installed(ref) == expected


def test_a_per_account_resource_keeps_its_arns_account_and_a_bare_name_is_the_callers() -> None:
    from eventplane.security.actions import _installed

    # Queue names are per account: the core resolves the name in the ARN's account.
    assert _installed("arn:aws-cn:sqs:eu-west-1:999999999999:orders") == (
        "arn:aws:sqs:local:999999999999:orders"
    )
    rule = rule_for("/eventplane.v1.Queues/SendMessage")
    assert rule is not None
    by_name = queues_pb2.SendMessageRequest(queue_url="orders")
    assert list(rule.checks(by_name, "111111111111")) == [
        ("sqs:SendMessage", "arn:aws:sqs:local:111111111111:orders")
    ]
    assert list(rule.checks(by_name)) == [("sqs:SendMessage", f"{Q}:orders")]
    by_url = queues_pb2.SendMessageRequest(queue_url="eventplane://queues/222222222222/orders")
    assert list(rule.checks(by_url, "111111111111")) == [
        ("sqs:SendMessage", "arn:aws:sqs:local:222222222222:orders")
    ]
    # The installation's URL (no account) names the installation's queue, whoever calls.
    installed = queues_pb2.SendMessageRequest(queue_url="eventplane://queues/orders")
    assert list(rule.checks(installed, "111111111111")) == [("sqs:SendMessage", f"{Q}:orders")]


def test_a_table_is_the_callers_by_name_and_the_arns_by_arn() -> None:
    # Table names are per account: a bare TableName names the caller's table.
    rule = rule_for("/eventplane.v1.Tables/GetItem")
    assert rule is not None
    by_name = tables_pb2.GetItemRequest(table_name="orders")
    assert list(rule.checks(by_name, "111111111111")) == [
        ("dynamodb:GetItem", "arn:aws:dynamodb:local:111111111111:table/orders")
    ]
    assert list(rule.checks(by_name)) == [
        ("dynamodb:GetItem", "arn:aws:dynamodb:local:000000000000:table/orders")
    ]
    by_arn = tables_pb2.GetItemRequest(
        table_name="arn:aws:dynamodb:local:222222222222:table/orders"
    )
    assert list(rule.checks(by_arn, "111111111111")) == [
        ("dynamodb:GetItem", "arn:aws:dynamodb:local:222222222222:table/orders")
    ]
    batch = rule_for("/eventplane.v1.Tables/BatchWriteItem")
    assert batch is not None
    writes = tables_pb2.BatchWriteItemRequest(
        request_items={"a": tables_pb2.WriteRequestList(), "b": tables_pb2.WriteRequestList()}
    )
    assert sorted(batch.checks(writes, "111111111111")) == [
        ("dynamodb:BatchWriteItem", "arn:aws:dynamodb:local:111111111111:table/a"),
        ("dynamodb:BatchWriteItem", "arn:aws:dynamodb:local:111111111111:table/b"),
    ]
