"""The bus core for buses, rules, targets and events: one method per EventBridge action.

The gRPC servicer and the AWS-protocol gateway (EventBridge JSON 1.1) both call these,
so required members, paging limits, a missing rule's delete and the per-entry answers of
PutTargets and PutEvents are written once (archives and replays: history_operations.py).
Schemas are still served by the gRPC servicer on History directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from eventplane.bus import shapes as s
from eventplane.bus.engine import BusEngine
from eventplane.bus.history import History
from eventplane.bus.history_operations import HistoryActions
from eventplane.bus.models import BusDef, RuleDef, TargetDef
from eventplane.bus.requests import page, require
from eventplane.errors import MissingParameter, ResourceNotFound, ValidationException
from eventplane.security.accounts import listing_account


def _mine(rules: Sequence[RuleDef]) -> list[RuleDef]:
    """The caller's account's rules (every account's for the platform's own calls)."""
    account = listing_account()
    return [r for r in rules if account in (None, r.account)]


def _time(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


def _bus(b: BusDef) -> s.EventBus:
    return s.EventBus(
        b.plain,
        b.arn,
        b.description,
        _time(b.created_ms),
        b.schema_validation,
        b.policy,
        _time(b.updated_ms or b.created_ms),
    )


def _rule(r: RuleDef) -> s.Rule:
    return s.Rule(
        name=r.name,
        arn=r.arn,
        event_bus_name=r.bus_plain,
        event_pattern=r.event_pattern or "",
        schedule_expression=r.schedule_expression or "",
        state=r.state,
        description=r.description,
        created_by=r.arn.split(":")[4],
    )


def _tags(tags: Sequence[s.Tag]) -> dict[str, str]:
    """A request's tags as a mapping (a key given twice keeps its last value)."""
    for t in tags:
        if not t.key:
            raise ValidationException("Tags are not valid: a tag key is 1 to 128 characters long.")
    return {t.key: t.value for t in tags}


def _target(t: TargetDef) -> s.Target:
    transformer = None
    if t.input_transformer is not None:
        transformer = s.InputTransformer(
            dict(t.input_transformer.get("InputPathsMap") or {}),
            t.input_transformer.get("InputTemplate", ""),
        )
    return s.Target(
        id=t.id,
        arn=t.arn,
        input=t.input or "",
        input_path=t.input_path or "",
        input_transformer=transformer,
        retry_policy=s.RetryPolicy(
            t.retry.maximum_retry_attempts, t.retry.maximum_event_age_seconds
        ),
        dead_letter_config=s.DeadLetterConfig(t.dead_letter_arn) if t.dead_letter_arn else None,
        sqs_parameters=s.SqsParameters(t.message_group_id) if t.message_group_id else None,
    )


def _target_spec(t: s.Target) -> dict[str, Any]:
    """The target as the EventBridge-keyed mapping ``TargetDef.parse`` validates."""
    spec: dict[str, Any] = {"Id": t.id, "Arn": t.arn}
    if t.input:
        spec["Input"] = t.input
    if t.input_path:
        spec["InputPath"] = t.input_path
    if t.input_transformer is not None:
        spec["InputTransformer"] = {
            "InputPathsMap": dict(t.input_transformer.input_paths_map),
            "InputTemplate": t.input_transformer.input_template,
        }
    if t.retry_policy is not None:
        retry: dict[str, int] = {}
        if t.retry_policy.maximum_retry_attempts is not None:
            retry["MaximumRetryAttempts"] = t.retry_policy.maximum_retry_attempts
        if t.retry_policy.maximum_event_age_in_seconds is not None:
            retry["MaximumEventAgeInSeconds"] = t.retry_policy.maximum_event_age_in_seconds
        spec["RetryPolicy"] = retry
    if t.dead_letter_config is not None and t.dead_letter_config.arn:
        spec["DeadLetterConfig"] = {"Arn": t.dead_letter_config.arn}
    if t.sqs_parameters is not None and t.sqs_parameters.message_group_id:
        spec["SqsParameters"] = {"MessageGroupId": t.sqs_parameters.message_group_id}
    return spec


