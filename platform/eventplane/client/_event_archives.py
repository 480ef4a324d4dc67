"""Archive and replay calls of the EventBuses API (a mixin of ``AsyncEventsClient``)."""

from __future__ import annotations

from collections.abc import Iterable

from eventplane._gen.v1 import events_pb2 as pb
from eventplane.client import _archive_types as at
from eventplane.client import _event_types as t
from eventplane.client._archive_types import Archive, Replay
from eventplane.client._channel import Page, every_page
from eventplane.client._event_types import JsonDocument, Timestamp
from eventplane.client._facade import ServiceCore


class ArchiveCalls(ServiceCore):
    """CreateArchive ... CancelReplay: keep a bus's events, and send them again."""

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
        return at.archive(await self._call(self._stub.CreateArchive, req, self._timeout))

    async def describe_archive(self, archive_name: str) -> Archive:
        """One archive, with its event count and size.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when it does not exist.
        """
        req = pb.DescribeArchiveRequest(archive_name=archive_name)
        return at.archive(await self._call(self._stub.DescribeArchive, req, self._timeout))

    async def list_archives(
        self, *, name_prefix: str | None = None, event_source_arn: str | None = None
    ) -> list[Archive]:
        """Archives whose names start with ``name_prefix``, of one bus or all; follows
        all pages."""

        async def page(token: str | None) -> Page[Archive]:
            req = pb.ListArchivesRequest(
                name_prefix=name_prefix or "",
                event_source_arn=event_source_arn or "",
                next_token=token or "",
            )
            r = await self._call(self._stub.ListArchives, req, self._timeout)
            return [at.archive(a) for a in r.archives], r.next_token or None

        return await every_page(page)

    async def update_archive(
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
        req = at.update_archive_request(archive_name, description, event_pattern, retention_days)
        return at.archive(await self._call(self._stub.UpdateArchive, req, self._timeout))

    async def delete_archive(self, archive_name: str) -> None:
        """Delete an archive and the events it holds."""
        req = pb.DeleteArchiveRequest(archive_name=archive_name)
        await self._call(self._stub.DeleteArchive, req, self._timeout)

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
        req = at.start_replay_request(
            replay_name,
            event_source_arn,
            event_start_time,
            event_end_time,
            destination_arn,
            description,
            filter_arns,
        )
        return at.replay(await self._call(self._stub.StartReplay, req, self._timeout))

    async def describe_replay(self, replay_name: str) -> Replay:
        """One replay and its progress.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when it does not exist.
        """
        req = pb.DescribeReplayRequest(replay_name=replay_name)
        return at.replay(await self._call(self._stub.DescribeReplay, req, self._timeout))

    async def list_replays(
        self,
        *,
        name_prefix: str | None = None,
        state: str | None = None,
        event_source_arn: str | None = None,
    ) -> list[Replay]:
        """Replays whose names start with ``name_prefix``, in ``state``, of one archive;
        None: any. Follows all pages."""

        async def page(token: str | None) -> Page[Replay]:
            req = pb.ListReplaysRequest(
                name_prefix=name_prefix or "",
                state=state or "",
                event_source_arn=event_source_arn or "",
                next_token=token or "",
            )
            r = await self._call(self._stub.ListReplays, req, self._timeout)
            return [at.replay(x) for x in r.replays], r.next_token or None

        return await every_page(page)

    async def cancel_replay(self, replay_name: str) -> Replay:
        """Stop a replay; events already sent stay sent.

        Returns:
            The replay, usually ``CANCELLING``.

        Raises:
            IllegalStatus: the replay has already finished.
        """
        req = pb.CancelReplayRequest(replay_name=replay_name)
        return at.replay(await self._call(self._stub.CancelReplay, req, self._timeout))
