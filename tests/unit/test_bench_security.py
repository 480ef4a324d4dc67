"""The security bench's policy, its interleaving of the two servers and its summary line."""

from __future__ import annotations

import asyncio

from cryptography import x509

from eventplane.bench import security
from eventplane.security.policy import Decision, PolicySet, parse_policy

SQS = "arn:aws:sqs:local:000000000000"
LAMBDA = "arn:aws:lambda:local:000000000000:function"


def test_every_statement_names_the_measured_actions_and_only_the_last_allows_the_bench() -> None:
    document = security.policy()
    assert len(document["Statement"]) == security.POLICY_STATEMENTS == 50
    policies = PolicySet([parse_policy(document)])
    for action in ("sqs:SendMessage", "sqs:ReceiveMessage", "lambda:InvokeFunction"):
        # The evaluator looks at all 50 for each measured call: none can be skipped.
        assert len(policies.statements_for(action)) == 50
    assert policies.evaluate("sqs:SendMessage", f"{SQS}:secbench-1") is Decision.ALLOW
    assert policies.evaluate("lambda:InvokeFunction", f"{LAMBDA}:secbench-1") is Decision.ALLOW
    assert policies.evaluate("sqs:SendMessage", f"{SQS}:orders") is Decision.IMPLICIT_DENY
    assert policies.evaluate("sqs:SendMessage", f"{SQS}:team-4-a") is Decision.EXPLICIT_DENY
    assert policies.evaluate("sqs:SendMessage", f"{SQS}:team-3-a") is Decision.ALLOW
    assert policies.evaluate("sqs:PurgeQueue", f"{SQS}:secbench-1") is Decision.IMPLICIT_DENY


def test_the_server_certificate_is_signed_by_the_ca_and_names_loopback() -> None:
    ca_pem, cert_pem, key_pem = security.make_certificates()
    ca = x509.load_pem_x509_certificate(ca_pem)
    cert = x509.load_pem_x509_certificate(cert_pem)
    cert.verify_directly_issued_by(ca)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert b"PRIVATE KEY" in key_pem


def test_the_two_servers_are_sampled_in_turn_alternating_which_goes_first() -> None:
    calls: list[str] = []

    def sampler(name: str) -> security.Sample:
        async def sample() -> float:
            calls.append(name)
            return float(len(calls))

        return sample

    plain, secure = asyncio.run(security.interleaved(sampler("p"), sampler("s"), count=5))
    assert "".join(calls) == "pssppsspps"
    assert plain == [1.0, 4.0, 5.0, 8.0, 9.0]
    assert secure == [2.0, 3.0, 6.0, 7.0, 10.0]


def test_summary_compares_the_worst_p50_with_the_goal() -> None:
    results = [
        *security.comparison("security_queue_cycle", [0.010] * 9, [0.0104] * 9),
        *security.comparison("security_sync_invoke", [0.002] * 9, [0.0023] * 9),
    ]
    assert [r["added_pct"] for r in results] == [4.0, 4.0, 15.0, 15.0]
    assert results[0]["baseline_name"] == "plain_queue_cycle_p50"
    summary = security.goal(results)
    assert summary["value"] == 15.0
    assert summary["met"] is False
    assert summary["added_pct_p50"] == {
        "security_queue_cycle_p50": 4.0,
        "security_sync_invoke_p50": 15.0,
    }
    assert security.goal(results[:2])["met"] is True
