"""The table core as the AWS-protocol gateway sees it: DynamoDB's and DynamoDB Streams' bindings.

Registered by the tables component under ``ctx.extras["gateway.bindings"]["dynamodb"]``
and ``["dynamodbstreams"]``; it imports nothing of the gateway. Each action maps by name
onto a method of ``TableOperations`` / ``StreamOperations`` and its request shape; the
actions without one (backups, global tables, PartiQL, ...) have no handler, so the
gateway answers them as unsupported.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from eventplane.runtime.aws_binding import OperationsBinding
from eventplane.tables import shapes, stream_shapes
from eventplane.tables.account_operations import SELF_ADDRESS
from eventplane.tables.operations import TableOperations
from eventplane.tables.stream_operations import StreamOperations


class DynamoDBBinding(OperationsBinding):
    service = "dynamodb"
    shapes = shapes

    def __init__(self, ops: TableOperations) -> None:
        super().__init__(ops)

    def present(self, output: dict[str, Any], base_url: str, account: str) -> dict[str, Any]:
        """DescribeEndpoints' address as the host (and port) the client called."""
        for endpoint in output.get("Endpoints") or ():
            if endpoint.get("Address") == SELF_ADDRESS:
                endpoint["Address"] = urlsplit(base_url).netloc
        return output


class DynamoDBStreamsBinding(OperationsBinding):
    service = "dynamodbstreams"
    shapes = stream_shapes

    def __init__(self, ops: StreamOperations) -> None:
        super().__init__(ops)
