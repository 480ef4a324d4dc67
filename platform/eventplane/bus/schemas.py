"""The schema registry's rules: versioned Avro schemas that event details must fit.

Pure. A schema is validated and parsed with fastavro when it is written, and the parsed
form is reused per event. Event details are JSON, so they are checked against the Avro
schema the way a JSON-encoded Avro datum would be (records are objects, unions accept
any branch's value).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from fastavro import parse_schema
from fastavro.validation import ValidationError, validate

from eventplane import arn as arns
from eventplane.bus.entries import EntryError
from eventplane.bus.models import schema_arn
from eventplane.errors import ValidationException
from eventplane.registry import Resource
from eventplane.security.accounts import owned_by, owner_of

AVRO: Final = "Avro"
TYPES: Final = (AVRO,)
MAX_CONTENT: Final = 100_000
_NAME = re.compile(r"[.\-_A-Za-z0-9@]{1,385}")


@dataclass(frozen=True)
class SchemaVersion:
    version: int
    content: str
    created_ms: int


@dataclass(frozen=True)
class SchemaDef:
    name: str
    type: str
    source: str
    detail_type: str
    description: str
    versions: tuple[SchemaVersion, ...]
    parsed: Any = field(default=None, compare=False, repr=False)
    account: str = field(default_factory=lambda: arns.identity().account)  # its creator's

    @property
    def arn(self) -> str:
        return schema_arn(self.name, account=self.account)

    @property
    def latest(self) -> SchemaVersion:
        return self.versions[-1]

    def version(self, number: int) -> SchemaVersion | None:
        return next((v for v in self.versions if v.version == number), None)

    def to_spec(self) -> dict[str, Any]:
        spec = {
            "type": self.type,
            "source": self.source,
            "detail_type": self.detail_type,
            "description": self.description,
            "versions": [
                {"version": v.version, "content": v.content, "created_ms": v.created_ms}
                for v in self.versions
            ],
        }
        return owned_by(spec, self.account)

    @staticmethod
    def from_resource(r: Resource) -> SchemaDef:
        s = r.spec
        versions = tuple(
            SchemaVersion(int(v["version"]), v["content"], int(v["created_ms"]))
            for v in s["versions"]
        )
        return SchemaDef(
            r.name,
            s["type"],
            s.get("source", ""),
            s.get("detail_type", ""),
            s.get("description", ""),
            versions,
            compile_schema(s["type"], versions[-1].content),
            owner_of(s),
        )

    def check(self, detail: Mapping[str, Any]) -> None:
        """Raise EntryError when ``detail`` does not fit the latest version."""
        try:
            validate(dict(detail), self.parsed, raise_errors=True)
        except ValidationError as exc:
            problems = "; ".join(str(e) for e in exc.errors)[:500] or "does not match"
            raise EntryError(
                "InvalidArgument",
                f"Detail does not match schema {self.name} version {self.latest.version}: "
                f"{problems}",
            ) from None


def validate_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValidationException(
            f"SchemaName {name!r} is not valid: 1-385 letters, digits, '.', '-', '_' or '@'"
        )
    return name


def compile_schema(schema_type: str, content: str) -> Any:
    """The parsed schema; ValidationException naming the problem when it is not valid."""
    if schema_type not in TYPES:
        raise ValidationException(f"Type {schema_type!r} is not supported: use {', '.join(TYPES)}")
    if len(content) > MAX_CONTENT:
        raise ValidationException(f"Content is longer than {MAX_CONTENT} characters")
    try:
        document = json.loads(content)
    except ValueError as exc:
        raise ValidationException(f"Content is not valid JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("type") != "record":
        raise ValidationException(
            "Content must be an Avro record schema: an event's detail is a JSON object"
        )
    if not isinstance(document.get("fields"), list):
        raise ValidationException("Content is not a valid Avro schema: a record needs fields")
    try:
        return parse_schema(document)
    except Exception as exc:  # fastavro raises several types for bad schemas
        raise ValidationException(f"Content is not a valid Avro schema: {exc}") from None
