"""Finishing a state: its output and its variable assignments, computed together.

A state's ``Assign`` and its output are both derived from the same values and
must see the variables as they were when the state was entered, so they are
evaluated in one place, once (an intrinsic such as ``States.UUID`` in a
ResultSelector must not be evaluated twice). The engine applies
``assigned`` to its variable scope after recording the transition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eventplane.workflows.asl.definition import CatcherDef, ChoiceRule, StateDef
from eventplane.workflows.asl.intrinsics import IntrinsicEnv
from eventplane.workflows.asl.jsonata_mode import UNDEFINED, JsonataEnv, evaluate_template
from eventplane.workflows.asl.paths import (
    apply_output_path,
    apply_result_path,
    apply_result_selector,
)
from eventplane.workflows.asl.retry import catch_output, error_output
from eventplane.workflows.asl.variables import evaluate_assign

__all__ = ["StateOutcome", "complete_catch", "complete_state"]

_WITH_RESULT = ("Task", "Parallel", "Map")


@dataclass(frozen=True)
class StateOutcome:
    output: Any
    assigned: dict[str, Any] = field(default_factory=dict)


def complete_state(
    state: StateDef,
    raw_input: Any,
    result: Any,
    context: Any = None,
    variables: dict[str, Any] | None = None,
    *,
    rule: ChoiceRule | None = None,
    env: IntrinsicEnv | None = None,
) -> StateOutcome:
    """Output and assignments of a state that succeeded.

    ``result`` is the task/branch/iteration result (Task, Parallel, Map), the
    ``pass_result`` of a Pass state, or the effective input of a Choice, Wait
    or Succeed state. ``rule`` is the Choice rule that matched (its Assign and
    Output replace the state's); None when the Default was taken.
    """
    variables = dict(variables or {})
    assign = state.assign
    output_template, has_output = state.output, state.has_output
    if rule is not None:
        assign = rule.assign
        if rule.has_output:
            output_template, has_output = rule.output, True
    if state.query_language == "JSONata":
        jenv = JsonataEnv(
            input=raw_input,
            result=result if state.type in _WITH_RESULT else UNDEFINED,
            context=context,
            variables=variables,
            rng=env.rng if env else None,
            new_uuid=env.new_uuid if env else None,
        )
        assigned = evaluate_assign(
            assign, query_language="JSONata", data=raw_input, context=context,
            variables=variables, jsonata_env=jenv,
        )  # fmt: skip
        if has_output:
            output = evaluate_template(output_template, jenv, field="Output")
        else:
            output = result if state.type in _WITH_RESULT else raw_input
        return StateOutcome(output, assigned)
    selector = getattr(state, "result_selector", None)
    if selector is not None:
        result = apply_result_selector(selector, result, context, variables, env=env)
    assigned = evaluate_assign(
        assign, query_language="JSONPath", data=result, context=context,
        variables=variables, intrinsic_env=env,
    )  # fmt: skip
    combined = (
        apply_result_path(raw_input, result, state.result_path)
        if hasattr(state, "result_path")
        else result
    )
    return StateOutcome(apply_output_path(state.output_path, combined, variables), assigned)


def complete_catch(
    state: StateDef,
    catcher: CatcherDef,
    raw_input: Any,
    error: str,
    cause: str,
    context: Any = None,
    variables: dict[str, Any] | None = None,
) -> StateOutcome:
    """Output and assignments when ``catcher`` handles ``error`` (then go to catcher.next)."""
    variables = dict(variables or {})
    output = catch_output(
        state.query_language, catcher, raw_input, error, cause, context, variables
    )
    failure = error_output(error, cause)
    jenv = JsonataEnv(input=raw_input, error_output=failure, context=context, variables=variables)
    assigned = evaluate_assign(
        catcher.assign, query_language=state.query_language, data=failure, context=context,
        variables=variables, jsonata_env=jenv,
    )  # fmt: skip
    return StateOutcome(output, assigned)
