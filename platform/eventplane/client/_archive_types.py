"""Archives, replays and schemas of the EventBuses client: results and protobuf mapping.

Kept apart from ``_event_types`` (buses, rules, targets, events) as AWS keeps
them apart: archive and replay, and the schema registry, are their own resources.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from eventplane._gen.v1 import events_pb2 as pb
from eventplane.client._event_types import (
    JsonDocument,
    Timestamp,
    _int,
    epoch_ms,
    json_text,
    strings,
)


@dataclass(frozen=True)
class Archive:
    """An archive: the events of one bus (optionally only those a pattern matches), kept
    for replay.

    Attributes:
        archive_name: unique name.
        archive_arn: names the archive.
        event_source_arn: the bus whose events are archived.
        description: free text; empty when none was given.
        event_pattern: JSON text; None: every event of the bus.
        retention_days: how long events are kept; 0: indefinitely.
        state: ``ENABLED``.
        event_count: events archived so far.
        size_bytes: their size.
        creation_time_ms: when the archive was created, epoch milliseconds.
    """

    archive_name: str
    archive_arn: str
    event_source_arn: str
    description: str
    event_pattern: str | None
    retention_days: int
    state: str
    event_count: int
    size_bytes: int
    creation_time_ms: int


@dataclass(frozen=True)
class Replay:
    """A replay: archived events of a time range sent to their bus again.

    Attributes:
        replay_name: unique name.
        replay_arn: names the replay.
        event_source_arn: the archive replayed.
        description: free text; empty when none was given.
        state: ``STARTING``, ``RUNNING``, ``CANCELLING``, ``COMPLETED``,
            ``CANCELLED`` or ``FAILED``.
        state_reason: why the replay is in its state (a failure's cause); None if
            there is nothing to say.
        event_start_time_ms: the first event time replayed, epoch milliseconds.
        event_end_time_ms: the end of the time range, epoch milliseconds.
        event_last_replayed_time_ms: the time of the last event replayed; None
            before the first.
        replay_start_time_ms: when the replay started, epoch milliseconds.
        replay_end_time_ms: when it finished; None while it runs.
        destination_arn: the bus the events are sent to (the archive's source).
        filter_arns: only these rules see the replayed events; empty: every rule.
        events_replayed: how many events have been sent so far.
    """

    replay_name: str
    replay_arn: str
    event_source_arn: str
    description: str
    state: str
    state_reason: str | None
    event_start_time_ms: int
    event_end_time_ms: int
    event_last_replayed_time_ms: int | None
    replay_start_time_ms: int
    replay_end_time_ms: int | None
    destination_arn: str
    filter_arns: tuple[str, ...]
    events_replayed: int


@dataclass(frozen=True)
class Schema:
    """A version of a schema in the registry.

    Attributes:
        schema_name: unique name.
        schema_arn: names the schema.
        type: ``Avro`` or ``JSONSchemaDraft4``.
        content: the schema document, as text.
        version: this version's number (the latest, unless another was asked for).
        source: events with this source ...
        detail_type: ... and this detail-type are validated against the schema on
            buses with schema validation on; None when not set.
        description: free text; empty when none was given.
        last_modified_ms: when this version was written, epoch milliseconds.
    """

    schema_name: str
    schema_arn: str
    type: str
    content: str
    version: int
    source: str | None
    detail_type: str | None
    description: str
    last_modified_ms: int


def update_archive_request(
    archive_name: str,
    description: str | None,
    event_pattern: JsonDocument | None,
    retention_days: int | None,
) -> pb.UpdateArchiveRequest:
    req = pb.UpdateArchiveRequest(archive_name=archive_name)
    if description is not None:
        req.description = description
    if event_pattern is not None:
        req.event_pattern = json_text(event_pattern, "event_pattern")
    if retention_days is not None:
        req.retention_days = _int(retention_days, "retention_days")
    return req


def start_replay_request(
    replay_name: str,
    event_source_arn: str,
    event_start_time: Timestamp,
    event_end_time: Timestamp,
    destination_arn: str | None,
    description: str | None,
    filter_arns: Iterable[str] | None,
) -> pb.StartReplayRequest:
    return pb.StartReplayRequest(
        replay_name=replay_name,
        event_source_arn=event_source_arn,
        description=description or "",
        event_start_time_ms=epoch_ms(event_start_time, "event_start_time"),
        event_end_time_ms=epoch_ms(event_end_time, "event_end_time"),
        destination_arn=destination_arn or "",
        filter_arns=strings(filter_arns or (), "filter_arns"),
    )


def archive(a: pb.Archive) -> Archive:
    return Archive(
        a.archive_name,
        a.archive_arn,
        a.event_source_arn,
        a.description,
        a.event_pattern or None,
        a.retention_days,
        a.state,
        a.event_count,
        a.size_bytes,
        a.creation_time_ms,
    )


def replay(r: pb.Replay) -> Replay:
    return Replay(
        r.replay_name,
        r.replay_arn,
        r.event_source_arn,
        r.description,
        r.state,
        r.state_reason or None,
        r.event_start_time_ms,
        r.event_end_time_ms,
        r.event_last_replayed_time_ms or None,
        r.replay_start_time_ms,
        r.replay_end_time_ms or None,
        r.destination_arn,
        tuple(r.filter_arns),
        r.events_replayed,
    )


def schema(s: pb.Schema) -> Schema:
    return Schema(
        s.schema_name,
        s.schema_arn,
        s.type,
        s.content,
        s.version,
        s.source or None,
        s.detail_type or None,
        s.description,
        s.last_modified_ms,
    )
