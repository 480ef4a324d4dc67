"""Function resource policies: the statements AddPermission generates, and the errors."""

from __future__ import annotations

import json

import pytest

from eventplane.errors import EventplaneError
from eventplane.functions.models.permissions import (
    MAX_POLICY_BYTES,
    FunctionPolicy,
    build_statement,
)
from eventplane.security.policy import Decision
from eventplane.security.resource_policy import parse_resource_policy

FN = "arn:aws:lambda:local:000000000000:function:resize"
RULE = "arn:aws:events:local:000000000000:rule/nightly"


def _code(call: object) -> EventplaneError:
    assert callable(call)
    with pytest.raises(EventplaneError) as info:
        call()
    return info.value


def test_a_service_principal_with_source_arn_and_account() -> None:
    statement = build_statement(
        "resize",
        None,
        statement_id="events",
        action="lambda:InvokeFunction",
        principal="events.amazonaws.com",
        source_arn=RULE,
        source_account="000000000000",
    )
    assert statement == {
        "Sid": "events",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": FN,
        "Condition": {
            "StringEquals": {"AWS:SourceAccount": "000000000000"},
            "ArnLike": {"AWS:SourceArn": RULE},
        },
    }


@pytest.mark.parametrize(
    ("principal", "shown"),
    [
        ("123456789012", {"AWS": "arn:aws:iam::123456789012:root"}),
        ("arn:aws:iam::000000000000:user/ci", {"AWS": "arn:aws:iam::000000000000:user/ci"}),
        ("*", "*"),
    ],
)
def test_account_and_arn_principals(principal: str, shown: object) -> None:
    statement = build_statement(
        "resize", "prod", statement_id="s", action="lambda:*", principal=principal
    )
    assert statement["Principal"] == shown
    assert statement["Resource"] == f"{FN}:prod"
    assert "Condition" not in statement


@pytest.mark.parametrize(
    ("fields", "code", "words"),
    [
        ({"statement_id": ""}, "ValidationException", "statementId"),
        ({"statement_id": "has space"}, "ValidationException", "statementId"),
        ({"statement_id": "x" * 101}, "ValidationException", "statementId"),
        ({"action": "sqs:SendMessage"}, "ValidationException", "action"),
        ({"principal": "somebody"}, "InvalidParameterValueException", "principal"),
        ({"source_account": "12"}, "ValidationException", "sourceAccount"),
        ({"source_arn": "not-an-arn"}, "ValidationException", "sourceArn"),
        ({"principal_org_id": "org"}, "ValidationException", "principalOrgID"),
    ],
)
def test_malformed_parameters_are_refused(fields: dict[str, str], code: str, words: str) -> None:
    given = {
        "statement_id": "s",
        "action": "lambda:InvokeFunction",
        "principal": "events.amazonaws.com",
    } | fields
    err = _code(lambda: build_statement("resize", None, **given))
    assert err.code == code
    assert words in err.message


def _statement(sid: str, principal: str = "123456789012") -> dict[str, object]:
    return build_statement(
        "resize", None, statement_id=sid, action="lambda:InvokeFunction", principal=principal
    )


def test_add_remove_and_the_errors_lambda_gives() -> None:
    policy = FunctionPolicy("resize", revision_id="r0").add(_statement("a"), "r1")
    policy = policy.add(_statement("b"), "r2")
    assert [s["Sid"] for s in policy.document()["Statement"]] == ["a", "b"]
    assert policy.revision_id == "r2"
    assert json.loads(policy.text())["Id"] == "default"

    dup = _code(lambda: policy.add(_statement("a"), "r3"))
    assert dup.code == "ResourceConflictException" and "(a)" in dup.message
    missing = _code(lambda: policy.remove("zzz", "r3"))
    assert missing.code == "ResourceNotFoundException" and "zzz" in missing.message
    stale = _code(lambda: policy.check_revision("r1"))
    assert stale.code == "PreconditionFailedException"
    policy.check_revision("r2")  # the latest: accepted
    policy.check_revision("")  # none given: accepted

    left = policy.remove("a", "r3")
    assert [s["Sid"] for s in left.statements] == ["b"]


def test_a_policy_stops_growing_at_20_kb() -> None:
    policy = FunctionPolicy("resize")
    with pytest.raises(EventplaneError) as info:
        for i in range(MAX_POLICY_BYTES):
            policy = policy.add(_statement(f"statement-{i:05d}-" + "x" * 60), f"r{i}")
    assert info.value.code == "PolicyLengthExceededException"
    assert len(policy.text().encode()) <= MAX_POLICY_BYTES


def test_the_generated_policy_is_what_authorization_enforces() -> None:
    policy = FunctionPolicy("resize").add(
        _statement("ci", "arn:aws:iam::000000000000:user/ci"), "r1"
    )
    policy = policy.add(
        build_statement(
            "resize",
            None,
            statement_id="rule",
            action="lambda:InvokeFunction",
            principal="events.amazonaws.com",
            source_arn=RULE,
        ),
        "r2",
    )
    compiled = parse_resource_policy(policy.text())
    invoke = "lambda:InvokeFunction"
    assert compiled.evaluate("ci", "000000000000", invoke, FN) is Decision.ALLOW
    assert compiled.evaluate("other", "000000000000", invoke, FN) is Decision.IMPLICIT_DENY
    assert compiled.evaluate("ci", "000000000000", invoke, f"{FN}:prod") is Decision.IMPLICIT_DENY
    by_rule = {"aws:sourcearn": RULE}
    events = "events.amazonaws.com"
    assert compiled.evaluate("", "", invoke, FN, by_rule, service=events) is Decision.ALLOW
    assert compiled.evaluate("", "", invoke, FN, {}, service=events) is Decision.IMPLICIT_DENY
