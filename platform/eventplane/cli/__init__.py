"""The `eventplane` command line.

    eventplane dev                      local Kafka + server with every role (Ctrl-C stops both)
    eventplane server [--roles ...]     the server alone, on the configured Kafka
    eventplane kafka start|stop|status|fetch [--port N] [--fresh]
    eventplane info                     what the server at --endpoint is
    eventplane bench kafka|all|soak     benchmarks, one JSON object per line
    eventplane doctor                   is this machine ready? one line per finding, with its fix
    eventplane queue|topic|events|function ...   the APIs, through the SDK
    eventplane completion bash|zsh      shell completion script

The API commands and `doctor` need only the light install (`pip install
eventplane`); `dev`, `server`, `kafka` and `bench` need the server extra and
say so in one line when it is missing. Settings come from EVENTPLANE_*
variables and $EVENTPLANE_CONFIG (YAML); flags override them. A bad setting
or an unreachable broker prints one line naming the problem and exits non-zero.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, is_dataclass
from typing import Any

import eventplane
from eventplane.cli import doctor, events, functions, queues, tables, topics, workflows
from eventplane.errors import EventplaneError

__all__ = ["build_parser", "main"]

EXIT_FAILURE = 1
SERVER_INSTALL = 'pip install "eventplane[server]"'
# Distributions only the server extra brings; a command that needs one and finds it
# missing names the install to run instead of printing an ImportError.
_SERVER_MODULES = (
    "confluent_kafka",
    "fastavro",
    "prometheus_client",
    "structlog",
    "yaml",
    "grpc_health",
    "grpc_reflection",
)


def version_text() -> str:
    """eventplane's version and the Kafka version its local broker runs."""
    from eventplane._packaged import kafka_version

    try:
        kafka = kafka_version()
    except (OSError, ValueError) as exc:
        kafka = f"unknown ({exc})"
    return f"eventplane {eventplane.__version__} (Kafka {kafka})"


def _server_command(name: str) -> Callable[[argparse.Namespace], int]:
    """A server-side command, imported when it runs (it needs the server extra)."""

    def run(args: argparse.Namespace) -> int:
        try:
            server = importlib.import_module("eventplane.cli.server")
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] not in _SERVER_MODULES:
                raise
            print(
                f"eventplane: `eventplane {name}` needs the server extra "
                f"(missing {exc.name}): {SERVER_INSTALL}",
                file=sys.stderr,
            )
            return EXIT_FAILURE
        return int(server.run(server.COMMANDS[name], args))

    return run


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

    with Client(args.endpoint, token=args.token, timeout=10) as ep:
        _print(ep.platform.get_server_info(), args.json)
    return 0


# grpc.health.v1 on the wire: an empty HealthCheckRequest (the whole server) and the
# HealthCheckResponse with status SERVING (field 1 = 1). Spelled out so the light
# install needs no grpcio-health-checking.
_HEALTH_CHECK = "/grpc.health.v1.Health/Check"
_SERVING = b"\x08\x01"


def cmd_health(args: argparse.Namespace) -> int:
    """Exit 0 when the server answers SERVING: needs no credentials (probes, HEALTHCHECK)."""
    import grpc

    from eventplane.client._channel import open_channel, resolve_target

    target = resolve_target(args.endpoint)
    channel = open_channel(grpc, target, False, None)
    try:
        answer = channel.unary_unary(_HEALTH_CHECK)(b"", timeout=args.timeout)
    except grpc.RpcError as exc:
        print(f"eventplane: {target} is not healthy: {exc.code().name}", file=sys.stderr)
        return 1
    finally:
        channel.close()
    if answer != _SERVING:
        print(f"eventplane: {target} is not SERVING yet", file=sys.stderr)
        return 1
    print("SERVING")
    return 0


def cmd_completion(args: argparse.Namespace) -> int:
    import shtab

    print(shtab.complete(build_parser(), shell=args.shell))
    return 0


# --- parser ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eventplane", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=version_text())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def server_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--roles", help="comma-separated roles, or 'all' (EVENTPLANE_ROLES)")
        p.add_argument("--host", help="gRPC listen address (EVENTPLANE_GRPC_HOST)")
        p.add_argument("--port", help="gRPC port, default 50051 (EVENTPLANE_GRPC_PORT)")
        p.add_argument("--metrics-port", help="/metrics port, default 9464, 0 = off")
        p.add_argument("--kafka-port", help="local broker port, default 9092")
        p.add_argument("--log-format", choices=("json", "console"))
        p.add_argument(
            "--insecure",
            action="store_true",
            default=None,
            help="serve a non-loopback address without authentication (EVENTPLANE_INSECURE)",
        )

    p = sub.add_parser("dev", help="local Kafka + server with all roles")
    server_flags(p)
    p.add_argument("--fresh", action="store_true", help="wipe the local broker's data first")
    p.set_defaults(func=_server_command("dev"))

    p = sub.add_parser("server", help="run the server on the configured Kafka")
    server_flags(p)
    p.add_argument(
        "--processes",
        help="worker processes sharing the ports; default: the usable cores (EVENTPLANE_PROCESSES)",
    )
    p.set_defaults(func=_server_command("server"))

    p = sub.add_parser("kafka", help="the local Kafka broker")
    p.add_argument("action", choices=("start", "stop", "status", "fetch"))
    p.add_argument("--port", type=int, help="broker port (default EVENTPLANE_KAFKA_PORT or 9092)")
    p.add_argument("--fresh", action="store_true", help="with start: wipe the data first")
    p.set_defaults(func=_server_command("kafka"))

    def client_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--endpoint", help="host:port (default $EVENTPLANE_ENDPOINT or :50051)")
        p.add_argument("--token", help="bearer token (default $EVENTPLANE_TOKEN)")
        p.add_argument("--json", action="store_true", help="JSON output for scripts")

    p = sub.add_parser("info", help="what the server at --endpoint is")
    client_flags(p)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser(
        "health", help="exit 0 if the server at --endpoint is SERVING (no credentials needed)"
    )
    p.add_argument("--endpoint", help="host:port (default $EVENTPLANE_ENDPOINT or :50051)")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the answer")
    p.set_defaults(func=cmd_health)

    p = sub.add_parser("bench", help="benchmarks, one JSON object per line")
    p.add_argument(
        "area",
        nargs="?",
        default="all",
        help=(
            "kafka | queues | topics | events | functions | workflows | tables | gateway | "
            "security | idle | processes | all | soak (not part of all)"
        ),
    )
    p.add_argument("--scale", type=float, default=1.0, help="multiply message counts (0.1 = quick)")
    p.add_argument("--minutes", type=float, default=10.0, help="soak: how long to send")
    p.add_argument("--rate", type=float, default=10.0, help="soak: messages/s over all paths")
    p.add_argument(
        "--interval-seconds", type=float, default=60.0, help="soak: seconds between lines"
    )
    p.set_defaults(func=_server_command("bench"))

    doctor.register(sub.add_parser("doctor", help="check Java, Maven, ports, Kafka and disk"))

    p = sub.add_parser("completion", help="print a bash or zsh completion script")
    p.add_argument("shell", choices=("bash", "zsh"))
    p.set_defaults(func=cmd_completion)

    for name, register in (
        ("queue", queues.register),
        ("topic", topics.register),
        ("events", events.register),
        ("function", functions.register),
        ("workflow", workflows.register),
        ("table", tables.register),
    ):
        register(sub.add_parser(name, help=f"{name} commands"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
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
