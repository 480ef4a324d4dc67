"""Parse DynamoDB expressions with the lark grammar into the typed tree, once per text.

``parse_condition`` / ``parse_update`` / ``parse_projection`` check what the text alone
decides (syntax, reserved words, function names and arity, where a function may stand,
IN's 100 operands, repeated update clauses) and cache the tree by (kind, text). What
depends on a request's ExpressionAttributeNames/Values is checked by ``validate.py``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedInput, v_args
from lark.exceptions import UnexpectedEOF, UnexpectedToken, VisitError

from eventplane.tables.expr.errors import ValidationException
from eventplane.tables.expr.reserved import is_reserved
from eventplane.tables.expr.tree import (
    Arith,
    Between,
    Call,
    Compare,
    Condition,
    In,
    Logical,
    Not,
    Operand,
    Path,
    PathElement,
    Projection,
    SetAction,
    Update,
    UpdateAction,
    Value,
)

__all__ = [
    "CONDITION_FUNCTIONS",
    "UPDATE_FUNCTIONS",
    "parse_condition",
    "parse_projection",
    "parse_update",
]

CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
    "size": 1,
}
UPDATE_FUNCTIONS = {"if_not_exists": 2, "list_append": 2}
_NEEDS_PATH = {"attribute_exists", "attribute_not_exists", "attribute_type", "if_not_exists"}
MAX_IN_OPERANDS = 100
MAX_EXPRESSION_BYTES = 4096


class _Invalid(Exception):
    """A text-level problem found while building the tree (message without the prefix)."""

    def __init__(self, message: str, pos: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


@lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = resources.files("eventplane.tables.expr").joinpath("grammar.lark").read_text()
    return Lark(
        grammar,
        parser="lalr",
        start=["condition", "update", "projection"],
        propagate_positions=True,
        maybe_placeholders=False,
    )


# --- tree building -------------------------------------------------------------------


class _Build(Transformer[Token, Any]):
    """Turns lark's parse tree into the frozen dataclasses, checking as it goes."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.is_update = kind == "UpdateExpression"
        # Nodes already wrapped in parentheses: ((x)) is an error in DynamoDB. The tree
        # keeps every node alive while building, so ids are not reused.
        self.parenthesized: set[int] = set()

    # paths and operands
    def path(self, children: list[Token]) -> Path:
        elements: list[PathElement] = []
        for tok in children:
            if tok.type == "INDEX":
                elements.append(int(tok))
            elif tok.type == "NAME":
                if is_reserved(str(tok)):
                    raise _Invalid(f"Attribute name is a reserved keyword; reserved keyword: {tok}")
                elements.append(str(tok))
            else:
                elements.append(str(tok))
        return Path(tuple(elements))

    def value(self, children: list[Token]) -> Value:
        return Value(str(children[0]))

    def call(self, children: list[Any]) -> Call:
        name = str(children[0])
        args = tuple(c for c in children[1:] if c is not None)
        known = UPDATE_FUNCTIONS if self.is_update else CONDITION_FUNCTIONS
        other = CONDITION_FUNCTIONS if self.is_update else UPDATE_FUNCTIONS
        if name not in known:
            if name in other:
                where = "an update" if self.is_update else "a condition"
                raise _Invalid(
                    f"The function is not allowed in {where} expression; function: {name}"
                )
            raise _Invalid(f"Invalid function name; function: {name}")
        if len(args) != known[name]:
            raise _Invalid(
                "Incorrect number of operands for operator or function; "
                f"operator or function: {name}, number of operands: {len(args)}"
            )
        for arg in args:
            if isinstance(arg, Call) and arg.name != "size" and not self.is_update:
                _misused(arg)
        if name in _NEEDS_PATH and not isinstance(args[0], Path):
            raise _Invalid(
                f"Operator or function requires a document path; operator or function: {name}"
            )
        _distinct(name, args)
        return Call(name, args)

    # conditions
    @v_args(meta=True)
    def bare(self, meta: Any, children: list[Operand]) -> Condition:
        operand = children[0]
        if isinstance(operand, Call):
            if operand.name == "size":
                _misused(operand)
            return operand
        raise _Invalid("Syntax error", pos=meta.end_pos)

    def parens(self, children: list[Condition]) -> Condition:
        inner = children[0]
        if id(inner) in self.parenthesized:
            raise _Invalid("The expression has redundant parentheses;")
        self.parenthesized.add(id(inner))
        return inner

    def compare(self, children: list[Any]) -> Compare:
        left, op, right = children
        _operands_only(left, right)
        _distinct(str(op), (left, right))
        return Compare(str(op), left, right)

    def between(self, children: list[Operand]) -> Between:
        _operands_only(*children)
        return Between(children[0], children[1], children[2])

    def in_(self, children: list[Operand]) -> In:
        _operands_only(*children)
        if len(children) - 1 > MAX_IN_OPERANDS:
            raise _Invalid(
                "The IN operator is provided with too many operands; "
                f"number of operands: {len(children) - 1}"
            )
        return In(children[0], tuple(children[1:]))

    def and_(self, children: list[Condition]) -> Logical:
        return Logical("AND", children[0], children[1])

    def or_(self, children: list[Condition]) -> Logical:
        return Logical("OR", children[0], children[1])

    def not_(self, children: list[Condition]) -> Not:
        return Not(children[0])

    # updates
    def arith(self, children: list[Any]) -> Arith:
        return Arith(str(children[1]), children[0], children[2])

    def set_action(self, children: list[Any]) -> SetAction:
        return SetAction(children[0], children[-1])

    def set_clause(self, children: list[SetAction]) -> tuple[str, tuple[Any, ...]]:
        return ("SET", tuple(children))

    def remove_clause(self, children: list[Path]) -> tuple[str, tuple[Any, ...]]:
        return ("REMOVE", tuple(children))

    def _pairs(self, children: list[Any]) -> tuple[UpdateAction, ...]:
        return tuple(UpdateAction(p, v) for p, v in zip(children[::2], children[1::2], strict=True))

    def add_clause(self, children: list[Any]) -> tuple[str, tuple[Any, ...]]:
        return ("ADD", self._pairs(children))

    def delete_clause(self, children: list[Any]) -> tuple[str, tuple[Any, ...]]:
        return ("DELETE", self._pairs(children))

    def update(self, children: list[tuple[str, tuple[Any, ...]]]) -> Update:
        sections: dict[str, tuple[Any, ...]] = {}
        for name, actions in children:
            if name in sections:
                raise _Invalid(
                    f'The "{name}" section can only be used once in an update expression;'
                )
            sections[name] = actions
        return Update(
            set=sections.get("SET", ()),
            remove=sections.get("REMOVE", ()),
            add=sections.get("ADD", ()),
            delete=sections.get("DELETE", ()),
        )

    def projection(self, children: list[Path]) -> Projection:
        return Projection(tuple(children))


