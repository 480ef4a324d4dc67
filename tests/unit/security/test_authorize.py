"""One call's authorization: AWS's wording, trusted principals, policies from the tokens file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eventplane._gen.v1 import queues_pb2
from eventplane.config import ConfigError
from eventplane.security.actions import rule_for
from eventplane.security.authorize import authorize
from eventplane.security.interceptor import INTERNAL, REPLICA, Authenticator
from eventplane.security.policy import PolicySet, parse_policy
from eventplane.security.tokens import Principal, TokenStore, sha256_hex

ORDERS_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["sqs:SendMessage", "sqs:ReceiveMessage"],
            "Resource": "arn:aws:sqs:*:*:orders-*",
        }
    ],
}
Q = "arn:aws:sqs:local:000000000000"


def _call(method: str, principal: Principal, **fields: Any) -> Any:
    rule = rule_for(f"/eventplane.v1.Queues/{method}")
    assert rule is not None
    request = getattr(queues_pb2, f"{method}Request")(**fields)
    return authorize(principal, rule, request, secure=False)


def test_denial_is_worded_as_aws_words_it() -> None:
    ci = Principal(name="ci", policies=PolicySet([parse_policy(ORDERS_ONLY)]))
    outcome = _call("DeleteQueue", ci, queue_url="eventplane://queues/orders-1")
    assert outcome is not None and outcome.error is not None
    assert outcome.error.code == "AccessDeniedException"
    assert outcome.error.message == (
        f"User: ci is not authorized to perform: sqs:DeleteQueue on resource: {Q}:orders-1 "
        "because no identity-based policy allows the sqs:DeleteQueue action"
    )
    assert (outcome.action, outcome.resource) == ("sqs:DeleteQueue", f"{Q}:orders-1")


def test_explicit_deny_is_named() -> None:
    deny = {
        "Statement": {"Effect": "Deny", "Action": "sqs:SendMessage", "Resource": f"{Q}:orders-9"}
    }
    ci = Principal(name="ci", policies=PolicySet([parse_policy(ORDERS_ONLY), parse_policy(deny)]))
    outcome = _call("SendMessage", ci, queue_url=f"{Q}:orders-9")
    assert outcome is not None and outcome.error is not None
    assert "with an explicit deny in an identity-based policy" in outcome.error.message


def test_allowed_reads_need_no_audit_and_writes_are_audited() -> None:
    ci = Principal(name="ci", policies=PolicySet([parse_policy(ORDERS_ONLY)]))
    assert _call("ReceiveMessage", ci, queue_url="eventplane://queues/orders-1") is None
    sent = _call("SendMessage", ci, queue_url="eventplane://queues/orders-1")
    assert sent is not None and sent.error is None
    assert (sent.action, sent.resource) == ("sqs:SendMessage", f"{Q}:orders-1")


def test_principals_without_policies_keep_full_access() -> None:
    admin = Principal(name="admin")
    assert _call("GetQueueAttributes", admin, queue_url="eventplane://queues/x") is None
    deleted = _call("DeleteQueue", admin, queue_url="eventplane://queues/x")
    assert deleted is not None and deleted.error is None  # allowed, audited


@pytest.mark.parametrize("principal", [REPLICA, INTERNAL], ids=["replica", "internal"])
def test_the_platforms_own_principals_are_always_allowed(principal: Principal) -> None:
    restricted = Principal(
        name=principal.name, via=principal.via, policies=PolicySet([parse_policy(ORDERS_ONLY)])
    )
    assert _call("DeleteQueue", restricted, queue_url="eventplane://queues/billing") is None


def test_an_empty_policy_list_allows_nothing() -> None:
    nobody = Principal(name="nobody", policies=PolicySet([]))
    outcome = _call("ListQueues", nobody)
    assert outcome is not None and outcome.error is not None
    assert "sqs:ListQueues on resource: *" in outcome.error.message


def test_tokens_file_attaches_policies(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(
        json.dumps(
            {
                "tokens": [
                    {"principal": "ci", "sha256": sha256_hex("a"), "policies": [ORDERS_ONLY]},
                    {"principal": "admin", "sha256": sha256_hex("b")},
                    {"principal": "ops", "sha256": sha256_hex("c")},
                ],
                "principals": {
                    "ops": {"policies": [ORDERS_ONLY]},
                    "worker.example.com": {"account": "111111111111", "policies": []},
                },
            }
        )
    )
    store = TokenStore.from_file(str(path))
    ci, admin, ops = store.lookup("a"), store.lookup("b"), store.lookup("c")
    assert ci is not None and ci.policies is not None and len(ci.policies) == 1
    assert admin is not None and admin.policies is None
    assert ops is not None and ops.policies is not None and len(ops.policies) == 1
    worker = store.named("worker.example.com", "mtls")
    assert (
        worker is not None
        and worker.policies is not None
        and len(worker.policies) == 0
        and worker.account == "111111111111"
    )
    assert store.named("stranger", "mtls") is None


def test_a_malformed_policy_stops_the_server_naming_the_entry() -> None:
    bad = {"Statement": [{"Effect": "Allow", "Action": "sqs:*"}]}
    with pytest.raises(ConfigError) as info:
        TokenStore([{"principal": "ci", "sha256": sha256_hex("a"), "policies": [bad]}])
    text = str(info.value)
    assert "[0].policies" in text and "Policy[0].Statement[0]" in text
    assert "MalformedPolicyDocument" in text


class _CertContext:
    def auth_context(self) -> dict[str, list[bytes]]:
        return {"x509_subject_alternative_name": [b"worker.example.com"]}


def test_certificate_principals_take_account_and_policies_from_the_principals_section() -> None:
    store = TokenStore(
        [],
        principals={"worker.example.com": {"account": "111111111111", "policies": [ORDERS_ONLY]}},
    )
    found = Authenticator(store, mtls=True).authenticate((), _CertContext())  # type: ignore[arg-type]
    assert (found.name, found.account, found.via) == ("worker.example.com", "111111111111", "mtls")
    outcome = _call("PurgeQueue", found, queue_url="eventplane://queues/orders-1")
    assert outcome is not None and outcome.error is not None
    # A certificate with no entry keeps full access, as before policies existed.
    open_store = TokenStore([])
    anyone = Authenticator(open_store, mtls=True).authenticate((), _CertContext())  # type: ignore[arg-type]
    assert anyone.policies is None


def test_a_request_that_defeats_resource_extraction_fails_closed() -> None:
    rule = rule_for("/eventplane.v1.Queues/SendMessage")
    assert rule is not None
    ci = Principal(name="ci", policies=PolicySet([parse_policy(ORDERS_ONLY)]))
    outcome = authorize(ci, rule, object(), secure=False)  # no queue_url field at all
    assert outcome is not None and outcome.error is not None
    assert "on resource: *" in outcome.error.message
