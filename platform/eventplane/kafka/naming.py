"""Every Kafka topic and consumer-group name eventplane uses, in one place."""

from __future__ import annotations

PREFIX = "eventplane"

RESOURCES = f"{PREFIX}.resources"
FUNCTION_ASYNC = f"{PREFIX}.fn.async"
FUNCTION_CODE = f"{PREFIX}.fn.code"
WF_HISTORY = f"{PREFIX}.wf.history"
WF_INBOX = f"{PREFIX}.wf.inbox"
WF_TASKS = f"{PREFIX}.wf.tasks"
WF_TIMERS = f"{PREFIX}.wf.timers"

QUEUE_OWNERS_GROUP = f"{PREFIX}.queue-owners"
WF_OWNERS_GROUP = f"{PREFIX}.wf-owners"
WF_TASKS_GROUP = f"{PREFIX}.wf-tasks"
WF_TIMERS_GROUP = f"{PREFIX}.wf-timers"
TABLE_OWNERS_GROUP = f"{PREFIX}.table-owners"


def queue_topic(queue: str) -> str:
    return f"{PREFIX}.q.{queue}"


def queue_state_topic(queue: str) -> str:
    return f"{PREFIX}.q.{queue}.state"


def topic_topic(topic: str) -> str:
    return f"{PREFIX}.t.{topic}"


def bus_topic(bus: str) -> str:
    return f"{PREFIX}.bus.{bus}"


def archive_topic(archive: str) -> str:
    return f"{PREFIX}.archive.{archive}"


def table_topic(table: str) -> str:
    """A table's compacted changelog of item images."""
    return f"{PREFIX}.tbl.{table}"


def table_stream_topic(table: str) -> str:
    """A table's change stream (DynamoDB Streams), co-partitioned with the changelog."""
    return f"{PREFIX}.tbl.{table}.stream"


def table_of(topic: str) -> str:
    """The table whose changelog ``topic`` is."""
    return topic[len(table_topic("")) :]


def family(topic: str) -> str:
    """The kind of a topic for metric labels ("q", "t", "bus", "resources", ...),
    so per-resource names never explode label cardinality."""
    parts = topic.split(".")
    if len(parts) < 2 or parts[0] != PREFIX:
        return "other"
    if parts[1] == "q" and parts[-1] == "state" and len(parts) > 3:
        return "q.state"
    return parts[1]