def _misused(call: Call) -> None:
    raise _Invalid(
        f"The function is not allowed to be used this way in an expression; function: {call.name}"
    )


def _operands_only(*operands: Operand) -> None:
    for operand in operands:
        if isinstance(operand, Call) and operand.name != "size":
            _misused(operand)


def _distinct(name: str, args: tuple[Operand, ...]) -> None:
    if len(args) == 2 and isinstance(args[0], Path) and args[0] == args[1]:
        raise _Invalid(
            "The first operand must be distinct from the remaining operands for this operator "
            f"or function; operator: {name}, first operand: {path_text(args[0].elements)}"
        )


def path_text(elements: tuple[PathElement, ...]) -> str:
    """A path as DynamoDB prints it in messages: ``[a, b, [2]]``."""
    return "[" + ", ".join(f"[{e}]" if isinstance(e, int) else e for e in elements) + "]"


# --- syntax errors -------------------------------------------------------------------

_TOKEN = re.compile(r"#[A-Za-z0-9_]*|:[A-Za-z0-9_]*|[A-Za-z0-9_]+|<>|<=|>=|\S")


def _syntax_error(kind: str, text: str, pos: int | None) -> ValidationException:
    """DynamoDB's message: the offending token and the text from the token before it to the
    token after it (``<EOF>`` at the end)."""
    spans = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    index = len(spans)
    if pos is not None:
        index = next((i for i, (start, end) in enumerate(spans) if end > pos), len(spans))
    if index >= len(spans):
        token = "<EOF>"
        near = text[spans[max(len(spans) - 2, 0)][0] :] if spans else ""
    else:
        token = text[spans[index][0] : spans[index][1]]
        first = spans[max(index - 1, 0)][0]
        last = spans[min(index + 1, len(spans) - 1)][1]
        near = text[first:last]
    return ValidationException(
        f'Invalid {kind}: Syntax error; token: "{token}", near: "{near.strip()}"'
    )


def _parse(kind: str, start: str, text: str) -> Any:
    if not isinstance(text, str) or not text.strip():
        raise ValidationException(f"Invalid {kind}: The expression can not be empty;")
    size = len(text.encode("utf-8"))
    if size > MAX_EXPRESSION_BYTES:
        raise ValidationException(
            f"Invalid {kind}: Expression size has exceeded the maximum allowed size; "
            f"expression size: {size}"
        )
    try:
        tree = _lark().parse(text, start=start)
    except UnexpectedEOF:
        raise _syntax_error(kind, text, None) from None
    except UnexpectedToken as err:
        pos = None if err.token.type == "$END" else err.token.start_pos
        raise _syntax_error(kind, text, pos) from None
    except UnexpectedCharacters as err:
        raise _syntax_error(kind, text, err.pos_in_stream) from None
    except UnexpectedInput as err:  # pragma: no cover - other lark input errors
        raise _syntax_error(kind, text, getattr(err, "pos_in_stream", None)) from None
    try:
        return _Build(kind).transform(tree)
    except VisitError as err:
        inner = err.orig_exc
        if isinstance(inner, _Invalid):
            if inner.message == "Syntax error":
                raise _syntax_error(kind, text, inner.pos) from None
            raise ValidationException(f"Invalid {kind}: {inner.message}") from None
        raise


@lru_cache(maxsize=4096)
def parse_condition(text: str, kind: str = "ConditionExpression") -> Condition:
    """A ConditionExpression, FilterExpression or KeyConditionExpression (``kind`` names it
    in messages)."""
    tree: Condition = _parse(kind, "condition", text)
    return tree


@lru_cache(maxsize=4096)
def parse_update(text: str) -> Update:
    tree: Update = _parse("UpdateExpression", "update", text)
    return tree


@lru_cache(maxsize=4096)
def parse_projection(text: str) -> Projection:
    tree: Projection = _parse("ProjectionExpression", "projection", text)
    return tree
