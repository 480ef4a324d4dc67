"""Table definitions: what CreateTable accepts, as typed dataclasses in DynamoDB's shapes.

A definition lives in the registry (kind ``table``); every replica reads it from
there. Validation follows DynamoDB's CreateTable rules and messages.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eventplane import arn as arns
from eventplane import names
from eventplane.errors import ResourceNotFound, ValidationException
from eventplane.security.accounts import owned_by, owner_of
from eventplane.tables.indexes import (
    IndexDef,
    KeySchemaElement,
    SecondaryIndex,
    check_indexes,
    key_attributes,
)
from eventplane.tables.tags import check_count, check_tags

KIND = "table"
DEFAULT_PARTITIONS = 4
STREAM_RETENTION_MS = 24 * 3600 * 1000  # of the .stream topic, and of a stream switched off
MAX_PARTITIONS = 64
VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


@dataclass(frozen=True, slots=True)
class AttributeDefinition:
    attribute_name: str
    attribute_type: str  # S | N | B


@dataclass(frozen=True, slots=True)
class StreamSpecification:
    stream_enabled: bool = False
    stream_view_type: str = ""


@dataclass(frozen=True, slots=True)
class ProvisionedThroughput:
    """Accepted and echoed: capacity is not metered here (Kafka partitions set the pace)."""

    read_capacity_units: int
    write_capacity_units: int


@dataclass(frozen=True, slots=True)
class TimeToLive:
    """The table's TTL setting: the attribute named holds an expiry in epoch seconds."""

    attribute_name: str = ""
    enabled: bool = False


@dataclass(frozen=True, slots=True)
class PastStream:
    """A stream UpdateTable switched off: still readable (DISABLED) for its retention."""

    label: str
    view_type: str
    disabled_ms: int


@dataclass(frozen=True, slots=True)
class Split:
    """A repartition that took effect: ``from_partitions`` became ``to_partitions`` at
    ``at_ms`` (the children's shard-id time). ``offsets[p]`` is where stream partition
    ``p``'s records of the old layout end: its open shard closed there (``repartition.py``)."""

    from_partitions: int
    to_partitions: int
    at_ms: int
    offsets: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CreateTableInput:
    table_name: str
    key_schema: Sequence[KeySchemaElement]
    attribute_definitions: Sequence[AttributeDefinition]
    stream_specification: StreamSpecification = field(default_factory=StreamSpecification)
    partitions: int = 0
    billing_mode: str = ""
    provisioned_throughput: ProvisionedThroughput | None = None
    deletion_protection_enabled: bool = False
    global_secondary_indexes: Sequence[SecondaryIndex] = ()
    local_secondary_indexes: Sequence[SecondaryIndex] = ()
    # (key, value) pairs as given, so a key given twice can be refused (``tags.py``).
    tags: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True, slots=True)
