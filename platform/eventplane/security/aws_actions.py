"""The rules of the AWS-protocol gateway's actions (``actions.py`` has the gRPC methods').

An action with a gRPC twin shares its rule, so both front doors authorize a call alike
(the gateway's request dataclasses carry the same member names). A few actions exist on
the gateway only (SQS's and SNS's AddPermission and RemovePermission, which edit the
resource's Policy; DynamoDB's continuous-backups pair): their rules are here, on the
resource they act on. Any other action
is checked as ``<prefix>:<Action>`` on ``*``: only a policy allowing that action
everywhere lets it through.
"""

from __future__ import annotations

from eventplane.security.actions import (
    METHODS,
    READ_METHODS,
    READ_PREFIXES,
    Rule,
    everything,
    queue_url_of,
    table_of,
    topic_of,
)

__all__ = ["rule_for_aws"]

# botocore's service model name -> the gRPC service sharing its actions, and its IAM prefix.
_AWS_SERVICES: dict[str, tuple[str, str]] = {
    "sqs": ("Queues", "sqs"),
    "sns": ("Topics", "sns"),
    "events": ("EventBuses", "events"),
    "lambda": ("Functions", "lambda"),
    "stepfunctions": ("Workflows", "states"),
    "dynamodb": ("Tables", "dynamodb"),
    "dynamodbstreams": ("Tables", "dynamodb"),
}

# Actions of the gateway only, on the resource they change.
_GATEWAY_ONLY: dict[tuple[str, str], Rule] = {
    ("sqs", "AddPermission"): Rule("sqs:AddPermission", queue_url_of, True),
    ("sqs", "RemovePermission"): Rule("sqs:RemovePermission", queue_url_of, True),
    ("sns", "AddPermission"): Rule("sns:AddPermission", topic_of, True),
    ("sns", "RemovePermission"): Rule("sns:RemovePermission", topic_of, True),
    ("dynamodb", "DescribeContinuousBackups"): Rule(
        "dynamodb:DescribeContinuousBackups", table_of, False
    ),
    ("dynamodb", "UpdateContinuousBackups"): Rule(
        "dynamodb:UpdateContinuousBackups", table_of, True
    ),
}


def rule_for_aws(service: str, action: str) -> Rule:
    """The rule of an AWS-protocol action (see the module's docstring)."""
    only = _GATEWAY_ONLY.get((service, action))
    if only is not None:
        return only
    grpc_service, prefix = _AWS_SERVICES.get(service, ("", service))
    found = METHODS.get(f"/eventplane.v1.{grpc_service}/{action}")
    if found is not None:
        return found
    mutating = not action.startswith(READ_PREFIXES) and action not in READ_METHODS
    return Rule(f"{prefix}:{action}", everything, mutating)
