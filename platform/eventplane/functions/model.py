"""Functions, versions, aliases, async invoke configs and event source mappings as the
registry holds them, with Lambda's validation rules and messages.

Pure (no Kafka I/O, no clock): callers pass timestamps in. Range and pattern violations
raise ``ValidationException`` with the text Lambda's request validation produces
(``1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint:
Member must have value less than or equal to 900``); violations of meaning raise
``InvalidParameterValueException``, as Lambda does.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from eventplane import arn as arns
from eventplane.arn import function_arn as function_arn
from eventplane.arn import mapping_arn as mapping_arn
from eventplane.functions.errors import (
    InvalidParameterValueException,
    RequestTooLargeException,
    ResourceNotFoundException,
    ValidationException,
)
from eventplane.registry import Resource

# --- registry kinds and keys --------------------------------------------------------------

FUNCTION: Final = "function"  # name
VERSION: Final = "function-version"  # "<name>:<version>"
ALIAS: Final = "function-alias"  # "<name>:<alias>"
INVOKE_CONFIG: Final = "function-invoke-config"  # "<name>:<qualifier>"
MAPPING: Final = "event-source-mapping"  # uuid

LATEST: Final = "$LATEST"
ZIP: Final = "Zip"
DIRECTORY: Final = "Directory"
ACTIVE: Final = "Active"

# --- Lambda's limits and defaults -----------------------------------------------------------

DEFAULT_RUNTIME: Final = f"python{sys.version_info.major}.{sys.version_info.minor}"
DEFAULT_TIMEOUT: Final = 3
MIN_TIMEOUT, MAX_TIMEOUT = 1, 900
DEFAULT_MEMORY: Final = 128
MIN_MEMORY, MAX_MEMORY = 128, 10_240
MAX_NAME_LENGTH: Final = 64
MAX_HANDLER_LENGTH: Final = 128
MAX_DESCRIPTION_LENGTH: Final = 256
MAX_ENVIRONMENT_BYTES: Final = 4096
MAX_SYNC_PAYLOAD: Final = 6 * 1024 * 1024
MAX_ASYNC_PAYLOAD: Final = 1024 * 1024

DEFAULT_RETRY_ATTEMPTS: Final = 2
MAX_RETRY_ATTEMPTS: Final = 2
MIN_EVENT_AGE, MAX_EVENT_AGE = 60, 21_600

DEFAULT_BATCH_SIZE: Final = 10
MAX_BATCH_SIZE: Final = 10_000
MAX_FIFO_BATCH_SIZE: Final = 10
MAX_BATCHING_WINDOW: Final = 300
MIN_MAX_CONCURRENCY, MAX_MAX_CONCURRENCY = 2, 1000
REPORT_BATCH_ITEM_FAILURES: Final = "ReportBatchItemFailures"
ENABLED: Final = "Enabled"
DISABLED: Final = "Disabled"

# Set by the runtime itself; Lambda refuses them in a function's environment.
RESERVED_ENVIRONMENT_KEYS: Final = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)

# --- patterns (Lambda's own, as its validation messages quote them) --------------------------

_FUNCTION_REF_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?"
    r"([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"
)
_UNQUALIFIED_REF_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?"
    r"([a-zA-Z0-9-_]+)"
)
_NAME = r"(?P<name>[a-zA-Z0-9_-]+)"
_QUAL = r"(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]+))?"
# Any region and account, so ARNs copied from AWS keep working (as queue ARNs do).
_FUNCTION_REF = re.compile(
    rf"(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{{12}}:function:|\d{{12}}:function:)?{_NAME}{_QUAL}"
)
_QUALIFIER_PATTERN = r"(|[a-zA-Z0-9$_-]+)"
_QUALIFIER = re.compile(r"[a-zA-Z0-9$_-]{1,128}")
_HANDLER_PATTERN = r"[^\s]+"
_HANDLER = re.compile(_HANDLER_PATTERN)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ENV_KEY_PATTERN = r"[a-zA-Z]([a-zA-Z0-9_])+"
_ENV_KEY = re.compile(_ENV_KEY_PATTERN)
_RUNTIME = re.compile(r"python3\.[0-9]+")
_ALIAS_PATTERN = r"(?!^[0-9]+$)([a-zA-Z0-9-_]+)"
_ALIAS = re.compile(_ALIAS_PATTERN)
_VERSION_PATTERN = r"(\$LATEST|[0-9]+)"
_VERSION = re.compile(_VERSION_PATTERN)
_ARN_PATTERN = r"(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()"
_ANY_ARN = re.compile(r"arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*")  # Lambda's own check


# --- validation messages ---------------------------------------------------------------------


def _not_null(member: str) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value null at '{member}' failed to satisfy constraint: "
        "Member must not be null"
    )


def _at_most(member: str, value: object, limit: int) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must have value less than or equal to {limit}"
    )


def _at_least(member: str, value: object, limit: int) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must have value greater than or equal to {limit}"
    )


def _too_long(member: str, value: str, limit: int) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must have length less than or equal to {limit}"
    )


def _pattern(member: str, value: str, pattern: str) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {pattern}"
    )


def _in_range(member: str, value: int, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationException(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
            "constraint: Member must be an integer"
        )
    if value < low:
        raise _at_least(member, value, low)
    if value > high:
        raise _at_most(member, value, high)
    return value


# --- names, references and ARNs ---------------------------------------------------------------


def version_key(function: str, version: str | int) -> str:
    return f"{function}:{version}"


def alias_key(function: str, alias: str) -> str:
    return f"{function}:{alias}"


def invoke_config_key(function: str, qualifier: str | None) -> str:
    return f"{function}:{qualifier or LATEST}"


def validate_function_name(name: str) -> str:
    """A bare function name: 1-64 of ``[a-zA-Z0-9-_]``."""
    if not name:
        raise _not_null("functionName")
    if len(name) > MAX_NAME_LENGTH:
        raise _too_long("functionName", name, MAX_NAME_LENGTH)
    if re.fullmatch(_NAME, name) is None:
        raise _pattern("functionName", name, _UNQUALIFIED_REF_PATTERN)
    return name


def validate_qualifier(qualifier: str) -> str:
    if len(qualifier) > 128:
        raise _too_long("qualifier", qualifier, 128)
    if _QUALIFIER.fullmatch(qualifier) is None:
        raise _pattern("qualifier", qualifier, _QUALIFIER_PATTERN)
    return qualifier


def parse_function_ref(
    ref: str, qualifier: str | None = None, *, allow_qualifier: bool = True
) -> tuple[str, str | None]:
    """(name, qualifier or None) of a FunctionName as Lambda accepts it.

    ``ref`` is a name (``my-fn``), a name with a qualifier (``my-fn:prod``), a partial ARN
    (``000000000000:function:my-fn[:prod]``) or a full ARN
    (``arn:aws:lambda:<region>:<account>:function:my-fn[:prod]``). ``qualifier`` is the
    separate Qualifier parameter; it must agree with one in ``ref``. An empty qualifier
    means none. With ``allow_qualifier=False`` (CreateFunction, ...) a qualifier is refused.
    """
    if not ref:
        raise _not_null("functionName")
    match = _FUNCTION_REF.fullmatch(ref)
    if match is None:
        pattern = _FUNCTION_REF_PATTERN if allow_qualifier else _UNQUALIFIED_REF_PATTERN
        raise _pattern("functionName", ref, pattern)
    name = match.group("name")
    if len(name) > MAX_NAME_LENGTH:
        raise _too_long("functionName", ref, MAX_NAME_LENGTH)
    derived = match.group("qualifier")
    given = qualifier or None
    if given is not None:
        validate_qualifier(given)
    if not allow_qualifier:
        if derived is not None:
            raise _pattern("functionName", ref, _UNQUALIFIED_REF_PATTERN)
        if given is not None:
            raise InvalidParameterValueException(
                f"A qualifier is not allowed here: the operation applies to the function {name}"
            )
        return name, None
    if derived is not None and given is not None and derived != given:
        raise InvalidParameterValueException(
            "The derived qualifier from the function name does not match the specified qualifier."
        )
    return name, derived or given


def function_not_found(name: str, qualifier: str | None = None) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Function not found: {function_arn(name, qualifier)}")


def alias_not_found(function: str, alias: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Cannot find alias arn: {function_arn(function, alias)}")


# --- function configuration fields ------------------------------------------------------------


def validate_handler(handler: str) -> str:
    """Lambda's ``[^\\s]+`` (at most 128), and for Python ``module.function``.

    The module may be a dotted or slashed path (``pkg.app.handler``, ``src/app.handler``),
    as Lambda's Python runtime accepts. Lambda itself defers the last check to the first
    invoke (Runtime.MalformedHandlerName); eventplane refuses the handler at once.
    """
    if not handler:
        raise _not_null("handler")
    if len(handler) > MAX_HANDLER_LENGTH:
        raise _too_long("handler", handler, MAX_HANDLER_LENGTH)
    if _HANDLER.fullmatch(handler) is None:
        raise _pattern("handler", handler, _HANDLER_PATTERN)
    module, _, function = handler.rpartition(".")
    parts = re.split(r"[./]", module) if module else []
    if not parts or not all(_IDENTIFIER.fullmatch(p) for p in [*parts, function]):
        raise InvalidParameterValueException(
            f"Handler '{handler}' is not valid for a Python function: use 'module.function' "
            "(for example 'app.handler' or 'src/app.handler'), where the module is a path of "
            "Python identifiers and function is the name of a Python function in it."
        )
    return handler


def handler_module_path(handler: str) -> str:
    """The handler's module as a path in the package, without suffix: ``src/app``."""
    module = handler.rpartition(".")[0]
    return module.replace(".", "/")


