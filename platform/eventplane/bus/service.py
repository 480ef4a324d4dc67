"""The EventBuses gRPC service: translate protobuf onto the bus core and back.

Buses, rules, targets and events go through ``operations.BusOperations`` (shared with
the AWS-protocol gateway); archives, replays and schemas still call the engine here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TypeAlias

import grpc

from eventplane._gen.v1 import events_pb2 as pb
from eventplane._gen.v1 import events_pb2_grpc
from eventplane.bus import shapes as s
from eventplane.bus.history import History, mine
from eventplane.bus.models import (
    not_found,
)
from eventplane.bus.operations import BusOperations
from eventplane.bus.operations import page as _page
from eventplane.bus.operations import require as _require
from eventplane.bus.schemas import SchemaDef
from eventplane.errors import InvalidParameterValue, ValidationException

Ctx: TypeAlias = grpc.aio.ServicerContext


def _bus(b: s.EventBus) -> pb.EventBus:
    return pb.EventBus(
        name=b.name,
        arn=b.arn,
        description=b.description,
        schema_validation=b.schema_validation,
        creation_time_ms=int(b.creation_time.timestamp() * 1000),
        policy=b.policy,
    )


def _rule(r: s.Rule) -> pb.Rule:
    return pb.Rule(
        name=r.name,
        arn=r.arn,
        event_bus_name=r.event_bus_name,
        event_pattern=r.event_pattern,
        schedule_expression=r.schedule_expression,
        state=r.state,
        description=r.description,
    )


def _target(t: s.Target) -> pb.Target:
    out = pb.Target(id=t.id, arn=t.arn, input=t.input, input_path=t.input_path)
    if t.retry_policy is not None:
        out.retry_policy.maximum_retry_attempts = t.retry_policy.maximum_retry_attempts or 0
        out.retry_policy.maximum_event_age_in_seconds = (
            t.retry_policy.maximum_event_age_in_seconds or 0
        )
    if t.input_transformer is not None:
        out.input_transformer.input_paths_map.update(t.input_transformer.input_paths_map)
        out.input_transformer.input_template = t.input_transformer.input_template
    if t.dead_letter_config is not None:
        out.dead_letter_config.arn = t.dead_letter_config.arn
    if t.sqs_parameters is not None:
        out.sqs_parameters.message_group_id = t.sqs_parameters.message_group_id
    return out


def _target_shape(t: pb.Target) -> s.Target:
    target = s.Target(id=t.id, arn=t.arn, input=t.input, input_path=t.input_path)
    if t.HasField("input_transformer"):
        target.input_transformer = s.InputTransformer(
            dict(t.input_transformer.input_paths_map), t.input_transformer.input_template
        )
    if t.HasField("retry_policy"):
        r = t.retry_policy
        target.retry_policy = s.RetryPolicy(
            r.maximum_retry_attempts if r.HasField("maximum_retry_attempts") else None,
            r.maximum_event_age_in_seconds if r.HasField("maximum_event_age_in_seconds") else None,
        )
    if t.dead_letter_config.arn:
        target.dead_letter_config = s.DeadLetterConfig(t.dead_letter_config.arn)
    if t.sqs_parameters.message_group_id:
        target.sqs_parameters = s.SqsParameters(t.sqs_parameters.message_group_id)
    return target


def _ms(t: dt.datetime | None) -> int:
    return int(t.timestamp() * 1000) if t is not None else 0


def _archive(a: s.Archive) -> pb.Archive:
    return pb.Archive(
        archive_name=a.archive_name,
        archive_arn=a.archive_arn,
        event_source_arn=a.event_source_arn,
        description=a.description,
        event_pattern=a.event_pattern,
        retention_days=a.retention_days,
        state=a.state,
        event_count=a.event_count,
        size_bytes=a.size_bytes,
        creation_time_ms=_ms(a.creation_time),
    )


def _replay(r: s.Replay) -> pb.Replay:
    return pb.Replay(
        replay_name=r.replay_name,
        replay_arn=r.replay_arn,
        event_source_arn=r.event_source_arn,
        description=r.description,
        state=r.state,
        state_reason=r.state_reason,
        event_start_time_ms=_ms(r.event_start_time),
        event_end_time_ms=_ms(r.event_end_time),
        event_last_replayed_time_ms=_ms(r.event_last_replayed_time),
        replay_start_time_ms=_ms(r.replay_start_time),
        replay_end_time_ms=_ms(r.replay_end_time),
        destination_arn=r.destination.arn,
        filter_arns=r.destination.filter_arns,
        events_replayed=r.events_replayed,
    )


def _time_of(ms: int, parameter: str) -> dt.datetime | None:
    """A replay window's end in milliseconds, as the core takes it (0: not given)."""
    if not ms:
        return None
    try:
        return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    except (ValueError, OverflowError, OSError):
        raise ValidationException(
            f"Parameter {parameter} is not valid. Reason: {ms} is out of the range of "
            "times in milliseconds since the epoch."
        ) from None


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


