"""IAM identity policies: evaluation and validation, table-driven from AWS's documented rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eventplane.errors import EventplaneError
from eventplane.errors.security import MalformedPolicyDocument
from eventplane.security.policy import Decision, PolicySet, evaluate, parse_policy

_CASES = json.loads((Path(__file__).parent / "data" / "policy_evaluation.json").read_text())


def _flatten() -> list[Any]:
    out = []
    for group in _CASES:
        for i, case in enumerate(group["cases"]):
            action, resource, expected, *rest = case
            context = rest[0] if rest else {}
            out.append(
                pytest.param(
                    group["policy"], action, resource, context, expected, id=f"{group['name']}-{i}"
                )
            )
    return out


@pytest.mark.parametrize(("policy", "action", "resource", "context", "expected"), _flatten())
def test_evaluation(
    policy: dict[str, Any], action: str, resource: str, context: dict[str, str], expected: str
) -> None:
    assert evaluate([parse_policy(policy)], action, resource, context) is Decision(expected)
    # The per-action cache decides as the plain evaluation does, on a warm cache too.
    policies = PolicySet([parse_policy(policy)])
    for _ in range(2):
        assert policies.evaluate(action, resource, context) is Decision(expected)


def test_statements_of_several_policies_combine() -> None:
    allow = parse_policy({"Statement": {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}})
    deny = parse_policy({"Statement": {"Effect": "Deny", "Action": "sqs:Purge*", "Resource": "*"}})
    queue = "arn:aws:sqs:local:000000000000:q"
    assert evaluate([allow, deny], "sqs:PurgeQueue", queue) is Decision.EXPLICIT_DENY
    assert evaluate([deny, allow], "sqs:SendMessage", queue) is Decision.ALLOW
    assert evaluate([], "sqs:SendMessage", queue) is Decision.IMPLICIT_DENY


def test_resource_is_worked_out_only_when_a_statement_names_resources() -> None:
    calls: list[int] = []

    def resource() -> str:
        calls.append(1)
        return "arn:aws:sqs:local:000000000000:orders-1"

    anywhere = parse_policy({"Statement": {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}})
    assert evaluate([anywhere], "sqs:SendMessage", resource) is Decision.ALLOW
    assert calls == []
    named = parse_policy(
        {"Statement": [
            {"Effect": "Allow", "Action": "sqs:*", "Resource": "arn:aws:sqs:*:*:orders-*"},
            {"Effect": "Deny", "Action": "sqs:Delete*", "Resource": "arn:aws:sqs:*:*:orders-9"},
        ]}
    )  # fmt: skip
    assert evaluate([named], "sqs:SendMessage", resource) is Decision.ALLOW
    assert calls == [1]  # once, however many statements look at it


def test_remembered_decisions_are_per_resource_and_request_context() -> None:
    queue = "arn:aws:sqs:local:000000000000:orders-"
    document = {"Statement": [
        {"Effect": "Allow", "Action": "sqs:*", "Resource": "arn:aws:sqs:*:*:orders-*"},
        {"Effect": "Deny", "Action": "sqs:SendMessage", "Resource": f"{queue}9"},
        {"Effect": "Deny", "Action": "sqs:*", "Resource": "*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]}  # fmt: skip
    policies = PolicySet([parse_policy(document)])
    over_tls = {"aws:securetransport": "true"}
    in_clear = {"aws:securetransport": "false"}
    for _ in range(2):  # the second round is answered from the memo, alike
        assert policies.evaluate("sqs:SendMessage", f"{queue}1", over_tls) is Decision.ALLOW
        assert policies.evaluate("sqs:SendMessage", f"{queue}9", over_tls) is Decision.EXPLICIT_DENY
        assert policies.evaluate("sqs:SendMessage", f"{queue}1", in_clear) is Decision.EXPLICIT_DENY
        assert policies.evaluate("sqs:SendMessage", "arn:aws:sqs:local:0:x", over_tls) is (
            Decision.IMPLICIT_DENY
        )


def test_the_decision_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("eventplane.security.policy.DECISIONS_REMEMBERED", 8)
    allow = parse_policy({"Statement": {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}})
    policies = PolicySet([allow])
    context = {"aws:securetransport": "true"}
    for n in range(50):
        resource = f"arn:aws:sqs:local:000000000000:q{n}"
        assert policies.evaluate("sqs:SendMessage", resource, context) is Decision.ALLOW
    assert len(policies._decisions) <= 8


def test_a_policy_may_be_json_text() -> None:
    text = json.dumps({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})
    assert evaluate([parse_policy(text)], "sns:Publish", "*") is Decision.EXPLICIT_DENY


_STATEMENT = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}


@pytest.mark.parametrize(
    ("document", "names"),
    [
        ("{not json", ["Policy", "JSON"]),
        ([], ["Policy", "object"]),
        ({"Version": "2012-10-17"}, ["Statement", "required"]),
        ({"Version": "2020-01-01", "Statement": [_STATEMENT]}, ["Version", "2012-10-17"]),
        ({"Statement": [], "Version": "2012-10-17"}, ["Statement", "non-empty"]),
        ({"Statement": [_STATEMENT], "Extra": 1}, ["unknown", "Extra"]),
        (
            {"Statement": [_STATEMENT, {**_STATEMENT, "Effect": "allow"}]},
            ["Statement[1]", "Effect"],
        ),
        ({"Statement": {"Action": "sqs:*", "Resource": "*"}}, ["Statement[0]", "Effect"]),
        (
            {"Statement": {**_STATEMENT, "NotAction": "sns:*"}},
            ["Statement[0]", "Action", "NotAction"],
        ),
        ({"Statement": {"Effect": "Allow", "Action": "sqs:*"}}, ["Resource", "NotResource"]),
        ({"Statement": {**_STATEMENT, "Action": "SendMessage"}}, ["Action", "service:action"]),
        ({"Statement": {**_STATEMENT, "Action": []}}, ["Action", "non-empty"]),
        ({"Statement": {**_STATEMENT, "Resource": "orders"}}, ["Resource", "ARN"]),
        ({"Statement": {**_STATEMENT, "Resource": "arn:aws:sqs"}}, ["Resource", "six"]),
        ({"Statement": {**_STATEMENT, "Principal": "*"}}, ["Statement[0]", "Principal"]),
        ({"Statement": {**_STATEMENT, "Sid": "has space"}}, ["Statement[0]", "Sid"]),
        (
            {
                "Statement": {
                    **_STATEMENT,
                    "Sid": "S1",
                    "Resource": "arn:aws:sqs:*:*:${aws:username}",
                }
            },
            ["Statement[0] (Sid S1)", "Resource", "policy variables"],
        ),
        (
            {"Statement": {**_STATEMENT, "Condition": {"NumericLessThan": {"k": "1"}}}},
            ["Statement[0].Condition.NumericLessThan", "unsupported operator"],
        ),
        (
            {"Statement": {**_STATEMENT, "Condition": {"Bool": {"aws:SecureTransport": "yes"}}}},
            ["Condition.Bool.aws:SecureTransport", "true or false"],
        ),
        (
            {"Statement": {**_STATEMENT, "Condition": {"StringEquals": "ci"}}},
            ["Condition.StringEquals", "condition keys"],
        ),
    ],
)
def test_malformed_documents_name_the_statement_and_field(document: Any, names: list[str]) -> None:
    with pytest.raises(MalformedPolicyDocument) as info:
        parse_policy(document)
    for name in names:
        assert name in info.value.message
    assert info.value.code == "MalformedPolicyDocument"


def test_error_codes_round_trip() -> None:
    from eventplane.errors.security import AccessDeniedException

    for cls in (AccessDeniedException, MalformedPolicyDocument):
        assert type(EventplaneError.from_code(cls.code, "m")) is cls
