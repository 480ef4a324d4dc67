"""TestState: run one state's definition with a given input (a part of ``WorkflowsCore``).

The state runs as the interpreter would run it, once, without an execution: Pass,
Choice, Wait (returns at once: TestState does not wait), Succeed, Fail and Task states
with a function or another integration (``perform_task``; activities, ``.sync`` and
``.waitForTaskToken`` are refused as on AWS, and so are Parallel and Map). The answer
is AWS's: ``status`` SUCCEEDED, FAILED, RETRIABLE (an error a Retrier would retry) or
CAUGHT_ERROR (an error a Catcher handles: its output and Next), the output, error,
cause and next state, and at DEBUG and TRACE the data at each processing step
(``inspection_data``). TRACE adds nothing more here (it shows HTTP tasks' requests,
and HTTP tasks are not supported yet).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

from eventplane.errors import ValidationException
from eventplane.workflows import arns, asl, lang
from eventplane.workflows.accounts import acting_role, caller_role
from eventplane.workflows.asl import (
    ChoiceState,
    FailState,
    PassState,
    StateDef,
    StatesError,
    SucceedState,
    TaskState,
    WaitState,
)
from eventplane.workflows.errors import InvalidDefinition, InvalidExecutionInput
from eventplane.workflows.interpreter import iso
from eventplane.workflows.lang import dumps
from eventplane.workflows.machine import Machine, resource_kind
from eventplane.workflows.perform import Outcome
from eventplane.workflows.shapes import json_text, require

LEVELS = ("INFO", "DEBUG", "TRACE")
NAME = "TestState"
LIMIT_S = 300.0  # TestState runs at most five minutes, then States.Timeout (AWS)


@dataclass(frozen=True, slots=True)
class InspectionData:
    """The data at each step of the state's processing, as JSON text (DEBUG, TRACE)."""

    input: str | None = None
    after_arguments: str | None = None  # JSONata mode
    after_input_path: str | None = None
    after_parameters: str | None = None
    result: str | None = None
    after_result_selector: str | None = None
    after_result_path: str | None = None
    variables: str | None = None


@dataclass(frozen=True, slots=True)
class TestStateResult:
    __test__ = False  # not a pytest test class, despite its name

    status: str  # SUCCEEDED, FAILED, RETRIABLE, CAUGHT_ERROR
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    next_state: str | None = None
    inspection_data: InspectionData | None = None


def _state(definition: str) -> StateDef:
    """The one state, validated as AWS validates a state machine's states."""
    try:
        raw = json.loads(definition)
    except ValueError as exc:
        raise InvalidDefinition(f"Invalid State Definition: not JSON ({exc})") from None
    if not isinstance(raw, dict) or "Type" not in raw:
        raise InvalidDefinition("Invalid State Definition: a state is a JSON object with a Type")
    if raw["Type"] in ("Parallel", "Map"):
        raise ValidationException(f"TestState does not support {raw['Type']} states (definition)")
    # Its transitions name states that are not here: stand-ins make the document whole.
    targets = {raw.get("Next"), raw.get("Default")}
    for handler in [*(raw.get("Choices") or []), *(raw.get("Catch") or [])]:
        if isinstance(handler, dict):
            targets.add(handler.get("Next"))
    states: dict[str, Any] = {
        t: {"Type": "Succeed"} for t in targets if isinstance(t, str) and t != NAME
    }
    states[NAME] = raw
    text = json.dumps({"StartAt": NAME, "States": states})
    asl.parse_definition(text)
    sdef = Machine(text).state([], NAME)
    if isinstance(sdef, TaskState):
        rtype, action, waits = resource_kind(sdef.resource)
        if rtype == "activity" or waits or ".sync" in action:
            raise ValidationException(
                "TestState does not support activity tasks, .sync or .waitForTaskToken "
                f"integrations (definition Resource '{sdef.resource}')"
            )
    return sdef


class _Trace:
    """Collects inspection data while the state runs (only what DEBUG shows)."""

    def __init__(self, on: bool) -> None:
        self.on = on
        self.data: dict[str, str] = {}

    def put(self, key: str, value: Any) -> None:
        if self.on:
            self.data[key] = dumps(value)

    def result(self) -> InspectionData | None:
        return InspectionData(**self.data) if self.on else None


