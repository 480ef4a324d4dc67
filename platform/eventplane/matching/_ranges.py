"""The ``numeric`` and ``cidr`` operators of event patterns and filter policies."""

from __future__ import annotations

import ipaddress
import json
from typing import TYPE_CHECKING, Any, Final

from eventplane.matching._pattern_base import (
    Path,
    PatternError,
    ValueTest,
    _check_number,
    _is_number,
    _require_str,
)

if TYPE_CHECKING:
    from eventplane.matching.patterns import Dialect


_LOWER_BOUNDS: Final = frozenset({">", ">="})
_UPPER_BOUNDS: Final = frozenset({"<", "<="})


def _numeric(operand: Any, path: Path, dialect: Dialect) -> ValueTest:
    if not isinstance(operand, list):
        raise PatternError("Value of numeric must be an array", path)
    if not operand or not isinstance(operand[0], str):
        member = json.dumps(operand[0]) if operand else "]"
        raise PatternError(f"Invalid member in numeric match: {member}", path)
    op = operand[0]
    if op not in _LOWER_BOUNDS | _UPPER_BOUNDS | {"="}:
        raise PatternError(f"Unrecognized numeric range operator: {op}", path)
    first = _numeric_operand(operand, 1, path, dialect)
    if len(operand) == 2:
        return _comparison(op, first)
    # Only "lower bound, then upper bound" forms a range, as in EventBridge.
    if op not in _LOWER_BOUNDS:
        raise PatternError("Too many elements in numeric expression", path)
    second_op = operand[2]
    if not isinstance(second_op, str):
        raise PatternError(f"Bad value in numeric range: {json.dumps(second_op)}", path)
    if second_op not in _UPPER_BOUNDS:
        raise PatternError(f"Bad numeric range operator: {second_op}", path)
    second = _numeric_operand(operand, 3, path, dialect)
    if len(operand) > 4:
        raise PatternError("Too many terms in numeric range expression", path)
    if not first < second:
        raise PatternError("Bottom must be less than top", path)
    low, high = _comparison(op, first), _comparison(second_op, second)
    return lambda v: low(v) and high(v)


def _numeric_operand(operand: list[Any], index: int, path: Path, dialect: Dialect) -> int | float:
    op = operand[index - 1]
    value = operand[index] if index < len(operand) else None
    if not _is_number(value):
        raise PatternError(f"Value of {'equals' if op == '=' else op} must be numeric", path)
    _check_number(value, True, path, dialect)
    return value


def _comparison(op: str, bound: int | float) -> ValueTest:
    if op == "=":
        return lambda v: _is_number(v) and v == bound
    if op == "<":
        return lambda v: _is_number(v) and v < bound
    if op == "<=":
        return lambda v: _is_number(v) and v <= bound
    if op == ">":
        return lambda v: _is_number(v) and v > bound
    return lambda v: _is_number(v) and v >= bound


def _cidr(operand: Any, path: Path, dialect: Dialect) -> ValueTest:
    text = _require_str(operand, "cidr match pattern must be a string", path)
    address, slash, bits = text.partition("/")
    if not slash or "/" in bits:
        raise PatternError("Malformed CIDR, one '/' required", path)
    if not (bits.isascii() and bits.isdigit()):
        raise PatternError("Malformed CIDR, mask bits must be an integer", path)
    try:
        network = ipaddress.ip_network(f"{address}/{int(bits)}", strict=False)
    except ValueError:
        raise PatternError(f"Invalid CIDR: {text}", path) from None
    version, low, high = network.version, int(network[0]), int(network[-1])

    def test(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        try:
            ip = ipaddress.ip_address(value)
        except ValueError:
            return False
        return ip.version == version and low <= int(ip) <= high

    return test
