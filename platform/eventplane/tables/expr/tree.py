"""The typed expression tree the parser produces (frozen, hashable, cacheable).

Trees hold the expression text's own tokens: path names are either attribute names
(``a``) or ``#placeholders``, values are ``:placeholders``. They are resolved against a
request's ExpressionAttributeNames/Values when evaluated, so one parsed tree serves every
request that sends the same expression text.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Arith",
    "Between",
    "Call",
    "Compare",
    "Condition",
    "In",
    "Logical",
    "Not",
    "Operand",
    "Path",
    "PathElement",
    "Projection",
    "SetAction",
    "SetValue",
    "Update",
    "UpdateAction",
    "Value",
]

PathElement = str | int
"""A map key (attribute name or ``#placeholder``) or a list index."""


@dataclass(frozen=True, slots=True)
class Path:
    """A document path such as ``a.b[2].#c``."""

    elements: tuple[PathElement, ...]

    def __str__(self) -> str:
        out = ""
        for element in self.elements:
            out += (
                f"[{element}]" if isinstance(element, int) else (f".{element}" if out else element)
            )
        return out


@dataclass(frozen=True, slots=True)
class Value:
    """An ExpressionAttributeValues placeholder such as ``:v``."""

    name: str


@dataclass(frozen=True, slots=True)
class Call:
    """A function: attribute_exists, attribute_not_exists, attribute_type, begins_with,
    contains, size (conditions) or if_not_exists, list_append (updates)."""

    name: str
    args: tuple[Operand, ...]


Operand = Path | Value | Call


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # = <> < <= > >=
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class Between:
    operand: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True, slots=True)
class In:
    operand: Operand
    choices: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class Logical:
    op: str  # AND | OR
    left: Condition
    right: Condition


@dataclass(frozen=True, slots=True)
class Not:
    operand: Condition


Condition = Compare | Between | In | Logical | Not | Call


@dataclass(frozen=True, slots=True)
class Arith:
    op: str  # + | -
    left: Operand
    right: Operand


SetValue = Operand | Arith


@dataclass(frozen=True, slots=True)
class SetAction:
    path: Path
    value: SetValue


@dataclass(frozen=True, slots=True)
class UpdateAction:
    """An ADD or DELETE action: a path and the value operand to add or take away."""

    path: Path
    value: Operand


@dataclass(frozen=True, slots=True)
class Update:
    set: tuple[SetAction, ...] = ()
    remove: tuple[Path, ...] = ()
    add: tuple[UpdateAction, ...] = ()
    delete: tuple[UpdateAction, ...] = ()

    def paths(self) -> list[Path]:
        """Every path the update writes, in clause order (for overlap checks)."""
        return [
            *(a.path for a in self.set),
            *self.remove,
            *(a.path for a in self.add),
            *(a.path for a in self.delete),
        ]


@dataclass(frozen=True, slots=True)
class Projection:
    paths: tuple[Path, ...]
