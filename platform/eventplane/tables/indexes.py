"""Secondary indexes (GSIs and LSIs): their definitions, DynamoDB's rules, and projections.

An index is part of its table's definition in the registry (the compacted
``eventplane.resources`` topic), so it is as durable as the table and reaches every
replica. Its entries are derived from the table's items by each partition's owner
(``store.py``), restored with the partition after a move or a SIGKILL; nothing about
an index is written to Kafka besides its definition. See ``index_reads.py`` for how
a query over an index is answered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventplane.errors import ValidationException

Item = dict[str, Any]

MAX_GSIS = 20
MAX_LSIS = 5
MAX_NON_KEY_ATTRIBUTES = 100  # across every index of a table, as DynamoDB counts them
PROJECTION_TYPES = ("ALL", "KEYS_ONLY", "INCLUDE")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True, slots=True)
class KeySchemaElement:
    attribute_name: str
    key_type: str  # HASH | RANGE


@dataclass(frozen=True, slots=True)
class Projection:
    projection_type: str = "ALL"  # ALL | KEYS_ONLY | INCLUDE
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SecondaryIndex:
    """A GlobalSecondaryIndex or LocalSecondaryIndex as CreateTable/UpdateTable take it."""

    index_name: str
    key_schema: Sequence[KeySchemaElement]
    projection: Projection = field(default_factory=Projection)


@dataclass(frozen=True, slots=True)
class IndexDef:
    """An index as stored with its table."""

    name: str
    hash_key: str
    range_key: str | None
    projection: Projection
    is_global: bool
    status: str = "ACTIVE"  # CREATING | ACTIVE | DELETING (GSIs added or removed later)
    backfilling: bool = False

    @property
    def key_names(self) -> tuple[str, ...]:
        return (self.hash_key,) if self.range_key is None else (self.hash_key, self.range_key)

    def key_schema(self) -> list[tuple[str, str]]:
        keys = [(self.hash_key, "HASH")]
        if self.range_key is not None:
            keys.append((self.range_key, "RANGE"))
        return keys

    def holds(self, item: Item) -> bool:
        """Sparse: an item is in the index only when it has every index key attribute."""
        return all(k in item for k in self.key_names)

    def project(self, item: Item, table_keys: tuple[str, ...]) -> Item:
        """The attributes the index keeps of an item (its Projection)."""
        if self.projection.projection_type == "ALL":
            return item
        keep = set(table_keys) | set(self.key_names) | set(self.projection.non_key_attributes)
        return {n: v for n, v in item.items() if n in keep}

    def to_spec(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "hash_key": self.hash_key,
            "range_key": self.range_key,
            "projection_type": self.projection.projection_type,
            "non_key_attributes": list(self.projection.non_key_attributes),
            "global": self.is_global,
            "status": self.status,
            "backfilling": self.backfilling,
        }

    @staticmethod
    def from_spec(spec: Mapping[str, Any]) -> IndexDef:
        return IndexDef(
            name=str(spec["name"]),
            hash_key=str(spec["hash_key"]),
            range_key=spec.get("range_key"),
            projection=Projection(
                str(spec.get("projection_type") or "ALL"),
                tuple(spec.get("non_key_attributes") or ()),
            ),
            is_global=bool(spec.get("global")),
            status=str(spec.get("status") or "ACTIVE"),
            backfilling=bool(spec.get("backfilling")),
        )


def _invalid(text: str) -> ValidationException:
    return ValidationException("One or more parameter values were invalid: " + text)


def check_index(
    idx: SecondaryIndex, field_name: str, position: int, types: Mapping[str, str]
) -> IndexDef:
    """One index's own rules: name, key schema (defined attributes), projection."""
    name = idx.index_name or ""
    where = f"'{field_name}.{position}.member.indexName'"
    if not 3 <= len(name) <= 255:
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at {where} failed to satisfy "
            "constraint: Member must have length between 3 and 255"
        )
    if not _NAME.match(name):
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at {where} failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )
    keys = [(k.attribute_name, k.key_type) for k in idx.key_schema]
    if not keys or len(keys) > 2:
        raise ValidationException(
            f"1 validation error detected: Value at '{field_name}.{position}.member.keySchema' "
            "failed to satisfy constraint: Member must have length between 1 and 2"
        )
    if keys[0][1] != "HASH" or any(t not in ("HASH", "RANGE") for _, t in keys):
        raise _invalid(
            f"Invalid KeySchema: The first KeySchemaElement is not a HASH key type "
            f"for index: {name}"
        )
    if len(keys) == 2 and keys[1][1] != "RANGE":
        raise _invalid(f"Too many hash keys in the KeySchema of index: {name}")
    if len(keys) == 2 and keys[0][0] == keys[1][0]:
        raise _invalid(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name"
        )
    missing = [n for n, _ in keys if n not in types]
    if missing:
        raise _invalid(
            "Some index key attributes are not defined in AttributeDefinitions. Keys: ["
            + ", ".join(n for n, _ in keys)
            + "], AttributeDefinitions: ["
            + ", ".join(types)
            + "]"
        )
    projection = _projection(idx.projection, name)
    return IndexDef(
        name=name,
        hash_key=keys[0][0],
        range_key=keys[1][0] if len(keys) == 2 else None,
        projection=projection,
        is_global=field_name == "globalSecondaryIndexes",
    )


