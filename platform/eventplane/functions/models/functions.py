"""A function's configuration and code reference ($LATEST), with Lambda's field rules."""

from __future__ import annotations

import base64
import json
import re
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eventplane import arn as arns
from eventplane.functions.errors import (
    InvalidParameterValueException,
    RequestTooLargeException,
    ValidationException,
)
from eventplane.functions.models.common import (
    _ANY_ARN,
    _ARN_PATTERN,
    _ENV_KEY,
    _ENV_KEY_PATTERN,
    _HANDLER,
    _HANDLER_PATTERN,
    _IDENTIFIER,
    _RUNTIME,
    DEFAULT_MEMORY,
    DEFAULT_RUNTIME,
    DEFAULT_TIMEOUT,
    MAX_ASYNC_PAYLOAD,
    MAX_DESCRIPTION_LENGTH,
    MAX_ENVIRONMENT_BYTES,
    MAX_HANDLER_LENGTH,
    MAX_MEMORY,
    MAX_SYNC_PAYLOAD,
    MAX_TIMEOUT,
    MIN_MEMORY,
    MIN_TIMEOUT,
    RESERVED_ENVIRONMENT_KEYS,
    ZIP,
    _in_range,
    _not_null,
    _pattern,
    _too_long,
    function_arn,
)
from eventplane.messaging.tags import tag_problem
from eventplane.registry import Resource
from eventplane.security.accounts import owned_by, owner_of
from eventplane.security.roles import account_of as role_account

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


def validate_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """A function's tags as AWS limits them (``eventplane.messaging.tags``: at most 50, keys
    of 1-128 characters not starting with ``aws:``, values of up to 256), whichever front
    door they came through; a breach is InvalidParameterValueException, as Lambda's."""
    problem = tag_problem(tags)
    if problem is not None:
        raise InvalidParameterValueException(f"Tags are not valid: {problem[1]}.")
    return dict(tags)


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


# Lambda's pattern for an execution role (CreateFunction's Role).
_ROLE_PATTERN = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
_ROLE = re.compile(_ROLE_PATTERN)


def default_role(account: str | None = None) -> str:
    """The role a function runs with when none is given (Lambda requires one; we default),
    in the function's account (by default the installation's)."""
    return f"arn:{arns.PARTITION}:iam::{account or arns.identity().account}:role/eventplane"


def validate_role(role: str | None) -> str:
    """An IAM role ARN; empty or None means the default role."""
    if not role:
        return default_role()
    if _ROLE.fullmatch(role) is None:
        raise _pattern("role", role, _ROLE_PATTERN)
    return role


def check_role_account(role: str, account: str) -> None:
    """A function runs as a role of its own account: its workers act as that role's
    principal, so a role of another account would act in that account (Lambda refuses
    such a role too)."""
    # The installation's own functions keep any role, as before accounts: ARNs pasted
    # from AWS carry other account ids.
    if account != arns.identity().account and role_account(role) != account:
        raise InvalidParameterValueException(
            "The role defined for the function cannot be assumed by Lambda: it is not a "
            "role of the function's account."
        )


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
    # The execution role: the principal the handler's API calls carry (security.roles).
    role: str = field(default_factory=default_role)

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
        role: str | None = None,
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
            role=validate_role(role),
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
        role: str | None = None,
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
            role=self.role if role is None else role,
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
            "role": self.role,
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
            role=s.get("role") or default_role(),
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
    # The account the function belongs to (its creator's); its versions', aliases' and
    # policies' ARNs carry it too.
    account: str = field(default_factory=lambda: arns.identity().account)

    @property
    def arn(self) -> str:
        return function_arn(self.name, account=self.account)

    def to_spec(self) -> dict[str, Any]:
        spec = {
            "config": self.config.to_spec(),
            "reserved_concurrency": self.reserved_concurrency,
            "tags": dict(self.tags),
            "next_version": self.next_version,
        }
        return owned_by(spec, self.account)

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
            account=owner_of(s),
        )
