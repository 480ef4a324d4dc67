"""The queues core as the AWS-protocol gateway sees it: SQS's binding.

Registered by the queues component under ``ctx.extras["gateway.bindings"]["sqs"]``;
it imports nothing of the gateway. Each SQS action maps by name onto a
``QueueOperations`` method and its request shape, and queue URLs are shown on
the endpoint the client called (``http://HOST:PORT/ACCOUNT/NAME``), which the
core accepts back like any other queue reference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from eventplane import arn as arns
from eventplane.queues import shapes
from eventplane.queues.attributes import URL_SCHEME
from eventplane.queues.operations import QueueOperations
from eventplane.runtime.aws_binding import OperationsBinding

# The codes SQS's query protocol used (and its JSON protocol still sends in
# x-amzn-query-error) where they differ from the error's name.
QUERY_ERROR_CODES = {
    "QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue",
    "QueueNameExists": "QueueAlreadyExists",
    "QueueDeletedRecently": "AWS.SimpleQueueService.QueueDeletedRecently",
    "PurgeQueueInProgress": "AWS.SimpleQueueService.PurgeQueueInProgress",
    "MessageNotInflight": "AWS.SimpleQueueService.MessageNotInflight",
    "UnsupportedOperation": "AWS.SimpleQueueService.UnsupportedOperation",
    "EmptyBatchRequest": "AWS.SimpleQueueService.EmptyBatchRequest",
    "TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    "BatchEntryIdsNotDistinct": "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    "InvalidBatchEntryId": "AWS.SimpleQueueService.InvalidBatchEntryId",
    "BatchRequestTooLong": "AWS.SimpleQueueService.BatchRequestTooLong",
    # SQS words a denial AccessDenied in its query protocol (and x-amzn-query-error).
    "AccessDeniedException": "AccessDenied",
}
_URL_MEMBERS = ("QueueUrl", "QueueUrls", "queueUrls")
_QUEUE_PATH = re.compile(r"/[0-9]{12}/[A-Za-z0-9_.-]+")


class SqsBinding(OperationsBinding):
    service = "sqs"
    shapes = shapes
    query_error_codes = QUERY_ERROR_CODES

    def __init__(self, ops: QueueOperations) -> None:
        super().__init__(ops)

    def implied_members(self, path: str, base_url: str) -> Mapping[str, Any]:
        # Older SDKs post query requests to the queue URL itself.
        if _QUEUE_PATH.fullmatch(path):
            return {"QueueUrl": base_url + path}
        return {}

    def present(self, output: dict[str, Any], base_url: str, account: str) -> dict[str, Any]:
        def show(url: str) -> str:
            if url.startswith(URL_SCHEME):
                path = url.removeprefix(URL_SCHEME)
                if "/" not in path:
                    # The installation's queue (another account's URL names its account).
                    path = f"{arns.identity().account}/{path}"
                return f"{base_url}/{path}"
            return url

        for member in _URL_MEMBERS:
            value = output.get(member)
            if isinstance(value, str):
                output[member] = show(value)
            elif isinstance(value, list):
                output[member] = [show(v) for v in value]
        return output
