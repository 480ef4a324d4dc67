"""A function that fails its first ``fail_times`` attempts at an event.

Asynchronous retries resend the same event with the same request id, so the
attempt count is kept outside the function: one line per attempt is appended to
``$ATTEMPTS_DIR/<request id>.log`` (a folder run.py creates; the server that runs
this function shares the machine with run.py, as with ``eventplane dev``).
"""

import json
import os
import time
from pathlib import Path


class PaymentGatewayDown(Exception):
    """The failure this example simulates."""


def handler(event, context):
    log = Path(os.environ["ATTEMPTS_DIR"]) / f"{context.aws_request_id}.log"
    with log.open("a") as f:
        f.write(json.dumps({"order": event["order"], "time": time.time()}) + "\n")
    attempt = len(log.read_text().splitlines())
    if attempt <= event["fail_times"]:
        raise PaymentGatewayDown(f"order {event['order']}: attempt {attempt} failed")
    return {"order": event["order"], "charged": True, "attempt": attempt}
