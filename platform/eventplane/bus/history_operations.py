"""EventBridge's archive and replay actions (a part of ``BusOperations``), for every door.

The gRPC servicer and the AWS-protocol gateway (EventBridge JSON 1.1) both call these, so
required members, paging and the answers' shapes are written once; the rules themselves
(names, accounts, time windows, states) are ``History``'s.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

from eventplane import names
from eventplane.arn import archive_arn, bus_arn, rule_arn
from eventplane.bus import shapes as s
from eventplane.bus.history import History, mine
from eventplane.bus.models import ArchiveDef, ReplayDef
from eventplane.bus.requests import page as _page
from eventplane.bus.requests import require as _require
from eventplane.errors import ValidationException


def _time(ms: int) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC) if ms else None


def _ms(value: dt.datetime | float | None, parameter: str) -> int:
    if value is None:
        raise ValidationException(f"Parameter {parameter} is not valid. Reason: it is required.")
    if isinstance(value, dt.datetime):
        return int(value.timestamp() * 1000)
    return int(float(value) * 1000)


def _arn_of(make: Callable[[str, str], str], internal: str) -> str:
    """The ARN of the bus or archive of internal name ``internal``: its plain name in its
    account (``eventplane.names``)."""
    account, name = names.unqualify(internal)
    return make(name, account)


def archive_view(a: ArchiveDef, stats: tuple[int, int]) -> s.Archive:
    """An archive as DescribeArchive and ListArchives show it (``stats``: events, bytes)."""
    return s.Archive(
        archive_name=names.plain(a.name),
        archive_arn=a.arn,
        event_source_arn=_arn_of(bus_arn, a.bus),
        description=a.description,
        event_pattern=a.event_pattern or "",
        retention_days=a.retention_days,
        state="ENABLED",
        event_count=stats[0],
        size_bytes=stats[1],
        creation_time=_time(a.created_ms),
    )


def replay_view(r: ReplayDef) -> s.Replay:
    """A replay as DescribeReplay and ListReplays show it."""
    account = names.unqualify(r.bus)[0]
    return s.Replay(
        replay_name=names.plain(r.name),
        replay_arn=r.arn,
        event_source_arn=_arn_of(archive_arn, r.archive),
        description=r.description,
        state=r.state,
        state_reason=r.state_reason,
        event_start_time=_time(r.start_ms),
        event_end_time=_time(r.end_ms),
        event_last_replayed_time=_time(r.last_replayed_ms),
        replay_start_time=_time(r.replay_start_ms),
        replay_end_time=_time(r.replay_end_ms),
        destination=s.ReplayDestination(
            _arn_of(bus_arn, r.bus),
            [rule_arn(names.plain(r.bus), rule, account) for rule in r.rules],
        ),
        events_replayed=r.events_replayed,
    )


class HistoryActions:
    history: History

    async def _archive_view(self, a: ArchiveDef) -> s.Archive:
        return archive_view(a, await asyncio.to_thread(self.history.archive_stats, a))

    async def create_archive(self, req: s.CreateArchiveRequest) -> s.Archive:
        archive = await self.history.create_archive(
            _require(req.archive_name, "ArchiveName"),
            _require(req.event_source_arn, "EventSourceArn"),
            req.description,
            req.event_pattern,
            req.retention_days,
        )
        return archive_view(archive, (0, 0))

    async def describe_archive(self, req: s.DescribeArchiveRequest) -> s.Archive:
        return await self._archive_view(
            self.history.archive(_require(req.archive_name, "ArchiveName"))
        )

    async def list_archives(self, req: s.ListArchivesRequest) -> s.ListArchivesResult:
        archives = mine(self.history.archives(req.name_prefix, req.event_source_arn))
        if req.state and req.state != "ENABLED":  # every archive here is ENABLED
            archives = []
        items, token = _page(archives, req.next_token, req.limit)
        return s.ListArchivesResult([await self._archive_view(a) for a in items], token)

    async def update_archive(self, req: s.UpdateArchiveRequest) -> s.Archive:
        archive = self.history.archive(_require(req.archive_name, "ArchiveName"))
        updated = await self.history.update_archive(
            archive, req.description, req.event_pattern, req.retention_days
        )
        return await self._archive_view(updated)

    async def delete_archive(self, req: s.DeleteArchiveRequest) -> s.NoResult:
        await self.history.delete_archive(
            self.history.archive(_require(req.archive_name, "ArchiveName"))
        )
        return s.NoResult()

    async def start_replay(self, req: s.StartReplayRequest) -> s.Replay:
        destination = req.destination or s.ReplayDestination()
        replay = await self.history.start_replay(
            _require(req.replay_name, "ReplayName"),
            _require(req.event_source_arn, "EventSourceArn"),
            req.description,
            _ms(req.event_start_time, "EventStartTime"),
            _ms(req.event_end_time, "EventEndTime"),
            destination.arn,
            list(destination.filter_arns),
        )
        return replay_view(replay)

    async def describe_replay(self, req: s.DescribeReplayRequest) -> s.Replay:
        return replay_view(self.history.replay(_require(req.replay_name, "ReplayName")))

    async def list_replays(self, req: s.ListReplaysRequest) -> s.ListReplaysResult:
        replays = self.history.replays(req.name_prefix, req.state, req.event_source_arn)
        items, token = _page(mine(replays), req.next_token, req.limit)
        return s.ListReplaysResult([replay_view(r) for r in items], token)

    async def cancel_replay(self, req: s.CancelReplayRequest) -> s.Replay:
        replay = self.history.replay(_require(req.replay_name, "ReplayName"))
        return replay_view(await self.history.cancel_replay(replay))
