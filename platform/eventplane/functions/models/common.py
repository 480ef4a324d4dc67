"""What every functions sub-resource shares: registry kinds and keys, Lambda's limits,
validation messages in Lambda's words, names, references and ARNs."""

from __future__ import annotations

import re
import sys
from typing import Final

from eventplane.arn import function_arn as function_arn
from eventplane.arn import mapping_arn as mapping_arn
from eventplane.functions.errors import (
    InvalidParameterValueException,
    ResourceNotFoundException,
    ValidationException,
)

# --- registry kinds and keys --------------------------------------------------------------

FUNCTION: Final = "function"  # name
VERSION: Final = "function-version"  # "<name>:<version>"
ALIAS: Final = "function-alias"  # "<name>:<alias>"
INVOKE_CONFIG: Final = "function-invoke-config"  # "<name>:<qualifier>"
POLICY: Final = "function-policy"  # "<name>:<qualifier>" (resource-based policy)
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
    rf"(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:(?P<account>\d{{12}}):function:"
    rf"|(?P<partial>\d{{12}}):function:)?{_NAME}{_QUAL}"
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
    """(name, qualifier or None) of a FunctionName: :func:`function_reference` without
    the account."""
    _, name, qualifier = function_reference(ref, qualifier, allow_qualifier=allow_qualifier)
    return name, qualifier


def function_reference(
    ref: str, qualifier: str | None = None, *, allow_qualifier: bool = True
) -> tuple[str | None, str, str | None]:
    """(account or None, name, qualifier or None) of a FunctionName as Lambda accepts it.

    The account is the one a full or partial ARN gives, None for a bare name (which
    resolves in the caller's account: ``eventplane.names.candidates``).

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
    account = match.group("account") or match.group("partial")
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
        return account, name, None
    if derived is not None and given is not None and derived != given:
        raise InvalidParameterValueException(
            "The derived qualifier from the function name does not match the specified qualifier."
        )
    return account, name, derived or given


def function_not_found(name: str, qualifier: str | None = None) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Function not found: {function_arn(name, qualifier)}")


def alias_not_found(function: str, alias: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Cannot find alias arn: {function_arn(function, alias)}")
