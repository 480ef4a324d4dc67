"""The gateway authorizes each AWS action with its gRPC twin's rule, on the same ARNs."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest
from botocore.model import Shape

from eventplane.bus import aws as bus_aws
from eventplane.errors.security import AccessDeniedException
from eventplane.functions import aws as functions_aws
from eventplane.gateway.authz import GatewayAuthorizer
from eventplane.gateway.shapes import operation, service_model, to_request
from eventplane.gateway.sigv4 import Principal
from eventplane.queues import aws as queues_aws
from eventplane.security import TokenStore
from eventplane.security.actions import ANY
from eventplane.security.aws_actions import rule_for_aws
from eventplane.security.resource_policy import ResourcePolicies
from eventplane.tables import aws as tables_aws
from eventplane.topics import aws as topics_aws
from eventplane.workflows import aws as workflows_aws

ARN = "000000000000"
SERVED: dict[str, ModuleType] = {
    "sqs": queues_aws.SqsBinding.shapes,
    "sns": topics_aws.SnsBinding.shapes,
    "events": bus_aws.EventsBinding.shapes,
    "lambda": functions_aws.LambdaBinding.shapes,
    "stepfunctions": workflows_aws.StepFunctionsBinding.shapes,
    "dynamodb": tables_aws.DynamoDBBinding.shapes,
    "dynamodbstreams": tables_aws.DynamoDBStreamsBinding.shapes,
}


def _minimal(shape: Shape | None, depth: int = 0) -> Any:
    """The smallest value of ``shape`` holding every required member (names are ``name-1``)."""
    if shape is None or depth > 6:
        return None
    match shape.type_name:
        case "structure":
            required = shape.metadata.get("required", [])
            return {
                name: _minimal(shape.members[name], depth + 1)
                for name in required
                if name in shape.members
            }
        case "list":
            return [_minimal(shape.member, depth + 1)]  # type: ignore[attr-defined]
        case "map":
            return {}
        case "integer" | "long":
            return 1
        case "boolean":
            return False
        case "blob":
            return b"x"
        case "timestamp":
            return 0
        case _:
            return "name-1"


def _request(service: str, action: str, members: dict[str, Any]) -> Any:
    op = operation(service_model(service), action)
    assert op is not None
    cls = getattr(SERVED[service], f"{action}Request")
    return to_request(cls, {**_minimal(op.input_shape), **members})


def _served_actions() -> list[tuple[str, str]]:
    return [
        (service, action)
        for service, shapes in SERVED.items()
        for action in service_model(service).operation_names
        if hasattr(shapes, f"{action}Request")
    ]


@pytest.mark.parametrize(("service", "action"), _served_actions())
def test_every_served_action_has_a_rule_that_reads_its_request(service: str, action: str) -> None:
    rule = rule_for_aws(service, action)
    checks = rule.checks(_request(service, action, {}))  # raises if a member name differs
    assert checks and all(a.count(":") == 1 for a, _ in checks)


@pytest.mark.parametrize(
    ("service", "action", "members", "expected"),
    [
        (
            "sqs",
            "SendMessageBatch",
            {"QueueUrl": "http://127.0.0.1:4566/123456789012/orders-1"},
            # Queue names are per account: the URL's account is the queue's.
            ("sqs:SendMessage", "arn:aws:sqs:local:123456789012:orders-1"),
        ),
        (
            "sqs",
            "CreateQueue",
            {"QueueName": "q1"},
            ("sqs:CreateQueue", f"arn:aws:sqs:local:{ARN}:q1"),
        ),
        ("sqs", "ListQueues", {}, ("sqs:ListQueues", ANY)),
        (
            "sqs",
            "TagQueue",
            {"QueueUrl": f"http://h/{ARN}/q1", "Tags": {"k": "v"}},
            ("sqs:TagQueue", f"arn:aws:sqs:local:{ARN}:q1"),
        ),
        (
            "sns",
            "ListTagsForResource",
            {"ResourceArn": f"arn:aws:sns:local:{ARN}:t1"},
            ("sns:ListTagsForResource", f"arn:aws:sns:local:{ARN}:t1"),
        ),
        (
            "sns",
            "Publish",
            {"TopicArn": f"arn:aws:sns:local:{ARN}:t1", "Message": "m"},
            ("sns:Publish", f"arn:aws:sns:local:{ARN}:t1"),
        ),
        (
            "events",
            "PutRule",
            {"Name": "r1", "EventBusName": "b1"},
            ("events:PutRule", f"arn:aws:events:local:{ARN}:rule/b1/r1"),
        ),
        (
            "events",
            "PutEvents",
            {"Entries": [{"EventBusName": "b1", "Source": "s", "DetailType": "d", "Detail": "{}"}]},
            ("events:PutEvents", f"arn:aws:events:local:{ARN}:event-bus/b1"),
        ),
        (
            "lambda",
            "Invoke",
            {"FunctionName": "f1", "Qualifier": "live"},
            ("lambda:InvokeFunction", f"arn:aws:lambda:local:{ARN}:function:f1:live"),
        ),
        (
            "dynamodb",
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Update": {"TableName": "t1", "Key": {}, "UpdateExpression": "x"}}
                ]
            },
            ("dynamodb:UpdateItem", f"arn:aws:dynamodb:local:{ARN}:table/t1"),
        ),
        (
            "dynamodb",
            "UntagResource",
            {"ResourceArn": f"arn:aws:dynamodb:local:{ARN}:table/t1", "TagKeys": ["k"]},
            ("dynamodb:UntagResource", f"arn:aws:dynamodb:local:{ARN}:table/t1"),
        ),
        ("dynamodb", "DescribeLimits", {}, ("dynamodb:DescribeLimits", ANY)),
        (
            "stepfunctions",
            "StartExecution",
            {"stateMachineArn": f"arn:aws:states:local:{ARN}:stateMachine:m1"},
            ("states:StartExecution", f"arn:aws:states:local:{ARN}:stateMachine:m1"),
        ),
        (
            "lambda",
            "DeleteFunction",
            {"FunctionName": "f1"},
            ("lambda:DeleteFunction", f"arn:aws:lambda:local:{ARN}:function:f1"),
        ),
        (
            "lambda",
            "TagResource",
            {"Resource": f"arn:aws:lambda:local:{ARN}:function:f1", "Tags": {"k": "v"}},
            ("lambda:TagResource", f"arn:aws:lambda:local:{ARN}:function:f1"),
        ),
        (
            "lambda",
            "GetFunctionConfiguration",
            {"FunctionName": "f1", "Qualifier": "1"},
            ("lambda:GetFunctionConfiguration", f"arn:aws:lambda:local:{ARN}:function:f1:1"),
        ),
    ],
)
def test_actions_and_resources_match_the_grpc_door(
    service: str, action: str, members: dict[str, Any], expected: tuple[str, str]
) -> None:
    assert tuple(rule_for_aws(service, action).checks(_request(service, action, members))) == (
        expected,
    )


def test_an_action_without_a_grpc_twin_needs_an_allow_on_everything() -> None:
    rule = rule_for_aws("sns", "CreatePlatformApplication")
    assert (rule.action, rule.mutating, tuple(rule.checks(None))) == (
        "sns:CreatePlatformApplication",
        True,
        (("sns:CreatePlatformApplication", ANY),),
    )


def _store() -> TokenStore:
    orders_only = {
        "Statement": [
            {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:*:*:orders-*"}
        ]
    }
    return TokenStore([], principals={"ci": {"policies": [orders_only]}})


def test_a_key_takes_the_policies_of_the_principal_it_names() -> None:
    authz = GatewayAuthorizer(_store())
    ci = Principal("AKCI", "111122223333", name="ci")
    allowed = _request("sqs", "SendMessage", {"QueueUrl": "http://h/111122223333/orders-1"})
    authz.check(ci, "sqs", "SendMessage", allowed, "req-1", secure=False)
    other = _request("sqs", "SendMessage", {"QueueUrl": "http://h/111122223333/payments"})
    with pytest.raises(
        AccessDeniedException,
        match="User: ci is not authorized to perform: "
        "sqs:SendMessage on resource: arn:aws:sqs:local:111122223333:payments",
    ):
        authz.check(ci, "sqs", "SendMessage", other, "req-2", secure=False)
    with pytest.raises(AccessDeniedException, match="sqs:DeleteQueue"):
        authz.check(ci, "sqs", "DeleteQueue", allowed, "req-3", secure=False)
    # A key whose principal the tokens file does not restrict keeps full access.
    authz.check(
        Principal("AKADMIN", "111122223333"), "sqs", "DeleteQueue", allowed, "req-4", secure=False
    )
    assert authz.principal(ci).account == "111122223333"


def test_a_queue_policy_requiring_tls_sees_whether_the_gateway_call_came_over_tls() -> None:
    # AWS's usual "Deny unless aws:SecureTransport": over TLS the gateway's calls pass,
    # in plaintext they are refused (the gateway once told every policy "plaintext").
    queue = "arn:aws:sqs:local:111122223333:orders-1"  # the key's account's queue
    tls_only = {
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": queue,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
    }
    resources = ResourcePolicies()
    resources.register("arn:aws:sqs:", lambda arn: json.dumps(tls_only) if arn == queue else None)
    authz = GatewayAuthorizer(_store(), resources)
    ci = Principal("AKCI", "111122223333", name="ci")
    send = _request("sqs", "SendMessage", {"QueueUrl": "https://h/111122223333/orders-1"})
    authz.check(ci, "sqs", "SendMessage", send, "req-1", secure=True)
    with pytest.raises(AccessDeniedException, match="explicit deny in a resource-based policy"):
        authz.check(ci, "sqs", "SendMessage", send, "req-2", secure=False)
