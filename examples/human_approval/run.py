"""Human approval: a workflow waits for a person, who answers with the CLI.

    .venv/bin/python examples/human_approval/run.py

The RequestApproval task sends the request, with its task token, to a queue
(``sqs:sendMessage.waitForTaskToken``) and the execution waits. Here the "person" reads
the queue and answers with ``eventplane workflow send-task-success`` (approve) or
``send-task-failure`` (reject), as an operator would from a shell. Removes what it
created.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from typing import Any

from eventplane.client import Client

QUEUE = "example-approval-requests"
MACHINE = "example-approval"


def definition(queue_url: str) -> dict[str, Any]:
    return {
        "StartAt": "RequestApproval",
        "States": {
            "RequestApproval": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {
                    "QueueUrl": queue_url,
                    "MessageBody": {
                        "order.$": "$.order_id",
                        "amount.$": "$.amount",
                        "token.$": "$$.Task.Token",
                    },
                },
                "TimeoutSeconds": 3600,
                "ResultPath": "$.approval",
                "Catch": [
                    {"ErrorEquals": ["Rejected"], "ResultPath": "$.rejection", "Next": "Rejected"}
                ],
                "Next": "Approved",
            },
            "Approved": {"Type": "Succeed"},
            "Rejected": {
                "Type": "Fail",
                "Error": "OrderRejected",
                "CausePath": "$.rejection.Cause",
            },
        },
    }


def cli(*args: str) -> None:
    """The operator's answer, through the `eventplane` command line."""
    cmd = [sys.executable, "-m", "eventplane.cli", "workflow", *args]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    print(f"  $ eventplane workflow {args[0]} <token> {' '.join(args[2:])}")


def main() -> int:
    with Client() as ep, contextlib.ExitStack() as cleanup:
        url = ep.queues.create_queue(QUEUE)
        cleanup.callback(ep.queues.delete_queue, url)
        sm = ep.workflows.create_state_machine(MACHINE, definition(url))
        cleanup.callback(ep.workflows.delete_state_machine, sm.state_machine_arn)
        runs = {}
        for order, amount in (("o-6001", 120), ("o-6002", 9800)):
            e = ep.workflows.start_execution(
                sm.state_machine_arn, {"order_id": order, "amount": amount}, name=order
            )
            runs[order] = e.execution_arn
            print(f"{order}: started, waiting for approval")
        answered = 0
        deadline = time.monotonic() + 60
        while answered < len(runs) and time.monotonic() < deadline:
            for m in ep.queues.receive_message(url, wait_time_seconds=2):
                request = json.loads(m.body)
                print(f"request: order {request['order']} amount {request['amount']}")
                if request["amount"] < 1000:
                    cli("send-task-success", request["token"], "--output", '{"by": "ada"}')
                else:
                    cli(
                        "send-task-failure",
                        request["token"],
                        "--error",
                        "Rejected",
                        "--cause",
                        "over the approval limit",
                    )
                ep.queues.delete_message(url, m.receipt_handle)
                answered += 1
        results = {}
        for order, arn in runs.items():
            while (e := ep.workflows.describe_execution(arn)).status == "RUNNING":
                time.sleep(0.1)
            results[order] = e
            detail = e.output if e.status == "SUCCEEDED" else f"{e.error}: {e.cause}"
            print(f"{order}: {e.status} {detail}")
        print("cleaned up: deleted the state machine and the queue")
    ok = results["o-6001"].status == "SUCCEEDED" and results["o-6002"].error == "OrderRejected"
    print("OK: human approval" if ok else "FAILED: human approval")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
