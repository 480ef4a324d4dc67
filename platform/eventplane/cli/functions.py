"""`eventplane function ...`: the Functions API from the shell.

    eventplane function create resize --handler app.handler --code ./resize \\
        --timeout 30 --memory 256 --env BUCKET=images
    eventplane function invoke resize --payload '{"width": 640}' --log | jq .
    eventplane function update-code resize --code ./resize --publish
    eventplane function create-alias resize prod --version 1
    eventplane function put-invoke-config resize --max-retries 1 \\
        --on-failure arn:aws:sqs:local:000000000000:resize-failed
    eventplane function tag resize team=media stage=test
    eventplane function create-mapping --source arn:aws:sqs:local:000000000000:uploads \\
        --function resize --batch-size 10 --report-batch-item-failures

NAME is a function name or ARN. Code comes from one of --zip FILE (a zip
package), --code DIR (a folder here, zipped by the CLI: deterministic, without
__pycache__) or --dir DIR (a folder on the server's machine, used in place: local
development; a relative path is made absolute against the current directory).
--payload takes the JSON text, @FILE to read it from a file, or @- to read it from
stdin.

invoke prints the function's result (its JSON payload) on stdout; with --log, the
last 4 KiB of its log on stderr; with --event it only queues the invocation.
--json prints one JSON document per command instead (the invoke payload parsed,
the log in "log_result").

Exit status: 0 done; 1 an error, or the invoked function failed (its error
document is printed); 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eventplane import arn
from eventplane.cli import _support as _cli
from eventplane.cli._support import client as _client
from eventplane.cli._support import done as _done
from eventplane.cli._support import emit_json as _emit_json
from eventplane.cli._support import key_value as _key_value
from eventplane.cli._support import read_arg as _read
from eventplane.cli._support import report as _report
from eventplane.cli._support import subcommands
from eventplane.cli._support import usage as _usage
from eventplane.cli.function_settings import register_settings

if TYPE_CHECKING:  # the SDK loads when a command runs, not on every `eventplane` start
    from eventplane.client import InvokeResult

EXIT_FAILED = 1
_QUALIFIER_HELP = "a version or alias (default: $LATEST)"


# --- argument types ----------------------------------------------------------------------


def _payload(arg: str) -> str:
    # The text itself is sent, as written: the function receives exactly this JSON.
    text = _read(arg)
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from None
    return text


def _zip_file(arg: str) -> bytes:
    try:
        return Path(arg).read_bytes()
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {arg}: {exc.strerror}") from None


def _local_dir(arg: str) -> str:
    if not Path(arg).is_dir():
        raise argparse.ArgumentTypeError(f"{arg} is not a directory")
    return arg


def _server_dir(arg: str) -> str:
    # The server resolves the folder; for local development it runs where the user is.
    return os.path.abspath(arg)


def _code(args: argparse.Namespace) -> dict[str, Any]:
    """The SDK's code keyword for --zip, --dir or --code (argparse allows exactly one)."""
    if args.zip is not None:
        return {"zip_file": args.zip}
    if args.dir is not None:
        return {"directory": args.dir}
    return {"zip_directory": args.code}


# --- functions ---------------------------------------------------------------------------