class BusOperations(HistoryActions):
    """EventBridge's bus, rule, target, event, archive and replay actions over one
    replica's BusEngine (and its History)."""

    def __init__(self, engine: BusEngine, history: History) -> None:
        self.engine = engine
        self.history = history

    # --- buses ------------------------------------------------------------------------------
    async def create_event_bus(self, req: s.CreateEventBusRequest) -> s.CreateEventBusResult:
        bus = await self.engine.create_bus(
            require(req.name, "Name"), req.description, req.schema_validation, _tags(req.tags)
        )
        return s.CreateEventBusResult(bus.arn, bus.description)

    async def update_event_bus(self, req: s.UpdateEventBusRequest) -> s.EventBus:
        bus = self.engine.bus(req.name)
        return _bus(await self.engine.update_bus(bus, req.description, req.schema_validation))

    async def describe_event_bus(self, req: s.DescribeEventBusRequest) -> s.EventBus:
        return _bus(self.engine.bus(req.name))

    async def list_event_buses(self, req: s.ListEventBusesRequest) -> s.ListEventBusesResult:
        # The caller's account's buses, its default bus among them (the platform's own
        # calls: every account's).
        buses = self.engine.buses(req.name_prefix, listing_account())
        items, token = page(buses, req.next_token, req.limit)
        return s.ListEventBusesResult([_bus(b) for b in items], token)

    async def delete_event_bus(self, req: s.DeleteEventBusRequest) -> s.DeleteEventBusResult:
        await self.engine.delete_bus(require(req.name, "Name"))
        return s.DeleteEventBusResult()

    async def put_permission(self, req: s.PutPermissionRequest) -> s.NoResult:
        if not req.policy:
            require(req.statement_id, "StatementId")
            require(req.action, "Action")
            require(req.principal, "Principal")
        c = req.condition
        await self.engine.put_permission(
            req.event_bus_name,
            policy=req.policy,
            statement_id=req.statement_id,
            action=req.action,
            principal=req.principal,
            condition={"Type": c.type, "Key": c.key, "Value": c.value} if c else None,
        )
        return s.NoResult()

    async def remove_permission(self, req: s.RemovePermissionRequest) -> s.NoResult:
        if not req.remove_all_permissions:
            require(req.statement_id, "StatementId")
        await self.engine.remove_permission(
            req.event_bus_name, req.statement_id, req.remove_all_permissions
        )
        return s.NoResult()

    # --- rules ------------------------------------------------------------------------------
    async def put_rule(self, req: s.PutRuleRequest) -> s.PutRuleResult:
        rule = await self.engine.put_rule(
            req.event_bus_name,
            require(req.name, "Name"),
            req.event_pattern,
            req.schedule_expression,
            req.state,
            req.description,
            _tags(req.tags),
        )
        return s.PutRuleResult(rule.arn)

    async def describe_rule(self, req: s.DescribeRuleRequest) -> s.Rule:
        return _rule(self.engine.rule(req.event_bus_name, require(req.name, "Name")))

    async def list_rules(self, req: s.ListRulesRequest) -> s.ListRulesResult:
        rules = _mine(self.engine.rules(req.event_bus_name, req.name_prefix))
        items, token = page(rules, req.next_token, req.limit)
        return s.ListRulesResult([_rule(r) for r in items], token)

    async def list_rule_names_by_target(
        self, req: s.ListRuleNamesByTargetRequest
    ) -> s.ListRuleNamesByTargetResult:
        """The rules on the bus with a target whose ARN is ``target_arn``, by name."""
        arn = require(req.target_arn, "TargetArn")
        rules = _mine(self.engine.rules(req.event_bus_name))
        names = sorted(r.name for r in rules if any(t.arn == arn for t in r.targets))
        items, token = page(names, req.next_token, req.limit)
        return s.ListRuleNamesByTargetResult(list(items), token)

    async def delete_rule(self, req: s.DeleteRuleRequest) -> s.NoResult:
        try:
            rule = self.engine.rule(req.event_bus_name, require(req.name, "Name"))
        except ResourceNotFound:
            return s.NoResult()  # EventBridge: deleting a missing rule succeeds
        await self.engine.delete_rule(rule, req.force)
        return s.NoResult()

    async def enable_rule(self, req: s.EnableRuleRequest) -> s.NoResult:
        rule = self.engine.rule(req.event_bus_name, require(req.name, "Name"))
        await self.engine.set_rule_state(rule, "ENABLED")
        return s.NoResult()

    async def disable_rule(self, req: s.DisableRuleRequest) -> s.NoResult:
        rule = self.engine.rule(req.event_bus_name, require(req.name, "Name"))
        await self.engine.set_rule_state(rule, "DISABLED")
        return s.NoResult()

    # --- targets ----------------------------------------------------------------------------
    async def put_targets(self, req: s.PutTargetsRequest) -> s.PutTargetsResult:
        rule = self.engine.rule(req.event_bus_name, require(req.rule, "Rule"))
        failed = await self.engine.put_targets(rule, [_target_spec(t) for t in req.targets])
        return s.PutTargetsResult(
            len(failed), [s.PutTargetsResultEntry(i, e.code, e.message) for i, e in failed]
        )

    async def remove_targets(self, req: s.RemoveTargetsRequest) -> s.RemoveTargetsResult:
        rule = self.engine.rule(req.event_bus_name, require(req.rule, "Rule"))
        await self.engine.remove_targets(rule, req.ids)
        return s.RemoveTargetsResult(0)

    async def list_targets_by_rule(
        self, req: s.ListTargetsByRuleRequest
    ) -> s.ListTargetsByRuleResult:
        rule = self.engine.rule(req.event_bus_name, require(req.rule, "Rule"))
        items, token = page(rule.targets, req.next_token, req.limit)
        return s.ListTargetsByRuleResult([_target(t) for t in items], token)

    # --- tags -------------------------------------------------------------------------------
    async def tag_resource(self, req: s.TagResourceRequest) -> s.NoResult:
        """Add tags to a bus or rule, overwriting the value of a key it already has."""
        arn = require(req.resource_arn, "ResourceARN")
        if not req.tags:
            raise MissingParameter("The request must contain the parameter Tags.")
        await self.engine.tags.tag(arn, _tags(req.tags))
        return s.NoResult()

    async def untag_resource(self, req: s.UntagResourceRequest) -> s.NoResult:
        """Remove tags from a bus or rule by key; a key it does not have is ignored."""
        arn = require(req.resource_arn, "ResourceARN")
        if not req.tag_keys:
            raise MissingParameter("The request must contain the parameter TagKeys.")
        await self.engine.tags.untag(arn, list(req.tag_keys))
        return s.NoResult()

    async def list_tags_for_resource(
        self, req: s.ListTagsForResourceRequest
    ) -> s.ListTagsForResourceResult:
        tags = self.engine.tags.tags(require(req.resource_arn, "ResourceARN"))
        return s.ListTagsForResourceResult(
            [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
        )

    # --- events -----------------------------------------------------------------------------
    async def put_events(self, req: s.PutEventsRequest) -> s.PutEventsResult:
        entries = [
            {
                "source": e.source,
                "detail_type": e.detail_type,
                "detail": e.detail,
                "resources": list(e.resources),
                "bus": e.event_bus_name,
                "time_ms": int(e.time.timestamp() * 1000) if e.time is not None else None,
            }
            for e in req.entries
        ]
        results = await self.engine.put_events(entries)
        out = [
            s.PutEventsResultEntry(event_id=r.event_id or "")
            if r.error is None
            else s.PutEventsResultEntry(error_code=r.error.code, error_message=r.error.message)
            for r in results
        ]
        failed = sum(1 for r in results if r.error is not None)
        return s.PutEventsResult(failed, out)

    async def test_event_pattern(self, req: s.TestEventPatternRequest) -> s.TestEventPatternResult:
        pattern = require(req.event_pattern, "EventPattern")
        return s.TestEventPatternResult(
            self.engine.test_event_pattern(pattern, require(req.event, "Event"))
        )