class TableDef:
    """A table as stored in the registry."""

    name: str
    table_id: str
    hash_key: str
    range_key: str | None
    attribute_types: Mapping[str, str]
    partitions: int
    created_ms: int
    stream: StreamSpecification
    stream_label: str  # "" when streams were never enabled
    billing_mode: str
    throughput: ProvisionedThroughput | None = None  # PROVISIONED tables only
    deletion_protection: bool = False
    ttl: TimeToLive = field(default_factory=TimeToLive)
    past_streams: tuple[PastStream, ...] = ()  # switched off within the last 24 h
    indexes: tuple[IndexDef, ...] = ()  # LSIs and GSIs (``indexes.py``)
    tags: Mapping[str, str] = field(default_factory=dict)  # checked by ``tags.py``
    # A repartition in progress (UpdateTable ``partitions``): the count it goes to, 0 when
    # none. ``partitions`` keeps routing keys until every partition has moved its items.
    target_partitions: int = 0
    splits: tuple[Split, ...] = ()  # the repartitions done, oldest first
    # The account the table belongs to (its creator's).
    account: str = field(default_factory=lambda: arns.identity().account)

    @property
    def initial_partitions(self) -> int:
        """The partition count the table was created with."""
        return self.splits[0].from_partitions if self.splits else self.partitions

    @property
    def gsis(self) -> tuple[IndexDef, ...]:
        return tuple(d for d in self.indexes if d.is_global)

    @property
    def lsis(self) -> tuple[IndexDef, ...]:
        return tuple(d for d in self.indexes if not d.is_global)

    def index(self, name: str) -> IndexDef | None:
        return next((d for d in self.indexes if d.name == name), None)

    def index_arn(self, name: str) -> str:
        return f"{self.arn}/index/{name}"

    @property
    def plain_name(self) -> str:
        """The name callers see (``name`` is the internal one: ``tables/references.py``)."""
        return names.plain(self.name)

    @property
    def arn(self) -> str:
        return table_arn(self.plain_name, self.account)

    @property
    def stream_arn(self) -> str:
        if not self.stream_label:
            return ""
        return stream_arn(self.plain_name, self.stream_label, self.account)

    @property
    def key_names(self) -> tuple[str, ...]:
        return (self.hash_key,) if self.range_key is None else (self.hash_key, self.range_key)

    def key_schema(self) -> list[KeySchemaElement]:
        keys = [KeySchemaElement(self.hash_key, "HASH")]
        if self.range_key is not None:
            keys.append(KeySchemaElement(self.range_key, "RANGE"))
        return keys

    def attribute_definitions(self) -> list[AttributeDefinition]:
        return [AttributeDefinition(n, t) for n, t in sorted(self.attribute_types.items())]

    def to_spec(self) -> dict[str, Any]:
        return owned_by(self._spec(), self.account)

    def _spec(self) -> dict[str, Any]:
        return {
            "table_id": self.table_id,
            "hash_key": self.hash_key,
            "range_key": self.range_key,
            "attribute_types": dict(self.attribute_types),
            "partitions": self.partitions,
            "created_ms": self.created_ms,
            "stream_enabled": self.stream.stream_enabled,
            "stream_view_type": self.stream.stream_view_type,
            "stream_label": self.stream_label,
            "billing_mode": self.billing_mode,
            "read_capacity_units": self.throughput.read_capacity_units if self.throughput else 0,
            "write_capacity_units": self.throughput.write_capacity_units if self.throughput else 0,
            "deletion_protection": self.deletion_protection,
            "ttl_attribute": self.ttl.attribute_name,
            "ttl_enabled": self.ttl.enabled,
            "past_streams": [[p.label, p.view_type, p.disabled_ms] for p in self.past_streams],
            "indexes": [d.to_spec() for d in self.indexes],
            "tags": dict(self.tags),
            "target_partitions": self.target_partitions,
            "splits": [
                [x.from_partitions, x.to_partitions, x.at_ms, list(x.offsets)] for x in self.splits
            ],
        }

    @staticmethod
    def from_spec(name: str, spec: Mapping[str, Any]) -> TableDef:
        return TableDef(
            name=name,
            table_id=str(spec["table_id"]),
            hash_key=str(spec["hash_key"]),
            range_key=spec.get("range_key"),
            attribute_types=dict(spec["attribute_types"]),
            partitions=int(spec["partitions"]),
            created_ms=int(spec["created_ms"]),
            stream=StreamSpecification(
                bool(spec.get("stream_enabled")), str(spec.get("stream_view_type") or "")
            ),
            stream_label=str(spec.get("stream_label") or ""),
            billing_mode=str(spec.get("billing_mode") or "PAY_PER_REQUEST"),
            throughput=(
                ProvisionedThroughput(
                    int(spec["read_capacity_units"]), int(spec["write_capacity_units"])
                )
                if spec.get("read_capacity_units")
                else None
            ),
            deletion_protection=bool(spec.get("deletion_protection")),
            ttl=TimeToLive(str(spec.get("ttl_attribute") or ""), bool(spec.get("ttl_enabled"))),
            past_streams=tuple(
                PastStream(str(p[0]), str(p[1]), int(p[2])) for p in spec.get("past_streams") or ()
            ),
            indexes=tuple(IndexDef.from_spec(d) for d in spec.get("indexes") or ()),
            tags={str(k): str(v) for k, v in (spec.get("tags") or {}).items()},
            target_partitions=int(spec.get("target_partitions") or 0),
            splits=tuple(
                Split(int(x[0]), int(x[1]), int(x[2]), tuple(int(o) for o in x[3]))
                for x in spec.get("splits") or ()
            ),
            account=owner_of(spec),
        )

    def stream_of(self, label: str) -> tuple[str, bool] | None:
        """(view type, enabled) of this table's stream with ``label``, None if unknown."""
        if label and label == self.stream_label:
            return self.stream.stream_view_type or self._past_view(
                label
            ), self.stream.stream_enabled
        view = self._past_view(label)
        return (view, False) if view else None

    def _past_view(self, label: str) -> str:
        return next((p.view_type for p in self.past_streams if p.label == label), "")


