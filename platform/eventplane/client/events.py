"""client.events: EventBridge-compatible event buses; method names follow boto3's
EventBridge client.

    with Client() as ep:
        ep.events.create_event_bus("orders")
        ep.events.put_rule("big-orders", event_bus_name="orders",
                           event_pattern={"detail": {"total": [{"numeric": [">", 100]}]}})
        ep.events.put_targets("big-orders", [{"Id": "q", "Arn": QUEUE_ARN}],
                              event_bus_name="orders")
        ep.events.put_events([{"Source": "shop", "DetailType": "OrderPlaced",
                               "Detail": {"total": 250}, "EventBusName": "orders"}])

Buses are addressed by name or ARN (``arn:aws:events:<region>:<account>:event-bus/<name>``);
``event_bus_name=None`` means the ``default`` bus, which always exists. JSON
documents (patterns, details, inputs, schemas) are JSON text, sent unchanged, or
a dict/list, sent as ``json.dumps``. Times are a datetime (naive means UTC),
epoch milliseconds or ISO 8601 text. The ``list_*`` methods follow every page.
A malformed argument (an unknown key in a target or entry dict) raises
``ValueError`` before anything is sent; errors from the server carry
EventBridge's codes (``ResourceNotFoundException``, ``InvalidEventPatternException``,
``IllegalStatusException``, ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from eventplane._gen.v1 import events_pb2 as pb
from eventplane._gen.v1 import events_pb2_grpc
from eventplane.client import _event_types as t
from eventplane.client._channel import Page, every_page
from eventplane.client._event_archives import ArchiveCalls
from eventplane.client._event_schemas import SchemaCalls
from eventplane.client._event_types import (
    EventBus,
    JsonDocument,
    PutEventsEntry,
    PutEventsResult,
    PutTargetsResult,
    RemoveTargetsResult,
    Rule,
    Target,
)
from eventplane.client._facade import BlockingFacade, blocking


class AsyncEventsClient(ArchiveCalls, SchemaCalls):
    """asyncio EventBuses API; reach it as ``AsyncClient().events``.

    The one implementation of every call: ``EventsClient`` runs these same
    methods over a blocking channel (see ``eventplane.client._facade``).
    """

    _stub_class = events_pb2_grpc.EventBusesStub

    # --- buses -------------------------------------------------------------------------

    async def create_event_bus(
        self,
        name: str,
        *,
        description: str | None = None,
        schema_validation: bool = False,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Create an event bus.

        Args:
            name: letters, digits, ``.``, ``-`` and ``_``; not ``default``.
            description: free text.
            schema_validation: reject PutEvents entries whose detail does not fit
                the schema registered for their source and detail-type.
            tags: cost-allocation style tags.

        Returns:
            The bus ARN.

        Raises:
            EventplaneError: ``ResourceAlreadyExistsException`` when the bus exists;
                ``ValidationException`` when the name is invalid.
        """
        req = pb.CreateEventBusRequest(
            name=name,
            description=description or "",
            schema_validation=schema_validation,
            tags=dict(tags or {}),
        )
        return str((await self._call(self._stub.CreateEventBus, req, self._timeout)).event_bus_arn)

    async def update_event_bus(
        self,
        name: str,
        *,
        description: str | None = None,
        schema_validation: bool | None = None,
    ) -> EventBus:
        """Change a bus's description or schema validation.

        The API replaces both at once, so when one argument is left out the bus
        is described first and its current value is kept (two calls).

        Args:
            name: the bus (name or ARN).
            description: the new description; None: unchanged.
            schema_validation: turn schema validation on or off; None: unchanged.

        Returns:
            The bus as it is now.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the bus does not exist.
        """
        current = None
        if description is None or schema_validation is None:
            current = await self.describe_event_bus(name)
        req = t.update_bus_request(name, description, schema_validation, current)
        return t.event_bus(await self._call(self._stub.UpdateEventBus, req, self._timeout))

    async def describe_event_bus(self, name: str | None = None) -> EventBus:
        """One bus.

        Args:
            name: the bus (name or ARN); None: the ``default`` bus.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the bus does not exist.
        """
        req = pb.DescribeEventBusRequest(name=name or "")
        return t.event_bus(await self._call(self._stub.DescribeEventBus, req, self._timeout))

    async def list_event_buses(self, *, name_prefix: str | None = None) -> list[EventBus]:
        """Every bus (the ``default`` bus included) whose name starts with ``name_prefix``;
        follows all pages."""

        async def page(token: str | None) -> Page[EventBus]:
            req = pb.ListEventBusesRequest(name_prefix=name_prefix or "", next_token=token or "")
            r = await self._call(self._stub.ListEventBuses, req, self._timeout)
            return [t.event_bus(b) for b in r.event_buses], r.next_token or None

        return await every_page(page)

    async def delete_event_bus(self, name: str) -> None:
        """Delete a bus.

        Args:
            name: the bus (name or ARN); the ``default`` bus cannot be deleted.
        """
        req = pb.DeleteEventBusRequest(name=name)
        await self._call(self._stub.DeleteEventBus, req, self._timeout)

    async def put_permission(
        self,
        *,
        event_bus_name: str | None = None,
        statement_id: str | None = None,
        principal: str | None = None,
        action: str = "events:PutEvents",
        condition: Mapping[str, str] | None = None,
        policy: str | None = None,
    ) -> None:
        """Let another principal put events on a bus: one statement, or a whole policy.

        Args:
            event_bus_name: the bus (name or ARN); None: ``default``.
            statement_id: the statement's id (a statement with the same id is replaced).
            principal: a 12-digit account id, or ``"*"``.
            action: ``events:PutEvents``.
            condition: boto3's ``{"Type": "StringEquals", "Key": "aws:PrincipalOrgID",
                "Value": ORG}``.
            policy: a whole policy document (JSON) instead of one statement.

        Raises:
            EventplaneError: ``ValidationException`` naming the parameter at fault.
        """
        c = dict(condition or {})
        req = pb.PutBusPermissionRequest(
            event_bus_name=event_bus_name or "",
            statement_id=statement_id or "",
            principal=principal or "",
            action=action if not policy else "",
            condition_type=c.get("Type", ""),
            condition_key=c.get("Key", ""),
            condition_value=c.get("Value", ""),
            policy=policy or "",
        )
        await self._call(self._stub.PutPermission, req, self._timeout)

    async def remove_permission(
        self,
        *,
        event_bus_name: str | None = None,
        statement_id: str | None = None,
        remove_all_permissions: bool = False,
    ) -> None:
        """Remove one statement of a bus's policy, or the whole policy.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` for an unknown statement id.
        """
        req = pb.RemoveBusPermissionRequest(
            event_bus_name=event_bus_name or "",
            statement_id=statement_id or "",
            remove_all_permissions=remove_all_permissions,
        )
        await self._call(self._stub.RemovePermission, req, self._timeout)

    # --- rules -------------------------------------------------------------------------

    async def put_rule(
        self,
        name: str,
        *,
        event_pattern: JsonDocument | None = None,
        schedule_expression: str | None = None,
        state: str | None = None,
        description: str | None = None,
        event_bus_name: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Create a rule, or replace the rule of that name on the bus.

        Args:
            name: unique on its bus.
            event_pattern: the events the rule selects (a dict or its JSON text).
            schedule_expression: ``rate(5 minutes)`` or ``cron(0 12 * * ? *)``;
                a rule has a pattern, a schedule or both.
            state: ``ENABLED`` (the default) or ``DISABLED``.
            description: free text.
            event_bus_name: the bus (name or ARN); None: ``default``.
            tags: cost-allocation style tags.

        Returns:
            The rule ARN.

        Raises:
            InvalidEventPattern: the pattern is not valid (the message names the
                problem and where it is).
            EventplaneError: ``ResourceNotFoundException`` when the bus does not exist;
                ``ValidationException`` when the schedule or state is invalid.
        """
        req = t.put_rule_request(
            name, event_pattern, schedule_expression, state, description, event_bus_name, tags
        )
        return str((await self._call(self._stub.PutRule, req, self._timeout)).rule_arn)

    async def describe_rule(self, name: str, *, event_bus_name: str | None = None) -> Rule:
        """One rule.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the rule does not exist.
        """
        req = pb.DescribeRuleRequest(name=name, event_bus_name=event_bus_name or "")
        return t.rule(await self._call(self._stub.DescribeRule, req, self._timeout))

    async def list_rules(
        self, *, event_bus_name: str | None = None, name_prefix: str | None = None
    ) -> list[Rule]:
        """The rules of one bus (None: ``default``) whose names start with ``name_prefix``;
        follows all pages."""

        async def page(token: str | None) -> Page[Rule]:
            req = pb.ListRulesRequest(
                event_bus_name=event_bus_name or "",
                name_prefix=name_prefix or "",
                next_token=token or "",
            )
            r = await self._call(self._stub.ListRules, req, self._timeout)
            return [t.rule(x) for x in r.rules], r.next_token or None

        return await every_page(page)

    async def delete_rule(
        self, name: str, *, event_bus_name: str | None = None, force: bool = False
    ) -> None:
        """Delete a rule.

        Args:
            name: the rule.
            event_bus_name: its bus; None: ``default``.
            force: delete it even though it still has targets.

        Raises:
            EventplaneError: ``ValidationException`` when the rule still has targets
                and ``force`` is not set.
        """
        req = pb.DeleteRuleRequest(name=name, event_bus_name=event_bus_name or "", force=force)
        await self._call(self._stub.DeleteRule, req, self._timeout)

    async def enable_rule(self, name: str, *, event_bus_name: str | None = None) -> None:
        """Let a rule match events again.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the rule does not exist.
        """
        req = pb.EnableRuleRequest(name=name, event_bus_name=event_bus_name or "")
        await self._call(self._stub.EnableRule, req, self._timeout)

    async def disable_rule(self, name: str, *, event_bus_name: str | None = None) -> None:
        """Stop a rule from matching events; its targets stay.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the rule does not exist.
        """
        req = pb.DisableRuleRequest(name=name, event_bus_name=event_bus_name or "")
        await self._call(self._stub.DisableRule, req, self._timeout)

    async def list_rule_names_by_target(
        self, target_arn: str, *, event_bus_name: str | None = None
    ) -> list[str]:
        """The names of the rules on one bus (None: ``default``) that have a target with
        the ARN ``target_arn``; follows all pages.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the bus does not exist.
        """

        async def page(token: str | None) -> Page[str]:
            req = pb.ListRuleNamesByTargetRequest(
                target_arn=target_arn, event_bus_name=event_bus_name or "", next_token=token or ""
            )
            r = await self._call(self._stub.ListRuleNamesByTarget, req, self._timeout)
            return list(r.rule_names), r.next_token or None

        return await every_page(page)

    # --- tags --------------------------------------------------------------------------

    async def tag_resource(self, resource_arn: str, tags: Mapping[str, str]) -> None:
        """Add tags to a bus or rule, overwriting the value of a key it already has.

        Args:
            resource_arn: the bus's or rule's ARN.
            tags: keys of 1-128 characters (case-sensitive, not starting with ``aws:``)
                to values of up to 256 characters; a resource holds at most 50 tags.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when no bus or rule has that
                ARN; ``ValidationException`` when a tag or their number breaks a limit.
        """
        req = pb.TagBusResourceRequest(resource_arn=resource_arn, tags=dict(tags))
        await self._call(self._stub.TagResource, req, self._timeout)

    async def untag_resource(self, resource_arn: str, tag_keys: Iterable[str]) -> None:
        """Remove tags from a bus or rule; a key it does not have is ignored.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when no bus or rule has that ARN.
        """
        if isinstance(tag_keys, str):  # list("team") would remove t, e, a and m
            raise TypeError("tag_keys must be an iterable of keys, not one string")
        req = pb.UntagBusResourceRequest(resource_arn=resource_arn, tag_keys=list(tag_keys))
        await self._call(self._stub.UntagResource, req, self._timeout)

    async def list_tags_for_resource(self, resource_arn: str) -> dict[str, str]:
        """The tags of a bus or rule.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when no bus or rule has that ARN.
        """
        req = pb.ListBusResourceTagsRequest(resource_arn=resource_arn)
        r = await self._call(self._stub.ListTagsForResource, req, self._timeout)
        return dict(r.tags)

    # --- targets -----------------------------------------------------------------------

    async def put_targets(
        self,
        rule: str,
        targets: Iterable[Target | Mapping[str, Any]],
        *,
        event_bus_name: str | None = None,
    ) -> PutTargetsResult:
        """Add targets to a rule, or replace those with the same ``id``.

        Args:
            rule: the rule's name.
            targets: 1-10 ``Target`` or dicts with boto3's keys (``{"Id": "q",
                "Arn": QUEUE_ARN, "InputPath": "$.detail", "RetryPolicy":
                {"MaximumRetryAttempts": 3}, "DeadLetterConfig": {"Arn": DLQ_ARN}}``).
            event_bus_name: the rule's bus; None: ``default``.

        Returns:
            The targets that could not be put; check ``failed_entry_count``.

        Raises:
            ValueError: a target is malformed (an unknown key, a missing ``Id``),
                before anything is sent.
            EventplaneError: ``ResourceNotFoundException`` when the rule does not
                exist; ``LimitExceededException`` past the rule's target quota.
        """
        req = pb.PutTargetsRequest(
            rule=rule, event_bus_name=event_bus_name or "", targets=t.targets_pb(targets)
        )
        return t.targets_result(await self._call(self._stub.PutTargets, req, self._timeout))

    async def remove_targets(
        self,
        rule: str,
        ids: Iterable[str],
        *,
        event_bus_name: str | None = None,
        force: bool = False,
    ) -> RemoveTargetsResult:
        """Remove targets from a rule.

        Args:
            rule: the rule's name.
            ids: the targets' ids.
            event_bus_name: the rule's bus; None: ``default``.
            force: remove them even from a rule managed by another service.

        Returns:
            The targets that could not be removed; check ``failed_entry_count``.
        """
        req = pb.RemoveTargetsRequest(
            rule=rule, event_bus_name=event_bus_name or "", ids=t.strings(ids, "ids"), force=force
        )
        return t.targets_result(await self._call(self._stub.RemoveTargets, req, self._timeout))

    async def list_targets_by_rule(
        self, rule: str, *, event_bus_name: str | None = None
    ) -> list[Target]:
        """A rule's targets; follows all pages.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the rule does not exist.
        """

        async def page(token: str | None) -> Page[Target]:
            req = pb.ListTargetsByRuleRequest(
                rule=rule, event_bus_name=event_bus_name or "", next_token=token or ""
            )
            r = await self._call(self._stub.ListTargetsByRule, req, self._timeout)
            return [t.target(x) for x in r.targets], r.next_token or None

        return await every_page(page)

    # --- events ------------------------------------------------------------------------

    async def put_events(
        self, entries: Iterable[PutEventsEntry | Mapping[str, Any]]
    ) -> PutEventsResult:
        """Send 1-10 events to their buses.

        Args:
            entries: ``PutEventsEntry`` or dicts with boto3's keys (``{"Source":
                "shop", "DetailType": "OrderPlaced", "Detail": {"id": 7},
                "EventBusName": "orders", "Time": datetime.now(UTC)}``).

        Returns:
            One result per entry, in order: the event id, or why that entry
            failed; check ``failed_entry_count``.

        Raises:
            ValueError: an entry is malformed (an unknown key, a missing
                ``Source``, ``DetailType`` or ``Detail``), before anything is sent.
        """
        req = t.put_events_request(entries)
        return t.put_events_result(await self._call(self._stub.PutEvents, req, self._timeout))

    async def test_event_pattern(self, event_pattern: JsonDocument, event: JsonDocument) -> bool:
        """Whether ``event_pattern`` matches ``event``, as a rule on a bus would decide.

        Args:
            event_pattern: the pattern (a dict or its JSON text).
            event: a whole event envelope (``id``, ``source``, ``detail-type``,
                ``time``, ``detail``, ...), a dict or its JSON text.

        Raises:
            InvalidEventPattern: the pattern is not valid.
        """
        req = pb.TestEventPatternRequest(
            event_pattern=t.json_text(event_pattern, "event_pattern"),
            event=t.json_text(event, "event"),
        )
        return bool((await self._call(self._stub.TestEventPattern, req, self._timeout)).result)


class EventsClient(BlockingFacade[AsyncEventsClient]):
    """Blocking EventBuses API; reach it as ``Client().events``."""

    _core_class = AsyncEventsClient

    create_event_bus = blocking(AsyncEventsClient.create_event_bus)
    update_event_bus = blocking(AsyncEventsClient.update_event_bus)
    describe_event_bus = blocking(AsyncEventsClient.describe_event_bus)
    list_event_buses = blocking(AsyncEventsClient.list_event_buses)
    delete_event_bus = blocking(AsyncEventsClient.delete_event_bus)
    put_permission = blocking(AsyncEventsClient.put_permission)
    remove_permission = blocking(AsyncEventsClient.remove_permission)
    put_rule = blocking(AsyncEventsClient.put_rule)
    describe_rule = blocking(AsyncEventsClient.describe_rule)
    list_rules = blocking(AsyncEventsClient.list_rules)
    delete_rule = blocking(AsyncEventsClient.delete_rule)
    enable_rule = blocking(AsyncEventsClient.enable_rule)
    disable_rule = blocking(AsyncEventsClient.disable_rule)
    list_rule_names_by_target = blocking(AsyncEventsClient.list_rule_names_by_target)
    tag_resource = blocking(AsyncEventsClient.tag_resource)
    untag_resource = blocking(AsyncEventsClient.untag_resource)
    list_tags_for_resource = blocking(AsyncEventsClient.list_tags_for_resource)
    put_targets = blocking(AsyncEventsClient.put_targets)
    remove_targets = blocking(AsyncEventsClient.remove_targets)
    list_targets_by_rule = blocking(AsyncEventsClient.list_targets_by_rule)
    put_events = blocking(AsyncEventsClient.put_events)
    test_event_pattern = blocking(AsyncEventsClient.test_event_pattern)
    create_archive = blocking(AsyncEventsClient.create_archive)
    describe_archive = blocking(AsyncEventsClient.describe_archive)
    list_archives = blocking(AsyncEventsClient.list_archives)
    update_archive = blocking(AsyncEventsClient.update_archive)
    delete_archive = blocking(AsyncEventsClient.delete_archive)
    start_replay = blocking(AsyncEventsClient.start_replay)
    describe_replay = blocking(AsyncEventsClient.describe_replay)
    list_replays = blocking(AsyncEventsClient.list_replays)
    cancel_replay = blocking(AsyncEventsClient.cancel_replay)
    create_schema = blocking(AsyncEventsClient.create_schema)
    update_schema = blocking(AsyncEventsClient.update_schema)
    describe_schema = blocking(AsyncEventsClient.describe_schema)
    list_schemas = blocking(AsyncEventsClient.list_schemas)
    delete_schema = blocking(AsyncEventsClient.delete_schema)