def validate_runtime(runtime: str) -> str:
    """``python3.N``; empty means the server's own interpreter."""
    if not runtime:
        return DEFAULT_RUNTIME
    if _RUNTIME.fullmatch(runtime) is None:
        raise InvalidParameterValueException(
            f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy "
            f"enum value set: [python3.x] (eventplane runs Python handlers; this server runs "
            f"{DEFAULT_RUNTIME})"
        )
    return runtime


def validate_timeout(timeout: int) -> int:
    return _in_range("timeout", timeout, MIN_TIMEOUT, MAX_TIMEOUT)


def validate_memory_size(memory_size: int) -> int:
    return _in_range("memorySize", memory_size, MIN_MEMORY, MAX_MEMORY)


def validate_description(description: str, member: str = "description") -> str:
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise _too_long(member, description, MAX_DESCRIPTION_LENGTH)
    return description


def validate_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """Key pattern, reserved keys, then the 4 KB limit on the variables' JSON, as Lambda."""
    env = {str(k): str(v) for k, v in environment.items()}
    for key in sorted(env):
        if _ENV_KEY.fullmatch(key) is None:
            # Lambda never echoes the variables (their values may be secrets): name the key.
            raise ValidationException(
                "1 validation error detected: Value at 'environment.variables' failed to "
                "satisfy constraint: Map keys must satisfy constraint: [Member must satisfy "
                f"regular expression pattern: {_ENV_KEY_PATTERN}] (key '{key}')"
            )
    reserved = sorted(k for k in env if k in RESERVED_ENVIRONMENT_KEYS)
    if reserved:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided contains reserved keys that are currently not "
            f"supported for modification. Reserved keys used in this request: {', '.join(reserved)}"
        )
    measured = json.dumps(env, separators=(",", ":"), ensure_ascii=False)
    if len(measured.encode()) > MAX_ENVIRONMENT_BYTES:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided exceeded the 4KB limit. String measured: " + measured
        )
    return env


