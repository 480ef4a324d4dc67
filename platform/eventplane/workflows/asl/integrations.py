"""What the optimized service integrations accept, checked when a definition is stored.

AWS refuses at create time a Task whose Resource asks an integration for a pattern it
does not offer (DynamoDB's optimized integration is request-response only: no
``.sync``, no ``.waitForTaskToken``), an action it does not have, or a Parameters field
the action does not know; doing the same here means such a definition never reaches
an execution. Only fields written in the definition are checked: values that come
from paths (``"Key.$"``) are checked by the service when the task runs.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DYNAMODB_FIELDS",
    "DYNAMODB_PREFIX",
    "DYNAMODB_REQUIRED",
    "HTTP_FIELDS",
    "HTTP_INVOKE",
    "HTTP_REQUIRED",
    "SERVICE_ACTIONS",
    "integration_problems",
]

DYNAMODB_PREFIX = "arn:aws:states:::dynamodb:"
HTTP_INVOKE = "arn:aws:states:::http:invoke"
HTTP_FIELDS = frozenset(
    {
        "ApiEndpoint",
        "Method",
        "Authentication",
        "Headers",
        "QueryParameters",
        "RequestBody",
        "Transform",
    }
)
HTTP_REQUIRED = ("ApiEndpoint", "Method")

_EXPRESSIONS = frozenset({"ExpressionAttributeNames", "ExpressionAttributeValues"})
_WRITE = frozenset(
    {
        "TableName",
        "ConditionExpression",
        "ReturnValues",
        "ReturnValuesOnConditionCheckFailure",
        "ReturnConsumedCapacity",
        "ReturnItemCollectionMetrics",
    }
)

# The request fields of each action, as the DynamoDB API names them (the legacy
# Expected / AttributesToGet / AttributeUpdates / ConditionalOperator are not offered).
DYNAMODB_FIELDS: dict[str, frozenset[str]] = {
    "getItem": frozenset(
        {
            "TableName",
            "Key",
            "ConsistentRead",
            "ProjectionExpression",
            "ExpressionAttributeNames",
            "ReturnConsumedCapacity",
        }
    ),
    "putItem": _WRITE | _EXPRESSIONS | {"Item"},
    "updateItem": _WRITE | _EXPRESSIONS | {"Key", "UpdateExpression"},
    "deleteItem": _WRITE | _EXPRESSIONS | {"Key"},
}
DYNAMODB_REQUIRED: dict[str, tuple[str, ...]] = {
    "getItem": ("TableName", "Key"),
    "putItem": ("TableName", "Item"),
    "updateItem": ("TableName", "Key"),
    "deleteItem": ("TableName", "Key"),
}


SERVICE_PREFIX = "arn:aws:states:::"
_WAIT = ".waitForTaskToken"
# The other optimized integrations eventplane runs: action -> (the request fields the
# integration documents, the required ones, the patterns it offers: "" request-response).
SERVICE_ACTIONS: dict[str, tuple[frozenset[str], tuple[str, ...], tuple[str, ...]]] = {
    "lambda:invoke": (
        frozenset(
            {"FunctionName", "Payload", "InvocationType", "Qualifier", "ClientContext", "LogType"}
        ),
        ("FunctionName",),
        ("", _WAIT),
    ),
    "sqs:sendMessage": (
        frozenset(
            {
                "QueueUrl",
                "MessageBody",
                "DelaySeconds",
                "MessageAttributes",
                "MessageDeduplicationId",
                "MessageGroupId",
                "MessageSystemAttributes",
            }
        ),
        ("QueueUrl", "MessageBody"),
        ("", _WAIT),
    ),
    "sns:publish": (
        frozenset(
            {
                "Message",
                "MessageAttributes",
                "MessageStructure",
                "MessageDeduplicationId",
                "MessageGroupId",
                "PhoneNumber",
                "Subject",
                "TargetArn",
                "TopicArn",
            }
        ),
        ("Message",),
        ("", _WAIT),
    ),
    "events:putEvents": (frozenset({"Entries", "EndpointId"}), ("Entries",), ("", _WAIT)),
    "states:startExecution": (
        frozenset({"StateMachineArn", "Input", "Name", "TraceHeader"}),
        ("StateMachineArn",),
        ("", ".sync", ".sync:2", _WAIT),
    ),
}
# Resources under arn:aws:states::: this module leaves to others: the AWS SDK
# integrations (refused when run) and eventplane's own.
_OTHERS = ("aws-sdk:", "eventplane:")


def integration_problems(resource: Any, parameters: Any) -> list[str]:
    """Messages for what an optimized integration would refuse in this Task (none for
    resources this module does not describe)."""
    if isinstance(resource, str) and resource.startswith(HTTP_INVOKE):
        return _http_problems(resource, parameters)
    if not isinstance(resource, str) or not resource.startswith(SERVICE_PREFIX):
        return []
    if not resource.startswith(DYNAMODB_PREFIX):
        return _service_problems(resource, parameters)
    action = resource[len(DYNAMODB_PREFIX) :]
    if action not in DYNAMODB_FIELDS:
        base = action.split(".", 1)[0]
        if base in DYNAMODB_FIELDS:
            return [
                f"The resource provided {resource} is not recognized: the DynamoDB "
                f"integration runs {base} as a request-response task only (no '.sync', "
                "no '.waitForTaskToken')"
            ]
        return [
            f"The resource provided {resource} is not recognized: the DynamoDB integration "
            f"offers {', '.join(DYNAMODB_FIELDS)}"
        ]
    if not isinstance(parameters, dict):
        return []  # a JSONata Arguments expression: the service checks it when it runs
    given = {str(k).removesuffix(".$") for k in parameters}
    problems = [
        f"The field '{name}' is not supported by Step Functions for dynamodb:{action}"
        for name in sorted(given - DYNAMODB_FIELDS[action])
    ]
    missing = [n for n in DYNAMODB_REQUIRED[action] if n not in given]
    if missing:
        problems.append(f"These fields are required: [{', '.join(missing)}]")
    return problems


def _http_problems(resource: str, parameters: Any) -> list[str]:
    if resource != HTTP_INVOKE:
        return [
            f"The resource provided {resource} is not recognized: the HTTP Task runs "
            "http:invoke as a request-response task only (no '.sync', no '.waitForTaskToken')"
        ]
    if not isinstance(parameters, dict):
        return []
    given = {str(k).removesuffix(".$") for k in parameters}
    problems = [
        f"The field '{name}' is not supported by Step Functions for http:invoke"
        for name in sorted(given - HTTP_FIELDS)
    ]
    if "Authentication" in given:
        problems.append(
            "The field 'Authentication' names an EventBridge connection, which eventplane "
            "does not have: give the credentials in Headers instead"
        )
    missing = [n for n in HTTP_REQUIRED if n not in given]
    if missing:
        problems.append(f"These fields are required: [{', '.join(missing)}]")
    return problems


def _service_problems(resource: str, parameters: Any) -> list[str]:
    name = resource[len(SERVICE_PREFIX) :]
    if name.startswith(_OTHERS):
        return []
    action = next(
        (
            a
            for a, spec in SERVICE_ACTIONS.items()
            if name.startswith(a) and name[len(a) :] in spec[2]
        ),
        None,
    )
    if action is None:
        return [
            f"The resource provided {resource} is not recognized. The value is not a valid "
            "resource ARN, or the resource is not available in this region (eventplane "
            f"integrates {', '.join(SERVICE_ACTIONS)}, dynamodb and http:invoke)"
        ]
    if not isinstance(parameters, dict):
        return []  # a JSONata Arguments expression: the service checks it when it runs
    fields, required, _ = SERVICE_ACTIONS[action]
    given = {str(k).removesuffix(".$") for k in parameters}
    problems = [
        f"The field '{field}' is not supported by Step Functions for {action}"
        for field in sorted(given - fields)
    ]
    missing = [n for n in required if n not in given]
    if missing:
        problems.append(f"These fields are required: [{', '.join(missing)}]")
    return problems
