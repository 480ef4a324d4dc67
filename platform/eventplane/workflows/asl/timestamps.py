"""RFC 3339 timestamps as the States language accepts them (uppercase T and Z)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

__all__ = ["format_timestamp", "parse_timestamp"]

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)


def parse_timestamp(text: str) -> datetime | None:
    """An aware datetime, or None when ``text`` is not an ASL timestamp."""
    if not isinstance(text, str) or not _RFC3339.match(text):
        return None
    m = _RFC3339.match(text)
    assert m is not None
    fraction = (m.group(7) or "")[:7]
    normalized = text[: m.start(7)] if m.group(7) else text[: m.start(8)]
    zone = "+00:00" if m.group(8) == "Z" else m.group(8)
    micro = fraction[1:].ljust(6, "0")[:6] if fraction else ""
    try:
        base = datetime.fromisoformat(normalized + (f".{micro}" if micro else "") + zone)
    except ValueError:
        return None
    return base


def format_timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as the context object shows times."""
    return (
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    )