def validate_dead_letter_arn(arn: str | None) -> str | None:
    """A queue or topic ARN; empty or None means no dead-letter target."""
    if not arn:
        return None
    if _ANY_ARN.fullmatch(arn) is None:
        raise _pattern("deadLetterConfig.targetArn", arn, _ARN_PATTERN)
    if arns.parse_as(arn, arns.Kind.QUEUE, arns.Kind.TOPIC) is None:
        raise InvalidParameterValueException(
            f"The dead-letter target {arn} is not valid: use a queue (arn:aws:sqs:...) or a "
            "topic (arn:aws:sns:...) ARN."
        )
    return arn


def validate_reserved_concurrency(value: int, limit: int | None = None) -> int:
    """0 or more (0 stops every invocation); ``limit``: the most the runner can reserve."""
    _in_range("reservedConcurrentExecutions", value, 0, sys.maxsize)
    if limit is not None and value > limit:
        raise InvalidParameterValueException(
            f"Specified ReservedConcurrentExecutions for function ({value}) is more than the "
            f"runner's concurrency limit of {limit}."
        )
    return value


def check_payload_size(payload: bytes, invocation_type: str) -> None:
    """Lambda's invoke payload limits: 6 MB (RequestResponse, DryRun), 1 MiB (Event)."""
    size = len(payload)
    if invocation_type == "Event":
        if size > MAX_ASYNC_PAYLOAD:
            raise RequestTooLargeException(
                f"{size} byte payload is too large for the Event invocation type "
                f"(limit {MAX_ASYNC_PAYLOAD} bytes)"
            )
    elif size > MAX_SYNC_PAYLOAD:
        raise RequestTooLargeException(
            f"Request must be smaller than {MAX_SYNC_PAYLOAD} bytes for the InvokeFunction "
            "operation"
        )