def missing_table(arn: str) -> ResourceNotFound:
    """DynamoDB's "not found" for the table (or stream) ``arn`` names."""
    resource = arn.split(":", 5)[-1]
    if "/stream/" in resource:
        return ResourceNotFound(f"Requested resource not found: Stream: {arn} not found")
    name = resource.removeprefix("table/").split("/", 1)[0]
    return ResourceNotFound(f"Requested resource not found: Table: {name} not found")


def table_arn(name: str, account: str | None = None) -> str:
    return arns.table_arn(name, account)


def stream_arn(name: str, label: str, account: str | None = None) -> str:
    return arns.stream_arn(name, label, account)


def stream_label(created_ms: int) -> str:
    """DynamoDB's label form: the stream's creation time, 2015-05-11T21:21:33.291."""
    dt = datetime.fromtimestamp(created_ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created_ms % 1000:03d}"


def parse_stream_arn(arn: str) -> tuple[str, str]:
    """(table name, stream label) of a stream ARN (any region and account), or
    ValidationException."""
    found = arns.parse_as(arn, arns.Kind.STREAM)
    if found is None or not found.qualifier:
        raise ValidationException(f"Invalid StreamArn: {arn!r}")
    return found.name, found.qualifier


def validate_table_name(name: str, field_name: str = "tableName") -> str:
    if not _NAME.match(name or ""):
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at '{field_name}' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ and "
            "have length between 3 and 255"
        )
    return name


def new_table(req: CreateTableInput, now_ms: int) -> TableDef:
    """Validate CreateTable and build the definition (DynamoDB's rules and messages)."""
    validate_table_name(req.table_name)
    if not req.key_schema:
        raise ValidationException(
            "1 validation error detected: Value null at 'keySchema' failed to satisfy "
            "constraint: Member must not be null"
        )
    if len(req.key_schema) > 2:
        raise ValidationException(
            "1 validation error detected: Value at 'keySchema' failed to satisfy constraint: "
            "Member must have length less than or equal to 2"
        )
    hashes = [k for k in req.key_schema if k.key_type == "HASH"]
    ranges = [k for k in req.key_schema if k.key_type == "RANGE"]
    bad = [k.key_type for k in req.key_schema if k.key_type not in ("HASH", "RANGE")]
    if bad:
        raise ValidationException(
            f"1 validation error detected: Value '{bad[0]}' at 'keySchema.1.member.keyType' "
            "failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]"
        )
    if len(hashes) != 1 or req.key_schema[0].key_type != "HASH":
        raise ValidationException(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
        )
    if len(ranges) > 1:
        raise ValidationException("Too many range keys in the KeySchema")
    types: dict[str, str] = {}
    for d in req.attribute_definitions:
        if d.attribute_type not in ("S", "N", "B"):
            raise ValidationException(
                f"1 validation error detected: Value '{d.attribute_type}' at "
                "'attributeDefinitions.member.attributeType' failed to satisfy constraint: "
                "Member must satisfy enum value set: [B, N, S]"
            )
        if d.attribute_name in types:
            raise ValidationException(
                "Cannot have two attributes with the same name: "
                f"{d.attribute_name} in AttributeDefinitions"
            )
        types[d.attribute_name] = d.attribute_type
    names = [k.attribute_name for k in req.key_schema]
    if len(set(names)) != len(names):
        raise ValidationException(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name"
        )
    if any(n not in types for n in names):
        raise ValidationException(
            "One or more parameter values were invalid: Some index key attributes are not "
            "defined in AttributeDefinitions. Keys: ["
            + ", ".join(names)
            + "], AttributeDefinitions: ["
            + ", ".join(types)
            + "]"
        )
    hash_key = hashes[0].attribute_name
    range_key = ranges[0].attribute_name if ranges else None
    indexes = check_indexes(
        req.global_secondary_indexes, req.local_secondary_indexes, types, hash_key, range_key
    )
    if set(types) - key_attributes(hash_key, range_key, indexes):
        raise ValidationException(
            "One or more parameter values were invalid: Number of attributes in KeySchema "
            "does not exactly match number of attributes defined in AttributeDefinitions"
        )
    stream = _stream_spec(req.stream_specification)
    partitions = req.partitions or DEFAULT_PARTITIONS
    if not 1 <= partitions <= MAX_PARTITIONS:
        raise ValidationException(
            f"Invalid value for Partitions: {partitions}; it must be between 1 and {MAX_PARTITIONS}"
        )
    # DynamoDB's BillingMode defaults to PROVISIONED, which is what a request carrying only
    # ProvisionedThroughput (the API reference's own CreateTable example) means; with
    # neither, eventplane keeps its on-demand default rather than refuse the table.
    implied = "PROVISIONED" if req.provisioned_throughput is not None else "PAY_PER_REQUEST"
    billing = req.billing_mode or implied
    if billing not in ("PAY_PER_REQUEST", "PROVISIONED"):
        raise ValidationException(
            f"1 validation error detected: Value '{billing}' at 'billingMode' failed to satisfy "
            "constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
        )
    throughput = check_throughput(billing, req.provisioned_throughput)
    return TableDef(
        name=req.table_name,
        table_id=str(uuid.uuid4()),
        hash_key=hash_key,
        range_key=range_key,
        attribute_types=types,
        partitions=partitions,
        created_ms=now_ms,
        stream=stream,
        stream_label=stream_label(now_ms) if stream.stream_enabled else "",
        billing_mode=billing,
        throughput=throughput,
        deletion_protection=req.deletion_protection_enabled,
        indexes=indexes,
        tags=check_count(check_tags(req.tags)),
    )


