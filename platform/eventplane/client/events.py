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

Buses are addressed by name or ARN (``arn:aws:events:local:000000000000:event-bus/<name>``);
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

# Registers EventBridge's codes (InvalidEventPatternException, ...), so a server
# error arrives as its own class in a program that only uses the SDK.
from eventplane._gen.v1 import events_pb2 as pb
from eventplane._gen.v1 import events_pb2_grpc
from eventplane.client import _event_types as t
from eventplane.client._channel import Page, ainvoke, every_page, every_page_async, invoke
from eventplane.client._event_types import (
    Archive,
    EventBus,
    JsonDocument,
    PutEventsEntry,
    PutEventsResult,
    PutTargetsResult,
    RemoveTargetsResult,
    Replay,
    Rule,
    Schema,
    Target,
    Timestamp,
)

# The one paging loop of the SDK (stops on a repeated token), shared rather than copied.


class EventsClient:
    """Blocking EventBuses API; reach it as ``Client().events``."""

    def __init__(self, channel: Any, timeout: float | None) -> None:
        self._stub = events_pb2_grpc.EventBusesStub(channel)
        self._timeout = timeout

    # --- buses -------------------------------------------------------------------------

    def create_event_bus(
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
        return str(invoke(self._stub.CreateEventBus, req, self._timeout).event_bus_arn)

    def update_event_bus(
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
            current = self.describe_event_bus(name)
        req = t.update_bus_request(name, description, schema_validation, current)
        return t.event_bus(invoke(self._stub.UpdateEventBus, req, self._timeout))

    def describe_event_bus(self, name: str | None = None) -> EventBus:
        """One bus.

        Args:
            name: the bus (name or ARN); None: the ``default`` bus.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the bus does not exist.
        """
        req = pb.DescribeEventBusRequest(name=name or "")
        return t.event_bus(invoke(self._stub.DescribeEventBus, req, self._timeout))

    def list_event_buses(self, *, name_prefix: str | None = None) -> list[EventBus]:
        """Every bus (the ``default`` bus included) whose name starts with ``name_prefix``;
        follows all pages."""

        def page(token: str | None) -> Page[EventBus]:
            req = pb.ListEventBusesRequest(name_prefix=name_prefix or "", next_token=token or "")
            r = invoke(self._stub.ListEventBuses, req, self._timeout)
            return [t.event_bus(b) for b in r.event_buses], r.next_token or None

        return every_page(page)

    def delete_event_bus(self, name: str) -> None:
        """Delete a bus.

        Args:
            name: the bus (name or ARN); the ``default`` bus cannot be deleted.
        """
        req = pb.DeleteEventBusRequest(name=name)
        invoke(self._stub.DeleteEventBus, req, self._timeout)

    # --- rules -------------------------------------------------------------------------

    def put_rule(
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
        return str(invoke(self._stub.PutRule, req, self._timeout).rule_arn)

    def describe_rule(self, name: str, *, event_bus_name: str | None = None) -> Rule:
        """One rule.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the rule does not exist.
        """
        req = pb.DescribeRuleRequest(name=name, event_bus_name=event_bus_name or "")
        return t.rule(invoke(self._stub.DescribeRule, req, self._timeout))

    def list_rules(
        self, *, event_bus_name: str | None = None, name_prefix: str | None = None
    ) -> list[Rule]:
        """The rules of one bus (None: ``default``) whose names start with ``name_prefix``;
        follows all pages."""

        def page(token: str | None) -> Page[Rule]:
            req = pb.ListRulesRequest(
                event_bus_name=event_bus_name or "",
                name_prefix=name_prefix or "",
                next_token=token or "",
            )
            r = invoke(self._stub.ListRules, req, self._timeout)
            return [t.rule(x) for x in r.rules], r.next_token or None

        return every_page(page)

    def delete_rule(
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
        invoke(self._stub.DeleteRule, req, self._timeout)

    def enable_rule(self, name: str, *, event_bus_name: str | None = None) -> None:
        """Let a rule match events again.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the rule does not exist.
        """
        req = pb.EnableRuleRequest(name=name, event_bus_name=event_bus_name or "")
        invoke(self._stub.EnableRule, req, self._timeout)

    def disable_rule(self, name: str, *, event_bus_name: str | None = None) -> None:
        """Stop a rule from matching events; its targets stay.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the rule does not exist.
        """
        req = pb.DisableRuleRequest(name=name, event_bus_name=event_bus_name or "")
        invoke(self._stub.DisableRule, req, self._timeout)

    # --- targets -----------------------------------------------------------------------

    def put_targets(
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
        return t.targets_result(invoke(self._stub.PutTargets, req, self._timeout))

    def remove_targets(
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
        return t.targets_result(invoke(self._stub.RemoveTargets, req, self._timeout))

    def list_targets_by_rule(self, rule: str, *, event_bus_name: str | None = None) -> list[Target]:
        """A rule's targets; follows all pages.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the rule does not exist.
        """

        def page(token: str | None) -> Page[Target]:
            req = pb.ListTargetsByRuleRequest(
                rule=rule, event_bus_name=event_bus_name or "", next_token=token or ""
            )
            r = invoke(self._stub.ListTargetsByRule, req, self._timeout)
            return [t.target(x) for x in r.targets], r.next_token or None

        return every_page(page)

    # --- events ------------------------------------------------------------------------

    def put_events(self, entries: Iterable[PutEventsEntry | Mapping[str, Any]]) -> PutEventsResult:
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
        return t.put_events_result(invoke(self._stub.PutEvents, req, self._timeout))

    def test_event_pattern(self, event_pattern: JsonDocument, event: JsonDocument) -> bool:
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
        return bool(invoke(self._stub.TestEventPattern, req, self._timeout).result)

    # --- archives ----------------------------------------------------------------------

    def create_archive(
        self,
        archive_name: str,
        event_source_arn: str,
        *,
        description: str | None = None,
        event_pattern: JsonDocument | None = None,
        retention_days: int = 0,
    ) -> Archive:
        """Start archiving a bus's events (those ``event_pattern`` matches, or all).

        Args:
            archive_name: unique name.
            event_source_arn: the bus (name or ARN).
            description: free text.
            event_pattern: only archive the events it matches (a dict or JSON text).
            retention_days: how long events are kept; 0: indefinitely.

        Raises:
            InvalidEventPattern: the pattern is not valid.
            EventplaneError: ``ResourceAlreadyExistsException`` when the archive
                exists; ``ResourceNotFoundException`` when the bus does not.
        """
        req = pb.CreateArchiveRequest(
            archive_name=archive_name,
            event_source_arn=event_source_arn,
            description=description or "",
            event_pattern=t.optional_json(event_pattern, "event_pattern"),
            retention_days=retention_days,
        )
        return t.archive(invoke(self._stub.CreateArchive, req, self._timeout))

    def describe_archive(self, archive_name: str) -> Archive:
        """One archive, with its event count and size.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when it does not exist.
        """
        req = pb.DescribeArchiveRequest(archive_name=archive_name)
        return t.archive(invoke(self._stub.DescribeArchive, req, self._timeout))

    def list_archives(
        self, *, name_prefix: str | None = None, event_source_arn: str | None = None
    ) -> list[Archive]:
        """Archives whose names start with ``name_prefix``, of one bus or all; follows
        all pages."""

        def page(token: str | None) -> Page[Archive]:
            req = pb.ListArchivesRequest(
                name_prefix=name_prefix or "",
                event_source_arn=event_source_arn or "",
                next_token=token or "",
            )
            r = invoke(self._stub.ListArchives, req, self._timeout)
            return [t.archive(a) for a in r.archives], r.next_token or None

        return every_page(page)

    def update_archive(
        self,
        archive_name: str,
        *,
        description: str | None = None,
        event_pattern: JsonDocument | None = None,
        retention_days: int | None = None,
    ) -> Archive:
        """Change an archive; what is left out (None) stays as it is.

        Args:
            archive_name: the archive.
            description: the new description.
            event_pattern: the new pattern, for events archived from now on.
            retention_days: the new retention; 0: indefinitely.

        Raises:
            InvalidEventPattern: the pattern is not valid.
            EventplaneError: ``ResourceNotFoundException`` when it does not exist.
        """
        req = t.update_archive_request(archive_name, description, event_pattern, retention_days)
        return t.archive(invoke(self._stub.UpdateArchive, req, self._timeout))

    def delete_archive(self, archive_name: str) -> None:
        """Delete an archive and the events it holds."""
        req = pb.DeleteArchiveRequest(archive_name=archive_name)
        invoke(self._stub.DeleteArchive, req, self._timeout)

    # --- replays -----------------------------------------------------------------------

    def start_replay(
        self,
        replay_name: str,
        event_source_arn: str,
        event_start_time: Timestamp,
        event_end_time: Timestamp,
        *,
        destination_arn: str | None = None,
        filter_arns: Iterable[str] | None = None,
        description: str | None = None,
    ) -> Replay:
        """Send an archive's events of a time range to its bus again.

        Replayed events carry ``replay-name`` and are not archived again.

        Args:
            replay_name: unique name.
            event_source_arn: the archive (name or ARN).
            event_start_time: the first event time to replay (inclusive).
            event_end_time: the end of the range (exclusive).
            destination_arn: the bus to send to, which must be the archive's
                source bus; None: that bus.
            filter_arns: rule ARNs on that bus; only they see the replayed events.
            description: free text.

        Returns:
            The replay, usually ``STARTING``; poll ``describe_replay``.

        Raises:
            ValueError: a time is neither a datetime, epoch ms nor ISO 8601.
            EventplaneError: ``ResourceNotFoundException`` when the archive does not
                exist; ``ValidationException`` when the range or destination is invalid.
        """
        req = t.start_replay_request(
            replay_name,
            event_source_arn,
            event_start_time,
            event_end_time,
            destination_arn,
            description,
            filter_arns,
        )
        return t.replay(invoke(self._stub.StartReplay, req, self._timeout))

    def describe_replay(self, replay_name: str) -> Replay:
        """One replay and its progress.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when it does not exist.
        """
        req = pb.DescribeReplayRequest(replay_name=replay_name)
        return t.replay(invoke(self._stub.DescribeReplay, req, self._timeout))

    def list_replays(
        self,
        *,
        name_prefix: str | None = None,
        state: str | None = None,
        event_source_arn: str | None = None,
    ) -> list[Replay]:
        """Replays whose names start with ``name_prefix``, in ``state``, of one archive;
        None: any. Follows all pages."""

        def page(token: str | None) -> Page[Replay]:
            req = pb.ListReplaysRequest(
                name_prefix=name_prefix or "",
                state=state or "",
                event_source_arn=event_source_arn or "",
                next_token=token or "",
            )
            r = invoke(self._stub.ListReplays, req, self._timeout)
            return [t.replay(x) for x in r.replays], r.next_token or None

        return every_page(page)

    def cancel_replay(self, replay_name: str) -> Replay:
        """Stop a replay; events already sent stay sent.

        Returns:
            The replay, usually ``CANCELLING``.

        Raises:
            IllegalStatus: the replay has already finished.
        """
        req = pb.CancelReplayRequest(replay_name=replay_name)
        return t.replay(invoke(self._stub.CancelReplay, req, self._timeout))

    # --- schema registry ---------------------------------------------------------------

    def create_schema(
        self,
        schema_name: str,
        type: str,
        content: JsonDocument,
        *,
        source: str | None = None,
        detail_type: str | None = None,
        description: str | None = None,
    ) -> Schema:
        """Register a schema (version 1).

        Args:
            schema_name: unique name.
            type: ``JSONSchemaDraft4`` or ``Avro``.
            content: the schema document (a dict or its JSON text).
            source: validate events with this source ...
            detail_type: ... and this detail-type against it, on buses with schema
                validation on.
            description: free text.

        Raises:
            EventplaneError: ``ResourceAlreadyExistsException`` when it exists;
                ``ValidationException`` when the content is not a valid schema.
        """
        req = pb.CreateSchemaRequest(
            schema_name=schema_name,
            type=type,
            content=t.json_text(content, "content"),
            source=source or "",
            detail_type=detail_type or "",
            description=description or "",
        )
        return t.schema(invoke(self._stub.CreateSchema, req, self._timeout))

    def update_schema(
        self, schema_name: str, content: JsonDocument, *, description: str | None = None
    ) -> Schema:
        """Add a version of a schema; events are validated against the latest.

        Args:
            schema_name: the schema.
            content: the new version's document (a dict or its JSON text); the
                same content as the latest version adds no version.
            description: the schema's new description; None keeps it.

        Returns:
            The latest version after the update.
        """
        req = pb.UpdateSchemaRequest(
            schema_name=schema_name,
            content=t.json_text(content, "content"),
            description=description or "",
        )
        return t.schema(invoke(self._stub.UpdateSchema, req, self._timeout))

    def describe_schema(self, schema_name: str, *, version: int | None = None) -> Schema:
        """A schema's latest version, or the version asked for.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the schema (or that
                version) does not exist.
        """
        req = pb.DescribeSchemaRequest(schema_name=schema_name, version=version or 0)
        return t.schema(invoke(self._stub.DescribeSchema, req, self._timeout))

    def list_schemas(self, *, name_prefix: str | None = None) -> list[Schema]:
        """The latest version of every schema whose name starts with ``name_prefix``;
        follows all pages."""

        def page(token: str | None) -> Page[Schema]:
            req = pb.ListSchemasRequest(name_prefix=name_prefix or "", next_token=token or "")
            r = invoke(self._stub.ListSchemas, req, self._timeout)
            return [t.schema(s) for s in r.schemas], r.next_token or None

        return every_page(page)

    def delete_schema(self, schema_name: str) -> None:
        """Delete a schema and all of its versions."""
        req = pb.DeleteSchemaRequest(schema_name=schema_name)
        invoke(self._stub.DeleteSchema, req, self._timeout)


class AsyncEventsClient:
    """asyncio EventBuses API; reach it as ``AsyncClient().events``.

    Every method takes the arguments and returns the result of the
    ``EventsClient`` method of the same name.
    """

    def __init__(self, channel: Any, timeout: float | None) -> None:
        self._stub = events_pb2_grpc.EventBusesStub(channel)
        self._timeout = timeout

    # --- buses -------------------------------------------------------------------------

    async def create_event_bus(
        self,
        name: str,
        *,
        description: str | None = None,
        schema_validation: bool = False,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Create a bus; see ``EventsClient.create_event_bus``."""
        req = pb.CreateEventBusRequest(
            name=name,
            description=description or "",
            schema_validation=schema_validation,
            tags=dict(tags or {}),
        )
        return str((await ainvoke(self._stub.CreateEventBus, req, self._timeout)).event_bus_arn)

    async def update_event_bus(
        self,
        name: str,
        *,
        description: str | None = None,
        schema_validation: bool | None = None,
    ) -> EventBus:
        """Change a bus; see ``EventsClient.update_event_bus``."""
        current = None
        if description is None or schema_validation is None:
            current = await self.describe_event_bus(name)
        req = t.update_bus_request(name, description, schema_validation, current)
        return t.event_bus(await ainvoke(self._stub.UpdateEventBus, req, self._timeout))

    async def describe_event_bus(self, name: str | None = None) -> EventBus:
        """One bus; see ``EventsClient.describe_event_bus``."""
        req = pb.DescribeEventBusRequest(name=name or "")
        return t.event_bus(await ainvoke(self._stub.DescribeEventBus, req, self._timeout))

    async def list_event_buses(self, *, name_prefix: str | None = None) -> list[EventBus]:
        """Every bus; see ``EventsClient.list_event_buses``."""

        async def page(token: str | None) -> Page[EventBus]:
            req = pb.ListEventBusesRequest(name_prefix=name_prefix or "", next_token=token or "")
            r = await ainvoke(self._stub.ListEventBuses, req, self._timeout)
            return [t.event_bus(b) for b in r.event_buses], r.next_token or None

        return await every_page_async(page)

    async def delete_event_bus(self, name: str) -> None:
        """Delete a bus; see ``EventsClient.delete_event_bus``."""
        req = pb.DeleteEventBusRequest(name=name)
        await ainvoke(self._stub.DeleteEventBus, req, self._timeout)

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
        """Create or replace a rule; see ``EventsClient.put_rule``."""
        req = t.put_rule_request(
            name, event_pattern, schedule_expression, state, description, event_bus_name, tags
        )
        return str((await ainvoke(self._stub.PutRule, req, self._timeout)).rule_arn)

    async def describe_rule(self, name: str, *, event_bus_name: str | None = None) -> Rule:
        """One rule; see ``EventsClient.describe_rule``."""
        req = pb.DescribeRuleRequest(name=name, event_bus_name=event_bus_name or "")
        return t.rule(await ainvoke(self._stub.DescribeRule, req, self._timeout))

    async def list_rules(
        self, *, event_bus_name: str | None = None, name_prefix: str | None = None
    ) -> list[Rule]:
        """A bus's rules; see ``EventsClient.list_rules``."""

        async def page(token: str | None) -> Page[Rule]:
            req = pb.ListRulesRequest(
                event_bus_name=event_bus_name or "",
                name_prefix=name_prefix or "",
                next_token=token or "",
            )
            r = await ainvoke(self._stub.ListRules, req, self._timeout)
            return [t.rule(x) for x in r.rules], r.next_token or None

        return await every_page_async(page)

    async def delete_rule(
        self, name: str, *, event_bus_name: str | None = None, force: bool = False
    ) -> None:
        """Delete a rule; see ``EventsClient.delete_rule``."""
        req = pb.DeleteRuleRequest(name=name, event_bus_name=event_bus_name or "", force=force)
        await ainvoke(self._stub.DeleteRule, req, self._timeout)

    async def enable_rule(self, name: str, *, event_bus_name: str | None = None) -> None:
        """Enable a rule; see ``EventsClient.enable_rule``."""
        req = pb.EnableRuleRequest(name=name, event_bus_name=event_bus_name or "")
        await ainvoke(self._stub.EnableRule, req, self._timeout)

    async def disable_rule(self, name: str, *, event_bus_name: str | None = None) -> None:
        """Disable a rule; see ``EventsClient.disable_rule``."""
        req = pb.DisableRuleRequest(name=name, event_bus_name=event_bus_name or "")
        await ainvoke(self._stub.DisableRule, req, self._timeout)

    # --- targets -----------------------------------------------------------------------

    async def put_targets(
        self,
        rule: str,
        targets: Iterable[Target | Mapping[str, Any]],
        *,
        event_bus_name: str | None = None,
    ) -> PutTargetsResult:
        """Add or replace targets; see ``EventsClient.put_targets``."""
        req = pb.PutTargetsRequest(
            rule=rule, event_bus_name=event_bus_name or "", targets=t.targets_pb(targets)
        )
        return t.targets_result(await ainvoke(self._stub.PutTargets, req, self._timeout))

    async def remove_targets(
        self,
        rule: str,
        ids: Iterable[str],
        *,
        event_bus_name: str | None = None,
        force: bool = False,
    ) -> RemoveTargetsResult:
        """Remove targets; see ``EventsClient.remove_targets``."""
        req = pb.RemoveTargetsRequest(
            rule=rule, event_bus_name=event_bus_name or "", ids=t.strings(ids, "ids"), force=force
        )
        return t.targets_result(await ainvoke(self._stub.RemoveTargets, req, self._timeout))

    async def list_targets_by_rule(
        self, rule: str, *, event_bus_name: str | None = None
    ) -> list[Target]:
        """A rule's targets; see ``EventsClient.list_targets_by_rule``."""

        async def page(token: str | None) -> Page[Target]:
            req = pb.ListTargetsByRuleRequest(
                rule=rule, event_bus_name=event_bus_name or "", next_token=token or ""
            )
            r = await ainvoke(self._stub.ListTargetsByRule, req, self._timeout)
            return [t.target(x) for x in r.targets], r.next_token or None

        return await every_page_async(page)

    # --- events ------------------------------------------------------------------------

    async def put_events(
        self, entries: Iterable[PutEventsEntry | Mapping[str, Any]]
    ) -> PutEventsResult:
        """Send events; see ``EventsClient.put_events``."""
        req = t.put_events_request(entries)
        return t.put_events_result(await ainvoke(self._stub.PutEvents, req, self._timeout))

    async def test_event_pattern(self, event_pattern: JsonDocument, event: JsonDocument) -> bool:
        """Match a pattern against an event; see ``EventsClient.test_event_pattern``."""
        req = pb.TestEventPatternRequest(
            event_pattern=t.json_text(event_pattern, "event_pattern"),
            event=t.json_text(event, "event"),
        )
        return bool((await ainvoke(self._stub.TestEventPattern, req, self._timeout)).result)

    # --- archives ----------------------------------------------------------------------

    async def create_archive(
        self,
        archive_name: str,
        event_source_arn: str,
        *,
        description: str | None = None,
        event_pattern: JsonDocument | None = None,
        retention_days: int = 0,
    ) -> Archive:
        """Create an archive; see ``EventsClient.create_archive``."""
        req = pb.CreateArchiveRequest(
            archive_name=archive_name,
            event_source_arn=event_source_arn,
            description=description or "",
            event_pattern=t.optional_json(event_pattern, "event_pattern"),
            retention_days=retention_days,
        )
        return t.archive(await ainvoke(self._stub.CreateArchive, req, self._timeout))

    async def describe_archive(self, archive_name: str) -> Archive:
        """One archive; see ``EventsClient.describe_archive``."""
        req = pb.DescribeArchiveRequest(archive_name=archive_name)
        return t.archive(await ainvoke(self._stub.DescribeArchive, req, self._timeout))

    async def list_archives(
        self, *, name_prefix: str | None = None, event_source_arn: str | None = None
    ) -> list[Archive]:
        """Archives; see ``EventsClient.list_archives``."""

        async def page(token: str | None) -> Page[Archive]:
            req = pb.ListArchivesRequest(
                name_prefix=name_prefix or "",
                event_source_arn=event_source_arn or "",
                next_token=token or "",
            )
            r = await ainvoke(self._stub.ListArchives, req, self._timeout)
            return [t.archive(a) for a in r.archives], r.next_token or None

        return await every_page_async(page)

    async def update_archive(
        self,
        archive_name: str,
        *,
        description: str | None = None,
        event_pattern: JsonDocument | None = None,
        retention_days: int | None = None,
    ) -> Archive:
        """Change an archive; see ``EventsClient.update_archive``."""
        req = t.update_archive_request(archive_name, description, event_pattern, retention_days)
        return t.archive(await ainvoke(self._stub.UpdateArchive, req, self._timeout))

    async def delete_archive(self, archive_name: str) -> None:
        """Delete an archive; see ``EventsClient.delete_archive``."""
        req = pb.DeleteArchiveRequest(archive_name=archive_name)
        await ainvoke(self._stub.DeleteArchive, req, self._timeout)

    # --- replays -----------------------------------------------------------------------

    async def start_replay(
        self,
        replay_name: str,
        event_source_arn: str,
        event_start_time: Timestamp,
        event_end_time: Timestamp,
        *,
        destination_arn: str | None = None,
        filter_arns: Iterable[str] | None = None,
        description: str | None = None,
    ) -> Replay:
        """Replay archived events; see ``EventsClient.start_replay``."""
        req = t.start_replay_request(
            replay_name,
            event_source_arn,
            event_start_time,
            event_end_time,
            destination_arn,
            description,
            filter_arns,
        )
        return t.replay(await ainvoke(self._stub.StartReplay, req, self._timeout))

    async def describe_replay(self, replay_name: str) -> Replay:
        """One replay; see ``EventsClient.describe_replay``."""
        req = pb.DescribeReplayRequest(replay_name=replay_name)
        return t.replay(await ainvoke(self._stub.DescribeReplay, req, self._timeout))

    async def list_replays(
        self,
        *,
        name_prefix: str | None = None,
        state: str | None = None,
        event_source_arn: str | None = None,
    ) -> list[Replay]:
        """Replays; see ``EventsClient.list_replays``."""

        async def page(token: str | None) -> Page[Replay]:
            req = pb.ListReplaysRequest(
                name_prefix=name_prefix or "",
                state=state or "",
                event_source_arn=event_source_arn or "",
                next_token=token or "",
            )
            r = await ainvoke(self._stub.ListReplays, req, self._timeout)
            return [t.replay(x) for x in r.replays], r.next_token or None

        return await every_page_async(page)

    async def cancel_replay(self, replay_name: str) -> Replay:
        """Stop a replay; see ``EventsClient.cancel_replay``."""
        req = pb.CancelReplayRequest(replay_name=replay_name)
        return t.replay(await ainvoke(self._stub.CancelReplay, req, self._timeout))

    # --- schema registry ---------------------------------------------------------------

    async def create_schema(
        self,
        schema_name: str,
        type: str,
        content: JsonDocument,
        *,
        source: str | None = None,
        detail_type: str | None = None,
        description: str | None = None,
    ) -> Schema:
        """Register a schema; see ``EventsClient.create_schema``."""
        req = pb.CreateSchemaRequest(
            schema_name=schema_name,
            type=type,
            content=t.json_text(content, "content"),
            source=source or "",
            detail_type=detail_type or "",
            description=description or "",
        )
        return t.schema(await ainvoke(self._stub.CreateSchema, req, self._timeout))

    async def update_schema(
        self, schema_name: str, content: JsonDocument, *, description: str | None = None
    ) -> Schema:
        """Add a schema version; see ``EventsClient.update_schema``."""
        req = pb.UpdateSchemaRequest(
            schema_name=schema_name,
            content=t.json_text(content, "content"),
            description=description or "",
        )
        return t.schema(await ainvoke(self._stub.UpdateSchema, req, self._timeout))

    async def describe_schema(self, schema_name: str, *, version: int | None = None) -> Schema:
        """One schema version; see ``EventsClient.describe_schema``."""
        req = pb.DescribeSchemaRequest(schema_name=schema_name, version=version or 0)
        return t.schema(await ainvoke(self._stub.DescribeSchema, req, self._timeout))

    async def list_schemas(self, *, name_prefix: str | None = None) -> list[Schema]:
        """Schemas; see ``EventsClient.list_schemas``."""

        async def page(token: str | None) -> Page[Schema]:
            req = pb.ListSchemasRequest(name_prefix=name_prefix or "", next_token=token or "")
            r = await ainvoke(self._stub.ListSchemas, req, self._timeout)
            return [t.schema(s) for s in r.schemas], r.next_token or None

        return await every_page_async(page)

    async def delete_schema(self, schema_name: str) -> None:
        """Delete a schema; see ``EventsClient.delete_schema``."""
        req = pb.DeleteSchemaRequest(schema_name=schema_name)
        await ainvoke(self._stub.DeleteSchema, req, self._timeout)