def cmd_create(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        config = ep.functions.create_function(
            args.name,
            args.handler,
            **_code(args),
            timeout=args.timeout,
            memory_size=args.memory,
            environment=dict(args.env),
            description=args.description,
            publish=args.publish,
            dead_letter_target_arn=args.dlq,
            tags=dict(args.tag),
            role=args.role,
        )
    return _done(args, config, config.function_arn)


def cmd_update_code(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        config = ep.functions.update_function_code(
            args.name, **_code(args), publish=args.publish, revision_id=args.revision_id
        )
    text = f"updated code of {config.function_name} (version {config.version}, "
    return _done(args, config, text + f"sha256 {config.code_sha256})")


def cmd_update_config(args: argparse.Namespace) -> int:
    environment: dict[str, str] | None = None
    if args.clear_env:
        environment = {}
    elif args.env:
        environment = dict(args.env)
    given = (
        args.handler,
        args.timeout,
        args.memory,
        environment,
        args.description,
        args.dlq,
        args.role,
    )
    if all(v is None for v in given):
        _usage(
            args,
            "give --handler, --timeout, --memory, --env, --clear-env, --description, --dlq "
            "or --role",
        )
    with _client(args) as ep:
        config = ep.functions.update_function_configuration(
            args.name,
            handler=args.handler,
            timeout=args.timeout,
            memory_size=args.memory,
            environment=environment,
            description=args.description,
            dead_letter_target_arn=args.dlq,
            role=args.role,
            revision_id=args.revision_id,
        )
    return _done(args, config, f"updated configuration of {config.function_name}")


def cmd_get(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        return _cli.describe(args, ep.functions.get_function(args.name, args.qualifier))


def cmd_get_config(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        config = ep.functions.get_function_configuration(args.name, args.qualifier)
    return _cli.describe(args, config)


def cmd_list(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        functions = ep.functions.list_functions()

    def line(c: Any) -> str:
        return f"{c.function_name}  {c.runtime}  {c.handler}  {c.timeout}s  {c.memory_size}MB"

    return _cli.listing(args, "functions", functions, line)


def cmd_delete(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.functions.delete_function(args.name, qualifier=args.qualifier)
    what = f"version {args.qualifier} of {args.name}" if args.qualifier else args.name
    _report(args, {"deleted": args.name, "qualifier": args.qualifier}, f"deleted {what}")
    return 0


def _tagged(ref: str) -> str:
    """The ARN tag calls name a function by; a bare name is made one (of this account)."""
    return ref if ref.startswith("arn:") else arn.function_arn(ref)


def cmd_account_settings(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        settings = ep.functions.get_account_settings()
    # Limit and usage share field names, so the text names each side (--json nests them).
    limit, usage = settings.account_limit, settings.account_usage
    text = "\n".join(
        (
            f"functions: {usage.function_count}",
            f"code storage: {usage.total_code_size} of {limit.total_code_size} bytes",
            f"package size: {limit.code_size_zipped} bytes zipped, "
            f"{limit.code_size_unzipped} unzipped",
            f"concurrent executions: {limit.concurrent_executions} "
            f"({limit.unreserved_concurrent_executions} unreserved)",
        )
    )
    return _done(args, settings, text)


# --- versions and aliases ----------------------------------------------------------------


def cmd_publish_version(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        config = ep.functions.publish_version(
            args.name,
            description=args.description,
            code_sha256=args.code_sha256,
            revision_id=args.revision_id,
        )
    return _done(args, config, config.version)


def cmd_list_versions(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        versions = ep.functions.list_versions_by_function(args.name)

    def line(c: Any) -> str:
        return f"{c.version}  {c.code_sha256}  {c.description}".rstrip()

    return _cli.listing(args, "versions", versions, line)


def cmd_create_alias(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        alias = ep.functions.create_alias(
            args.name,
            args.alias,
            args.version,
            description=args.description,
            additional_version_weights=_weights(args.routing),
        )
    return _done(args, alias, alias.alias_arn)


def cmd_update_alias(args: argparse.Namespace) -> int:
    weights = {} if args.clear_routing else _weights(args.routing)
    if args.version is None and args.description is None and weights is None:
        _usage(args, "give --version, --description, --routing or --clear-routing")
    with _client(args) as ep:
        alias = ep.functions.update_alias(
            args.name,
            args.alias,
            function_version=args.version,
            description=args.description,
            revision_id=args.revision_id,
            additional_version_weights=weights,
        )
    return _done(args, alias, f"alias {alias.name} -> version {alias.function_version}")


def _version_weight(text: str) -> tuple[str, float]:
    """One ``--routing VERSION=WEIGHT``."""
    version, weight = _key_value(text)
    try:
        return version, float(weight)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected VERSION=WEIGHT, got {text!r}") from None


def _weights(pairs: list[tuple[str, float]]) -> dict[str, float] | None:
    """The ``--routing`` pairs as RoutingConfig weights; none given: None (unchanged)."""
    return dict(pairs) or None


def cmd_get_alias(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        return _cli.describe(args, ep.functions.get_alias(args.name, args.alias))


def cmd_list_aliases(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        aliases = ep.functions.list_aliases(args.name, function_version=args.version)

    def line(a: Any) -> str:
        return f"{a.name}  -> {a.function_version}  {a.description}".rstrip()

    return _cli.listing(args, "aliases", aliases, line)


def cmd_delete_alias(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.functions.delete_alias(args.name, args.alias)
    data = {"deleted": args.alias, "function_name": args.name}
    _report(args, data, f"deleted alias {args.alias} of {args.name}")
    return 0


# --- invoke ------------------------------------------------------------------------------


def _payload_value(payload: bytes) -> Any:
    """The payload for --json: parsed when it is JSON (as it should be), else its text."""
    if not payload:
        return None
    try:
        return json.loads(payload)
    except ValueError:
        return payload.decode("utf-8", errors="replace")


def _error_line(result: InvokeResult) -> str:
    """``Unhandled: ValueError: width must be positive`` from the error document, if it is one."""
    doc = _payload_value(result.payload)
    line = str(result.function_error)
    if isinstance(doc, dict) and doc.get("errorType"):
        line += f": {doc['errorType']}"
        if doc.get("errorMessage"):
            line += f": {doc['errorMessage']}"
    return line


def cmd_invoke(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        result = ep.functions.invoke(
            args.name,
            args.payload,
            invocation_type=args.invocation_type,
            log_type="Tail" if args.log else None,
            qualifier=args.qualifier,
        )
    if args.json:
        _emit_json(
            {
                "status_code": result.status_code,
                "function_error": result.function_error,
                "executed_version": result.executed_version,
                "request_id": result.request_id,
                "log_result": result.log_result,
                "payload": _payload_value(result.payload),
            }
        )
    else:
        if args.log and result.log_result:
            sys.stderr.write(result.log_result)
            if not result.log_result.endswith("\n"):
                sys.stderr.write("\n")
        if args.invocation_type == "Event":
            print(f"queued ({result.status_code}), request id {result.request_id}")
        elif args.invocation_type == "DryRun":
            print(f"dry run passed ({result.status_code})")
        elif result.payload:
            print(result.payload.decode("utf-8", errors="replace"))
        if result.function_error:
            print(f"eventplane: function error: {_error_line(result)}", file=sys.stderr)
    return EXIT_FAILED if result.function_error else 0


# --- parser ------------------------------------------------------------------------------


def register(parser: argparse.ArgumentParser) -> None:
    """Add the `function` sub-commands to ``parser`` (the `eventplane function` parser)."""
    add, _ = subcommands(parser, "function_command")

    def action(name: str, func: Any, help_text: str) -> argparse.ArgumentParser:
        p = add(name, func, help_text)
        p.set_defaults(usage_error=p.error)  # for _usage
        return p

    def code(p: argparse.ArgumentParser) -> None:
        source = p.add_mutually_exclusive_group(required=True)
        source.add_argument("--zip", type=_zip_file, metavar="FILE", help="a zip package")
        source.add_argument(
            "--code",
            type=_local_dir,
            metavar="DIR",
            help="a folder here: the CLI zips it (without __pycache__) and uploads the zip",
        )
        source.add_argument(
            "--dir",
            type=_server_dir,
            metavar="DIR",
            help="a folder on the server's machine, used in place (local development)",
        )
        p.add_argument("--publish", action="store_true", help="also publish a version")

    def env(p: Any, help_text: str) -> None:
        p.add_argument(
            "--env",
            action="append",
            type=_key_value,
            default=[],
            metavar="KEY=VALUE",
            help=help_text,
        )

    def qualifier(p: argparse.ArgumentParser, help_text: str = _QUALIFIER_HELP) -> None:
        p.add_argument("--qualifier", help=help_text)

    def function_settings(p: argparse.ArgumentParser) -> None:
        p.add_argument("--timeout", type=int, metavar="SECONDS", help="1-900 (default 3)")
        p.add_argument("--memory", type=int, metavar="MB", help="128-10240 (default 128)")
        p.add_argument("--description")
        p.add_argument("--dlq", metavar="ARN", help="queue or topic for failed async events")
        p.add_argument(
            "--role",
            metavar="ARN",
            help="execution role (arn:aws:iam::ACCOUNT:role/NAME): the principal of the "
            "handler's own API calls",
        )

    # functions
    p = action("create", cmd_create, "create a function (prints its ARN)")
    p.add_argument("name")
    p.add_argument("--handler", required=True, metavar="MODULE.FUNCTION")
    code(p)
    function_settings(p)
    env(p, "environment variable, repeatable")
    p.add_argument(
        "--tag",
        action="append",
        type=_key_value,
        default=[],
        metavar="KEY=VALUE",
        help="repeatable",
    )

    def revision(p: Any, what: str = "$LATEST") -> None:
        p.add_argument(
            "--revision-id", help=f"change only if {what} still has this revision (else 412)"
        )

    def routing(p: Any) -> None:
        p.add_argument(
            "--routing",
            type=_version_weight,
            action="append",
            default=[],
            metavar="VERSION=WEIGHT",
            help="RoutingConfig: send this share (0.0-1.0) of invocations to VERSION",
        )

    p = action("update-code", cmd_update_code, "replace a function's code")
    p.add_argument("name")
    code(p)
    revision(p)
    p = action("update-config", cmd_update_config, "change a function's settings")
    p.description = "Only what is given changes; --env replaces the whole environment."
    p.add_argument("name")
    p.add_argument("--handler", metavar="MODULE.FUNCTION")
    function_settings(p)
    environment = p.add_mutually_exclusive_group()
    env(environment, "environment variable, repeatable: replaces the whole environment")
    environment.add_argument(
        "--clear-env", action="store_true", help="remove every environment variable"
    )
    revision(p)
    p = action("get", cmd_get, "show a function")
    p.add_argument("name")
    qualifier(p)
    p = action("get-config", cmd_get_config, "show a function's settings (no tags, concurrency)")
    p.add_argument("name")
    qualifier(p)
    action("list", cmd_list, "list functions")
    p = action("delete", cmd_delete, "delete a function (or one version)")
    p.add_argument("name")
    qualifier(p, "a version: delete only it")
    _cli.tag_commands(
        action,
        "function",
        "function name or ARN (not a version or alias: they share the function's tags)",
        lambda ep, ref, tags: ep.functions.tag_resource(_tagged(ref), tags),
        lambda ep, ref, keys: ep.functions.untag_resource(_tagged(ref), keys),
        lambda ep, ref: ep.functions.list_tags(_tagged(ref)),
    )
    action(
        "get-account-settings",
        cmd_account_settings,
        "show the account's limits and usage (code storage, concurrency, functions)",
    )

    # versions and aliases
    p = action("publish-version", cmd_publish_version, "publish $LATEST (prints the version)")
    p.add_argument("name")
    p.add_argument("--description")
    p.add_argument("--code-sha256", help="publish only if $LATEST still has this code")
    revision(p)
    p = action("list-versions", cmd_list_versions, "list a function's versions")
    p.add_argument("name")
    p = action("create-alias", cmd_create_alias, "name a version (prints the alias ARN)")
    p.add_argument("name")
    p.add_argument("alias")
    p.add_argument("--version", required=True, help="a version number or $LATEST")
    p.add_argument("--description")
    routing(p)
    p = action("update-alias", cmd_update_alias, "point an alias at another version")
    p.add_argument("name")
    p.add_argument("alias")
    p.add_argument("--version", help="a version number or $LATEST")
    p.add_argument("--description")
    revision(p, "the alias")
    routing_group = p.add_mutually_exclusive_group()
    routing(routing_group)
    routing_group.add_argument(
        "--clear-routing", action="store_true", help="send every invocation to --version"
    )
    for name, func, text in (
        ("get-alias", cmd_get_alias, "show an alias"),
        ("delete-alias", cmd_delete_alias, "delete an alias"),
    ):
        p = action(name, func, text)
        p.add_argument("name")
        p.add_argument("alias")
    p = action("list-aliases", cmd_list_aliases, "list a function's aliases")
    p.add_argument("name")
    p.add_argument("--version", help="only aliases of this version")

    # invoke
    p = action("invoke", cmd_invoke, "run a function (prints its result)")
    p.description = (
        "Prints the function's JSON result; with --log, the tail of its log on stderr. "
        "Exits 1 when the function failed (its error document is printed)."
    )
    p.add_argument("name")
    p.add_argument("--payload", type=_payload, metavar="JSON", help="the event: JSON, @FILE or @-")
    qualifier(p)
    kind = p.add_mutually_exclusive_group()
    kind.add_argument(
        "--event",
        dest="invocation_type",
        action="store_const",
        const="Event",
        help="queue it (asynchronous, with retries and destinations); do not wait",
    )
    kind.add_argument(
        "--dry-run",
        dest="invocation_type",
        action="store_const",
        const="DryRun",
        help="only check that it could be invoked",
    )
    p.set_defaults(invocation_type="RequestResponse")
    p.add_argument("--log", action="store_true", help="print the last 4 KiB of its log to stderr")

    register_settings(action, qualifier)