class TestStateActions:
    __test__ = False  # not a pytest test class, despite its name

    async def perform_task(
        self,
        resource: str,
        payload: Any,
        waits: bool,
        parent_arn: str | None = None,
        task_id: str | None = None,
        token: str | None = None,
    ) -> Outcome:
        raise NotImplementedError  # NestedActions'

    async def test_state(
        self,
        definition: str,
        role_arn: str = "",
        input: str = "",
        inspection_level: str = "INFO",
        reveal_secrets: bool = False,
    ) -> TestStateResult:
        """Run one state (its ASL definition) with ``input``; see the module docstring."""
        level = inspection_level or "INFO"
        if level not in LEVELS:
            raise ValidationException(f"inspectionLevel must be one of {', '.join(LEVELS)}")
        require(definition, "definition")
        sdef = _state(definition)
        raw = json.loads(json_text(input, "input", InvalidExecutionInput))
        trace = _Trace(level != "INFO")
        trace.put("input", raw)
        try:
            with acting_role(caller_role(role_arn)):  # the caller's account's role (accounts)
                return await asyncio.wait_for(self._run_one(sdef, raw, trace), LIMIT_S)
        except TimeoutError:
            return TestStateResult(
                "FAILED", None, "States.Timeout", "TestState ran longer than 300 seconds"
            )

    async def _run_one(self, sdef: StateDef, raw: Any, trace: _Trace) -> TestStateResult:
        machine = f"{NAME}-{uuid.uuid4().hex[:8]}"
        ctx: dict[str, Any] = {
            "Execution": {
                "Id": arns.execution_arn(machine, "test"),
                "Input": raw,
                "Name": "test",
                "StartTime": iso(0),
            },
            "State": {"EnteredTime": iso(0), "Name": NAME, "RetryCount": 0},
            "StateMachine": {"Id": arns.state_machine_arn(machine), "Name": machine},
        }
        variables: dict[str, Any] = {}
        try:
            if isinstance(sdef, ChoiceState):
                target, output, values = lang.choose(sdef, raw, ctx, variables)
                if target is None:
                    raise StatesError(
                        "States.NoChoiceMatched",
                        f"No Choice Rules matched and no Default was specified for the state "
                        f"'{NAME}'",
                    )
                return self._done(trace, output, target, values)
            if isinstance(sdef, WaitState | SucceedState):
                if isinstance(sdef, WaitState):
                    lang.wait_until_ms(sdef, raw, ctx, variables, 0)  # its fields must resolve
                output = lang.passthrough_output(sdef, raw, ctx, variables)
                return self._done(trace, output, None if sdef.end else sdef.next, {})
            if isinstance(sdef, FailState):
                error, cause = lang.fail_error(sdef, raw, ctx, variables)
                return TestStateResult("FAILED", None, error, cause, None, trace.result())
            self._trace_input(sdef, raw, ctx, variables, trace)
            effective = lang.effective_input(sdef, raw, ctx, variables)
            if isinstance(sdef, PassState):
                result = lang.pass_result(sdef, effective)
            else:
                assert isinstance(sdef, TaskState)
                out = await self.perform_task(sdef.resource, effective, False)
                if not out.ok:
                    error = out.error or "States.TaskFailed"
                    return self._failed(sdef, raw, ctx, error, out.cause or "", trace)
                result = json.loads(out.output or "null")
            trace.put("result", result)
            self._trace_result(sdef, raw, result, ctx, variables, trace)
            outcome = asl.complete_state(sdef, raw, result, ctx, variables)
            return self._done(
                trace, outcome.output, None if sdef.end else sdef.next, outcome.assigned
            )
        except StatesError as exc:
            return self._failed(sdef, raw, ctx, exc.error, exc.cause, trace)

    @staticmethod
    def _done(
        trace: _Trace, output: Any, next_state: str | None, assigned: dict[str, Any]
    ) -> TestStateResult:
        if assigned:
            trace.put("variables", assigned)
        return TestStateResult("SUCCEEDED", dumps(output), None, None, next_state, trace.result())

    @staticmethod
    def _failed(
        sdef: StateDef, raw: Any, ctx: Any, error: str, cause: str, trace: _Trace
    ) -> TestStateResult:
        """RETRIABLE if a Retrier would retry, CAUGHT_ERROR if a Catcher takes it, else FAILED."""
        if isinstance(sdef, TaskState):
            for retrier in sdef.retry:
                if lang.matches_error(retrier.error_equals, error):
                    if retrier.max_attempts > 0:
                        return TestStateResult(
                            "RETRIABLE", None, error, cause, None, trace.result()
                        )
                    break
            for catcher in sdef.catch:
                if lang.matches_error(catcher.error_equals, error):
                    try:
                        caught = asl.complete_catch(sdef, catcher, raw, error, cause, ctx, {})
                    except StatesError as exc:
                        return TestStateResult(
                            "FAILED", None, exc.error, exc.cause, None, trace.result()
                        )
                    if caught.assigned:
                        trace.put("variables", caught.assigned)
                    return TestStateResult(
                        "CAUGHT_ERROR",
                        dumps(caught.output),
                        error,
                        cause,
                        catcher.next,
                        trace.result(),
                    )
        return TestStateResult("FAILED", None, error, cause, None, trace.result())

    @staticmethod
    def _trace_input(
        sdef: StateDef, raw: Any, ctx: Any, variables: dict[str, Any], trace: _Trace
    ) -> None:
        if not trace.on:
            return
        if sdef.query_language == "JSONata":
            trace.put("after_arguments", lang.effective_input(sdef, raw, ctx, variables))
            return
        after_input_path = asl.apply_input_path(sdef.input_path, raw, variables)
        trace.put("after_input_path", after_input_path)
        parameters = getattr(sdef, "parameters", None)
        if parameters is not None:
            after = asl.apply_parameters(parameters, after_input_path, ctx, variables)
            trace.put("after_parameters", after)
        else:
            trace.put("after_parameters", after_input_path)

    @staticmethod
    def _trace_result(
        sdef: StateDef, raw: Any, result: Any, ctx: Any, variables: dict[str, Any], trace: _Trace
    ) -> None:
        if not trace.on or sdef.query_language == "JSONata":
            return
        selector = getattr(sdef, "result_selector", None)
        selected = (
            asl.apply_result_selector(selector, result, ctx, variables)
            if selector is not None
            else result
        )
        trace.put("after_result_selector", selected)
        path = getattr(sdef, "result_path", "$")
        trace.put("after_result_path", asl.apply_result_path(raw, selected, path))