def _tags(tags: Mapping[str, str]) -> list[s.Tag]:
    return [s.Tag(k, v) for k, v in tags.items()]


def _event_time(ms: int) -> dt.datetime:
    """An entry's Time (epoch milliseconds on the wire) as the core takes it."""
    try:
        return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidParameterValue(
            f"Time: {ms} ms since the epoch is not a representable timestamp"
        ) from None


class EventBusesService(events_pb2_grpc.EventBusesServicer):
    def __init__(self, ops: BusOperations, history: History) -> None:
        self.ops = ops
        self.engine = ops.engine
        self.history = history

    # --- buses ------------------------------------------------------------------------------
    async def CreateEventBus(
        self, request: pb.CreateEventBusRequest, context: Ctx
    ) -> pb.CreateEventBusResponse:
        result = await self.ops.create_event_bus(
            s.CreateEventBusRequest(
                request.name, request.description, request.schema_validation, _tags(request.tags)
            )
        )
        return pb.CreateEventBusResponse(event_bus_arn=result.event_bus_arn)

    async def UpdateEventBus(self, request: pb.UpdateEventBusRequest, context: Ctx) -> pb.EventBus:
        return _bus(
            await self.ops.update_event_bus(
                s.UpdateEventBusRequest(
                    request.name, request.description, request.schema_validation
                )
            )
        )

    async def DescribeEventBus(
        self, request: pb.DescribeEventBusRequest, context: Ctx
    ) -> pb.EventBus:
        return _bus(await self.ops.describe_event_bus(s.DescribeEventBusRequest(request.name)))

    async def ListEventBuses(
        self, request: pb.ListEventBusesRequest, context: Ctx
    ) -> pb.ListEventBusesResponse:
        result = await self.ops.list_event_buses(
            s.ListEventBusesRequest(request.name_prefix, request.next_token, request.limit)
        )
        return pb.ListEventBusesResponse(
            event_buses=[_bus(b) for b in result.event_buses], next_token=result.next_token
        )

    async def PutPermission(
        self, request: pb.PutBusPermissionRequest, context: Ctx
    ) -> pb.PutBusPermissionResponse:
        condition = (
            s.Condition(request.condition_type, request.condition_key, request.condition_value)
            if request.condition_type or request.condition_key or request.condition_value
            else None
        )
        await self.ops.put_permission(
            s.PutPermissionRequest(
                event_bus_name=request.event_bus_name,
                action=request.action,
                principal=request.principal,
                statement_id=request.statement_id,
                condition=condition,
                policy=request.policy,
            )
        )
        return pb.PutBusPermissionResponse()

    async def RemovePermission(
        self, request: pb.RemoveBusPermissionRequest, context: Ctx
    ) -> pb.RemoveBusPermissionResponse:
        await self.ops.remove_permission(
            s.RemovePermissionRequest(
                request.statement_id, request.remove_all_permissions, request.event_bus_name
            )
        )
        return pb.RemoveBusPermissionResponse()

    async def DeleteEventBus(
        self, request: pb.DeleteEventBusRequest, context: Ctx
    ) -> pb.DeleteEventBusResponse:
        await self.ops.delete_event_bus(s.DeleteEventBusRequest(request.name))
        return pb.DeleteEventBusResponse()

    # --- rules ------------------------------------------------------------------------------
    async def PutRule(self, request: pb.PutRuleRequest, context: Ctx) -> pb.PutRuleResponse:
        result = await self.ops.put_rule(
            s.PutRuleRequest(
                name=request.name,
                event_bus_name=request.event_bus_name,
                event_pattern=request.event_pattern,
                schedule_expression=request.schedule_expression,
                state=request.state,
                description=request.description,
                tags=_tags(request.tags),
            )
        )
        return pb.PutRuleResponse(rule_arn=result.rule_arn)

    async def DescribeRule(self, request: pb.DescribeRuleRequest, context: Ctx) -> pb.Rule:
        return _rule(
            await self.ops.describe_rule(
                s.DescribeRuleRequest(request.name, request.event_bus_name)
            )
        )

    async def ListRules(self, request: pb.ListRulesRequest, context: Ctx) -> pb.ListRulesResponse:
        result = await self.ops.list_rules(
            s.ListRulesRequest(
                request.name_prefix, request.event_bus_name, request.next_token, request.limit
            )
        )
        return pb.ListRulesResponse(
            rules=[_rule(r) for r in result.rules], next_token=result.next_token
        )

    async def DeleteRule(
        self, request: pb.DeleteRuleRequest, context: Ctx
    ) -> pb.DeleteRuleResponse:
        await self.ops.delete_rule(
            s.DeleteRuleRequest(request.name, request.event_bus_name, request.force)
        )
        return pb.DeleteRuleResponse()

    async def EnableRule(
        self, request: pb.EnableRuleRequest, context: Ctx
    ) -> pb.EnableRuleResponse:
        await self.ops.enable_rule(s.EnableRuleRequest(request.name, request.event_bus_name))
        return pb.EnableRuleResponse()

    async def DisableRule(
        self, request: pb.DisableRuleRequest, context: Ctx
    ) -> pb.DisableRuleResponse:
        await self.ops.disable_rule(s.DisableRuleRequest(request.name, request.event_bus_name))
        return pb.DisableRuleResponse()

    async def ListRuleNamesByTarget(
        self, request: pb.ListRuleNamesByTargetRequest, context: Ctx
    ) -> pb.ListRuleNamesByTargetResponse:
        result = await self.ops.list_rule_names_by_target(
            s.ListRuleNamesByTargetRequest(
                request.target_arn, request.event_bus_name, request.next_token, request.limit
            )
        )
        return pb.ListRuleNamesByTargetResponse(
            rule_names=result.rule_names, next_token=result.next_token
        )

    # --- tags -------------------------------------------------------------------------------
    async def TagResource(
        self, request: pb.TagBusResourceRequest, context: Ctx
    ) -> pb.TagBusResourceResponse:
        await self.ops.tag_resource(s.TagResourceRequest(request.resource_arn, _tags(request.tags)))
        return pb.TagBusResourceResponse()

    async def UntagResource(
        self, request: pb.UntagBusResourceRequest, context: Ctx
    ) -> pb.UntagBusResourceResponse:
        await self.ops.untag_resource(
            s.UntagResourceRequest(request.resource_arn, list(request.tag_keys))
        )
        return pb.UntagBusResourceResponse()

    async def ListTagsForResource(
        self, request: pb.ListBusResourceTagsRequest, context: Ctx
    ) -> pb.ListBusResourceTagsResponse:
        result = await self.ops.list_tags_for_resource(
            s.ListTagsForResourceRequest(request.resource_arn)
        )
        return pb.ListBusResourceTagsResponse(tags={t["Key"]: t["Value"] for t in result.tags})

    # --- targets ----------------------------------------------------------------------------
    async def PutTargets(
        self, request: pb.PutTargetsRequest, context: Ctx
    ) -> pb.PutTargetsResponse:
        result = await self.ops.put_targets(
            s.PutTargetsRequest(
                request.rule,
                request.event_bus_name,
                [_target_shape(t) for t in request.targets],
            )
        )
        return pb.PutTargetsResponse(
            failed_entry_count=result.failed_entry_count,
            failed_entries=[
                pb.TargetError(
                    target_id=e.target_id, error_code=e.error_code, error_message=e.error_message
                )
                for e in result.failed_entries
            ],
        )

    async def RemoveTargets(
        self, request: pb.RemoveTargetsRequest, context: Ctx
    ) -> pb.RemoveTargetsResponse:
        result = await self.ops.remove_targets(
            s.RemoveTargetsRequest(request.rule, request.event_bus_name, list(request.ids))
        )
        return pb.RemoveTargetsResponse(failed_entry_count=result.failed_entry_count)

    async def ListTargetsByRule(
        self, request: pb.ListTargetsByRuleRequest, context: Ctx
    ) -> pb.ListTargetsByRuleResponse:
        result = await self.ops.list_targets_by_rule(
            s.ListTargetsByRuleRequest(
                request.rule, request.event_bus_name, request.next_token, request.limit
            )
        )
        return pb.ListTargetsByRuleResponse(
            targets=[_target(t) for t in result.targets], next_token=result.next_token
        )

    # --- events -----------------------------------------------------------------------------
    async def PutEvents(self, request: pb.PutEventsRequest, context: Ctx) -> pb.PutEventsResponse:
        result = await self.ops.put_events(
            s.PutEventsRequest(
                [
                    s.PutEventsRequestEntry(
                        source=e.source,
                        detail_type=e.detail_type,
                        detail=e.detail,
                        resources=list(e.resources),
                        event_bus_name=e.event_bus_name,
                        time=_event_time(e.time_ms) if e.HasField("time_ms") else None,
                    )
                    for e in request.entries
                ]
            )
        )
        return pb.PutEventsResponse(
            failed_entry_count=result.failed_entry_count,
            entries=[
                pb.PutEventsResultEntry(
                    event_id=r.event_id, error_code=r.error_code, error_message=r.error_message
                )
                for r in result.entries
            ],
        )

    async def TestEventPattern(
        self, request: pb.TestEventPatternRequest, context: Ctx
    ) -> pb.TestEventPatternResponse:
        result = await self.ops.test_event_pattern(
            s.TestEventPatternRequest(request.event_pattern, request.event)
        )
        return pb.TestEventPatternResponse(result=result.result)

    # --- archives ---------------------------------------------------------------------------
    async def CreateArchive(self, request: pb.CreateArchiveRequest, context: Ctx) -> pb.Archive:
        r = request
        req = s.CreateArchiveRequest(
            r.archive_name, r.event_source_arn, r.description, r.event_pattern, r.retention_days
        )
        return _archive(await self.ops.create_archive(req))

    async def DescribeArchive(self, request: pb.DescribeArchiveRequest, context: Ctx) -> pb.Archive:
        return _archive(
            await self.ops.describe_archive(s.DescribeArchiveRequest(request.archive_name))
        )

    async def ListArchives(
        self, request: pb.ListArchivesRequest, context: Ctx
    ) -> pb.ListArchivesResponse:
        r = request
        found = await self.ops.list_archives(
            s.ListArchivesRequest(r.name_prefix, r.event_source_arn, "", r.next_token, r.limit)
        )
        return pb.ListArchivesResponse(
            archives=[_archive(a) for a in found.archives], next_token=found.next_token
        )

    async def UpdateArchive(self, request: pb.UpdateArchiveRequest, context: Ctx) -> pb.Archive:
        r = request
        req = s.UpdateArchiveRequest(
            r.archive_name,
            r.description if r.HasField("description") else None,
            r.event_pattern if r.HasField("event_pattern") else None,
            r.retention_days if r.HasField("retention_days") else None,
        )
        return _archive(await self.ops.update_archive(req))

    async def DeleteArchive(
        self, request: pb.DeleteArchiveRequest, context: Ctx
    ) -> pb.DeleteArchiveResponse:
        await self.ops.delete_archive(s.DeleteArchiveRequest(request.archive_name))
        return pb.DeleteArchiveResponse()

    # --- replays ----------------------------------------------------------------------------
    async def StartReplay(self, request: pb.StartReplayRequest, context: Ctx) -> pb.Replay:
        r = request
        req = s.StartReplayRequest(
            r.replay_name,
            r.description,
            r.event_source_arn,
            _time_of(r.event_start_time_ms, "EventStartTime"),
            _time_of(r.event_end_time_ms, "EventEndTime"),
            s.ReplayDestination(r.destination_arn, list(r.filter_arns)),
        )
        return _replay(await self.ops.start_replay(req))

    async def DescribeReplay(self, request: pb.DescribeReplayRequest, context: Ctx) -> pb.Replay:
        return _replay(await self.ops.describe_replay(s.DescribeReplayRequest(request.replay_name)))

    async def ListReplays(
        self, request: pb.ListReplaysRequest, context: Ctx
    ) -> pb.ListReplaysResponse:
        r = request
        found = await self.ops.list_replays(
            s.ListReplaysRequest(r.name_prefix, r.state, r.event_source_arn, r.next_token, r.limit)
        )
        return pb.ListReplaysResponse(
            replays=[_replay(x) for x in found.replays], next_token=found.next_token
        )

    async def CancelReplay(self, request: pb.CancelReplayRequest, context: Ctx) -> pb.Replay:
        return _replay(await self.ops.cancel_replay(s.CancelReplayRequest(request.replay_name)))

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
            mine(self.history.schemas(request.name_prefix)), request.next_token, request.limit
        )
        return pb.ListSchemasResponse(schemas=[_schema(s) for s in items], next_token=token)

    async def DeleteSchema(
        self, request: pb.DeleteSchemaRequest, context: Ctx
    ) -> pb.DeleteSchemaResponse:
        schema = self.history.schema(_require(request.schema_name, "SchemaName"))
        await self.history.delete_schema(schema)
        return pb.DeleteSchemaResponse()
