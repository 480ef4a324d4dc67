"""Every Kafka topic and consumer-group name eventplane uses, in one place.

Every name starts with the cluster's prefix: ``eventplane`` by default, or
``eventplane-<name>`` when ``EVENTPLANE_CLUSTER`` is set. Installations with different
cluster names share one Kafka cluster without seeing each other's topics, consumer
groups or transactions; the replicas of one installation must share the name. It is
read once, when this module is imported (names are constants), so it is an
environment variable only, not a YAML setting.
"""

from __future__ import annotations

import os
import re

from eventplane import names

CLUSTER_ENV = "EVENTPLANE_CLUSTER"
_CLUSTER_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?")


def cluster_prefix(cluster: str) -> str:
    """The prefix of every name for the installation called ``cluster`` ("" = default)."""
    cluster = cluster.strip()
    if not cluster:
        return "eventplane"
    if not _CLUSTER_NAME.fullmatch(cluster):
        raise ValueError(
            f"{CLUSTER_ENV}: {cluster!r} is not a cluster name (1-32 of a-z, 0-9 and '-', "
            "starting and ending with a letter or digit)"
        )
    return f"eventplane-{cluster}"


def _prefix_from_env() -> tuple[str, str]:
    try:
        return cluster_prefix(os.environ.get(CLUSTER_ENV, "")), ""
    except ValueError as exc:  # reported by the server's start-up check, not here
        return "eventplane", str(exc)


PREFIX, CLUSTER_ERROR = _prefix_from_env()


def in_cluster(name: str, cluster: str | None) -> str:
    """``name``, as this process spells it, as the installation ``cluster`` spells it
    (for tools and tests that reach another installation's topics or groups)."""
    if cluster is None or not name.startswith(PREFIX):
        return name
    return cluster_prefix(cluster) + name[len(PREFIX) :]


RESOURCES = f"{PREFIX}.resources"
FUNCTION_ASYNC = f"{PREFIX}.fn.async"
FUNCTION_CODE = f"{PREFIX}.fn.code"
FUNCTION_STREAM_CHECKPOINTS = f"{PREFIX}.fn.stream-checkpoints"
WF_HISTORY = f"{PREFIX}.wf.history"
WF_INBOX = f"{PREFIX}.wf.inbox"
WF_TASKS = f"{PREFIX}.wf.tasks"
WF_TIMERS = f"{PREFIX}.wf.timers"

QUEUE_OWNERS_GROUP = f"{PREFIX}.queue-owners"
WF_OWNERS_GROUP = f"{PREFIX}.wf-owners"
WF_TASKS_GROUP = f"{PREFIX}.wf-tasks"
WF_TIMERS_GROUP = f"{PREFIX}.wf-timers"
TABLE_OWNERS_GROUP = f"{PREFIX}.table-owners"
STREAM_MAPPING_OWNERS_GROUP = f"{PREFIX}.stream-mapping-owners"


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
    # Another account's queue's topic has its account as a part (``eventplane.names``).
    own = 1 if names.looks_qualified(".".join(parts[2:])) else 0
    if parts[1] == "q" and parts[-1] == "state" and len(parts) > 3 + own:
        return "q.state"
    return parts[1]
