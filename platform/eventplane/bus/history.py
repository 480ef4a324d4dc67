"""Archives, replays and the schema registry: the bus's memory, kept in the registry.

An archive is a Kafka topic (``eventplane.archive.<name>``) with the archive's retention;
the rule dispatcher writes matching events into it. A replay is a registry resource the
coordinator picks up and drives STARTING → RUNNING → COMPLETED (or CANCELLING →
CANCELLED, FAILED). Schemas are versioned registry resources.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource

from eventplane import names
from eventplane.bus.errors import IllegalStatus
from eventplane.bus.models import (
    ARCHIVE,
    CANCELLING,
    REPLAY,
    RULE,
    RUNNING,
    SCHEMA,
    STARTING,
    ArchiveDef,
    ReplayDef,
    archive_reference,
    not_found,
    rule_key,
    rule_name_from_arn,
    validate_name,
)
from eventplane.bus.references import lookup
from eventplane.bus.schemas import SchemaDef, SchemaVersion, compile_schema
from eventplane.bus.schemas import validate_name as validate_schema_name
from eventplane.errors import ResourceAlreadyExists, ValidationException
from eventplane.kafka import naming
from eventplane.kafka.clients import (
    SEQUENTIAL_READER,
    TopicSpec,
    client_config,
    consumer_config,
    ensure_topics,
    take,
)
from eventplane.kafka.retirement import retire_topics
from eventplane.observability.logging import get_logger
from eventplane.runtime import ServerContext
from eventplane.security.accounts import caller_account, listing_account

if TYPE_CHECKING:
    from eventplane.bus.engine import BusEngine

_log = get_logger("eventplane.bus.history")
T = TypeVar("T", ArchiveDef, ReplayDef, SchemaDef)

ARCHIVE_PARTITIONS = 1  # one partition keeps an archive in ingestion order for replays
STATS_READ_LIMIT = 200_000
# How long DescribeArchive reads an archive to count it before it reports what it has.
STATS_READ_S = 10.0


def _mine(account: str) -> bool:
    """Whether the caller may see what ``account`` owns (the platform sees everything)."""
    return listing_account() in (None, account)


def mine(found: Iterable[T]) -> list[T]:
    """The archives, replays or schemas a list call shows the caller: its account's."""
    return [x for x in found if _mine(x.account)]


def _plain_prefix(found: Iterable[T], prefix: str) -> list[T]:
    return [x for x in found if names.plain(x.name).startswith(prefix)]


