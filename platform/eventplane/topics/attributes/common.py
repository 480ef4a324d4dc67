"""Names, ARNs and parsing helpers shared by topic and subscription attributes."""

from __future__ import annotations

import json
import re
from typing import Final, NoReturn

from eventplane.queues.attributes import ACCOUNT, REGION
from eventplane.topics.errors import InvalidParameter

MAX_NAME_LENGTH: Final = 256
MAX_DISPLAY_NAME_LENGTH: Final = 100
FIFO_SUFFIX: Final = ".fifo"
PROTOCOLS: Final = ("sqs", "http", "https", "lambda", "function")
# "lambda" is SNS's name for a function subscription, "function" eventplane's; both are
# stored as "lambda".
FUNCTION_PROTOCOLS: Final = frozenset({"lambda", "function"})
_FUNCTION_ARN = re.compile(
    r"arn:[^:]+:lambda:[^:]*:[^:]*:function:(?P<name>[^:]+)(?::(?P<q>[^:]+))?"
)
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9_$-]+)?")
_RAW_CAPABLE: Final = frozenset({"sqs", "http", "https"})

_NAME_CHARS = re.compile(r"[A-Za-z0-9_-]+")
_TOPIC_ARN = re.compile(r"arn:[^:]+:sns:[^:]*:[^:]*:(?P<name>[^:]+)")
_SUBSCRIPTION_ARN = re.compile(r"arn:[^:]+:sns:[^:]*:[^:]*:(?P<name>[^:]+):(?P<id>[^:]+)")
_SUBSCRIPTION_ID = re.compile(r"[A-Za-z0-9-]{1,100}")


def _invalid(field_name: str, reason: str = "") -> NoReturn:
    suffix = f" Reason: {reason}" if reason else ""
    raise InvalidParameter(f"Invalid parameter: {field_name}{suffix}")


# --- names and ARNs -------------------------------------------------------------------


def topic_arn(name: str) -> str:
    return f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"


def subscription_arn(topic: str, sub_id: str) -> str:
    """The subscription's ARN; ``topic`` is the topic's name."""
    return f"{topic_arn(topic)}:{sub_id}"


def _is_valid_name(name: str) -> bool:
    base = name.removesuffix(FIFO_SUFFIX)
    return len(name) <= MAX_NAME_LENGTH and _NAME_CHARS.fullmatch(base) is not None


def topic_name_from_ref(ref: str, field: str = "TopicArn") -> str:
    """The topic name in ``ref``: a topic ARN (any region and account) or a bare name."""
    name = ref
    if ref.startswith("arn:"):
        match = _TOPIC_ARN.fullmatch(ref)
        name = match.group("name") if match else ""
    if not _is_valid_name(name):
        _invalid(
            field,
            f"Expected a topic ARN (arn:aws:sns:<region>:<account>:<name>) or a topic name, "
            f"got {ref!r}.",
        )
    return name


def parse_subscription_arn(ref: str) -> tuple[str, str]:
    """(topic name, subscription id) of a subscription ARN."""
    match = _SUBSCRIPTION_ARN.fullmatch(ref)
    if (
        match is None
        or not _is_valid_name(match.group("name"))
        or _SUBSCRIPTION_ID.fullmatch(match.group("id")) is None
    ):
        _invalid(
            "SubscriptionArn",
            f"Expected arn:aws:sns:<region>:<account>:<topic>:<subscription id>, got {ref!r}.",
        )
    return match.group("name"), match.group("id")


def validate_topic_name(name: str, fifo: bool) -> None:
    """1-256 characters of [A-Za-z0-9_-]; FIFO topics (and only they) end in ``.fifo``."""
    if fifo:
        if not name.endswith(FIFO_SUFFIX) or not _is_valid_name(name):
            _invalid(
                "Topic Name",
                "FIFO topic names must end with .fifo and be made up of only uppercase and "
                "lowercase ASCII letters, numbers, underscores, and hyphens, and must be "
                "between 1 and 256 characters long.",
            )
        return
    if name.endswith(FIFO_SUFFIX) and _is_valid_name(name):
        _invalid(
            "Topic Name", "A topic name ending in .fifo requires the attribute FifoTopic=true."
        )
    if len(name) > MAX_NAME_LENGTH or _NAME_CHARS.fullmatch(name) is None:
        _invalid(
            "Topic Name",
            "Topic names must be made up of only uppercase and lowercase ASCII letters, "
            "numbers, underscores, and hyphens, and must be between 1 and 256 characters long.",
        )


def _parse_bool(name: str, raw: str) -> bool:
    # SNS accepts any casing and answers in lower case.
    if raw.lower() not in ("true", "false"):
        _invalid(name, f"Must be true or false, got {raw!r}.")
    return raw.lower() == "true"


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _check_json_object(name: str, raw: str) -> None:
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        _invalid(name, f"Must be a JSON object, got {raw!r}.")
