"""Workflow variables: evaluating ``Assign`` and the scopes of Parallel and Map.

All assignments of one ``Assign`` are evaluated against the variables as they
were when the state was entered (no assignment sees another of the same
state), then applied together. A Parallel branch or Map iteration gets a child
``Scope``: it reads the outer variables, but what it assigns stays in the
child and disappears with it (data leaves a branch only through its output).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eventplane.workflows.asl.intrinsics import IntrinsicEnv
from eventplane.workflows.asl.jsonata_mode import JsonataEnv, evaluate_template
from eventplane.workflows.asl.paths import apply_parameters

__all__ = ["Scope", "check_assign_names", "evaluate_assign"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_NAME = 80


def check_assign_names(assign: Any, language: str = "JSONPath") -> list[str]:
    """Messages for Assign keys that are not valid variable names.

    The ``.$`` suffix marks a path or intrinsic in JSONPath mode only; in JSONata
    mode a key is the variable name itself, so ``name.$`` is not a valid one.
    """
    if not isinstance(assign, dict):
        return ["The field 'Assign' must be an object"]
    problems = []
    jsonpath = language != "JSONata"
    for key in assign:
        name = key[:-2] if jsonpath and isinstance(key, str) and key.endswith(".$") else key
        if not isinstance(name, str) or not _NAME.match(name) or len(name) > _MAX_NAME:
            problems.append(
                f"'{key}' is not a valid variable name: letters, digits and '_', not starting "
                "with a digit, at most 80 characters"
            )
        elif name == "states":
            problems.append("'states' is reserved and cannot be assigned")
    return problems


def evaluate_assign(
    assign: Mapping[str, Any] | None,
    *,
    query_language: str,
    data: Any,
    context: Any,
    variables: Mapping[str, Any],
    jsonata_env: JsonataEnv | None = None,
    intrinsic_env: IntrinsicEnv | None = None,
) -> dict[str, Any]:
    """The new values to assign (not yet applied).

    JSONPath mode: ``key.$`` values are paths (``$`` is ``data``: the state's
    result after ResultSelector, a Pass result, the error output in a Catch,
    or the input of a Choice/Wait), ``$$`` the context, ``$name`` variables.
    JSONata mode: ``{% %}`` expressions see ``$states`` from ``jsonata_env``.
    """
    if not assign:
        return {}
    if query_language == "JSONata":
        env = jsonata_env or JsonataEnv(input=data, context=context, variables=variables)
        values = evaluate_template(dict(assign), env, field="Assign")
        return dict(values)
    values = apply_parameters(
        dict(assign), data, context, dict(variables), env=intrinsic_env, source_name="result"
    )
    return dict(values)


@dataclass
class Scope:
    """The variables one (sub-)execution sees; children read the parent's."""

    parent: Scope | None = None
    local: dict[str, Any] = field(default_factory=dict)

    def child(self) -> Scope:
        return Scope(parent=self)

    def snapshot(self) -> dict[str, Any]:
        """Every visible variable, inner names shadowing outer ones."""
        merged = self.parent.snapshot() if self.parent else {}
        merged.update(self.local)
        return merged

    def assign(self, values: Mapping[str, Any]) -> None:
        self.local.update(values)
