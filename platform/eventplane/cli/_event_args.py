"""Argument types of `eventplane events ...`: JSON text, @FILE or @- (stdin), and times."""

from __future__ import annotations

import argparse
import json
from typing import Any

from eventplane.cli._support import read_arg as _read
from eventplane.errors import EventplaneError

# --- argument types ----------------------------------------------------------------------


def _parse(arg: str, want: type | None = None) -> tuple[str, Any]:
    """The text of a JSON argument (inline, @FILE or @-) and its value."""
    text = _read(arg)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from None
    if want is not None and not isinstance(value, want):
        noun = "object" if want is dict else "list"
        raise argparse.ArgumentTypeError(f"expected a JSON {noun}, got {text.strip()[:60]!r}")
    return text, value


def _json_text(arg: str) -> str:
    # The text itself goes to the server: a constant input may be a JSON string.
    return _parse(arg)[0]


def _object_text(arg: str) -> str:
    return _parse(arg, dict)[0]


def _json_object(arg: str) -> dict[str, Any]:
    value: dict[str, Any] = _parse(arg, dict)[1]
    return value


def _json_list(arg: str) -> list[Any]:
    value: list[Any] = _parse(arg, list)[1]
    return value


def _timestamp(arg: str) -> int:
    from eventplane.client._event_types import epoch_ms

    try:
        return epoch_ms(arg, "time")
    except EventplaneError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def _target(arg: str) -> tuple[str, str]:
    target_id, sep, arn = arg.partition("=")
    if not sep or not target_id or not arn:
        raise argparse.ArgumentTypeError(f"expected ID=ARN, got {arg!r}")
    return target_id, arn
