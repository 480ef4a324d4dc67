"""The eventplane Python SDK: ``Client`` (blocking) and ``AsyncClient`` (asyncio).

    from eventplane.client import Client
    with Client() as ep:                    # $EVENTPLANE_ENDPOINT or 127.0.0.1:50051
        print(ep.platform.get_server_info())

Calls raise typed ``eventplane.errors.EventplaneError`` subclasses carrying the
AWS-style error code. UNAVAILABLE is retried with backoff; other errors reach you.
"""

from __future__ import annotations

from types import TracebackType

import grpc

from eventplane.client._archive_types import Archive, Replay, Schema
from eventplane.client._channel import open_channel, resolve_target
from eventplane.client._event_types import (
    EventBus,
    InputTransformer,
    PutEventsEntry,
    PutEventsResult,
    PutEventsResultEntry,
    PutTargetsResult,
    RemoveTargetsResult,
    RetryPolicy,
    Rule,
    Target,
    TargetError,
)
from eventplane.client._function_account_types import (
    AccountLimit,
    AccountSettings,
    AccountUsage,
)
from eventplane.client._function_code import zip_from_directory
from eventplane.client._function_types import (
    Alias,
    DestinationConfig,
    EventSourceMapping,
    FunctionConfiguration,
    FunctionEventInvokeConfig,
    GetFunctionResult,
    InvokeResult,
)
from eventplane.client._queue_types import (
    BatchResultError,
    ChangeMessageVisibilityBatchEntry,
    ChangeMessageVisibilityBatchResult,
    DeleteMessageBatchEntry,
    DeleteMessageBatchResult,
    Message,
    MessageAttribute,
    MessageMoveTask,
    QueueUrlPage,
    SendMessageBatchEntry,
    SendMessageBatchResult,
    SendMessageBatchResultEntry,
    SendMessageResult,
)
from eventplane.client._topic_types import (
    PublishBatchEntry,
    PublishBatchResult,
    PublishBatchResultEntry,
    PublishResult,
    Subscription,
)
from eventplane.client.events import AsyncEventsClient, EventsClient
from eventplane.client.functions import AsyncFunctionsClient, FunctionsClient
from eventplane.client.platform import (
    AsyncPlatformClient,
    PlatformClient,
    ResourceInfo,
    ServerInfo,
)
from eventplane.client.queues import AsyncQueuesClient, QueuesClient
from eventplane.client.tables import AsyncTablesClient, TablesClient
from eventplane.client.topics import AsyncTopicsClient, TopicsClient
from eventplane.client.workflows import AsyncWorkflowsClient, WorkflowsClient
from eventplane.errors import EventplaneError

__all__ = [
    "AccountLimit",
    "AccountSettings",
    "AccountUsage",
    "Alias",
    "Archive",
    "AsyncClient",
    "BatchResultError",
    "ChangeMessageVisibilityBatchEntry",
    "ChangeMessageVisibilityBatchResult",
    "Client",
    "DeleteMessageBatchEntry",
    "DeleteMessageBatchResult",
    "DestinationConfig",
    "EventBus",
    "EventSourceMapping",
    "EventplaneError",
    "FunctionConfiguration",
    "FunctionEventInvokeConfig",
    "GetFunctionResult",
    "InputTransformer",
    "InvokeResult",
    "Message",
    "MessageAttribute",
    "MessageMoveTask",
    "PublishBatchEntry",
    "PublishBatchResult",
    "PublishBatchResultEntry",
    "PublishResult",
    "PutEventsEntry",
    "PutEventsResult",
    "PutEventsResultEntry",
    "PutTargetsResult",
    "QueueUrlPage",
    "RemoveTargetsResult",
    "Replay",
    "ResourceInfo",
    "RetryPolicy",
    "Rule",
    "Schema",
    "SendMessageBatchEntry",
    "SendMessageBatchResult",
    "SendMessageBatchResultEntry",
    "SendMessageResult",
    "ServerInfo",
    "Subscription",
    "Target",
    "TargetError",
    "zip_from_directory",
]


class Client:
    """Blocking client for one eventplane endpoint.

    Args:
        target: ``host:port`` of the gRPC API; defaults to ``$EVENTPLANE_ENDPOINT``,
            then ``127.0.0.1:50051``.
        tls: use TLS with the system's root certificates.
        root_certificates: PEM bytes of the CA to trust (implies TLS); default
            the file named by ``$EVENTPLANE_TLS_CA_FILE``.
        certificate_chain / private_key: PEM client certificate and key for mTLS;
            default the files named by ``$EVENTPLANE_TLS_CLIENT_CERT_FILE`` / ``_KEY_FILE``.
        token: bearer token sent with every call; default ``$EVENTPLANE_TOKEN``.
        timeout: default deadline in seconds for each call (None: no deadline).
    """

    def __init__(
        self,
        target: str | None = None,
        *,
        tls: bool = False,
        root_certificates: bytes | None = None,
        certificate_chain: bytes | None = None,
        private_key: bytes | None = None,
        token: str | None = None,
        timeout: float | None = 30.0,
    ) -> None:
        self.target = resolve_target(target)
        self._channel = open_channel(
            grpc,
            self.target,
            tls,
            root_certificates,
            certificate_chain=certificate_chain,
            private_key=private_key,
            token=token,
        )
        self.platform = PlatformClient(self._channel, timeout)
        self.queues = QueuesClient(self._channel, timeout)
        self.topics = TopicsClient(self._channel, timeout)
        self.events = EventsClient(self._channel, timeout)
        self.functions = FunctionsClient(self._channel, timeout)
        self.workflows = WorkflowsClient(self._channel, timeout)
        self.tables = TablesClient(self._channel, timeout)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient:
    """asyncio client for one eventplane endpoint; the same arguments as ``Client``."""

    def __init__(
        self,
        target: str | None = None,
        *,
        tls: bool = False,
        root_certificates: bytes | None = None,
        certificate_chain: bytes | None = None,
        private_key: bytes | None = None,
        token: str | None = None,
        timeout: float | None = 30.0,
    ) -> None:
        self.target = resolve_target(target)
        self._channel = open_channel(
            grpc.aio,
            self.target,
            tls,
            root_certificates,
            certificate_chain=certificate_chain,
            private_key=private_key,
            token=token,
        )
        self.platform = AsyncPlatformClient(self._channel, timeout)
        self.queues = AsyncQueuesClient(self._channel, timeout)
        self.topics = AsyncTopicsClient(self._channel, timeout)
        self.events = AsyncEventsClient(self._channel, timeout)
        self.functions = AsyncFunctionsClient(self._channel, timeout)
        self.workflows = AsyncWorkflowsClient(self._channel, timeout)
        self.tables = AsyncTablesClient(self._channel, timeout)

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