def iso8601(epoch_ms: int) -> str:
    """Lambda's LastModified format: ``2024-05-01T12:00:00.000+0000``."""
    at = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}+0000"


def new_revision_id() -> str:
    return str(uuid.uuid4())


def sha256_hex(code_sha256: str) -> str:
    """The hex digest behind a base64 CodeSha256 (file-system-safe)."""
    return base64.b64decode(code_sha256).hex()


# --- definitions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeRef:
    """Where a function's code is: a zip on ``eventplane.fn.code`` or a local directory."""

    sha256: str  # base64 of the SHA-256, as Lambda's CodeSha256
    size: int  # bytes: the zip's size, or the directory's files' total
    package_type: str = ZIP  # ZIP or DIRECTORY
    directory: str | None = None  # absolute path, for DIRECTORY packages

    @property
    def sha256_hex(self) -> str:
        return sha256_hex(self.sha256)

    def to_spec(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "size": self.size,
            "package_type": self.package_type,
            "directory": self.directory,
        }

    @staticmethod
    def from_spec(s: Mapping[str, Any]) -> CodeRef:
        return CodeRef(
            s["sha256"], int(s.get("size", 0)), s.get("package_type", ZIP), s.get("directory")
        )


@dataclass(frozen=True)
class FunctionConfig:
    """One configuration of a function: $LATEST's, or a published version's (frozen)."""

    handler: str
    code: CodeRef
    runtime: str = DEFAULT_RUNTIME
    timeout: int = DEFAULT_TIMEOUT
    memory_size: int = DEFAULT_MEMORY
    environment: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    dead_letter_arn: str | None = None
    revision_id: str = ""
    last_modified: str = ""  # ISO 8601, see iso8601()

    @staticmethod
    def build(
        *,
        handler: str,
        code: CodeRef,
        runtime: str = "",
        timeout: int | None = None,
        memory_size: int | None = None,
        environment: Mapping[str, str] | None = None,
        description: str = "",
        dead_letter_arn: str | None = None,
        revision_id: str,
        last_modified: str,
    ) -> FunctionConfig:
        """Validate every field as CreateFunction does (in Lambda's order) and apply defaults."""
        return FunctionConfig(
            handler=validate_handler(handler),
            code=code,
            runtime=validate_runtime(runtime),
            timeout=DEFAULT_TIMEOUT if timeout is None else validate_timeout(timeout),
            memory_size=(
                DEFAULT_MEMORY if memory_size is None else validate_memory_size(memory_size)
            ),
            environment=validate_environment(environment or {}),
            description=validate_description(description),
            dead_letter_arn=validate_dead_letter_arn(dead_letter_arn),
            revision_id=revision_id,
            last_modified=last_modified,
        )

    def update(
        self,
        *,
        revision_id: str,
        last_modified: str,
        handler: str | None = None,
        code: CodeRef | None = None,
        runtime: str | None = None,
        timeout: int | None = None,
        memory_size: int | None = None,
        environment: Mapping[str, str] | None = None,
        description: str | None = None,
        dead_letter_arn: str | None = None,
    ) -> FunctionConfig:
        """UpdateFunctionConfiguration/UpdateFunctionCode: None keeps a field; a
        ``dead_letter_arn`` of "" removes the target."""
        return FunctionConfig.build(
            handler=self.handler if handler is None else handler,
            code=self.code if code is None else code,
            runtime=self.runtime if runtime is None else runtime,
            timeout=self.timeout if timeout is None else timeout,
            memory_size=self.memory_size if memory_size is None else memory_size,
            environment=self.environment if environment is None else environment,
            description=self.description if description is None else description,
            dead_letter_arn=self.dead_letter_arn if dead_letter_arn is None else dead_letter_arn,
            revision_id=revision_id,
            last_modified=last_modified,
        )

    def to_spec(self) -> dict[str, Any]:
        return {
            "handler": self.handler,
            "code": self.code.to_spec(),
            "runtime": self.runtime,
            "timeout": self.timeout,
            "memory_size": self.memory_size,
            "environment": dict(self.environment),
            "description": self.description,
            "dead_letter_arn": self.dead_letter_arn,
            "revision_id": self.revision_id,
            "last_modified": self.last_modified,
        }

    @staticmethod
    def from_spec(s: Mapping[str, Any]) -> FunctionConfig:
        return FunctionConfig(
            handler=s["handler"],
            code=CodeRef.from_spec(s["code"]),
            runtime=s.get("runtime") or DEFAULT_RUNTIME,
            timeout=int(s.get("timeout", DEFAULT_TIMEOUT)),
            memory_size=int(s.get("memory_size", DEFAULT_MEMORY)),
            environment=dict(s.get("environment") or {}),
            description=s.get("description", ""),
            dead_letter_arn=s.get("dead_letter_arn") or None,
            revision_id=s.get("revision_id", ""),
            last_modified=s.get("last_modified", ""),
        )


