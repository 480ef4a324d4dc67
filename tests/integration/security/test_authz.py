"""IAM identity policies on a real server: allowed, denied by omission or explicitly, audited."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.security import sha256_hex
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

pytestmark = pytest.mark.integration

ADMIN_KEY = "ep-authz-admin-0123456789abcdef"
CI_KEY = "ep-authz-ci-0123456789abcdef"
DENIED_KEY = "ep-authz-denied-0123456789abcdef"
ARN = "arn:aws:sqs:local:000000000000"

ORDERS_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "OrdersTraffic",
            "Effect": "Allow",
            "Action": ["sqs:SendMessage", "sqs:ReceiveMessage"],
            "Resource": "arn:aws:sqs:*:*:orders-*",
        }
    ],
}
ALL_BUT_SENDING_ORDERS = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:*:*:orders-*"},
    ],
}


@pytest.fixture(scope="module")
def server(
    eventplane_kafka: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EventplaneProcess]:
    tokens = tmp_path_factory.mktemp("authz") / "tokens.yaml"
    tokens.write_text(
        json.dumps(
            [
                {"principal": "admin", "sha256": sha256_hex(ADMIN_KEY)},
                {"principal": "ci", "sha256": sha256_hex(CI_KEY), "policies": [ORDERS_ONLY]},
                {
                    "principal": "cautious",
                    "sha256": sha256_hex(DENIED_KEY),
                    "policies": [ALL_BUT_SENDING_ORDERS],
                },
            ]
        )
    )
    proc = EventplaneProcess(
        eventplane_kafka,
        roles="api,queues,fanout",
        env={"EVENTPLANE_AUTH_TOKENS_FILE": str(tokens)},
        cluster=unique_cluster(),
    )
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def admin(server: EventplaneProcess) -> Iterator[Client]:
    with Client(server.endpoint, token=ADMIN_KEY, timeout=10) as ep:
        yield ep


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def _denied(call: object) -> EventplaneError:
    assert callable(call)
    with pytest.raises(EventplaneError) as info:
        call()
    assert info.value.code == "AccessDeniedException"
    return info.value


def _audit_lines(server: EventplaneProcess, needle: str) -> list[str]:
    log = Path(server.log_path).read_text(errors="replace")
    return [line for line in log.splitlines() if "eventplane.audit" in line and needle in line]


def test_allowed_action_on_matching_queue_only(server: EventplaneProcess, admin: Client) -> None:
    tag = _tag()
    orders = admin.queues.create_queue(f"orders-{tag}")
    billing = admin.queues.create_queue(f"billing-{tag}")
    with Client(server.endpoint, token=CI_KEY, timeout=10) as ci:
        ci.queues.send_message(orders, "hello")
        got = ci.queues.receive_message(orders, wait_time_seconds=5)
        assert [m.body for m in got] == ["hello"]

        deleting = _denied(lambda: ci.queues.delete_queue(orders))
        assert deleting.message == (
            f"User: ci is not authorized to perform: sqs:DeleteQueue on resource: "
            f"{ARN}:orders-{tag} because no identity-based policy allows the "
            "sqs:DeleteQueue action"
        )
        billing_send = _denied(lambda: ci.queues.send_message(billing, "x"))
        assert "sqs:SendMessage" in billing_send.message
        assert f"{ARN}:billing-{tag}" in billing_send.message
    # Denied calls changed nothing: the queue is still there.
    assert orders in admin.queues.list_queues(f"orders-{tag}")


def test_denial_is_permission_denied_on_the_wire(server: EventplaneProcess, admin: Client) -> None:
    name = f"billing-{_tag()}"
    admin.queues.create_queue(name)
    with grpc.insecure_channel(server.endpoint) as channel:
        purge = channel.unary_unary("/eventplane.v1.Queues/PurgeQueue")
        with pytest.raises(grpc.RpcError) as info:
            # PurgeQueueRequest{queue_url = 1}: hand-encoded to stay below the SDK.
            url = f"eventplane://queues/{name}".encode()
            purge(
                b"\x0a" + bytes([len(url)]) + url,
                metadata=(("authorization", f"Bearer {CI_KEY}"),),
                timeout=10,
            )
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    trailers = dict(info.value.trailing_metadata() or ())
    assert trailers.get("eventplane-error-code") == "AccessDeniedException"
    assert trailers.get("x-eventplane-request-id")


def test_explicit_deny_beats_allow(server: EventplaneProcess, admin: Client) -> None:
    orders = admin.queues.create_queue(f"orders-{_tag()}")
    admin.queues.send_message(orders, "from admin")
    with Client(server.endpoint, token=DENIED_KEY, timeout=10) as cautious:
        denied = _denied(lambda: cautious.queues.send_message(orders, "x"))
        assert "with an explicit deny in an identity-based policy" in denied.message
        # The Allow still covers what the Deny does not name.
        got = cautious.queues.receive_message(orders, wait_time_seconds=5)
        assert [m.body for m in got] == ["from admin"]


def test_principal_without_policies_keeps_full_access(admin: Client) -> None:
    url = admin.queues.create_queue(f"billing-{_tag()}")
    admin.queues.send_message(url, "x")
    admin.queues.purge_queue(url)
    admin.queues.delete_queue(url)
    assert admin.platform.get_server_info().roles


def test_denials_and_mutating_calls_are_audited_and_counted(
    server: EventplaneProcess, admin: Client
) -> None:
    name = f"orders-{_tag()}"
    url = admin.queues.create_queue(name)
    with Client(server.endpoint, token=CI_KEY, timeout=10) as ci:
        _denied(lambda: ci.queues.purge_queue(url))

    def audited() -> tuple[list[str], list[str]]:
        created = [
            line
            for line in _audit_lines(server, f"{ARN}:{name}")
            if "sqs:CreateQueue" in line and "admin" in line and "allowed" in line
        ]
        denied = [
            line
            for line in _audit_lines(server, f"{ARN}:{name}")
            if "sqs:PurgeQueue" in line and "ci" in line and "denied" in line
        ]
        assert len(created) == 1 and len(denied) == 1
        return created, denied

    created, denied = eventually(audited, timeout=10)
    assert "request_id" in denied[0] and "request_id" in created[0]
    for secret in (ADMIN_KEY, CI_KEY, DENIED_KEY):
        assert secret not in Path(server.log_path).read_text(errors="replace")
    with urllib.request.urlopen(server.metrics_url, timeout=5) as resp:
        metrics = resp.read().decode()
    assert 'eventplane_auth_denied_total{action="sqs:PurgeQueue"}' in metrics


def test_a_queues_policy_denies_and_grants(server: EventplaneProcess, admin: Client) -> None:
    """The queue's Policy attribute takes part: its explicit Deny stops even the admin
    (a principal with no identity policies), and its Allow grants what ci's own policies
    do not (same account: either may allow)."""
    tag = _tag()
    locked = admin.queues.create_queue(f"orders-{tag}")
    shared = admin.queues.create_queue(f"billing-{tag}")
    admin.queues.set_queue_attributes(
        locked,
        {
            "Policy": json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "sqs:SendMessage",
                            "Resource": f"{ARN}:orders-{tag}",
                        }
                    ]
                }
            )
        },
    )
    admin.queues.set_queue_attributes(
        shared,
        {
            "Policy": json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::000000000000:user/ci"},
                            "Action": ["sqs:SendMessage", "sqs:GetQueueAttributes"],
                        }
                    ]
                }
            )
        },
    )
    denied = _denied(lambda: admin.queues.send_message(locked, "x"))
    assert denied.message.endswith("with an explicit deny in a resource-based policy")
    with Client(server.endpoint, token=CI_KEY, timeout=10) as ci:
        _denied(lambda: ci.queues.send_message(locked, "x"))
        ci.queues.send_message(shared, "granted by the queue")  # no identity policy allows it
        _denied(lambda: ci.queues.purge_queue(shared))  # the queue grants only what it names
    # Removing the policy restores the earlier behaviour.
    admin.queues.set_queue_attributes(locked, {"Policy": ""})
    admin.queues.send_message(locked, "now allowed")
    with pytest.raises(EventplaneError) as info:
        admin.queues.set_queue_attributes(
            shared, {"Policy": '{"Statement": [{"Effect": "Allow"}]}'}
        )
    assert info.value.code == "InvalidAttributeValue" and "Policy" in info.value.message
