"""Names, ARNs and parsing helpers shared by topic and subscription attributes."""

from __future__ import annotations

import json
import re
from typing import Final, NoReturn

from eventplane import arn as arns
from eventplane import names
from eventplane.arn import subscription_arn as subscription_arn
from eventplane.arn import topic_arn as topic_arn
from eventplane.topics.errors import InvalidParameter

MAX_NAME_LENGTH: Final = 256
MAX_DISPLAY_NAME_LENGTH: Final = 100
FIFO_SUFFIX: Final = ".fifo"
PROTOCOLS: Final = ("sqs", "http", "https", "lambda", "function")
# "lambda" is SNS's name for a function subscription, "function" eventplane's; both are
# stored as "lambda".
FUNCTION_PROTOCOLS: Final = frozenset({"lambda", "function"})
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9_$-]+)?")
_RAW_CAPABLE: Final = frozenset({"sqs", "http", "https"})

_NAME_CHARS = re.compile(r"[A-Za-z0-9_-]+")
_SUBSCRIPTION_ID = re.compile(r"[A-Za-z0-9-]{1,100}")


def _invalid(field_name: str, reason: str = "") -> NoReturn:
    suffix = f" Reason: {reason}" if reason else ""
    raise InvalidParameter(f"Invalid parameter: {field_name}{suffix}")


# --- names and ARNs -------------------------------------------------------------------


def _is_valid_name(name: str) -> bool:
    base = name.removesuffix(FIFO_SUFFIX)
    return len(name) <= MAX_NAME_LENGTH and _NAME_CHARS.fullmatch(base) is not None


def topic_name_from_ref(ref: str, field: str = "TopicArn") -> str:
    """The topic name in ``ref``: a topic ARN (any region and account) or a bare name."""
    return topic_reference(ref, field)[1]


def topic_reference(ref: str, field: str = "TopicArn") -> tuple[str | None, str]:
    """(account, name) of the topic ``ref`` names: an ARN's account, None for a bare name
    (the caller's; ``eventplane.names``)."""
    name, account = ref, None
    if ref.startswith("arn:"):
        found = arns.parse_as(ref, arns.Kind.TOPIC)
        name, account = (found.name, found.arn.account or None) if found else ("", None)
    if not _is_valid_name(name):
        _invalid(
            field,
            f"Expected a topic ARN (arn:aws:sns:<region>:<account>:<name>) or a topic name, "
            f"got {ref!r}.",
        )
    return account, name


def parse_subscription_arn(ref: str) -> tuple[str, str]:
    """(topic's internal name, subscription id) of a subscription ARN (the topic in the
    ARN's account; ``eventplane.names``)."""
    found = arns.parse_as(ref, arns.Kind.SUBSCRIPTION)
    if (
        found is None
        or found.qualifier is None
        or not _is_valid_name(found.name)
        or _SUBSCRIPTION_ID.fullmatch(found.qualifier) is None
    ):
        _invalid(
            "SubscriptionArn",
            f"Expected arn:aws:sns:<region>:<account>:<topic>:<subscription id>, got {ref!r}.",
        )
    return names.qualify(found.name, found.arn.account), found.qualifier


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
