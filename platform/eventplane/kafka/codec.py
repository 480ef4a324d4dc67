"""Avro encoding of every record eventplane writes, over the .avsc files in schemas/.

Schemas are parsed once, on first use. Each encoded record carries its schema's
CRC-64-AVRO fingerprint in the ``ep-schema`` header, so a reader finds the
writer's schema without a registry round trip and refuses bytes it cannot read.
"""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.schema import fingerprint, to_parsing_canonical_form

SCHEMA_HEADER = "ep-schema"


class CodecError(ValueError):
    """A record cannot be encoded or decoded with the known schemas."""


def schemas_dir() -> Path:
    """schemas/ in a source checkout, or the copy installed with the package."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[3] / "schemas", here.parents[1] / "_schemas"):
        if candidate.is_dir():
            return candidate
    raise CodecError("cannot find the Avro schemas folder (schemas/)")


@dataclass(frozen=True)
class _Schema:
    name: str
    parsed: Any
    fingerprint: str


@functools.cache
def _load() -> tuple[dict[str, _Schema], dict[str, _Schema]]:
    by_name: dict[str, _Schema] = {}
    by_fp: dict[str, _Schema] = {}
    for path in sorted(schemas_dir().glob("*.avsc")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        # The default write hint marks the schema as parsed, so schemaless_writer
        # does not parse it again for every record.
        parsed = parse_schema(raw)
        fp = fingerprint(
            to_parsing_canonical_form(parse_schema(raw, _write_hint=False)), "CRC-64-AVRO"
        )
        full_name = f"{raw.get('namespace', '')}.{raw['name']}".lstrip(".")
        schema = _Schema(full_name, parsed, fp)
        by_name[full_name] = by_name[raw["name"]] = schema
        by_fp[fp] = schema
    return by_name, by_fp


def schema_names() -> list[str]:
    return sorted(name for name in _load()[0] if "." in name)


def fingerprint_of(schema: str) -> bytes:
    """The ``ep-schema`` header value of records written with ``schema``."""
    try:
        return _load()[0][schema].fingerprint.encode()
    except KeyError:
        raise CodecError(f"unknown schema {schema!r}") from None


def encode(schema: str, record: Mapping[str, Any]) -> tuple[bytes, list[tuple[str, bytes]]]:
    """Avro-encode ``record`` with ``schema``; returns the bytes and the schema header."""
    try:
        s = _load()[0][schema]
    except KeyError:
        raise CodecError(f"unknown schema {schema!r}") from None
    buf = io.BytesIO()
    try:
        schemaless_writer(buf, s.parsed, record)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise CodecError(f"record does not fit schema {s.name}: {exc}") from exc
    return buf.getvalue(), [(SCHEMA_HEADER, s.fingerprint.encode())]


def decode(
    value: bytes, headers: Sequence[tuple[str, bytes | None]] | None
) -> tuple[str, dict[str, Any]]:
    """Decode a record written by ``encode``; returns (schema name, record)."""
    fp = next((v.decode() for k, v in headers or () if k == SCHEMA_HEADER and v), None)
    if fp is None:
        raise CodecError(f"record has no {SCHEMA_HEADER} header")
    schema = _load()[1].get(fp)
    if schema is None:
        raise CodecError(f"record was written with an unknown schema (fingerprint {fp})")
    result = schemaless_reader(io.BytesIO(value), schema.parsed, None)
    if not isinstance(result, dict):
        raise CodecError(f"schema {schema.name} does not describe a record")
    return schema.name, result
