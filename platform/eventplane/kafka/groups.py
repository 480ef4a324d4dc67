"""Owner groups: every resource's partitions spread over the replicas, failover in 6 s.

An owner group (the queue owners, the table owners) has one member per replica, each
subscribed to the topics of every queue (table). Kafka's classic cooperative-sticky
assignor balances the *total* count of partitions per member, so all of one queue's
partitions could sit on one replica, which then served that queue alone. The consumer
group protocol of KIP-848 (Kafka 4.0 and later) with the brokers' ``range`` assignor
splits each topic's partitions evenly over the members (within one), and moves only
the partitions that change hands.

Under that protocol the session timeout (how long a crashed member keeps its
partitions) is the group's, kept by the brokers: ``consumer.session.timeout.ms``,
bounded below by the brokers' ``group.consumer.min.session.timeout.ms`` (45 s by
default). With ``auto`` eventplane asks for its usual 6 s for each owner group and takes
the new protocol only where the brokers grant it; otherwise it keeps the classic
protocol (6 s failover, balance by total count) and says so in a warning.

``EVENTPLANE_KAFKA_GROUP_PROTOCOL`` is ``auto`` by default; ``classic`` keeps balance by
total count. Kafka 4.3+ brokers batch a group's changes for 1 s before they assign
partitions again (KIP-1263), so amid queues created and deleted every few hundred
milliseconds a new queue waited 1.3 s for its owners (median) and at times 7-10 s: the
stalls that once kept ``classic`` the default. Each owner group asks for no batching
(``ASSIGNMENT_INTERVAL_MS``), which brought the same churn to 0.36 s median and 1.7 s
at most, better than the classic protocol's 0.43 s and 8.7 s.
"""

from __future__ import annotations

import threading
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ResourceType,
)

from eventplane.config import Settings
from eventplane.kafka.clients import client_config
from eventplane.observability.logging import get_logger
from eventplane.observability.metrics import KAFKA_GROUP_PROTOCOL

_log = get_logger("eventplane.kafka.groups")

SESSION_TIMEOUT_MS = 6000
HEARTBEAT_INTERVAL_MS = 1000
# How long the brokers may batch changes before they assign partitions again (KIP-1263,
# Kafka 4.3+: 1 s by default, with the computation handed to a background thread). An
# owner group changes only when a replica or a queue (table) comes or goes, and each
# change should be served at once: a new queue waited 1.3 s (median) for its first
# assignment with the default, and at times 7 s and more when its creation fell among
# other queues' (the stalls that kept the classic protocol the default).
ASSIGNMENT_INTERVAL_MS = 0
PROTOCOLS = ("auto", "consumer", "classic")

_chosen: dict[tuple[str, str], str] = {}
_lock = threading.Lock()


def owner_group_config(settings: Settings, group: str) -> dict[str, Any]:
    """The librdkafka settings of a member of the owner group ``group``."""
    if group_protocol(settings, group) == "consumer":
        return {"group.protocol": "consumer", "group.remote.assignor": "range"}
    return {
        "partition.assignment.strategy": "cooperative-sticky",
        "session.timeout.ms": SESSION_TIMEOUT_MS,
        "heartbeat.interval.ms": HEARTBEAT_INTERVAL_MS,
    }


def group_protocol(settings: Settings, group: str) -> str:
    """``consumer`` or ``classic``: decided once per group and process (see the module)."""
    key = (settings.bootstrap, group)
    with _lock:
        chosen = _chosen.get(key)
        if chosen is None:
            chosen = _chosen[key] = _choose(settings, group)
            KAFKA_GROUP_PROTOCOL.labels(group=group, protocol=chosen).set(1)
    return chosen


def _choose(settings: Settings, group: str) -> str:
    wanted = settings.kafka_group_protocol
    if wanted == "classic":
        return "classic"
    problem = _ask_session_timeout(settings, group)
    if problem is None:
        _log.info(
            "owner group balances every topic over its members",
            group=group,
            protocol="consumer",
            session_timeout_ms=SESSION_TIMEOUT_MS,
        )
        return "consumer"
    if wanted == "consumer":
        _log.warning(
            "owner group uses the consumer protocol as configured, but the brokers refused "
            "its session timeout: a crashed replica's partitions move only after the "
            "brokers' group.consumer.session.timeout.ms",
            group=group,
            problem=problem,
        )
        return "consumer"
    _log.warning(
        "owner group falls back to the classic protocol: partitions are balanced by total "
        "count, so one queue's (table's) partitions may sit on one replica. For per-resource "
        f"balance, let the brokers accept a {SESSION_TIMEOUT_MS} ms group session timeout "
        f"(group.consumer.min.session.timeout.ms <= {SESSION_TIMEOUT_MS}, Kafka 4.0 or later)",
        group=group,
        problem=problem,
    )
    return "classic"


def _ask_session_timeout(settings: Settings, group: str) -> str | None:
    """Set the group's session timeout and heartbeat on the brokers; the problem, if any.

    Then ask for assignments without delay (``ASSIGNMENT_INTERVAL_MS``), where the
    brokers know that setting; a broker that does not (before Kafka 4.3) computes them
    without delay anyway.
    """
    admin = AdminClient(client_config(settings))
    problem = _alter_group(
        admin,
        settings,
        group,
        {
            "consumer.session.timeout.ms": SESSION_TIMEOUT_MS,
            "consumer.heartbeat.interval.ms": HEARTBEAT_INTERVAL_MS,
        },
    )
    if problem is not None:
        return problem
    problem = _alter_group(
        admin, settings, group, {"consumer.assignment.interval.ms": ASSIGNMENT_INTERVAL_MS}
    )
    if problem is not None:
        _log.warning(
            "owner group: the brokers refused an assignment interval of 0 ms, so a new "
            "queue's (table's) partitions may wait up to their group.consumer."
            "assignment.interval.ms to be assigned",
            group=group,
            problem=problem,
        )
    return None


def _alter_group(
    admin: AdminClient, settings: Settings, group: str, values: dict[str, int]
) -> str | None:
    """Set ``values`` in the group's configuration on the brokers; the problem, if any."""
    resource = ConfigResource(
        ResourceType.GROUP,
        group,
        incremental_configs=[
            ConfigEntry(name, str(value), incremental_operation=AlterConfigOpType.SET)
            for name, value in values.items()
        ],
    )
    try:
        for future in admin.incremental_alter_configs(
            [resource], request_timeout=settings.kafka_connect_timeout
        ).values():
            future.result()
    except KafkaException as exc:
        return exc.args[0].str() if exc.args else str(exc)
    except Exception as exc:  # an older broker may answer with anything but a config
        return str(exc)
    return None
