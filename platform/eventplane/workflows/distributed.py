"""The interpreter's side of a Distributed Map (``ProcessorConfig.Mode: DISTRIBUTED``).

Entering the state resolves what is pure (the items of the input, the reader's and the
writer's parameters, MaxConcurrency, the tolerated failures), names the Map Run
(``mapRun:MACHINE/LABEL:UUID``, derived from the execution, the frame and the step so a
retried step names the same run) and hands the run to the runtime as one task of the
internal resource ``MAP_RUN_RESOURCE``. ``map_run.py`` runs it (reads the items, starts
the child executions, writes the results) and reports the Map state's result as the
task's outcome: the Map then goes on as a Task does (ResultSelector, ResultPath, Retry,
Catch). History: ``MapStateEntered``, ``MapRunStarted``, then ``MapRunSucceeded`` or
``MapRunFailed`` (or ``MapRunAborted`` when the execution stops), ``MapStateExited``.
A redriven execution that re-enters the state redrives its Map Run: ``MapRunRedriven``
(with the run's redrive count) instead of ``MapRunStarted``, and the same ARN.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from eventplane import arn as arns
from eventplane.workflows import arns as wf_arns
from eventplane.workflows import lang
from eventplane.workflows.asl import MapState, apply_parameters, evaluate_template
from eventplane.workflows.asl.jsonata_mode import JsonataEnv
from eventplane.workflows.asl.paths import resolve_path
from eventplane.workflows.model import DispatchTask, Frame, TaskResult

if TYPE_CHECKING:
    from eventplane.workflows.interpreter import _Run

__all__ = ["MAP_RUN_RESOURCE", "map_run_arn", "result", "start"]

# Not a resource a definition may name: the task a Distributed Map state hands over.
MAP_RUN_RESOURCE = "arn:aws:states:::eventplane:mapRun"


def map_run_arn(machine: str, label: str, run_id: str) -> str:
    """The Map Run's ARN: of the machine of internal name ``machine``, in its account."""
    account, name = wf_arns.shown(wf_arns.MACHINE, machine)
    return arns.format_arn("states", f"mapRun:{name}/{label}:{run_id}", account=account)


def _parameters(
    sdef: MapState, block: Any, data: Any, ctx: Any, variables: dict[str, Any]
) -> dict[str, Any]:
    """A reader's or writer's Parameters (JSONPath) or Arguments (JSONata), resolved."""
    if not isinstance(block, dict):
        return {}
    if sdef.query_language == "JSONata":
        raw = block.get("Arguments", {})
        env = JsonataEnv(input=data, context=ctx, variables=variables)
        out = evaluate_template(raw, env, field="Arguments")
    else:
        out = apply_parameters(block.get("Parameters", {}), data, ctx, variables)
    return out if isinstance(out, dict) else {}


def _max_items(block: Any, data: Any, ctx: Any, variables: dict[str, Any]) -> int | None:
    config = block.get("ReaderConfig", {}) if isinstance(block, dict) else {}
    if not isinstance(config, dict):
        return None
    value = config.get("MaxItems")
    if value is None and "MaxItemsPath" in config:
        value = resolve_path(config["MaxItemsPath"], data, ctx, variables)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise lang.StatesError(
            "States.Runtime", f"ReaderConfig.MaxItems must be a non-negative integer: {value!r}"
        )
    return value or None  # 0: no limit, as AWS


def _processor(sdef: MapState) -> str:
    assert sdef.item_processor is not None
    raw = {k: v for k, v in sdef.item_processor.raw.items() if k != "ProcessorConfig"}
    raw["QueryLanguage"] = sdef.item_processor.query_language
    return json.dumps(raw, separators=(",", ":"))


def start(run: _Run, frame: Frame, sdef: MapState) -> None:
    s = run.state
    ctx = run.context(frame)
    v = frame.variables
    data = lang.map_input(sdef, frame.input, v)
    items = None if sdef.item_reader is not None else lang.map_items(sdef, data, ctx, v)
    reader = None
    if sdef.item_reader is not None:
        reader = {
            "Resource": sdef.item_reader.get("Resource"),
            "Parameters": _parameters(sdef, sdef.item_reader, data, ctx, v),
            "MaxItems": _max_items(sdef.item_reader, data, ctx, v),
        }
    writer = None
    if sdef.result_writer is not None:
        writer = {
            "Resource": sdef.result_writer.get("Resource"),
            "Parameters": _parameters(sdef, sdef.result_writer, data, ctx, v),
        }
    run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{s.execution_arn}/{frame.fid}/{s.seq}"))
    label = sdef.label or run_id.split("-", 1)[0]
    machine = wf_arns.parse_state_machine_arn(s.state_machine_arn)  # its internal name
    # A redrive of the execution redrives the Map Run the state ran before (its ARN).
    arn, redrives = run.redrive_map_runs.pop(frame.fid, (map_run_arn(machine, label, run_id), 0))
    task_id = run.next_id("k")
    p = frame.progress
    p.task_id = task_id
    p.map_run_arn = arn
    p.map_run_redrives = redrives
    s.tasks[task_id] = frame.fid
    payload = {
        "MapRunArn": arn,
        "ExecutionArn": s.execution_arn,
        "ChildMachine": f"{machine}/{label}",
        "Definition": _processor(sdef),
        "ExecutionType": sdef.execution_type or "STANDARD",
        "StateName": frame.state,
        "State": dict(sdef.raw),
        "QueryLanguage": sdef.query_language,
        "Items": items,
        "Reader": reader,
        "Writer": writer,
        "Input": data,
        "Context": ctx,
        "Variables": v,
        "MaxConcurrency": int(lang.map_number(sdef, "max_concurrency", data, ctx, v) or 0),
        "ToleratedFailureCount": lang.map_number(sdef, "tolerated_failure_count", data, ctx, v),
        "ToleratedFailurePercentage": lang.map_number(
            sdef, "tolerated_failure_percentage", data, ctx, v
        ),
        "RedriveCount": redrives,
    }
    if redrives:
        run.emit("MapRunRedriven", {"mapRunArn": arn, "redriveCount": redrives})
    else:
        run.emit("MapRunStarted", {"mapRunArn": arn})
    run.commands.append(DispatchTask(task_id, MAP_RUN_RESOURCE, payload, None, False, None, None))


def result(run: _Run, frame: Frame, sdef: MapState, outcome: TaskResult) -> None:
    """The Map Run ended: the Map state goes on with its output, or handles its error."""
    if outcome.submitted:
        return
    run.state.tasks.pop(outcome.task_id, None)
    run.end_task(frame)
    if outcome.ok:
        run.emit("MapRunSucceeded")
        run.finish(frame, sdef, json.loads(outcome.output or "null"))
        return
    error = outcome.error or "States.Runtime"
    cause = outcome.cause or ""
    run.emit("MapRunFailed", {"error": error, "cause": cause})
    run.handle_error(frame, sdef, error, cause)
