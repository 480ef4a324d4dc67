"""Server assembly: the gRPC server, health, /metrics, and the roles' components.

A Component is one role's part: the api front doors (Platform, reflection) or a
capability's runtime and service (queues, fan-out, ...). The server
starts the shared parts (Kafka producer, resource registry), then each
component whose role is enabled, registers its gRPC services, and only then
reports SERVING. SIGTERM reverses it: NOT_SERVING, drain in-flight calls,
stop components (which commit their offsets), flush the producer.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import tempfile
import uuid
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

import eventplane
from eventplane import arn
from eventplane.config import Settings
from eventplane.gateway.component import build_app
from eventplane.gateway.relay import GatewayRelayHandler
from eventplane.kafka.clients import Producer, wait_for_cluster
from eventplane.observability.interceptor import InterceptorChain, ServerInterceptor
from eventplane.observability.logging import get_logger
from eventplane.observability.metrics import BUILD_INFO
from eventplane.observability.metrics_http import serve_metrics
from eventplane.registry import Registry
from eventplane.runtime import Component, ServerContext, components_for
from eventplane.runtime.relay import RELAY_KEY, RoleRelay
from eventplane.security import (
    check_exposure,
    metrics_tls_context,
    server_credentials,
    server_interceptors,
)
from eventplane.security.resource_policy import RESOURCE_POLICIES_KEY, ResourcePolicies

_log = get_logger("eventplane.server")

# gRPC message size: Lambda-sized payloads (6 MB) plus envelope.
# Lambda takes zip packages up to 50 MB in CreateFunction and UpdateFunctionCode.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


class Server:
    """One eventplane process: start(), then wait until stop()."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.instance_id = uuid.uuid4().hex[:12]
        self._grpc: grpc.aio.Server | None = None
        self._health = health.aio.HealthServicer()
        self._components: list[Component] = []
        self._relay: RoleRelay | None = None
        self._metrics_http: Any = None
        self._internal_dir = ""
        self._producer: Producer | None = None
        self._registry: Registry | None = None
        self._stopped = asyncio.Event()
        self._serving = False
        self.ctx: ServerContext | None = None

    async def start(self) -> None:
        s = self.settings
        arn.configure(s.region, s.account_id)  # before any component formats an ARN
        check_exposure(s)  # before anything listens: an open non-loopback port is refused
        credentials = server_credentials(s)
        # The process's own components call its API on a private Unix socket (a folder
        # only this user may enter), with a token that never leaves the process.
        self._internal_dir = tempfile.mkdtemp(prefix="eventplane-")
        internal_target = f"unix:{self._internal_dir}/grpc.sock"
        internal_token = secrets.token_urlsafe(32)
        resource_policies = ResourcePolicies()  # capabilities register their lookups
        relay = self._relay = RoleRelay(s)
        interceptors = server_interceptors(s, internal_token, resource_policies, relay.relays)
        await asyncio.to_thread(wait_for_cluster, s)
        BUILD_INFO.info({"version": eventplane.__version__, "roles": ",".join(s.roles)})
        if s.metrics_port:
            metrics_host = s.metrics_host or s.grpc_host
            try:
                self._metrics_http = serve_metrics(
                    s.metrics_port, metrics_host, metrics_tls_context(s)
                )
            except OSError as exc:
                raise OSError(
                    f"EVENTPLANE_METRICS_PORT: cannot listen on {metrics_host}:{s.metrics_port}: "
                    f"{exc.strerror}"
                ) from None
        self._producer = Producer(s, name=f"eventplane-{self.instance_id}")
        self._registry = Registry(s, self._producer)
        await asyncio.to_thread(self._registry.start)
        self.ctx = ServerContext(
            s,
            self._producer,
            self._registry,
            self.instance_id,
            internal_target=internal_target,
            internal_token=internal_token,
        )
        self.ctx.extras[RESOURCE_POLICIES_KEY] = resource_policies
        self.ctx.extras[RELAY_KEY] = relay

        server = grpc.aio.server(
            interceptors=[InterceptorChain([*interceptors, ServerInterceptor()])],
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                # Sibling workers of `--processes N` share the port (workers.py).
                ("grpc.so_reuseport", 1 if s.reuse_port else 0),
            ],
        )
        self._grpc = server
        # Health is the process's own: Kubernetes probes every pod, whatever its roles.
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        names = [health_pb2.DESCRIPTOR.services_by_name["Health"].full_name]
        for component in components_for(s):
            await component.start(self.ctx, server)
            self._components.append(component)
            names.extend(component.service_names)
        # Last: the services of the roles this process does not run (relayed or refused),
        # and the AWS-protocol requests other processes' gateways relay to this one.
        ctx = self.ctx
        server.add_generic_rpc_handlers(
            (relay, GatewayRelayHandler(relay.token, lambda: build_app(ctx)))
        )
        address = f"{s.grpc_host}:{s.grpc_port}"
        _listen(server, address, credentials, "EVENTPLANE_GRPC_PORT")
        if s.forward_port:  # this worker's own port, where replicas forward to it
            forward = f"{s.grpc_host}:{s.forward_port}"
            _listen(server, forward, credentials, "EVENTPLANE_WORKER_PORTS")
        server.add_insecure_port(internal_target)
        await server.start()
        for name in names:
            await self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        await self._health.set("", health_pb2.HealthCheckResponse.SERVING)
        self._serving = True
        _log.info(
            "eventplane serving",
            grpc=address,
            tls=credentials is not None,
            metrics=f"http://{s.grpc_host}:{s.metrics_port}/metrics" if s.metrics_port else None,
            kafka=s.bootstrap,
            roles=list(s.roles),
            instance=self.instance_id,
        )

    async def wait(self) -> None:
        await self._stopped.wait()

    async def stop(self) -> None:
        """Drain, stop components (committing offsets), flush and close."""
        if self._stopped.is_set():
            return
        grace = self.settings.shutdown_grace
        if self._serving:  # a start that failed half-way cleans up quietly
            _log.info("eventplane stopping", grace_seconds=grace)
        await self._health.enter_graceful_shutdown()
        if self._grpc is not None:
            await self._grpc.stop(grace)
        for component in reversed(self._components):
            try:
                await component.stop()
            except Exception:
                _log.exception("component stop failed", role=component.role)
        if self._relay is not None:
            await self._relay.close()
        if self._registry is not None:
            await asyncio.to_thread(self._registry.close)
        if self._producer is not None:
            left = await asyncio.to_thread(self._producer.close, grace)
            if left:
                _log.error("records not delivered at shutdown", count=left)
        if self._metrics_http is not None:
            self._metrics_http.shutdown()
            self._metrics_http.server_close()
        if self._internal_dir:
            shutil.rmtree(self._internal_dir, ignore_errors=True)
        self._stopped.set()
        if self._serving:
            _log.info("eventplane stopped")


def _listen(
    server: grpc.aio.Server,
    address: str,
    credentials: grpc.ServerCredentials | None,
    setting: str,
) -> None:
    """Add ``address`` to the server, or raise OSError naming the ``setting``."""
    try:
        if credentials is None:
            bound = server.add_insecure_port(address)
        else:
            bound = server.add_secure_port(address, credentials)
    except RuntimeError:  # newer grpcio raises instead of returning 0
        bound = 0
    if bound == 0:
        raise OSError(f"{setting}: cannot listen on {address}")
