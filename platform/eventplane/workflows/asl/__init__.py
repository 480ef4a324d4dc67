"""The Amazon States Language, pure: definitions, validation, paths, intrinsics,
Choice rules, JSONata mode, variables, waits and retry rules.

No Kafka, no gRPC, no clock: the execution engine (``eventplane.workflows``)
feeds states, inputs, the context object, variables and ``now`` in, and gets
values or ``StatesError`` out.
"""

from eventplane.workflows.asl.choice import choose, choose_rule, evaluate_rule
from eventplane.workflows.asl.context import context_object
from eventplane.workflows.asl.definition import (
    CatcherDef,
    ChoiceRule,
    ChoiceState,
    FailState,
    MapState,
    ParallelState,
    PassState,
    RetrierDef,
    StateDef,
    StateMachineDef,
    SucceedState,
    TaskState,
    WaitState,
    parse_definition,
    validate_definition,
)
from eventplane.workflows.asl.diagnostics import Diagnostic
from eventplane.workflows.asl.errors import InvalidDefinition, StatesError
from eventplane.workflows.asl.fail import fail_error_and_cause
from eventplane.workflows.asl.intrinsics import IntrinsicEnv, evaluate_intrinsic, parse_intrinsic
from eventplane.workflows.asl.jsonata_mode import JsonataEnv, evaluate_expression, evaluate_template
from eventplane.workflows.asl.map_state import (
    batch_items,
    exceeds_tolerance,
    item_input,
    map_items,
    map_limits,
)
from eventplane.workflows.asl.outcome import StateOutcome, complete_catch, complete_state
from eventplane.workflows.asl.paths import (
    apply_input_path,
    apply_output_path,
    apply_parameters,
    apply_result_path,
    apply_result_selector,
    effective_input,
    pass_result,
    select,
    state_output,
)
from eventplane.workflows.asl.retry import (
    catch_output,
    error_output,
    find_catcher,
    find_retrier,
    matches_error,
    retry_delay,
)
from eventplane.workflows.asl.variables import Scope, evaluate_assign
from eventplane.workflows.asl.wait import resolve_task_timeouts, wait_until

__all__ = [
    "CatcherDef",
    "ChoiceRule",
    "ChoiceState",
    "Diagnostic",
    "FailState",
    "IntrinsicEnv",
    "InvalidDefinition",
    "JsonataEnv",
    "MapState",
    "ParallelState",
    "PassState",
    "RetrierDef",
    "Scope",
    "StateDef",
    "StateMachineDef",
    "StateOutcome",
    "StatesError",
    "SucceedState",
    "TaskState",
    "WaitState",
    "apply_input_path",
    "apply_output_path",
    "apply_parameters",
    "apply_result_path",
    "apply_result_selector",
    "batch_items",
    "catch_output",
    "choose",
    "choose_rule",
    "complete_catch",
    "complete_state",
    "context_object",
    "effective_input",
    "error_output",
    "evaluate_assign",
    "evaluate_expression",
    "evaluate_intrinsic",
    "evaluate_rule",
    "evaluate_template",
    "exceeds_tolerance",
    "fail_error_and_cause",
    "find_catcher",
    "find_retrier",
    "item_input",
    "map_items",
    "map_limits",
    "matches_error",
    "parse_definition",
    "parse_intrinsic",
    "pass_result",
    "resolve_task_timeouts",
    "retry_delay",
    "select",
    "state_output",
    "validate_definition",
    "wait_until",
]