@dataclass(frozen=True)
class FunctionDef:
    """A function: its $LATEST configuration and what is not versioned."""

    name: str
    config: FunctionConfig  # $LATEST
    reserved_concurrency: int | None = None  # None: draws on the unreserved pool
    tags: Mapping[str, str] = field(default_factory=dict)
    next_version: int = 1  # the number PublishVersion gives next; never reused
    created_ms: int = 0

    @property
    def arn(self) -> str:
        return function_arn(self.name)

    def to_spec(self) -> dict[str, Any]:
        return {
            "config": self.config.to_spec(),
            "reserved_concurrency": self.reserved_concurrency,
            "tags": dict(self.tags),
            "next_version": self.next_version,
        }

    @staticmethod
    def from_resource(r: Resource) -> FunctionDef:
        s = r.spec
        reserved = s.get("reserved_concurrency")
        return FunctionDef(
            name=r.name,
            config=FunctionConfig.from_spec(s["config"]),
            reserved_concurrency=None if reserved is None else int(reserved),
            tags=dict(s.get("tags") or {}),
            next_version=int(s.get("next_version", 1)),
            created_ms=r.created_at,
        )


@dataclass(frozen=True)
class VersionDef:
    """A published version: a frozen copy of $LATEST's configuration."""

    function: str
    number: int
    config: FunctionConfig
    created_ms: int = 0

    @property
    def key(self) -> str:
        return version_key(self.function, self.number)

    @property
    def version(self) -> str:
        return str(self.number)

    @property
    def arn(self) -> str:
        return function_arn(self.function, self.version)

    def to_spec(self) -> dict[str, Any]:
        return {"function": self.function, "number": self.number, "config": self.config.to_spec()}

    @staticmethod
    def from_resource(r: Resource) -> VersionDef:
        s = r.spec
        return VersionDef(
            s["function"], int(s["number"]), FunctionConfig.from_spec(s["config"]), r.created_at
        )


def validate_alias_name(name: str) -> str:
    if not name:
        raise _not_null("name")
    if len(name) > 128:
        raise _too_long("name", name, 128)
    if _ALIAS.fullmatch(name) is None:
        raise _pattern("name", name, _ALIAS_PATTERN)
    return name


def validate_function_version(version: str) -> str:
    """An alias's target: ``$LATEST`` or a version number."""
    if not version:
        raise _not_null("functionVersion")
    if len(version) > 1024:
        raise _too_long("functionVersion", version, 1024)
    if _VERSION.fullmatch(version) is None:
        raise _pattern("functionVersion", version, _VERSION_PATTERN)
    return version


