"""PutEvents entries: validate each one as EventBridge does, and build the envelope.

Pure. A bad entry gets its own ErrorCode/ErrorMessage and never fails the others; only
a request that is wrong as a whole (no entries, more than 10, over 256 KiB) is refused.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from eventplane import arn as arns
from eventplane.errors import ValidationException

MAX_ENTRIES: Final = 10
MAX_REQUEST_BYTES: Final = 256 * 1024
TIME_SIZE: Final = 14  # EventBridge counts a set Time as 14 bytes
MAX_RESOURCES_ENTRY: Final = 2048


@dataclass(frozen=True)
class EntryError(Exception):
    """One entry EventBridge would refuse: ``ErrorCode`` and ``ErrorMessage`` of its result."""

    code: str
    message: str


def rfc3339(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def entry_size(
    source: str, detail_type: str, detail: str, resources: Sequence[str], has_time: bool
) -> int:
    """An entry's size by EventBridge's rule: UTF-8 bytes of its fields, 14 for a Time."""
    size = TIME_SIZE if has_time else 0
    for text in (source, detail_type, detail, *resources):
        size += len(text.encode())
    return size


def check_request(sizes: Sequence[int]) -> None:
    """Refuse a PutEvents request that is wrong as a whole."""
    if not sizes:
        raise ValidationException(
            "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"
        )
    if len(sizes) > MAX_ENTRIES:
        raise ValidationException(
            f"1 validation error detected: Value at 'entries' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_ENTRIES} (got {len(sizes)})"
        )
    if sum(sizes) > MAX_REQUEST_BYTES:
        raise ValidationException(
            f"Total size of the entries in the request is over the limit: {sum(sizes)} bytes, "
            f"at most {MAX_REQUEST_BYTES}"
        )


def parse_detail(source: str, detail_type: str, detail: str) -> dict[str, Any]:
    """The entry's detail as an object; raises EntryError the way EventBridge words it."""
    for name, value in (("Source", source), ("DetailType", detail_type), ("Detail", detail)):
        if not value:
            raise EntryError(
                "InvalidArgument",
                f"Parameter {name} is not valid. Reason: {name} is a required argument.",
            )
    if source.startswith("aws."):
        raise EntryError(
            "NotAuthorizedForSourceException", f"Not authorized for the source {source}."
        )
    try:
        parsed = json.loads(detail, parse_constant=_not_json)
    except ValueError:
        raise EntryError("MalformedDetail", "Detail is malformed.") from None
    if not isinstance(parsed, dict):
        raise EntryError("MalformedDetail", "Detail is malformed: it must be a JSON object.")
    return parsed


def _not_json(name: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON (and EventBridge) does not.
    raise ValueError(f"{name} is not JSON")


def envelope(
    *,
    source: str,
    detail_type: str,
    detail: Mapping[str, Any],
    resources: Sequence[str],
    time_ms: int,
    event_id: str | None = None,
    account: str | None = None,
) -> dict[str, Any]:
    """The EventBridge event as rules, targets and archives see it; ``account`` is the
    sender's (by default the installation's)."""
    here = arns.identity()
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account or here.account,
        "time": rfc3339(time_ms),
        "region": here.region,
        "resources": list(resources),
        "detail": dict(detail),
    }
