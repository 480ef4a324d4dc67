"""Canonical item keys and the partition of an item.

A key attribute value has many spellings on the wire ("1", "1.0" and "1E0" are
one number); the canonical form makes them one Kafka record key and one store
entry. The partition is CRC-32 of the canonical partition-key value: stable
across processes, languages and releases (Python's ``hash`` is not).
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

AV = Mapping[str, Any]  # one attribute value in wire form: {"S": "x"}


def canonical_value(av: AV) -> str:
    """The one spelling of a key attribute value (S, N or B)."""
    ((tag, raw),) = av.items()
    if tag == "N":
        try:
            n = Decimal(str(raw))
        except InvalidOperation:
            return f"N:{raw}"
        return "N:" + (format(n.normalize(), "f") if n != 0 else "0")
    if tag == "B":
        data = raw if isinstance(raw, bytes) else base64.b64decode(str(raw))
        return "B:" + base64.b64encode(data).decode()
    return f"{tag}:{raw}"


def canonical_key(key: Mapping[str, AV], key_names: tuple[str, ...]) -> str:
    """The Kafka record key and store key of an item: its key values in schema order."""
    return json.dumps([canonical_value(key[n]) for n in key_names], ensure_ascii=False)


def partition_of(hash_value: AV, partitions: int) -> int:
    return zlib.crc32(canonical_value(hash_value).encode()) % partitions


def sort_value(av: AV) -> tuple[int, Any]:
    """Order of range-key values as DynamoDB sorts them: N numerically, S by UTF-8 bytes,
    B bytewise."""
    ((tag, raw),) = av.items()
    if tag == "N":
        return (0, Decimal(str(raw)))
    if tag == "B":
        return (2, raw if isinstance(raw, bytes) else base64.b64decode(str(raw)))
    return (1, str(raw).encode())