def _projection(p: Projection, index: str) -> Projection:
    kind = p.projection_type or ""
    if kind not in PROJECTION_TYPES:
        raise ValidationException(
            f"1 validation error detected: Value '{kind}' at 'projection.projectionType' failed "
            "to satisfy constraint: Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]"
            if kind
            else _invalid(f"Unknown ProjectionType: null for index: {index}").message
        )
    attrs = tuple(p.non_key_attributes)
    if kind == "INCLUDE" and not attrs:
        raise _invalid("ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
    if kind != "INCLUDE" and attrs:
        raise _invalid(f"ProjectionType is {kind}, but NonKeyAttributes is specified")
    if len(set(attrs)) != len(attrs):
        raise _invalid(f"Duplicate attributes in NonKeyAttributes for index: {index}")
    return Projection(kind, attrs)


def check_indexes(
    gsis: Sequence[SecondaryIndex],
    lsis: Sequence[SecondaryIndex],
    types: Mapping[str, str],
    hash_key: str,
    range_key: str | None,
) -> tuple[IndexDef, ...]:
    """Every index of a CreateTable request, against the table's key schema."""
    if len(gsis) > MAX_GSIS:
        raise _invalid(f"GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GSIS}")
    if len(lsis) > MAX_LSIS:
        raise _invalid(f"LocalSecondaryIndex count exceeds the per-table limit of {MAX_LSIS}")
    out: list[IndexDef] = []
    for field_name, group in (("localSecondaryIndexes", lsis), ("globalSecondaryIndexes", gsis)):
        for i, idx in enumerate(group, start=1):
            d = check_index(idx, field_name, i, types)
            if not d.is_global:
                _check_local(d, hash_key, range_key)
            out.append(d)
    names = [d.name for d in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise _invalid(f"Duplicate index name: {dupes[0]}")
    check_non_key_total(out)
    return tuple(out)


def _check_local(d: IndexDef, hash_key: str, range_key: str | None) -> None:
    if range_key is None:
        raise _invalid(
            "Table KeySchema does not have a range key, which is required when specifying a "
            "LocalSecondaryIndex"
        )
    if d.hash_key != hash_key:
        raise _invalid(
            "Index KeySchema does not have the same leading hash key as table KeySchema for "
            f"index: {d.name}. index hash key: {d.hash_key}, table hash key: {hash_key}"
        )
    if d.range_key is None:
        raise _invalid(f"Index KeySchema must have a range key for index: {d.name}")


def check_non_key_total(indexes: Sequence[IndexDef]) -> None:
    total = sum(len(d.projection.non_key_attributes) for d in indexes)
    if total > MAX_NON_KEY_ATTRIBUTES:
        raise _invalid(
            "The number of projected attributes in all indexes exceeds the limit of "
            f"{MAX_NON_KEY_ATTRIBUTES}, provided: {total}"
        )


def key_attributes(hash_key: str, range_key: str | None, indexes: Sequence[IndexDef]) -> set[str]:
    """Every attribute a key schema of the table or an index names: exactly the ones
    AttributeDefinitions must define."""
    names = {hash_key} | ({range_key} if range_key else set())
    for d in indexes:
        names.update(d.key_names)
    return names


def type_mismatch(indexes: Sequence[IndexDef], types: Mapping[str, str], item: Item) -> None:
    """ValidationException when an index key attribute of ``item`` has the wrong type."""
    for d in indexes:
        if d.status == "DELETING":
            continue
        for name in d.key_names:
            value = item.get(name)
            if value is None:
                continue
            actual = next(iter(value)) if isinstance(value, Mapping) and value else "?"
            want = types.get(name, "")
            if actual != want:
                raise _invalid(
                    f"Type mismatch for Index Key {name} Expected: {want} Actual: {actual} "
                    f"IndexName: {d.name}"
                )
            if actual in ("S", "B") and not value[actual]:
                raise ValidationException(
                    "One or more parameter values are not valid. A value specified for a "
                    "secondary index key is not supported. The AttributeValue for a key "
                    f"attribute cannot contain an empty {'string' if actual == 'S' else 'binary'}"
                    f" value. IndexName: {d.name}, IndexKey: {name}"
                )