def check_throughput(
    billing: str, throughput: ProvisionedThroughput | None
) -> ProvisionedThroughput | None:
    """ProvisionedThroughput as DynamoDB checks it: only and always with PROVISIONED
    ("If you set BillingMode as PROVISIONED, you must specify this property"), each unit
    count at least 1."""
    if throughput is None:
        if billing == "PROVISIONED":
            raise ValidationException(
                "One or more parameter values were invalid: ProvisionedThroughput must be "
                "specified when BillingMode is PROVISIONED"
            )
        return None
    if billing == "PAY_PER_REQUEST":
        raise ValidationException(
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
            "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
        )
    for name, units in (
        ("readCapacityUnits", throughput.read_capacity_units),
        ("writeCapacityUnits", throughput.write_capacity_units),
    ):
        if units < 1:
            raise ValidationException(
                f"1 validation error detected: Value '{units}' at "
                f"'provisionedThroughput.{name}' failed to satisfy constraint: Member must "
                "have value greater than or equal to 1"
            )
    return throughput


def _stream_spec(spec: StreamSpecification) -> StreamSpecification:
    if not spec.stream_enabled:
        if spec.stream_view_type:
            raise ValidationException(
                "One or more parameter values were invalid: StreamViewType may not be "
                "specified when StreamEnabled is false"
            )
        return StreamSpecification()
    if spec.stream_view_type not in VIEW_TYPES:
        raise ValidationException(
            "One or more parameter values were invalid: StreamViewType must be one of "
            + ", ".join(VIEW_TYPES)
            if spec.stream_view_type
            else "One or more parameter values were invalid: StreamViewType is required when "
            "StreamEnabled is true"
        )
    return spec


def page_limit(limit: int, maximum: int) -> int:
    """A ``Limit`` member, checked as DynamoDB checks it: 1 to ``maximum``; 0 (not
    given) is ``maximum``."""
    if not 0 <= limit <= maximum:
        bound = "greater than or equal to 1" if limit < 1 else f"less than or equal to {maximum}"
        raise ValidationException(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            f"constraint: Member must have value {bound}"
        )
    return limit or maximum


def list_tables_page(names: Sequence[str], start: str, limit: int) -> tuple[list[str], str | None]:
    """ListTables' page: names after ``start`` in order, at most ``limit`` (1-100, 0 for
    100), and the last one returned when more follow."""
    limit = page_limit(limit, 100)
    after = sorted(n for n in names if not start or n > start)
    page = after[:limit]
    return page, (page[-1] if len(after) > limit else None)
