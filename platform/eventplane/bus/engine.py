"""BusEngine: buses, rules and targets in the registry, PutEvents, and the bus runtime.

The runtime is three collaborators: the rule dispatcher (rules and archives, exactly
once), the delivery worker (HTTP destinations and retries, at least once) and the
coordinator (schedules and replays, on one replica at a time). They read definitions
through this engine's caches, which compile each rule once per registry generation.
Archives, replays and schemas live in :mod:`eventplane.bus.history`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from eventplane import names
from eventplane.bus import metrics
from eventplane.bus.compiled import (
    CompiledViews,
)
from eventplane.bus.coordinator import STATE_TOPIC, Coordinator
from eventplane.bus.deliveries import DeliveryWorker
from eventplane.bus.dispatcher import DELIVERIES_TOPIC, RuleDispatcher
from eventplane.bus.entries import (
    EntryError,
    check_request,
    entry_size,
    envelope,
    parse_detail,
)
from eventplane.bus.errors import LimitExceeded
from eventplane.bus.models import (
    ARCHIVE,
    BUS,
    DEFAULT_BUS,
    DISABLED,
    ENABLED,
    FINISHED,
    MAX_TARGETS_PER_RULE,
    REPLAY,
    RULE,
    BusDef,
    BusEvent,
    ReplayDef,
    RuleDef,
    TargetDef,
    bus_reference,
    compile_event_pattern,
    encode_event,
    not_found,
    permissions,
    rule_key,
    validate_name,
)
from eventplane.bus.references import is_default, lookup, moves
from eventplane.bus.references import owner_of as owner_of_arn
from eventplane.bus.references import policy_of as policy_of_arn
from eventplane.bus.tagging import BusTags, check_tags
from eventplane.bus.targets import TargetWriter
from eventplane.errors import (
    EventplaneError,
    ResourceAlreadyExists,
    ValidationException,
)
from eventplane.kafka import naming
from eventplane.kafka.clients import ProduceError, TopicSpec, ensure_topics
from eventplane.kafka.retirement import retire_topics
from eventplane.observability.logging import get_logger
from eventplane.runtime import ServerContext
from eventplane.security.accounts import caller_account

_log = get_logger("eventplane.bus")

BUS_PARTITIONS = 3
BUS_RETENTION_MS = 24 * 3600 * 1000  # the rule dispatcher reads them at once; archives keep history
MAX_DESCRIPTION = 512


@dataclass(frozen=True)
class PutResult:
    event_id: str | None = None
    error: EntryError | None = None


class BusEngine:
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self.registry = ctx.registry
        self.clock = ctx.clock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._spread = itertools.count()
        self.compiled = CompiledViews(self)
        self.writer = TargetWriter(ctx.registry)
        self.tags = BusTags(ctx.registry)
        self.deliveries = DeliveryWorker(
            ctx.settings, ctx.producer, self.writer, self._target, instance_id=ctx.instance_id
        )
        self.dispatcher = RuleDispatcher(
            ctx.settings,
            instance_id=ctx.instance_id,
            rules=self.compiled.rules,
            archives=self.compiled.archives,
            writer=self.writer,
            first_retry_delay=self.deliveries.delay,
            clock=ctx.clock,
        )
        self.coordinator = Coordinator(
            ctx.settings,
            instance_id=ctx.instance_id,
            scheduled_rules=self.compiled.scheduled_rules,
            active_replays=self.compiled.active_replays,
            save_replay=self._save_replay,
            archive_exists=lambda name: self.registry.get(ARCHIVE, name) is not None,
            clock=lambda: ctx.clock() / 1000,
        )

    # --- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(
            ensure_topics,
            self.ctx.settings,
            [
                TopicSpec(DELIVERIES_TOPIC, 3),
                TopicSpec(STATE_TOPIC, 1, {"cleanup.policy": "compact"}),
            ],
        )
        if self.registry.get(BUS, DEFAULT_BUS) is None:
            await self._create_bus_topic(DEFAULT_BUS)
            await asyncio.to_thread(
                self.registry.put, BUS, DEFAULT_BUS, BusDef(DEFAULT_BUS).to_spec()
            )
        await self._move_to_own_default_buses()
        self.registry.subscribe(self._on_registry_change)
        self._sync()
        self.dispatcher.start()
        self.deliveries.start()
        self.coordinator.start()

    async def stop(self) -> None:
        await asyncio.to_thread(self.coordinator.close)
        await asyncio.to_thread(self.deliveries.close)
        await asyncio.to_thread(self.dispatcher.close)

    def _on_registry_change(self, kind: str, name: str, resource: Any) -> None:
        self.compiled.invalidate(kind, name)
        if kind == BUS and self._loop is not None:
            self._loop.call_soon_threadsafe(self._sync)

    def _sync(self) -> None:
        self.dispatcher.subscribe([b.name for b in self.buses()])

    def _target(self, bus: str, rule: str, target_id: str) -> tuple[RuleDef, TargetDef] | None:
        r = self.registry.get(RULE, rule_key(bus, rule))
        if r is None:
            return None
        found = self.compiled.rule(r)
        target = next((t for t in found.targets if t.id == target_id), None)
        return (found, target) if target is not None else None

    def _save_replay(self, replay: ReplayDef) -> None:
        current = self.registry.get(REPLAY, replay.name)
        if current is None:
            return
        # A cancel that arrived meanwhile wins over progress reports.
        if current.spec.get("state") == "CANCELLING" and replay.state not in FINISHED:
            replay = replace(replay, state="CANCELLING")
        self.registry.put(REPLAY, replay.name, replay.to_spec())

    async def _move_to_own_default_buses(self) -> None:
        """Rules and archives another account made on the default bus while it was every
        account's move to that account's own default bus (same names and ARNs): they still
        see their account's events, and no longer every other account's. Idempotent:
        every replica does it when it starts."""
        for kind in (RULE, ARCHIVE):
            for move in moves(kind, self.registry.find(kind)):
                await self.ensure_bus(BusDef(move.bus, account=move.account))
                await asyncio.to_thread(self.registry.put, kind, move.new, move.spec)
                if move.new != move.old:
                    await asyncio.to_thread(self.registry.delete, kind, move.old)
                _log.info("moved to its account's default bus", kind=kind, name=move.old)

    # --- buses ------------------------------------------------------------------------------
    def buses(self, prefix: str = "", account: str | None = None) -> list[BusDef]:
        """The buses whose plain names start with ``prefix``: ``account``'s (with its
        default bus, which exists for every account), or every account's (None)."""
        if account is None:
            every = map(BusDef.from_resource, self.registry.find(BUS))
            return [b for b in every if b.plain.startswith(prefix)]
        keys = {names.qualify(prefix, account), prefix}
        found = {r.name: r for key in keys for r in self.registry.find(BUS, key)}
        buses = [b for b in map(BusDef.from_resource, found.values()) if b.account == account]
        own_default = names.qualify(DEFAULT_BUS, account)
        if DEFAULT_BUS.startswith(prefix) and own_default not in found:
            buses.append(BusDef(own_default, account=account))
        return sorted(buses, key=lambda b: b.plain)

    def internal(self, ref: str, field: str = "EventBusName") -> str:
        """The internal name of the bus ``ref`` names (``eventplane.names``): a name (or
        nothing: the default bus) in the caller's account, an ARN in its account; the
        one that exists (:func:`lookup`), else the first candidate (whose "not found"
        names it, or the caller's own default bus, which exists once used)."""
        account, name = bus_reference(ref, field)
        caller = caller_account()
        found = lookup(self.registry, BUS, name, account, caller)
        return found if found is not None else names.qualify(name, account or caller)

    def bus(self, ref: str, field: str = "Name") -> BusDef:
        """The bus ``ref`` names; the caller's default bus even before its first use."""
        internal = self.internal(ref, field)
        r = self.registry.get(BUS, internal)
        if r is not None:
            return BusDef.from_resource(r)
        account, plain = names.unqualify(internal)
        if plain == DEFAULT_BUS and account == caller_account():
            return BusDef(internal, account=account)
        raise not_found("Event bus", plain)

    async def ensure_bus(self, bus: BusDef) -> BusDef:
        """``bus`` as the registry holds it: an account's default bus is created there (and
        its Kafka topic) when first used, as it exists on AWS from the start."""
        r = self.registry.get(BUS, bus.name)
        if r is not None:
            return BusDef.from_resource(r)
        await self._create_bus_topic(bus.name)
        r = await asyncio.to_thread(self.registry.put, BUS, bus.name, bus.to_spec())
        _log.info("default event bus created", bus=bus.name)
        return BusDef.from_resource(r)

    async def create_bus(
        self,
        name: str,
        description: str,
        schema_validation: bool,
        tags: Mapping[str, str] | None = None,
    ) -> BusDef:
        if name.startswith("arn:") or not name:
            raise ValidationException("Name must be a bus name, not an ARN")
        bus_reference(name, "Name")
        if name == DEFAULT_BUS or name.startswith("aws."):
            raise ValidationException(f"Event bus name {name!r} is reserved")
        if "/" in name:  # only partner event buses have one, and they are not created here
            raise ValidationException(
                f"Event bus name {name!r} is not valid: custom event bus names can't contain "
                "the / character."
            )
        _check_description(description)
        checked = check_tags(tags or {})
        account = caller_account()
        # Names are per account; a bus the account made while they were per installation
        # is kept under its plain name (``lookup``).
        if lookup(self.registry, BUS, name, None, account) is not None:
            raise ResourceAlreadyExists(f"Event bus {name} already exists.")
        internal = names.qualify(name, account)
        await self._create_bus_topic(internal)
        bus = BusDef(internal, description, schema_validation, tags=checked, account=account)
        r = await asyncio.to_thread(self.registry.put, BUS, internal, bus.to_spec())
        _log.info("event bus created", bus=internal)
        return BusDef.from_resource(r)

    async def _create_bus_topic(self, name: str) -> None:
        await asyncio.to_thread(
            ensure_topics,
            self.ctx.settings,
            [
                TopicSpec(
                    naming.bus_topic(name), BUS_PARTITIONS, {"retention.ms": str(BUS_RETENTION_MS)}
                )
            ],
        )

    async def update_bus(self, bus: BusDef, description: str, schema_validation: bool) -> BusDef:
        _check_description(description)
        updated = replace(bus, description=description, schema_validation=schema_validation)
        r = await asyncio.to_thread(self.registry.put, BUS, bus.name, updated.to_spec())
        return BusDef.from_resource(r)

    async def put_permission(
        self,
        ref: str,
        *,
        policy: str = "",
        statement_id: str = "",
        action: str = "",
        principal: str = "",
        condition: Mapping[str, str] | None = None,
    ) -> BusDef:
        """Replace the bus's policy (``policy``) or add one statement to it."""
        bus = await self.ensure_bus(self.bus(ref, "EventBusName"))
        if policy:
            text = permissions.put_policy(policy)
        else:
            text = permissions.put_statement(
                bus.policy,
                bus.arn,
                statement_id=statement_id,
                action=action,
                principal=principal,
                condition=condition,
            )
        updated = replace(bus, policy=text)
        await asyncio.to_thread(self.registry.put, BUS, bus.name, updated.to_spec())
        return updated

    async def remove_permission(self, ref: str, statement_id: str, remove_all: bool) -> BusDef:
        """Remove one statement of the bus's policy, or (``remove_all``) the policy."""
        bus = self.bus(ref, "EventBusName")
        text = "" if remove_all else permissions.remove_statement(bus.policy, statement_id)
        updated = replace(bus, policy=text)
        await asyncio.to_thread(self.registry.put, BUS, bus.name, updated.to_spec())
        return updated

    def owner_of(self, arn: str) -> str | None:
        """Authorization's owner lookup (``references.owner_of``)."""
        return owner_of_arn(self.registry, arn)

    def policy_of(self, arn: str) -> str | None:
        """Authorization's policy lookup (``references.policy_of``)."""
        return policy_of_arn(self.registry, arn)

    async def delete_bus(self, ref: str) -> None:
        name = self.internal(ref, "Name")
        if is_default(name):
            raise ValidationException("Cannot delete event bus default.")
        if self.registry.get(BUS, name) is None:
            return  # EventBridge: deleting a bus that does not exist succeeds
        for r in self.registry.find(RULE, f"{name}:"):
            await asyncio.to_thread(self.registry.delete, RULE, r.name)
        await asyncio.to_thread(self.registry.delete, BUS, name)
        await asyncio.to_thread(retire_topics, self.ctx.settings, [naming.bus_topic(name)])

    # --- rules ------------------------------------------------------------------------------
    def rules(self, bus: str, prefix: str = "") -> list[RuleDef]:
        name = self.bus(bus, "EventBusName").name
        return [self.compiled.rule(r) for r in self.registry.find(RULE, f"{name}:{prefix}")]

    def rule(self, bus: str, name: str) -> RuleDef:
        found = self.bus(bus, "EventBusName")
        validate_name(name, "Name")
        r = self.registry.get(RULE, rule_key(found.name, name))
        if r is None:
            raise not_found("Rule", f"{name} on EventBus {found.plain}")
        return self.compiled.rule(r)

    async def put_rule(
        self,
        bus_ref: str,
        name: str,
        event_pattern: str,
        schedule_expression: str,
        state: str,
        description: str,
        tags: Mapping[str, str] | None = None,
    ) -> RuleDef:
        """Create or replace a rule; ``tags`` count only when it is created (EventBridge
        ignores them on an update: TagResource and UntagResource change them)."""
        bus = self.bus(bus_ref, "EventBusName")
        validate_name(name, "Name")
        _check_description(description)
        if not event_pattern and not schedule_expression:
            raise ValidationException(
                "Parameter(s) EventPattern or ScheduleExpression must be specified."
            )
        if schedule_expression and not is_default(bus.name):
            raise ValidationException(
                "ScheduleExpression is supported only on the default event bus."
            )
        state = state or ENABLED
        if state not in (ENABLED, DISABLED):
            raise ValidationException(
                f"1 validation error detected: Value '{state}' at 'state' failed to satisfy "
                "constraint: Member must satisfy enum value set: [ENABLED, DISABLED]"
            )
        checked = check_tags(tags or {})
        bus = await self.ensure_bus(bus)
        found = self.registry.get(RULE, rule_key(bus.name, name))
        existing = self.compiled.rule(found) if found is not None else None
        since = 0
        if existing is not None:
            restarted = (not existing.enabled and state == ENABLED) or (
                existing.schedule_expression != (schedule_expression or None)
            )
            since = self.clock() if restarted else existing.schedule_since_ms
        rule = RuleDef.build(
            bus.name,
            name,
            event_pattern or None,
            schedule_expression or None,
            state=state,
            description=description,
            targets=existing.targets if existing is not None else (),
            schedule_since_ms=since,
            min_rate_seconds=self.ctx.settings.schedule_min_rate_seconds,
            tags=existing.tags if existing is not None else checked,
            account=existing.account if existing is not None else bus.account,
        )
        await self._save_rule(rule)
        return rule

    async def _save_rule(self, rule: RuleDef) -> None:
        await asyncio.to_thread(self.registry.put, RULE, rule.key, rule.to_spec())

    async def set_rule_state(self, rule: RuleDef, state: str) -> None:
        if rule.state != state:
            since = self.clock() if state == ENABLED else rule.schedule_since_ms
            await self._save_rule(replace(rule, state=state, schedule_since_ms=since))

    async def delete_rule(self, rule: RuleDef, force: bool) -> None:
        if rule.targets and not force:
            raise ValidationException("Rule can't be deleted since it has targets.")
        await asyncio.to_thread(self.registry.delete, RULE, rule.key)

    # --- targets ----------------------------------------------------------------------------
    async def put_targets(
        self, rule: RuleDef, specs: Sequence[Mapping[str, Any]]
    ) -> list[tuple[str, EventplaneError]]:
        """Add or replace targets; the failed ones with their errors (the rest are saved)."""
        if not 1 <= len(specs) <= 10:
            raise ValidationException(
                "1 validation error detected: Value at 'targets' failed to satisfy constraint: "
                "Member must have length between 1 and 10"
            )
        current = {t.id: t for t in rule.targets}
        failed: list[tuple[str, EventplaneError]] = []
        for spec in specs:
            try:
                target = TargetDef.parse(spec)
                self._check_target(target)
            except EventplaneError as exc:
                failed.append((str(spec.get("Id", "")), exc))
                continue
            account, plain = names.unqualify(target.endpoint)
            if target.kind == "bus" and plain == DEFAULT_BUS and account == rule.account:
                # The rule's own account's default bus: there once used, as on AWS.
                await self.ensure_bus(BusDef(target.endpoint, account=account))
            current[target.id] = target
        if len(current) > MAX_TARGETS_PER_RULE:
            raise LimitExceeded(
                f"The requested resource exceeds the maximum number allowed: a rule has at most "
                f"{MAX_TARGETS_PER_RULE} targets"
            )
        await self._save_rule(replace(rule, targets=tuple(current.values())))
        return failed

    def _check_target(self, target: TargetDef) -> None:
        # Only FIFO queues end in .fifo, so such a target needs a group even before its
        # queue exists.
        fifo = target.kind == "sqs" and (
            target.endpoint.endswith(".fifo") or self.writer.fifo_queue(target.endpoint)
        )
        if fifo and not target.message_group_id:
            raise ValidationException(
                f"Parameter(s) SqsParameters must be specified for target: {target.id}. "
                "A FIFO queue target needs SqsParameters.MessageGroupId"
            )
        if target.kind == "bus" and names.looks_qualified(names.plain(target.endpoint)):
            raise ValidationException(
                f"Target Arn {target.arn!r} is not valid: an event bus name can't start with "
                f"12 digits and a dot (target {target.id})"
            )
        if target.kind == "bus" and target.input_transformer is not None:
            raise ValidationException(
                f"InputTransformer is not supported for event bus targets (target {target.id})"
            )

    async def remove_targets(self, rule: RuleDef, ids: Sequence[str]) -> None:
        if not ids:
            raise ValidationException("Ids must name at least one target")
        remaining = tuple(t for t in rule.targets if t.id not in set(ids))
        await self._save_rule(replace(rule, targets=remaining))

    # --- events -----------------------------------------------------------------------------
    async def put_events(self, entries: Sequence[Mapping[str, Any]]) -> list[PutResult]:
        """Validate each entry and write the good ones; one result per entry, in order."""
        check_request(
            [
                entry_size(
                    e["source"],
                    e["detail_type"],
                    e["detail"],
                    e["resources"],
                    e["time_ms"] is not None,
                )
                for e in entries
            ]
        )
        results: list[PutResult] = []
        batch: list[tuple[str, bytes, dict[str, Any]]] = []
        slots: list[tuple[int, str]] = []
        account = caller_account()
        if account != names.home():
            # The caller's default bus exists once used (one registry view lookup after).
            await self.ensure_bus(BusDef(names.qualify(DEFAULT_BUS, account), account=account))
        now = self.clock()
        for e in entries:
            try:
                bus, event = self._event(e, now)
            except EntryError as err:
                results.append(PutResult(error=err))
                metrics.PUT_FAILED.labels(e["bus"] or DEFAULT_BUS, err.code).inc()
                continue
            value, headers = encode_event(BusEvent(event, now))
            partition = next(self._spread) % BUS_PARTITIONS
            batch.append(
                (naming.bus_topic(bus), value, {"headers": headers, "partition": partition})
            )
            slots.append((len(results), bus))
            results.append(PutResult(event_id=event["id"]))
        if batch:
            try:
                await self.ctx.producer.send_many(batch, accepted=True)
            except ProduceError as exc:
                failure = EntryError("InternalFailure", f"could not write to Kafka: {exc}")
                for index, bus in slots:
                    results[index] = PutResult(error=failure)
                    metrics.PUT_FAILED.labels(bus, failure.code).inc()
                return results
            for _, bus in slots:
                metrics.PUT.labels(bus).inc()
        return results

    def _event(self, e: Mapping[str, Any], now: int) -> tuple[str, dict[str, Any]]:
        try:
            bus_name = self.internal(e["bus"])
        except ValidationException as exc:
            raise EntryError("InvalidArgument", exc.message) from None
        r = self.registry.get(BUS, bus_name)
        if r is None:
            raise EntryError(
                "ResourceNotFoundException", f"Event bus {names.plain(bus_name)} does not exist."
            )
        detail = parse_detail(e["source"], e["detail_type"], e["detail"])
        if r.spec.get("schema_validation"):
            schema = self.compiled.schema(e["source"], e["detail_type"])
            if schema is not None:
                schema.check(detail)
        event = envelope(
            source=e["source"],
            detail_type=e["detail_type"],
            detail=detail,
            resources=e["resources"],
            time_ms=e["time_ms"] if e["time_ms"] is not None else now,
            account=caller_account(),
        )
        return bus_name, event

    @staticmethod
    def test_event_pattern(pattern: str, event_text: str) -> bool:
        compiled = compile_event_pattern(pattern) if pattern else None
        if compiled is None:
            raise ValidationException("Parameter EventPattern is not valid: it must not be empty")
        try:
            event = json.loads(event_text)
        except ValueError:
            raise ValidationException("Parameter Event is not valid: it is not JSON.") from None
        if not isinstance(event, dict):
            raise ValidationException("Parameter Event is not valid: it must be a JSON object.")
        # TestEventPattern's Event: "the following fields are mandatory: id, account,
        # source, time, region, resources, detail-type".
        missing = [
            k
            for k in ("id", "account", "source", "time", "region", "resources", "detail-type")
            if k not in event
        ]
        if missing:
            raise ValidationException(
                f"Parameter Event is not valid: the event lacks {', '.join(missing)}."
            )
        return compiled.matches(event)


def _check_description(description: str) -> None:
    if len(description) > MAX_DESCRIPTION:
        raise ValidationException(
            f"Description is longer than {MAX_DESCRIPTION} characters ({len(description)})"
        )