class History:
    """Archives and replays are named per account (``eventplane.names``: another account's
    are ``<account>.<name>`` inside, as their buses); schemas still per installation."""

    def __init__(self, ctx: ServerContext, engine: BusEngine) -> None:
        self.ctx = ctx
        self.engine = engine
        self.registry = ctx.registry
        self.clock = ctx.clock

    def _internal(self, kind: str, ref: str, field: str) -> str | None:
        """The internal name of the archive or replay ``ref`` names (None: none)."""
        if kind == ARCHIVE:
            account, name = archive_reference(ref, field)
        else:
            validate_name(ref, field)
            account, name = None, ref
        return lookup(self.registry, kind, name, account, caller_account())

    # --- archives ---------------------------------------------------------------------------
    def archives(self, prefix: str = "", source: str = "") -> list[ArchiveDef]:
        bus = self.engine.bus(source, "EventSourceArn").name if source else None
        found = [ArchiveDef.from_resource(r) for r in self.registry.find(ARCHIVE)]
        return [a for a in _plain_prefix(found, prefix) if bus is None or a.bus == bus]

    def archive(self, ref: str, field: str = "ArchiveName") -> ArchiveDef:
        internal = self._internal(ARCHIVE, ref, field)
        r = self.registry.get(ARCHIVE, internal) if internal is not None else None
        if r is None:
            raise not_found("Archive", archive_reference(ref, field)[1])
        return ArchiveDef.from_resource(r)

    async def create_archive(
        self, name: str, source: str, description: str, pattern: str, retention_days: int
    ) -> ArchiveDef:
        archive_reference(name)
        if not source:
            raise ValidationException("EventSourceArn must name the event bus to archive")
        found = self.engine.bus(source, "EventSourceArn")
        account = caller_account()
        # An archive of another account's bus: as if there were no such bus.
        if not _mine(found.account):
            raise not_found("Event bus", found.plain)
        if lookup(self.registry, ARCHIVE, name, None, account) is not None:
            raise ResourceAlreadyExists(f"Archive {name} already exists.")
        bus = (await self.engine.ensure_bus(found)).name
        name = names.qualify(name, account)
        archive = ArchiveDef.build(
            name,
            bus,
            description=description,
            event_pattern=pattern or None,
            retention_days=retention_days,
            account=account,
        )
        await asyncio.to_thread(
            ensure_topics,
            self.ctx.settings,
            [
                TopicSpec(
                    naming.archive_topic(name),
                    ARCHIVE_PARTITIONS,
                    {"retention.ms": str(archive.retention_ms)},
                )
            ],
        )
        r = await asyncio.to_thread(self.registry.put, ARCHIVE, name, archive.to_spec())
        _log.info("archive created", archive=name, bus=bus)
        return ArchiveDef.from_resource(r)

    async def update_archive(
        self,
        archive: ArchiveDef,
        description: str | None,
        pattern: str | None,
        retention_days: int | None,
    ) -> ArchiveDef:
        updated = ArchiveDef.build(
            archive.name,
            archive.bus,
            description=archive.description if description is None else description,
            event_pattern=archive.event_pattern if pattern is None else (pattern or None),
            retention_days=archive.retention_days if retention_days is None else retention_days,
            account=archive.account,
        )
        if updated.retention_days != archive.retention_days:
            admin = AdminClient(client_config(self.ctx.settings))
            resource = ConfigResource(
                ConfigResource.Type.TOPIC,
                naming.archive_topic(archive.name),
                set_config={"retention.ms": str(updated.retention_ms)},
            )
            for future in admin.alter_configs([resource]).values():
                await asyncio.to_thread(future.result, 30)
        r = await asyncio.to_thread(self.registry.put, ARCHIVE, archive.name, updated.to_spec())
        return ArchiveDef.from_resource(r)

    async def delete_archive(self, archive: ArchiveDef) -> None:
        await asyncio.to_thread(self.registry.delete, ARCHIVE, archive.name)
        await asyncio.to_thread(
            retire_topics, self.ctx.settings, [naming.archive_topic(archive.name)]
        )

    def archive_stats(self, archive: ArchiveDef) -> tuple[int, int]:
        """(event count, size in bytes) of the events the archive holds now.

        Kafka's offsets also count transaction markers, so the events are read and counted;
        past STATS_READ_LIMIT records the offset span is reported instead. The read goes on
        until it reaches the end the partition had when asked, for at most STATS_READ_S: an
        empty fetch is not the end (an archiving transaction still open holds a
        read_committed reader below it), and stopping there reported a short count.
        """
        topic = naming.archive_topic(archive.name)
        reader = Consumer(
            consumer_config(
                self.ctx.settings,
                f"{naming.PREFIX}.bus.stats",
                # Each partition in turn: SEQUENTIAL_READER.
                **{
                    "enable.auto.commit": False,
                    "isolation.level": "read_committed",
                    **SEQUENTIAL_READER,
                },
            )
        )
        count = size = 0
        try:
            for p in range(ARCHIVE_PARTITIONS):
                tp = TopicPartition(topic, p)
                low, high = reader.get_watermark_offsets(tp, timeout=5)
                if high - low > STATS_READ_LIMIT:
                    count += high - low
                    continue
                reader.assign([TopicPartition(topic, p, low)])
                deadline = time.monotonic() + STATS_READ_S
                while reader.position([tp])[0].offset < high:
                    if time.monotonic() > deadline:
                        _log.warning("archive count cut short", archive=archive.name, partition=p)
                        break
                    for m in take(reader, 1000, 0.1):
                        at = m.offset()
                        if m.error() is None and at is not None and at < high:
                            count += 1
                            size += len(m.value() or b"")
            return count, size
        except KafkaException as exc:
            _log.warning("archive statistics unavailable", archive=archive.name, error=str(exc))
            return count, size
        finally:
            reader.close()

    # --- replays ----------------------------------------------------------------------------
    def replays(self, prefix: str = "", state: str = "", source: str = "") -> list[ReplayDef]:
        archive = self._internal(ARCHIVE, source, "EventSourceArn") if source else None
        found = [ReplayDef.from_resource(r) for r in self.registry.find(REPLAY)]
        return [
            r
            for r in _plain_prefix(found, prefix)
            if (not state or r.state == state) and (not source or r.archive == archive)
        ]

    def replay(self, name: str) -> ReplayDef:
        internal = self._internal(REPLAY, name, "ReplayName")
        r = self.registry.get(REPLAY, internal) if internal is not None else None
        if r is None:
            raise not_found("Replay", name)
        return ReplayDef.from_resource(r)

    async def start_replay(
        self,
        name: str,
        source: str,
        description: str,
        start_ms: int,
        end_ms: int,
        destination: str,
        filter_arns: Sequence[str],
    ) -> ReplayDef:
        validate_name(name, "ReplayName")
        archive = self.archive(source, "EventSourceArn")
        if not _mine(archive.account):  # another account's archive: as if there were none
            raise not_found("Archive", names.plain(archive.name))
        account = caller_account()
        if lookup(self.registry, REPLAY, name, None, account) is not None:
            raise ResourceAlreadyExists(f"Replay {name} already exists.")
        if start_ms >= end_ms:
            raise ValidationException(
                "Parameter EventStartTime is not valid. Reason: EventStartTime must be before "
                "EventEndTime."
            )
        if end_ms > self.clock():
            raise ValidationException(
                "Parameter EventEndTime is not valid. Reason: EventEndTime must not be in the "
                "future."
            )
        bus = self.engine.bus(destination, "Destination.Arn").name if destination else archive.bus
        if bus != archive.bus:
            raise ValidationException(
                "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not "
                "permitted."
            )
        rules = []
        for arn in filter_arns:
            rule_bus, rule = rule_name_from_arn(arn)
            if rule_bus != bus or self.registry.get(RULE, rule_key(bus, rule)) is None:
                raise ValidationException(
                    f"Parameter Destination.FilterArns is not valid. Reason: {arn} is not a rule "
                    f"on event bus {names.plain(bus)}."
                )
            rules.append(rule)
        replay = ReplayDef(
            names.qualify(name, account),
            archive.name,
            bus,
            start_ms,
            end_ms,
            tuple(rules),
            description,
            STARTING,
            replay_start_ms=self.clock(),
            account=account,
        )
        await asyncio.to_thread(self.registry.put, REPLAY, replay.name, replay.to_spec())
        _log.info("replay started", replay=replay.name, archive=archive.name)
        return replay

    async def cancel_replay(self, replay: ReplayDef) -> ReplayDef:
        if replay.state not in (STARTING, RUNNING):
            raise IllegalStatus(
                f"Replay {names.plain(replay.name)} is not in a state that can be cancelled."
            )
        cancelling = replace(replay, state=CANCELLING)
        await asyncio.to_thread(self.registry.put, REPLAY, replay.name, cancelling.to_spec())
        return cancelling

    # --- schemas ----------------------------------------------------------------------------
    def schemas(self, prefix: str = "") -> list[SchemaDef]:
        return [SchemaDef.from_resource(r) for r in self.registry.find(SCHEMA, prefix)]

    def schema(self, name: str) -> SchemaDef:
        validate_schema_name(name)
        r = self.registry.get(SCHEMA, name)
        if r is None:
            raise not_found("Schema", name)
        return SchemaDef.from_resource(r)

    async def create_schema(
        self,
        name: str,
        schema_type: str,
        content: str,
        source: str,
        detail_type: str,
        description: str,
    ) -> SchemaDef:
        validate_schema_name(name)
        if self.registry.get(SCHEMA, name) is not None:
            raise ResourceAlreadyExists(f"Schema {name} already exists.")
        schema_type = schema_type or "Avro"
        parsed = compile_schema(schema_type, content)
        if bool(source) != bool(detail_type):
            raise ValidationException(
                "Source and DetailType bind a schema to events together: give both or neither"
            )
        clash, clash_account = next(
            (
                (s.name, s.account)
                for s in self.schemas()
                if source and (s.source, s.detail_type) == (source, detail_type)
            ),
            (None, ""),
        )
        if clash is not None:
            raise ResourceAlreadyExists(
                f"Schema {clash if _mine(clash_account) else '(of another account)'} is "
                f"already bound to source {source!r} and detail-type {detail_type!r}"
            )
        schema = SchemaDef(
            name,
            schema_type,
            source,
            detail_type,
            description,
            (SchemaVersion(1, content, self.clock()),),
            parsed,
            caller_account(),
        )
        await asyncio.to_thread(self.registry.put, SCHEMA, name, schema.to_spec())
        return schema

    async def update_schema(self, schema: SchemaDef, content: str, description: str) -> SchemaDef:
        versions = schema.versions
        if content and content != schema.latest.content:
            compile_schema(schema.type, content)
            versions = (
                *versions,
                SchemaVersion(schema.latest.version + 1, content, self.clock()),
            )
        updated = replace(schema, versions=versions, description=description or schema.description)
        r = await asyncio.to_thread(self.registry.put, SCHEMA, schema.name, updated.to_spec())
        return SchemaDef.from_resource(r)

    async def delete_schema(self, schema: SchemaDef) -> None:
        await asyncio.to_thread(self.registry.delete, SCHEMA, schema.name)