@dataclass(frozen=True)
class AliasDef:
    function: str
    name: str
    function_version: str  # $LATEST or a number
    description: str = ""
    revision_id: str = ""

    @property
    def key(self) -> str:
        return alias_key(self.function, self.name)

    @property
    def arn(self) -> str:
        return function_arn(self.function, self.name)

    @staticmethod
    def build(
        function: str,
        name: str,
        function_version: str,
        *,
        description: str = "",
        revision_id: str,
    ) -> AliasDef:
        return AliasDef(
            function,
            validate_alias_name(name),
            validate_function_version(function_version),
            validate_description(description),
            revision_id,
        )

    def to_spec(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "name": self.name,
            "function_version": self.function_version,
            "description": self.description,
            "revision_id": self.revision_id,
        }

    @staticmethod
    def from_resource(r: Resource) -> AliasDef:
        s = r.spec
        return AliasDef(
            s["function"],
            s["name"],
            s["function_version"],
            s.get("description", ""),
            s.get("revision_id", ""),
        )


def resolve_qualifier(
    fn: FunctionDef,
    qualifier: str | None,
    versions: Mapping[str, VersionDef],
    aliases: Mapping[str, AliasDef],
) -> tuple[str, FunctionConfig]:
    """(executed version, its configuration) for ``qualifier``: None or $LATEST, a version
    number or an alias name. ``versions`` is keyed by version string, ``aliases`` by name.

    Raises ResourceNotFoundException ("Function not found: <arn>:<qualifier>") when the
    version, the alias or the alias's version does not exist.
    """
    if not qualifier or qualifier == LATEST:
        return LATEST, fn.config
    if qualifier.isdigit():
        version = versions.get(qualifier)
        if version is None:
            raise function_not_found(fn.name, qualifier)
        return version.version, version.config
    alias = aliases.get(qualifier)
    if alias is None:
        raise function_not_found(fn.name, qualifier)
    if alias.function_version == LATEST:
        return LATEST, fn.config
    version = versions.get(alias.function_version)
    if version is None:
        raise function_not_found(fn.name, qualifier)
    return version.version, version.config


# --- asynchronous invocation configuration ----------------------------------------------------


_DESTINATION_KINDS: Final = {
    arns.TargetKind.QUEUE: "queue",
    arns.TargetKind.TOPIC: "topic",
    arns.TargetKind.BUS: "bus",
    arns.TargetKind.FUNCTION: "function",
}


def destination_kind(arn: str) -> tuple[str, str]:
    """(kind, name) of a destination ARN: queue, topic, bus or function."""
    found = arns.parse_as(arn, arns.Kind.QUEUE, arns.Kind.TOPIC, arns.Kind.BUS, arns.Kind.FUNCTION)
    target = arns.target(arn) if found is not None else None
    if found is not None and target is not None:
        return _DESTINATION_KINDS[target.kind], found.name
    raise InvalidParameterValueException(
        f"The destination ARN {arn} is invalid: use a queue (arn:aws:sqs:...), topic "
        "(arn:aws:sns:...), event bus (arn:aws:events:...:event-bus/<name>) or function "
        "(arn:aws:lambda:...:function:<name>) ARN."
    )


def _destination(arn: str | None, member: str) -> str | None:
    if not arn:
        return None
    if _ANY_ARN.fullmatch(arn) is None:
        raise _pattern(member, arn, r"^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:.*")
    destination_kind(arn)
    return arn


