"""The `eventplane` command line.

    eventplane dev                      local Kafka + server with every role (Ctrl-C stops both)
    eventplane server [--roles ...]     the server alone, on the configured Kafka
    eventplane kafka start|stop|status|fetch [--port N] [--fresh]
    eventplane info                     what the server at --endpoint is
    eventplane bench kafka|all          benchmarks, one JSON object per line

Settings come from EVENTPLANE_* variables and $EVENTPLANE_CONFIG (YAML); flags
override them. A bad setting or an unreachable broker prints one line naming
the problem and exits non-zero.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, is_dataclass
from typing import Any

from confluent_kafka import KafkaException

from eventplane.config import ConfigError, Settings, load_settings
from eventplane.errors import EventplaneError
from eventplane.kafka.clients import KafkaUnavailable
from eventplane.kafka.local import LocalKafka, LocalKafkaError
from eventplane.observability.logging import configure_logging

EXIT_USAGE = 2
EXIT_FAILURE = 1


def _settings(args: argparse.Namespace, **extra: Any) -> Settings:
    overrides = {
        "kafka_port": getattr(args, "kafka_port", None),
        "grpc_port": getattr(args, "port", None),
        "grpc_host": getattr(args, "host", None),
        "metrics_port": getattr(args, "metrics_port", None),
        "roles": getattr(args, "roles", None),
        "log_format": getattr(args, "log_format", None),
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
    settings = _settings(args)
    configure_logging(settings.log_format, settings.log_level)
    asyncio.run(_serve(settings))
    return 0


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


# --- client-side commands ----------------------------------------------------------------


def _print(value: Any, as_json: bool) -> None:
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if as_json:
        print(json.dumps(value, indent=2, default=str))
    elif isinstance(value, dict):
        for k, v in value.items():
            print(f"{k}: {v}")
    else:
        print(value)


def cmd_info(args: argparse.Namespace) -> int:
    from eventplane.client import Client

    with Client(args.endpoint, timeout=10) as ep:
        _print(ep.platform.get_server_info(), args.json)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from eventplane.bench import run_benchmarks

    settings = _settings(args)
    configure_logging("console", "WARNING")
    for result in run_benchmarks(settings, args.area, scale=args.scale):
        print(json.dumps(result), flush=True)
    return 0


# --- parser ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eventplane", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def server_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--roles", help="comma-separated roles, or 'all' (EVENTPLANE_ROLES)")
        p.add_argument("--host", help="gRPC listen address (EVENTPLANE_GRPC_HOST)")
        p.add_argument("--port", help="gRPC port, default 50051 (EVENTPLANE_GRPC_PORT)")
        p.add_argument("--metrics-port", help="/metrics port, default 9464, 0 = off")
        p.add_argument("--kafka-port", help="local broker port, default 9092")
        p.add_argument("--log-format", choices=("json", "console"))

    p = sub.add_parser("dev", help="local Kafka + server with all roles")
    server_flags(p)
    p.add_argument("--fresh", action="store_true", help="wipe the local broker's data first")
    p.set_defaults(func=cmd_dev)

    p = sub.add_parser("server", help="run the server on the configured Kafka")
    server_flags(p)
    p.set_defaults(func=cmd_server)

    p = sub.add_parser("kafka", help="the local Kafka broker")
    p.add_argument("action", choices=("start", "stop", "status", "fetch"))
    p.add_argument("--port", type=int, help="broker port (default EVENTPLANE_KAFKA_PORT or 9092)")
    p.add_argument("--fresh", action="store_true", help="with start: wipe the data first")
    p.set_defaults(func=cmd_kafka)

    def client_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--endpoint", help="host:port (default $EVENTPLANE_ENDPOINT or :50051)")
        p.add_argument("--json", action="store_true", help="JSON output for scripts")

    p = sub.add_parser("info", help="what the server at --endpoint is")
    client_flags(p)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("bench", help="benchmarks, one JSON object per line")
    p.add_argument(
        "area",
        nargs="?",
        default="all",
        help="kafka | queues | topics | events | functions | gateway | all",
    )
    p.add_argument("--scale", type=float, default=1.0, help="multiply message counts (0.1 = quick)")
    p.set_defaults(func=cmd_bench)

    for name, register in _extra_commands():
        register(sub.add_parser(name, help=f"{name} commands"))
    return parser


def _extra_commands() -> list[tuple[str, Callable[[argparse.ArgumentParser], None]]]:
    """Capability sub-commands (queue, topic, ...) register here."""
    import eventplane.bus.cli
    import eventplane.functions.cli
    import eventplane.queues.cli
    import eventplane.topics.cli

    return [
        ("queue", eventplane.queues.cli.register),
        ("topic", eventplane.topics.cli.register),
        ("events", eventplane.bus.cli.register),
        ("function", eventplane.functions.cli.register),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
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
    except EventplaneError as exc:
        print(f"eventplane: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except BrokenPipeError:
        # The reader went away (`eventplane ... | head`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    except OSError as exc:
        print(f"eventplane: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
