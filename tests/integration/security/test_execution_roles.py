"""Functions run with their execution role: the handler's own calls carry the role's policies."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from eventplane.client import Client
from eventplane.security import sha256_hex
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

pytestmark = pytest.mark.integration

ADMIN_KEY = "ep-roles-admin-0123456789abcdef"
ROLE = "arn:aws:iam::000000000000:role/orders-writer"
OPEN_ROLE = "arn:aws:iam::000000000000:role/unrestricted"
HANDLER_DIR = Path(__file__).parent / "handlers" / "role_caller"
SEND_TO_ORDERS_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:*:*:orders-*"}
    ],
}


def test_a_handlers_calls_carry_its_execution_role(eventplane_kafka: str, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(
        json.dumps(
            {
                "tokens": [{"principal": "admin", "sha256": sha256_hex(ADMIN_KEY)}],
                "principals": {ROLE: {"policies": [SEND_TO_ORDERS_ONLY]}},
            }
        )
    )
    server = EventplaneProcess(
        eventplane_kafka,
        roles="api,queues,runner",
        env={
            "EVENTPLANE_AUTH_TOKENS_FILE": str(tokens),
            "EVENTPLANE_RECEIPT_SECRET": "a-cluster-secret-for-roles",
        },
        cluster=unique_cluster(),
    )
    server.start()
    try:
        with Client(server.endpoint, token=ADMIN_KEY, timeout=30) as admin:
            suffix = uuid.uuid4().hex[:8]
            orders = admin.queues.create_queue(f"orders-{suffix}")
            audit = admin.queues.create_queue(f"audit-{suffix}")
            name = f"role-caller-{suffix}"
            created = admin.functions.create_function(
                name, "app.handler", zip_directory=HANDLER_DIR, role=ROLE, timeout=30
            )
            assert created.role == ROLE
            assert admin.functions.get_function(name).configuration.role == ROLE

            names = [f"orders-{suffix}", f"audit-{suffix}"]
            event = {"queues": [orders, audit], "boto3_queues": names}
            result = admin.functions.invoke(name, event)
            assert result.function_error is None, result.payload
            outcome = result.json()
            # The role may send to orders-* and nothing else: not the admin's power. The
            # same holds for boto3 through the AWS-protocol port, with the role's keys.
            assert outcome[orders] == "sent"
            assert outcome[audit].startswith("AccessDenied")
            assert outcome["list_functions"].startswith("AccessDenied")
            assert outcome[f"boto3:orders-{suffix}"] == "sent"
            assert outcome[f"boto3:audit-{suffix}"].startswith("AccessDenied")

            def both_sent() -> bool:
                got = admin.queues.receive_message(orders, max_number_of_messages=10)
                for m in got:
                    admin.queues.delete_message(orders, m.receipt_handle)
                seen.update(m.body for m in got)
                assert seen == {f"sent by {name}", f"boto3 by {name}"}, seen
                return True

            seen: set[str] = set()
            eventually(both_sent, timeout=30)
            assert admin.queues.receive_message(audit, wait_time_seconds=0) == []

            # A new role replaces the warm workers: the next call carries it.
            updated = admin.functions.update_function_configuration(name, role=OPEN_ROLE)
            assert updated.role == OPEN_ROLE

            def sends_everywhere() -> dict[str, str]:
                out = admin.functions.invoke(name, {"queues": [audit]}).json()
                assert out == {audit: "sent", "list_functions": "ok"}, out
                return out

            eventually(sends_everywhere, timeout=60)
    finally:
        server.stop()
