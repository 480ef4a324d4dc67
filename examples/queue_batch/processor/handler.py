"""A batch processor behind a queue event source mapping (ReportBatchItemFailures).

Each invocation gets up to BatchSize messages as ``{"Records": [...]}``, takes
WORK_SECONDS per batch (the "work"), and reports on RESULT_QUEUE what it did. A
message whose body says ``"fail_once": true`` is reported as failed on its first
delivery: only that message stays on the queue and comes back after the queue's
visibility timeout; the rest of the batch is deleted.
"""

import json
import os
import time

from eventplane.client import Client

ep = Client()  # EVENTPLANE_ENDPOINT is set by the runner
WORK_SECONDS = float(os.environ.get("WORK_SECONDS", "0.3"))


def handler(event, context):
    start = time.time()
    done, failures = [], []
    for record in event["Records"]:
        body = json.loads(record["body"])
        first_delivery = record["attributes"]["ApproximateReceiveCount"] == "1"
        if body.get("fail_once") and first_delivery:
            failures.append({"itemIdentifier": record["messageId"], "n": body["n"]})
        else:
            done.append(body["n"])
    time.sleep(WORK_SECONDS)
    report = {
        "request_id": context.aws_request_id,
        "size": len(event["Records"]),
        "done": done,
        "failed": [f["n"] for f in failures],
        "start": start,
        "end": time.time(),
    }
    ep.queues.send_message(os.environ["RESULT_QUEUE"], json.dumps(report))
    return {"batchItemFailures": [{"itemIdentifier": f["itemIdentifier"]} for f in failures]}
