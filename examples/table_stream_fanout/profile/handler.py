"""The profile service: writes a user's profile to the table (and nothing else).

The event is ``{"action": "put" | "delete", "user_id": ..., ...fields}``. Everything
that must follow a change (cache, search, analytics) hangs off the table's stream,
so this function knows none of it.
"""

import os

from eventplane.client import Client

ep = Client()  # EVENTPLANE_ENDPOINT is set by the runner
profiles = ep.tables.table(os.environ["TABLE"])


def handler(event, context):
    user_id = event["user_id"]
    if event["action"] == "delete":
        profiles.delete_item({"user_id": user_id})
        return {"deleted": user_id}
    item = {k: v for k, v in event.items() if k != "action"}
    profiles.put_item(item)
    return {"saved": user_id}
