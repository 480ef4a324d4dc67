"""Handlers whose import waits while ``$GATE/closed`` exists: a cold start a test holds."""

import os
import time
from typing import Any

_CLOSED = os.path.join(os.environ["GATE"], "closed")
while os.path.exists(_CLOSED):
    time.sleep(0.01)


def pid(event: Any, context: Any) -> int:
    if event and event.get("seconds"):
        time.sleep(event["seconds"])
    return os.getpid()
