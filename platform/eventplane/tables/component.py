"""The tables role: the table engine + the Tables gRPC service, started by the server."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import grpc

from eventplane._gen.v1 import tables_pb2, tables_pb2_grpc
from eventplane.arn import PARTITION
from eventplane.runtime import ServerContext
from eventplane.security.resource_policy import RESOURCE_POLICIES_KEY
from eventplane.tables.model import missing_table

if TYPE_CHECKING:
    from eventplane.tables.engine import TableEngine


class TablesComponent:
    role: str = "tables"
    service_names: Sequence[str] = (tables_pb2.DESCRIPTOR.services_by_name["Tables"].full_name,)

    def __init__(self) -> None:
        self._engine: TableEngine | None = None

    async def start(self, ctx: ServerContext, server: grpc.aio.Server) -> None:
        from eventplane.messaging.stream_sources import STREAM_SOURCE
        from eventplane.runtime.series import precreate_series
        from eventplane.security.peers import PeerService
        from eventplane.tables import metrics
        from eventplane.tables.aws import DynamoDBBinding, DynamoDBStreamsBinding
        from eventplane.tables.engine import TableEngine
        from eventplane.tables.forward import Forwarding
        from eventplane.tables.model import KIND
        from eventplane.tables.operations import TableOperations
        from eventplane.tables.routing import OWNER_METHODS, OWNER_SERVICE
        from eventplane.tables.service import TablesService
        from eventplane.tables.stream_operations import StreamOperations
        from eventplane.tables.stream_source import TableStreamSource
        from eventplane.tables.ttl import clock_from_env

        # The wall clock, moved by EVENTPLANE_TABLES_CLOCK_OFFSET_MS when a test sets it.
        engine = TableEngine(ctx, clock_from_env())
        await engine.start()
        precreate_series(ctx.registry, KIND, metrics.table_series)
        self._engine = engine
        service = TablesService(engine)
        tables_pb2_grpc.add_TablesServicer_to_server(service, server)
        # Other replicas forward requests for this replica's partitions here.
        server.add_generic_rpc_handlers(
            (
                PeerService(
                    OWNER_SERVICE,
                    engine.forward_token,
                    {name: getattr(service, name) for name in OWNER_METHODS},
                    OWNER_METHODS,
                ),
            )
        )
        # The AWS-protocol gateway (role api) finds the DynamoDB bindings here.
        bindings = ctx.extras.setdefault("gateway.bindings", {})
        bindings["dynamodb"] = DynamoDBBinding(
            TableOperations(engine, Forwarding(service.forwarder))
        )
        bindings["dynamodbstreams"] = DynamoDBStreamsBinding(StreamOperations(service.streams))
        # Authorization (both front doors) finds the owner account of a table or stream
        # here (tables have no resource policies).
        resource_policies = ctx.extras.get(RESOURCE_POLICIES_KEY)
        if resource_policies is not None:
            resource_policies.register(
                f"arn:{PARTITION}:dynamodb:",
                lambda _arn: None,
                engine.owner_of,
                missing_table,
                version=ctx.registry.version,
            )
        # Stream event source mappings (functions) read table streams through this port.
        ctx.extras[STREAM_SOURCE] = TableStreamSource(engine)

    async def stop(self) -> None:
        if self._engine is not None:
            await self._engine.stop()
