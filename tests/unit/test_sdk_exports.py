"""The SDK's public surface changes only on purpose: edit this list when you mean to."""

from __future__ import annotations

import eventplane.client

EXPECTED = {
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
}


def test_all_is_pinned() -> None:
    assert set(eventplane.client.__all__) == EXPECTED
    assert len(eventplane.client.__all__) == len(EXPECTED), "a name is listed twice"


def test_every_exported_name_exists() -> None:
    missing = [n for n in eventplane.client.__all__ if not hasattr(eventplane.client, n)]
    assert missing == []