@dataclass(frozen=True)
class InvokeConfig:
    """PutFunctionEventInvokeConfig: retries, maximum age and destinations of async events."""

    function: str
    qualifier: str = LATEST
    maximum_retry_attempts: int = DEFAULT_RETRY_ATTEMPTS
    maximum_event_age_seconds: int = MAX_EVENT_AGE
    on_success: str | None = None  # destination ARN
    on_failure: str | None = None
    last_modified: str = ""

    @property
    def key(self) -> str:
        return invoke_config_key(self.function, self.qualifier)

    @property
    def function_arn(self) -> str:
        return function_arn(self.function, self.qualifier)

    @staticmethod
    def build(
        function: str,
        qualifier: str | None = None,
        *,
        maximum_retry_attempts: int | None = None,
        maximum_event_age_seconds: int | None = None,
        on_success: str | None = None,
        on_failure: str | None = None,
        last_modified: str = "",
    ) -> InvokeConfig:
        attempts = (
            DEFAULT_RETRY_ATTEMPTS
            if maximum_retry_attempts is None
            else _in_range("maximumRetryAttempts", maximum_retry_attempts, 0, MAX_RETRY_ATTEMPTS)
        )
        age = (
            MAX_EVENT_AGE
            if maximum_event_age_seconds is None
            else _in_range(
                "maximumEventAgeInSeconds", maximum_event_age_seconds, MIN_EVENT_AGE, MAX_EVENT_AGE
            )
        )
        return InvokeConfig(
            function,
            qualifier or LATEST,
            attempts,
            age,
            _destination(on_success, "destinationConfig.onSuccess.destination"),
            _destination(on_failure, "destinationConfig.onFailure.destination"),
            last_modified,
        )

    def to_spec(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "qualifier": self.qualifier,
            "maximum_retry_attempts": self.maximum_retry_attempts,
            "maximum_event_age_seconds": self.maximum_event_age_seconds,
            "on_success": self.on_success,
            "on_failure": self.on_failure,
            "last_modified": self.last_modified,
        }

    @staticmethod
    def from_resource(r: Resource) -> InvokeConfig:
        s = r.spec
        return InvokeConfig(
            s["function"],
            s.get("qualifier") or LATEST,
            int(s.get("maximum_retry_attempts", DEFAULT_RETRY_ATTEMPTS)),
            int(s.get("maximum_event_age_seconds", MAX_EVENT_AGE)),
            s.get("on_success") or None,
            s.get("on_failure") or None,
            s.get("last_modified", ""),
        )


# --- event source mappings --------------------------------------------------------------------


def queue_from_source_arn(arn: str) -> str:
    """The queue an event source ARN names; only queues can feed a mapping here."""
    if not arn:
        raise _not_null("eventSourceArn")
    if _ANY_ARN.fullmatch(arn) is None:
        raise _pattern("eventSourceArn", arn, r"arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:.*")
    found = arns.parse_as(arn, arns.Kind.QUEUE)
    if found is None:
        raise InvalidParameterValueException(
            f"Unrecognized event source {arn}: event source mappings read queues "
            "(arn:aws:sqs:<region>:<account>:<queue>)."
        )
    return found.name


def _response_types(types: Iterable[str]) -> tuple[str, ...]:
    found = tuple(dict.fromkeys(types))
    bad = [t for t in found if t != REPORT_BATCH_ITEM_FAILURES]
    if bad:
        raise ValidationException(
            f"1 validation error detected: Value '[{', '.join(found)}]' at "
            "'functionResponseTypes' failed to satisfy constraint: Member must satisfy "
            f"constraint: [Member must satisfy enum value set: [{REPORT_BATCH_ITEM_FAILURES}]]"
        )
    return found


