"""The EventBuses gRPC service: validate at the edge, call the engine, map the result."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, TypeAlias, TypeVar

import grpc

from eventplane._gen.v1 import events_pb2 as pb
from eventplane._gen.v1 import events_pb2_grpc
from eventplane.bus.engine import BusEngine
from eventplane.bus.history import History
from eventplane.bus.models import (
    ArchiveDef,
    BusDef,
    ReplayDef,
    RuleDef,
    TargetDef,
    archive_arn,
    bus_arn,
    not_found,
    rule_arn,
)
from eventplane.bus.schemas import SchemaDef
from eventplane.errors import MissingParameter, ResourceNotFound, ValidationException

Ctx: TypeAlias = grpc.aio.ServicerContext
T = TypeVar("T")
DEFAULT_LIMIT = 100


def _require(value: str, parameter: str) -> str:
    if not value:
        raise MissingParameter(f"The request must contain the parameter {parameter}.")
    return value


def _page(items: Sequence[T], token: str, limit: int) -> tuple[Sequence[T], str]:
    if limit < 0 or limit > DEFAULT_LIMIT:
        raise ValidationException(f"Limit must be between 1 and {DEFAULT_LIMIT}, got {limit}")
    size = limit or DEFAULT_LIMIT
    if token and not token.isdigit():
        raise ValidationException("The NextToken is not valid.")
    start = int(token) if token else 0
    end = start + size
    return items[start:end], str(end) if end < len(items) else ""


def _bus(b: BusDef) -> pb.EventBus:
    return pb.EventBus(
        name=b.name,
        arn=b.arn,
        description=b.description,
        schema_validation=b.schema_validation,
        creation_time_ms=b.created_ms,
    )


def _rule(r: RuleDef) -> pb.Rule:
    return pb.Rule(
        name=r.name,
        arn=r.arn,
        event_bus_name=r.bus,
        event_pattern=r.event_pattern or "",
        schedule_expression=r.schedule_expression or "",
        state=r.state,
        description=r.description,
    )


def _target(t: TargetDef) -> pb.Target:
    out = pb.Target(
        id=t.id,
        arn=t.arn,
        input=t.input or "",
        input_path=t.input_path or "",
        retry_policy=pb.RetryPolicy(
            maximum_retry_attempts=t.retry.maximum_retry_attempts,
            maximum_event_age_in_seconds=t.retry.maximum_event_age_seconds,
        ),
    )
    if t.input_transformer is not None:
        out.input_transformer.input_paths_map.update(t.input_transformer.get("InputPathsMap") or {})
        out.input_transformer.input_template = t.input_transformer.get("InputTemplate", "")
    if t.dead_letter_arn:
        out.dead_letter_config.arn = t.dead_letter_arn
    if t.message_group_id:
        out.sqs_parameters.message_group_id = t.message_group_id
    return out


def _target_spec(t: pb.Target) -> dict[str, Any]:
    """The proto target as the boto3-shaped mapping TargetDef.parse validates."""
    spec: dict[str, Any] = {"Id": t.id, "Arn": t.arn}
    if t.input:
        spec["Input"] = t.input
    if t.input_path:
        spec["InputPath"] = t.input_path
    if t.HasField("input_transformer"):
        spec["InputTransformer"] = {
            "InputPathsMap": dict(t.input_transformer.input_paths_map),
            "InputTemplate": t.input_transformer.input_template,
        }
    if t.HasField("retry_policy"):
        retry: dict[str, int] = {}
        if t.retry_policy.HasField("maximum_retry_attempts"):
            retry["MaximumRetryAttempts"] = t.retry_policy.maximum_retry_attempts
        if t.retry_policy.HasField("maximum_event_age_in_seconds"):
            retry["MaximumEventAgeInSeconds"] = t.retry_policy.maximum_event_age_in_seconds
        spec["RetryPolicy"] = retry
    if t.dead_letter_config.arn:
        spec["DeadLetterConfig"] = {"Arn": t.dead_letter_config.arn}
    if t.sqs_parameters.message_group_id:
        spec["SqsParameters"] = {"MessageGroupId": t.sqs_parameters.message_group_id}
    return spec


def _archive(a: ArchiveDef, stats: tuple[int, int]) -> pb.Archive:
    return pb.Archive(
        archive_name=a.name,
        archive_arn=a.arn,
        event_source_arn=bus_arn(a.bus),
        description=a.description,
        event_pattern=a.event_pattern or "",
        retention_days=a.retention_days,
        state="ENABLED",
        event_count=stats[0],
        size_bytes=stats[1],
        creation_time_ms=a.created_ms,
    )


def _replay(r: ReplayDef) -> pb.Replay:
    return pb.Replay(
        replay_name=r.name,
        replay_arn=r.arn,
        event_source_arn=archive_arn(r.archive),
        description=r.description,
        state=r.state,
        state_reason=r.state_reason,
        event_start_time_ms=r.start_ms,
        event_end_time_ms=r.end_ms,
        event_last_replayed_time_ms=r.last_replayed_ms,
        replay_start_time_ms=r.replay_start_ms,
        replay_end_time_ms=r.replay_end_ms,
        destination_arn=bus_arn(r.bus),
        filter_arns=[rule_arn(r.bus, name) for name in r.rules],
        events_replayed=r.events_replayed,
    )


def _schema(s: SchemaDef, version: int = 0) -> pb.Schema:
    chosen = s.version(version) if version else s.latest
    if chosen is None:
        raise not_found("Schema version", f"{version} of {s.name}")
    return pb.Schema(
        schema_name=s.name,
        schema_arn=s.arn,
        type=s.type,
        content=chosen.content,
        version=chosen.version,
        source=s.source,
        detail_type=s.detail_type,
        description=s.description,
        last_modified_ms=chosen.created_ms,
    )


class EventBusesService(events_pb2_grpc.EventBusesServicer):
    def __init__(self, engine: BusEngine, history: History) -> None:
        self.engine = engine
        self.history = history

    # --- buses ------------------------------------------------------------------------------
    async def CreateEventBus(
        self, request: pb.CreateEventBusRequest, context: Ctx
    ) -> pb.CreateEventBusResponse:
        bus = await self.engine.create_bus(
            _require(request.name, "Name"), request.description, request.schema_validation
        )
        return pb.CreateEventBusResponse(event_bus_arn=bus.arn)

    async def UpdateEventBus(self, request: pb.UpdateEventBusRequest, context: Ctx) -> pb.EventBus:
        bus = self.engine.bus(request.name)
        return _bus(
            await self.engine.update_bus(bus, request.description, request.schema_validation)
        )

    async def DescribeEventBus(
        self, request: pb.DescribeEventBusRequest, context: Ctx
    ) -> pb.EventBus:
        return _bus(self.engine.bus(request.name))

    async def ListEventBuses(
        self, request: pb.ListEventBusesRequest, context: Ctx
    ) -> pb.ListEventBusesResponse:
        items, token = _page(
            self.engine.buses(request.name_prefix), request.next_token, request.limit
        )
        return pb.ListEventBusesResponse(event_buses=[_bus(b) for b in items], next_token=token)

    async def DeleteEventBus(
        self, request: pb.DeleteEventBusRequest, context: Ctx
    ) -> pb.DeleteEventBusResponse:
        await self.engine.delete_bus(_require(request.name, "Name"))
        return pb.DeleteEventBusResponse()

    # --- rules ------------------------------------------------------------------------------
    async def PutRule(self, request: pb.PutRuleRequest, context: Ctx) -> pb.PutRuleResponse:
        rule = await self.engine.put_rule(
            request.event_bus_name,
            _require(request.name, "Name"),
            request.event_pattern,
            request.schedule_expression,
            request.state,
            request.description,
        )
        return pb.PutRuleResponse(rule_arn=rule.arn)

    async def DescribeRule(self, request: pb.DescribeRuleRequest, context: Ctx) -> pb.Rule:
        return _rule(self.engine.rule(request.event_bus_name, _require(request.name, "Name")))

    async def ListRules(self, request: pb.ListRulesRequest, context: Ctx) -> pb.ListRulesResponse:
        rules = self.engine.rules(request.event_bus_name, request.name_prefix)
        items, token = _page(rules, request.next_token, request.limit)
        return pb.ListRulesResponse(rules=[_rule(r) for r in items], next_token=token)

    async def DeleteRule(
        self, request: pb.DeleteRuleRequest, context: Ctx
    ) -> pb.DeleteRuleResponse:
        try:
            rule = self.engine.rule(request.event_bus_name, _require(request.name, "Name"))
        except ResourceNotFound:
            return pb.DeleteRuleResponse()  # EventBridge: deleting a missing rule succeeds
        await self.engine.delete_rule(rule, request.force)
        return pb.DeleteRuleResponse()

    async def EnableRule(
        self, request: pb.EnableRuleRequest, context: Ctx
    ) -> pb.EnableRuleResponse:
        rule = self.engine.rule(request.event_bus_name, _require(request.name, "Name"))
        await self.engine.set_rule_state(rule, "ENABLED")
        return pb.EnableRuleResponse()

    async def DisableRule(
        self, request: pb.DisableRuleRequest, context: Ctx
    ) -> pb.DisableRuleResponse:
        rule = self.engine.rule(request.event_bus_name, _require(request.name, "Name"))
        await self.engine.set_rule_state(rule, "DISABLED")
        return pb.DisableRuleResponse()

    # --- targets ----------------------------------------------------------------------------
    async def PutTargets(
        self, request: pb.PutTargetsRequest, context: Ctx
    ) -> pb.PutTargetsResponse:
        rule = self.engine.rule(request.event_bus_name, _require(request.rule, "Rule"))
        failed = await self.engine.put_targets(rule, [_target_spec(t) for t in request.targets])
        return pb.PutTargetsResponse(
            failed_entry_count=len(failed),
            failed_entries=[
                pb.TargetError(target_id=i, error_code=e.code, error_message=e.message)
                for i, e in failed
            ],
        )

    async def RemoveTargets(
        self, request: pb.RemoveTargetsRequest, context: Ctx
    ) -> pb.RemoveTargetsResponse:
        rule = self.engine.rule(request.event_bus_name, _require(request.rule, "Rule"))
        await self.engine.remove_targets(rule, list(request.ids))
        return pb.RemoveTargetsResponse(failed_entry_count=0)

    async def ListTargetsByRule(
        self, request: pb.ListTargetsByRuleRequest, context: Ctx
    ) -> pb.ListTargetsByRuleResponse:
        rule = self.engine.rule(request.event_bus_name, _require(request.rule, "Rule"))
        items, token = _page(rule.targets, request.next_token, request.limit)
        return pb.ListTargetsByRuleResponse(targets=[_target(t) for t in items], next_token=token)

    # --- events -----------------------------------------------------------------------------
    async def PutEvents(self, request: pb.PutEventsRequest, context: Ctx) -> pb.PutEventsResponse:
        entries = [
            {
                "source": e.source,
                "detail_type": e.detail_type,
                "detail": e.detail,
                "resources": list(e.resources),
                "bus": e.event_bus_name,
                "time_ms": e.time_ms if e.HasField("time_ms") else None,
            }
            for e in request.entries
        ]
        results = await self.engine.put_events(entries)
        out = [
            pb.PutEventsResultEntry(event_id=r.event_id or "")
            if r.error is None
            else pb.PutEventsResultEntry(error_code=r.error.code, error_message=r.error.message)
            for r in results
        ]
        failed = sum(1 for r in results if r.error is not None)
        return pb.PutEventsResponse(failed_entry_count=failed, entries=out)

    async def TestEventPattern(
        self, request: pb.TestEventPatternRequest, context: Ctx
    ) -> pb.TestEventPatternResponse:
        return pb.TestEventPatternResponse(
            result=self.engine.test_event_pattern(
                _require(request.event_pattern, "EventPattern"), _require(request.event, "Event")
            )
        )

    # --- archives ---------------------------------------------------------------------------
    async def _archive_view(self, a: ArchiveDef) -> pb.Archive:
        return _archive(a, await asyncio.to_thread(self.history.archive_stats, a))

    async def CreateArchive(self, request: pb.CreateArchiveRequest, context: Ctx) -> pb.Archive:
        archive = await self.history.create_archive(
            _require(request.archive_name, "ArchiveName"),
            _require(request.event_source_arn, "EventSourceArn"),
            request.description,
            request.event_pattern,
            request.retention_days,
        )
        return _archive(archive, (0, 0))

    async def DescribeArchive(self, request: pb.DescribeArchiveRequest, context: Ctx) -> pb.Archive:
        return await self._archive_view(
            self.history.archive(_require(request.archive_name, "ArchiveName"))
        )

    async def ListArchives(
        self, request: pb.ListArchivesRequest, context: Ctx
    ) -> pb.ListArchivesResponse:
        archives = self.history.archives(request.name_prefix, request.event_source_arn)
        items, token = _page(archives, request.next_token, request.limit)
        return pb.ListArchivesResponse(
            archives=[await self._archive_view(a) for a in items], next_token=token
        )

    async def UpdateArchive(self, request: pb.UpdateArchiveRequest, context: Ctx) -> pb.Archive:
        archive = self.history.archive(_require(request.archive_name, "ArchiveName"))
        updated = await self.history.update_archive(
            archive,
            request.description if request.HasField("description") else None,
            request.event_pattern if request.HasField("event_pattern") else None,
            request.retention_days if request.HasField("retention_days") else None,
        )
        return await self._archive_view(updated)

    async def DeleteArchive(
        self, request: pb.DeleteArchiveRequest, context: Ctx
    ) -> pb.DeleteArchiveResponse:
        await self.history.delete_archive(
            self.history.archive(_require(request.archive_name, "ArchiveName"))
        )
        return pb.DeleteArchiveResponse()

    # --- replays ----------------------------------------------------------------------------
    async def StartReplay(self, request: pb.StartReplayRequest, context: Ctx) -> pb.Replay:
        replay = await self.history.start_replay(
            _require(request.replay_name, "ReplayName"),
            _require(request.event_source_arn, "EventSourceArn"),
            request.description,
            request.event_start_time_ms,
            request.event_end_time_ms,
            request.destination_arn,
            list(request.filter_arns),
        )
        return _replay(replay)

    async def DescribeReplay(self, request: pb.DescribeReplayRequest, context: Ctx) -> pb.Replay:
        return _replay(self.history.replay(_require(request.replay_name, "ReplayName")))

    async def ListReplays(
        self, request: pb.ListReplaysRequest, context: Ctx
    ) -> pb.ListReplaysResponse:
        replays = self.history.replays(request.name_prefix, request.state, request.event_source_arn)
        items, token = _page(replays, request.next_token, request.limit)
        return pb.ListReplaysResponse(replays=[_replay(r) for r in items], next_token=token)

    async def CancelReplay(self, request: pb.CancelReplayRequest, context: Ctx) -> pb.Replay:
        replay = self.history.replay(_require(request.replay_name, "ReplayName"))
        return _replay(await self.history.cancel_replay(replay))

    # --- schemas ----------------------------------------------------------------------------
    async def CreateSchema(self, request: pb.CreateSchemaRequest, context: Ctx) -> pb.Schema:
        schema = await self.history.create_schema(
            _require(request.schema_name, "SchemaName"),
            request.type,
            _require(request.content, "Content"),
            request.source,
            request.detail_type,
            request.description,
        )
        return _schema(schema)

    async def UpdateSchema(self, request: pb.UpdateSchemaRequest, context: Ctx) -> pb.Schema:
        schema = self.history.schema(_require(request.schema_name, "SchemaName"))
        return _schema(
            await self.history.update_schema(schema, request.content, request.description)
        )

    async def DescribeSchema(self, request: pb.DescribeSchemaRequest, context: Ctx) -> pb.Schema:
        schema = self.history.schema(_require(request.schema_name, "SchemaName"))
        return _schema(schema, request.version)

    async def ListSchemas(
        self, request: pb.ListSchemasRequest, context: Ctx
    ) -> pb.ListSchemasResponse:
        items, token = _page(
            self.history.schemas(request.name_prefix), request.next_token, request.limit
        )
        return pb.ListSchemasResponse(schemas=[_schema(s) for s in items], next_token=token)

    async def DeleteSchema(
        self, request: pb.DeleteSchemaRequest, context: Ctx
    ) -> pb.DeleteSchemaResponse:
        schema = self.history.schema(_require(request.schema_name, "SchemaName"))
        await self.history.delete_schema(schema)
        return pb.DeleteSchemaResponse()
