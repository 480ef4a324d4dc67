"""A Map over items with tolerated failures.

    .venv/bin/python examples/map_items/run.py

An inline Map runs a function per image, two at a time (MaxConcurrency 2), and
tolerates one failed item (ToleratedFailureCount 1): a failed item's result is its
error. A batch with two corrupt images exceeds the threshold, and the Map's Catch
takes States.ExceedToleratedFailureThreshold. Removes what it created.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from eventplane.client import Client

HERE = Path(__file__).resolve().parent
FUNCTION = "example-map-resize"
MACHINE = "example-map-thumbnails"


def definition() -> dict[str, Any]:
    return {
        "StartAt": "Thumbnails",
        "States": {
            "Thumbnails": {
                "Type": "Map",
                "ItemsPath": "$.images",
                "MaxConcurrency": 2,
                "ToleratedFailureCount": 1,
                "ItemProcessor": {
                    "StartAt": "Resize",
                    "States": {
                        "Resize": {
                            "Type": "Task",
                            "Resource": f"arn:aws:lambda:local:000000000000:function:{FUNCTION}",
                            "End": True,
                        }
                    },
                },
                "Catch": [
                    {
                        "ErrorEquals": ["States.ExceedToleratedFailureThreshold"],
                        "ResultPath": "$.error",
                        "Next": "TooManyFailures",
                    }
                ],
                "End": True,
            },
            "TooManyFailures": {
                "Type": "Fail",
                "Error": "BatchRejected",
                "CausePath": "$.error.Cause",
            },
        },
    }


BATCHES = {
    "batch-1": [{"name": "a.png"}, {"name": "b.png", "corrupt": True}, {"name": "c.png"}],
    "batch-2": [
        {"name": "d.png", "corrupt": True},
        {"name": "e.png", "corrupt": True},
        {"name": "f.png"},
    ],
}


def main() -> int:
    with Client() as ep, contextlib.ExitStack() as cleanup:
        ep.functions.create_function(FUNCTION, "handler.handler", zip_directory=HERE / "resize")
        cleanup.callback(ep.functions.delete_function, FUNCTION)
        sm = ep.workflows.create_state_machine(MACHINE, definition())
        cleanup.callback(ep.workflows.delete_state_machine, sm.state_machine_arn)
        results = {}
        for batch, images in BATCHES.items():
            run = ep.workflows.start_execution(sm.state_machine_arn, {"images": images}, name=batch)
            while (e := ep.workflows.describe_execution(run.execution_arn)).status == "RUNNING":
                time.sleep(0.1)
            results[batch] = e
            print(f"{batch}: {e.status}")
            if e.status == "SUCCEEDED":
                for item in e.json():
                    print(f"  {item.get('thumbnail') or 'failed: ' + item['Error']}")
            else:
                print(f"  {e.error}: {e.cause}")
            history = [h["type"] for h in ep.workflows.get_execution_history(run.execution_arn)]
            print(
                f"  iterations: {history.count('MapIterationSucceeded')} succeeded, "
                f"{history.count('MapIterationFailed')} failed"
            )
        print("cleaned up: deleted the state machine and the function")
    first = results["batch-1"]
    ok = (
        first.status == "SUCCEEDED"
        and json.loads(first.output or "[]")[1]["Error"] == "CorruptImage"
        and results["batch-2"].error == "BatchRejected"
    )
    print("OK: map with tolerated failures" if ok else "FAILED: map with tolerated failures")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