@dataclass(frozen=True)
class MappingDef:
    """An event source mapping from a queue to a function."""

    uuid: str
    event_source_arn: str
    queue: str
    function: str
    qualifier: str | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    maximum_batching_window_seconds: int = 0
    enabled: bool = True
    function_response_types: tuple[str, ...] = ()
    maximum_concurrency: int | None = None
    last_modified: str = ""
    state: str = ENABLED
    state_transition_reason: str = "USER_INITIATED"

    @property
    def fifo(self) -> bool:
        return self.queue.endswith(".fifo")

    @property
    def function_arn(self) -> str:
        return function_arn(self.function, self.qualifier)

    @property
    def arn(self) -> str:
        return mapping_arn(self.uuid)

    @property
    def report_batch_item_failures(self) -> bool:
        return REPORT_BATCH_ITEM_FAILURES in self.function_response_types

    @staticmethod
    def build(
        uuid: str,
        event_source_arn: str,
        function: str,
        qualifier: str | None = None,
        *,
        batch_size: int | None = None,
        maximum_batching_window_seconds: int | None = None,
        enabled: bool = True,
        function_response_types: Iterable[str] = (),
        maximum_concurrency: int | None = None,
        last_modified: str = "",
        state_transition_reason: str = "USER_INITIATED",
    ) -> MappingDef:
        """Validate as CreateEventSourceMapping does for a queue source.

        ``maximum_concurrency`` None or 0 means unset.
        """
        queue = queue_from_source_arn(event_source_arn)
        fifo = queue.endswith(".fifo")
        size = (
            DEFAULT_BATCH_SIZE
            if batch_size is None
            else _in_range("batchSize", batch_size, 1, MAX_BATCH_SIZE)
        )
        window = (
            0
            if maximum_batching_window_seconds is None
            else _in_range(
                "maximumBatchingWindowInSeconds",
                maximum_batching_window_seconds,
                0,
                MAX_BATCHING_WINDOW,
            )
        )
        if fifo and size > MAX_FIFO_BATCH_SIZE:
            raise InvalidParameterValueException(
                f"Batch size for FIFO queues must be between 1 and {MAX_FIFO_BATCH_SIZE}, "
                f"got {size}"
            )
        if fifo and window > 0:
            raise InvalidParameterValueException("Batching window is not supported for FIFO queues")
        if size > 10 and window < 1:
            raise InvalidParameterValueException(
                "Maximum batch window in seconds must be greater than 0 if maximum batch size "
                "is greater than 10"
            )
        concurrency = (
            None
            if not maximum_concurrency
            else _in_range(
                "scalingConfig.maximumConcurrency",
                maximum_concurrency,
                MIN_MAX_CONCURRENCY,
                MAX_MAX_CONCURRENCY,
            )
        )
        return MappingDef(
            uuid=uuid,
            event_source_arn=event_source_arn,
            queue=queue,
            function=function,
            qualifier=qualifier or None,
            batch_size=size,
            maximum_batching_window_seconds=window,
            enabled=enabled,
            function_response_types=_response_types(function_response_types),
            maximum_concurrency=concurrency,
            last_modified=last_modified,
            state=ENABLED if enabled else DISABLED,
            state_transition_reason=state_transition_reason,
        )

    def update(
        self,
        *,
        last_modified: str,
        function: str | None = None,
        qualifier: str | None = None,
        batch_size: int | None = None,
        maximum_batching_window_seconds: int | None = None,
        enabled: bool | None = None,
        function_response_types: Iterable[str] | None = None,
        maximum_concurrency: int | None = None,
    ) -> MappingDef:
        """UpdateEventSourceMapping: None keeps a field (``qualifier`` goes with ``function``);
        ``maximum_concurrency`` 0 removes the limit."""
        return MappingDef.build(
            self.uuid,
            self.event_source_arn,
            self.function if function is None else function,
            self.qualifier if function is None else qualifier,
            batch_size=self.batch_size if batch_size is None else batch_size,
            maximum_batching_window_seconds=(
                self.maximum_batching_window_seconds
                if maximum_batching_window_seconds is None
                else maximum_batching_window_seconds
            ),
            enabled=self.enabled if enabled is None else enabled,
            function_response_types=(
                self.function_response_types
                if function_response_types is None
                else function_response_types
            ),
            maximum_concurrency=(
                self.maximum_concurrency if maximum_concurrency is None else maximum_concurrency
            ),
            last_modified=last_modified,
        )

    def to_spec(self) -> dict[str, Any]:
        return {
            "event_source_arn": self.event_source_arn,
            "queue": self.queue,
            "function": self.function,
            "qualifier": self.qualifier,
            "batch_size": self.batch_size,
            "maximum_batching_window_seconds": self.maximum_batching_window_seconds,
            "enabled": self.enabled,
            "function_response_types": list(self.function_response_types),
            "maximum_concurrency": self.maximum_concurrency,
            "last_modified": self.last_modified,
            "state": self.state,
            "state_transition_reason": self.state_transition_reason,
        }

    @staticmethod
    def from_resource(r: Resource) -> MappingDef:
        s = r.spec
        concurrency = s.get("maximum_concurrency")
        enabled = bool(s.get("enabled", True))
        return MappingDef(
            uuid=r.name,
            event_source_arn=s["event_source_arn"],
            queue=s["queue"],
            function=s["function"],
            qualifier=s.get("qualifier") or None,
            batch_size=int(s.get("batch_size", DEFAULT_BATCH_SIZE)),
            maximum_batching_window_seconds=int(s.get("maximum_batching_window_seconds", 0)),
            enabled=enabled,
            function_response_types=tuple(s.get("function_response_types") or ()),
            maximum_concurrency=None if concurrency is None else int(concurrency),
            last_modified=s.get("last_modified", ""),
            state=s.get("state") or (ENABLED if enabled else DISABLED),
            state_transition_reason=s.get("state_transition_reason", "USER_INITIATED"),
        )
