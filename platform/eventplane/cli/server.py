"""The server-side commands: `dev`, `server`, `kafka`, `bench`.

Imported only when one of them runs, because it needs the server extra
(confluent-kafka, the runtime, the local broker launcher); `eventplane.cli`
turns a missing server dependency into one line naming the install to run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaException

from eventplane.config import ConfigError, Settings, load_settings
from eventplane.kafka.clients import KafkaUnavailable
from eventplane.kafka.local import LocalKafka, LocalKafkaError
from eventplane.observability.logging import configure_logging

EXIT_USAGE = 2
EXIT_FAILURE = 1


def run(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a server command; a bad setting or an unreachable Kafka is one line, not a trace."""
    try:
        return int(func(args) or 0)
    except ConfigError as exc:
        print(f"eventplane: invalid setting {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (KafkaUnavailable, LocalKafkaError) as exc:
        print(f"eventplane: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KafkaException as exc:
        error = exc.args[0] if exc.args else exc
        text = error.str() if hasattr(error, "str") else str(error)
        print(f"eventplane: Kafka error: {text}", file=sys.stderr)
        return EXIT_FAILURE


def _settings(args: argparse.Namespace, **extra: Any) -> Settings:
    from eventplane.kafka import naming

    if naming.CLUSTER_ERROR:
        raise ConfigError("cluster", naming.CLUSTER_ERROR)
    overrides = {
        "kafka_port": getattr(args, "kafka_port", None),
        "grpc_port": getattr(args, "port", None),
        "grpc_host": getattr(args, "host", None),
        "metrics_port": getattr(args, "metrics_port", None),
        "roles": getattr(args, "roles", None),
        "log_format": getattr(args, "log_format", None),
        "insecure": getattr(args, "insecure", None),
        "processes": getattr(args, "processes", None),
        **extra,
    }
    return load_settings(overrides={k: v for k, v in overrides.items() if v is not None})


# --- kafka -------------------------------------------------------------------------------


def cmd_kafka(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if settings.kafka_bootstrap:
        print(
            f"EVENTPLANE_KAFKA_BOOTSTRAP is set ({settings.kafka_bootstrap}): "
            "eventplane uses that cluster and manages no local broker"
        )
        return 0 if args.action == "status" else EXIT_USAGE
    broker = LocalKafka.from_settings(settings, args.port)
    if args.action == "fetch":
        print(f"kafka jars: {broker.fetch()}")
    elif args.action == "start":
        started = broker.start(fresh=args.fresh)
        state = "started" if started else "already running"
        print(f"kafka {state} on {broker.bootstrap} (pid {broker.pid()}); log: {broker.log_file}")
    elif args.action == "stop":
        stopped = broker.stop()
        print(f"kafka on port {broker.port} " + ("stopped" if stopped else "was not running"))
    else:
        pid = broker.pid()
        running = f"running (pid {pid})" if pid else "stopped"
        print(f"kafka on {broker.bootstrap}: {running}")
        print(f"  data: {broker.data_dir}")
        print(f"  log:  {broker.log_file}")
        return 0 if pid else 3
    return 0


# --- server / dev ------------------------------------------------------------------------


async def _serve(settings: Settings, on_ready: Callable[[], None] | None = None) -> None:
    from eventplane.server import Server

    # The Kafka pumps run on threads that wake on I/O many times per message; with the
    # default 5 ms GIL switch interval each wake-up can wait that long behind the gRPC
    # loop (measured at light load: publish-to-queue p50 45 -> 32 ms, PutEvents 18.5 -> 17).
    sys.setswitchinterval(0.0005)
    server = Server(settings)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.start()
        if on_ready:
            on_ready()
        await stop.wait()
    finally:
        await server.stop()


def cmd_server(args: argparse.Namespace) -> int:
    from eventplane.security import check_exposure
    from eventplane.workers import Supervisor, process_count

    settings = _settings(args)
    configure_logging(settings.log_format, settings.log_level)
    count = process_count(settings)
    if count > 1:
        check_exposure(settings)  # refused here once, not by each worker
        return Supervisor(settings, count).run()
    asyncio.run(_serve(settings))
    return 0


def _access_line(settings: Settings) -> str:
    from eventplane.security import auth_configured, is_loopback

    if auth_configured(settings):
        return "authentication required" + (" over TLS" if settings.tls_cert_file else "")
    where = "this host only (loopback)" if is_loopback(settings.grpc_host) else "ANY host"
    return f"open to anyone on {where}: no TLS, no authentication"


def cmd_dev(args: argparse.Namespace) -> int:
    # dev accepts any access key, so `aws --endpoint-url` works with whatever is configured.
    settings = _settings(args, log_format=args.log_format or "console", gateway_open=True)
    configure_logging(settings.log_format, settings.log_level)
    broker: LocalKafka | None = None
    if settings.uses_local_kafka:
        broker = LocalKafka.from_settings(settings)
        print(
            f"starting local Kafka on {broker.bootstrap} (log: {broker.log_file}) ...", flush=True
        )
        if not broker.start(fresh=args.fresh):
            print("local Kafka was already running; it will be left running", flush=True)
            broker = None

    def ready() -> None:
        metrics = (
            f"http://{settings.grpc_target.rsplit(':', 1)[0]}:{settings.metrics_port}/metrics"
            if settings.metrics_port
            else "off"
        )
        gateway = (
            f"{settings.gateway_url}   (aws --endpoint-url ...; any access key is accepted in dev)"
            if settings.gateway_port and "api" in settings.roles
            else "off"
        )
        print(
            "\neventplane is up\n"
            f"  gRPC API:  {settings.grpc_target}"
            f"   (export EVENTPLANE_ENDPOINT={settings.grpc_target})\n"
            f"  AWS API:   {gateway}\n"
            f"  metrics:   {metrics}\n"
            f"  Kafka:     {settings.bootstrap}\n"
            f"  roles:     {', '.join(settings.roles)}\n"
            f"  access:    {_access_line(settings)}\n"
            "Ctrl-C stops the server" + (" and Kafka" if broker else "") + ".\n",
            flush=True,
        )

    try:
        asyncio.run(_serve(settings, ready))
    finally:
        if broker is not None:
            broker.stop()
            print("local Kafka stopped", flush=True)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from eventplane.bench import run_benchmarks, soak

    settings = _settings(args)
    configure_logging("console", "WARNING")
    options = soak.Options(minutes=args.minutes, rate=args.rate, interval_s=args.interval_seconds)
    failed = False
    for result in run_benchmarks(settings, args.area, scale=args.scale, soak_options=options):
        print(json.dumps(result), flush=True)
        # A soak's summary says whether its bounds held; the exit status carries it.
        failed = failed or result.get("ok") is False
    return 1 if failed else 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "dev": cmd_dev,
    "server": cmd_server,
    "kafka": cmd_kafka,
    "bench": cmd_bench,
}
