"""Definition validation with ValidateStateMachineDefinition's diagnostic codes.

Works on the raw JSON so that every problem is reported at once, each with a
JSON-pointer location (``/States/Pay/Next``), before anything is built. The
builder (``definition.build_machine``) only ever sees documents with no ERROR.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from eventplane.workflows.asl.diagnostics import Diagnostic
from eventplane.workflows.asl.distributed_rules import distributed_problems
from eventplane.workflows.asl.integrations import integration_problems
from eventplane.workflows.asl.paths import check_path, check_payload_template
from eventplane.workflows.asl.validation_handlers import HandlerChecks
from eventplane.workflows.asl.validation_rules import (
    COMPARISON_OPERATORS,
    FIELDS,
    JSONATA_ONLY,
    JSONPATH_ONLY,
    check_rule,
    jsonata_problems,
    resource_problems,
)
from eventplane.workflows.asl.validation_states import fail_problems, wait_problems
from eventplane.workflows.asl.variables import check_assign_names

__all__ = ["COMPARISON_OPERATORS", "MachineType", "validate_document"]

MachineType = Literal["STANDARD", "EXPRESS"]

_TOP_FIELDS = {"Comment", "StartAt", "States", "Version", "TimeoutSeconds", "QueryLanguage"}
_NESTED_FIELDS = {"Comment", "StartAt", "States", "ProcessorConfig"}
_MAX_INT = 99_999_999
_MAP_NUMBER_PATHS = (
    "MaxConcurrencyPath",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCountPath",
)
_PAIRS = (
    ("TimeoutSeconds", "TimeoutSecondsPath"),
    ("HeartbeatSeconds", "HeartbeatSecondsPath"),
    ("MaxConcurrency", "MaxConcurrencyPath"),
    ("ToleratedFailureCount", "ToleratedFailureCountPath"),
    ("ToleratedFailurePercentage", "ToleratedFailurePercentagePath"),
    ("Error", "ErrorPath"),
    ("Cause", "CausePath"),
)
_PATH_FIELDS = (
    "SecondsPath",
    "TimestampPath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "MaxConcurrencyPath",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCountPath",
)


def validate_document(
    text: str, *, machine_type: MachineType = "STANDARD"
) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    """(the parsed document or None, every diagnostic)."""
    if text is None or not str(text).strip():
        return None, [_err("MISSING_DESCRIPTION", "The definition is empty", "/")]
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                duplicates.append(key)
            out[key] = value
        return out

    try:
        doc = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        msg = f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
        return None, [_err("INVALID_JSON_DESCRIPTION", msg, "/")]
    except RecursionError:  # the decoder recurses per level of nesting
        return None, [_err("INVALID_JSON_DESCRIPTION", "The definition nests too deeply", "/")]
    if not isinstance(doc, dict):
        return None, [_err("SCHEMA_VALIDATION_FAILED", "The definition must be an object", "/")]
    checker = _Checker(machine_type)
    for key in duplicates:
        if checker.is_state_name(doc, key):
            checker.error("DUPLICATE_STATE_NAME", f"Duplicate State name: {key}", f"/States/{key}")
        else:
            checker.error("SCHEMA_VALIDATION_FAILED", f"Duplicate field '{key}'", "/")
    try:
        checker.machine(doc, "", "JSONPath", top=True)
    except RecursionError:  # Parameters or a Choice nested deeper than the checker recurses
        return None, [_err("SCHEMA_VALIDATION_FAILED", "The definition nests too deeply", "/")]
    return doc, checker.diagnostics


def _err(code: str, message: str, location: str) -> Diagnostic:
    return Diagnostic(severity="ERROR", code=code, message=message, location=location or "/")


class _Checker(HandlerChecks):
    def __init__(self, machine_type: MachineType) -> None:
        self.machine_type = machine_type
        self.diagnostics: list[Diagnostic] = []
        self.top_language = "JSONPath"

    def error(self, code: str, message: str, location: str) -> None:
        self.diagnostics.append(_err(code, message, location))

    def schema(self, message: str, location: str) -> None:
        self.error("SCHEMA_VALIDATION_FAILED", message, location)

    def warn(self, code: str, message: str, location: str) -> None:
        self.diagnostics.append(
            Diagnostic(severity="WARNING", code=code, message=message, location=location)
        )

    def is_state_name(self, doc: Any, name: str) -> bool:
        if isinstance(doc, dict):
            states = doc.get("States")
            if isinstance(states, dict) and name in states:
                return True
            return any(self.is_state_name(v, name) for v in doc.values())
        if isinstance(doc, list):
            return any(self.is_state_name(v, name) for v in doc)
        return False

    # --- machines -----------------------------------------------------------------

    def machine(self, doc: dict[str, Any], loc: str, inherited: str, *, top: bool) -> None:
        allowed = _TOP_FIELDS if top else _NESTED_FIELDS
        for key in doc:
            if key not in allowed:
                self.schema(f"Field '{key}' is not supported", loc or "/")
        # nested machines (ItemProcessor, Branches) inherit the top-level language
        language = doc.get("QueryLanguage", inherited) if top else inherited
        if language not in ("JSONPath", "JSONata"):
            self.schema(
                "The value for the field 'QueryLanguage' must be one of: [JSONPath, JSONata]",
                f"{loc}/QueryLanguage",
            )
            language = inherited
        if top:
            self.top_language = language
        if "TimeoutSeconds" in doc:
            self.int_range(doc["TimeoutSeconds"], 1, _MAX_INT, f"{loc}/TimeoutSeconds")
        states = doc.get("States")
        start = doc.get("StartAt")
        missing = [k for k in ("StartAt", "States") if k not in doc]
        if missing:
            self.schema(f"These fields are required: [{', '.join(missing)}]", loc or "/")
        if states is not None and (not isinstance(states, dict) or not states):
            self.schema("States must be a non-empty object", f"{loc}/States")
            return
        if not isinstance(states, dict):
            return
        if start is not None and (not isinstance(start, str) or start not in states):
            self.error(
                "MISSING_TRANSITION_TARGET", f"Missing 'Next' target: {start}", f"{loc}/StartAt"
            )
        for name, state in states.items():
            self.state(name, state, f"{loc}/States/{name}", language, set(states))
        self.graph(states, start, loc)

    def graph(self, states: dict[str, Any], start: Any, loc: str) -> None:
        seen: set[str] = set()
        todo = [start] if isinstance(start, str) and start in states else []
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            todo.extend(t for t in _targets(states[name]) if t in states)
        for name in states:
            if name not in seen and start in states:
                self.error(
                    "MISSING_TRANSITION_TARGET",
                    f'State "{name}" is not reachable.',
                    f"{loc}/States/{name}",
                )
        terminal = any(
            isinstance(s, dict) and (s.get("End") is True or s.get("Type") in ("Succeed", "Fail"))
            for s in states.values()
        )
        if not terminal:
            self.error("MISSING_END_STATE", "Workflow has no terminal state", loc or "/")

    # --- states -------------------------------------------------------------------

    def state(self, name: str, s: Any, loc: str, inherited: str, names: set[str]) -> None:
        if len(name) > 80 or not name:
            self.error("INVALID_STATE_NAME", "State names are 1 to 80 characters", loc)
        if not isinstance(s, dict):
            self.schema(f"State '{name}' must be an object", loc)
            return
        kind = s.get("Type")
        if kind not in FIELDS:
            self.schema(f"The field 'Type' has an invalid value: {json.dumps(kind)}", f"{loc}/Type")
            return
        language = s.get("QueryLanguage", inherited)
        if language not in ("JSONPath", "JSONata"):
            self.schema(
                "The value for the field 'QueryLanguage' must be one of: [JSONPath, JSONata]",
                f"{loc}/QueryLanguage",
            )
            language = inherited
        if inherited == "JSONata" and s.get("QueryLanguage") == "JSONPath":
            self.schema(
                "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
                f"{loc}/QueryLanguage",
            )
        for key in s:
            if key not in FIELDS[kind]:
                self.schema(f"Field '{key}' is not supported", loc)
            elif (language == "JSONata" and key in JSONPATH_ONLY) or (
                language == "JSONPath" and key in JSONATA_ONLY
            ):
                other = "JSONPath" if language == "JSONata" else "JSONata"
                self.schema(
                    f"The QueryLanguage is set to '{language}', but field '{key}' is only "
                    f"supported for the '{other}' QueryLanguage",
                    loc,
                )
        if "Assign" in s:
            for msg in check_assign_names(s["Assign"], language):
                self.schema(msg, f"{loc}/Assign")
        self.transitions(kind, s, loc, names)
        self.paths(s, loc, language)
        self.payloads(kind, s, loc, language)
        self.type_specific(kind, s, loc, language, names)
        for key in ("Retry", "Catch"):
            if key in s:
                self.handlers(key, s[key], f"{loc}/{key}", names, language)

    def transitions(self, kind: str, s: dict[str, Any], loc: str, names: set[str]) -> None:
        if kind in ("Choice", "Succeed", "Fail"):
            return
        has_next, end = "Next" in s, s.get("End")
        if end is not None and not isinstance(end, bool):
            self.schema("The field 'End' must be a boolean", f"{loc}/End")
        if has_next and end is True:
            self.schema("There should only be one of the following fields: [Next, End]", loc)
        elif not has_next and end is not True:
            self.schema("The field 'Next' or 'End' is required", loc)
        if has_next:
            self.target(s["Next"], f"{loc}/Next", names)

    def target(self, value: Any, loc: str, names: set[str]) -> None:
        if not isinstance(value, str) or value not in names:
            self.error("MISSING_TRANSITION_TARGET", f"Missing 'Next' target: {value}", loc)

    def paths(self, s: dict[str, Any], loc: str, language: str) -> None:
        for a, b in _PAIRS:
            if a in s and b in s:
                self.schema(f"There should only be one of the following fields: [{a}, {b}]", loc)
        if language == "JSONata":
            return
        for key in ("InputPath", "OutputPath"):
            if key in s and s[key] is not None:
                self.path(s[key], key, f"{loc}/{key}")
        for key in _PATH_FIELDS:
            if key in s:
                self.path(s[key], key, f"{loc}/{key}", reference=True)
        if "ResultPath" in s and s["ResultPath"] is not None:
            self.path(s["ResultPath"], "ResultPath", f"{loc}/ResultPath", reference=True)
        if "ItemsPath" in s:
            self.path(s["ItemsPath"], "ItemsPath", f"{loc}/ItemsPath", reference=True)

    def path(self, value: Any, key: str, loc: str, *, reference: bool = False) -> None:
        # ResultPath writes into the state's data; Map number paths read only from it
        no_context = key == "ResultPath" or key in _MAP_NUMBER_PATHS
        try:
            check_path(
                value,
                allow_context=not no_context,
                allow_variables=key != "ResultPath",
                reference=reference,
            )
        except ValueError as exc:
            if reference:
                self.schema(f"Value is not a Reference Path: {exc}", loc)
            else:
                self.schema(f"The value for the field '{key}' must be a valid JSONPath: {exc}", loc)

    def payloads(self, kind: str, s: dict[str, Any], loc: str, language: str) -> None:
        if language == "JSONata":
            for key in (
                "Arguments",
                "Output",
                "Assign",
                "Items",
                "ItemSelector",
                "TimeoutSeconds",
                "HeartbeatSeconds",
                "Seconds",
                "Timestamp",
                "MaxConcurrency",
                "ToleratedFailureCount",
                "ToleratedFailurePercentage",
                "Error",
                "Cause",
            ):
                if key in s:
                    for where, msg in jsonata_problems(s[key], f"{loc}/{key}", key):
                        self.schema(msg, where)
            return
        for key in ("Parameters", "ResultSelector", "ItemSelector", "Assign"):
            if key in s:
                for where, msg in check_payload_template(s[key], f"{loc}/{key}"):
                    self.schema(msg, where)
                self.no_dollar(s[key], f"{loc}/{key}")
        if kind == "Pass" and _has_dollar_key(s.get("Result")):
            self.warn(
                "PASS_RESULT_IS_STATIC",
                "Result is static: fields ending in '.$' in a Pass Result are not evaluated",
                f"{loc}/Result",
            )

    def no_dollar(self, template: Any, loc: str) -> None:
        if isinstance(template, dict):
            for key, value in template.items():
                if isinstance(key, str) and key.endswith(".$"):
                    continue
                if isinstance(value, str) and value.startswith(("$.", "$$.", "States.")):
                    self.warn(
                        "NO_DOLLAR",
                        f"The field '{key}' looks like a path or intrinsic function but its "
                        "name does not end with '.$'",
                        f"{loc}/{key}",
                    )
                else:
                    self.no_dollar(value, f"{loc}/{key}")

    def type_specific(
        self, kind: str, s: dict[str, Any], loc: str, language: str, names: set[str]
    ) -> None:
        if kind == "Task":
            if "Resource" not in s:
                self.schema("These fields are required: [Resource]", loc)
            for msg in resource_problems(s.get("Resource"), self.machine_type):
                code = "INVALID_RESOURCE" if "ARN" in msg else "SCHEMA_VALIDATION_FAILED"
                self.error(code, msg, f"{loc}/Resource")
            for msg in integration_problems(s.get("Resource"), _task_parameters(s)):
                self.schema(msg, f"{loc}/Resource" if "resource" in msg else loc)
            self.timeouts(s, loc)
        elif kind == "Wait":
            given = [k for k in ("Seconds", "Timestamp", "SecondsPath", "TimestampPath") if k in s]
            if len(given) != 1:
                self.schema(
                    "There should only be one of the following fields: "
                    "[Seconds, Timestamp, SecondsPath, TimestampPath]",
                    loc,
                )
            if isinstance(s.get("Seconds"), (int, float)):
                self.int_range(s["Seconds"], 0, _MAX_INT, f"{loc}/Seconds")
            for where, msg in wait_problems(s, loc, language):
                self.schema(msg, where)
        elif kind == "Fail":
            for where, msg in fail_problems(s, loc, language):
                self.schema(msg, where)
        elif kind == "Choice":
            self.choice(s, loc, language, names)
        elif kind == "Parallel":
            branches = s.get("Branches")
            if not isinstance(branches, list) or not branches:
                self.schema("Branches must be a non-empty array", f"{loc}/Branches")
                return
            for i, branch in enumerate(branches):
                self.nested(branch, f"{loc}/Branches[{i}]", self.top_language)
        elif kind == "Map":
            self.map(s, loc, language)

    def nested(self, doc: Any, loc: str, language: str) -> None:
        if not isinstance(doc, dict):
            self.schema("A nested state machine must be an object", loc)
            return
        self.machine(doc, loc, language, top=False)

    def map(self, s: dict[str, Any], loc: str, language: str) -> None:
        key = "ItemProcessor" if "ItemProcessor" in s else "Iterator"
        if key not in s:
            self.schema("These fields are required: [ItemProcessor]", loc)
        else:
            processor = s[key]
            self.nested(processor, f"{loc}/{key}", self.top_language)
            config = processor.get("ProcessorConfig", {}) if isinstance(processor, dict) else {}
            mode = config.get("Mode", "INLINE") if isinstance(config, dict) else None
            if mode not in ("INLINE", "DISTRIBUTED"):
                self.schema("ProcessorConfig.Mode must be INLINE or DISTRIBUTED", f"{loc}/{key}")
            if (
                mode == "DISTRIBUTED"
                and self.machine_type == "EXPRESS"
                and config.get("ExecutionType") == "STANDARD"
            ):
                self.schema(
                    "Express state machines do not support a Distributed Map with STANDARD "
                    "child executions",
                    f"{loc}/{key}/ProcessorConfig",
                )
            for message, where in distributed_problems(s, config, language):
                self.schema(message, f"{loc}/{where}")
        for field, low, high in (
            ("MaxConcurrency", 0, _MAX_INT),
            ("ToleratedFailureCount", 0, _MAX_INT),
            ("ToleratedFailurePercentage", 0, 100),
        ):
            value = s.get(field)
            if value is not None and not _is_expression(value):
                if field == "ToleratedFailurePercentage":
                    self.number_range(value, low, high, f"{loc}/{field}")
                else:
                    self.int_range(value, low, high, f"{loc}/{field}")

    def choice(self, s: dict[str, Any], loc: str, language: str, names: set[str]) -> None:
        choices = s.get("Choices")
        if not isinstance(choices, list) or not choices:
            self.schema("Choices must be a non-empty array", f"{loc}/Choices")
            return
        for i, rule in enumerate(choices):
            where = f"{loc}/Choices[{i}]"
            for msg in check_rule(rule, language, top=True):
                self.schema(msg, where)
            if isinstance(rule, dict):
                if "Next" in rule:
                    self.target(rule["Next"], f"{where}/Next", names)
                if "Assign" in rule:
                    for msg in check_assign_names(rule["Assign"], language):
                        self.schema(msg, f"{where}/Assign")
                if language == "JSONata":
                    for key in ("Condition", "Output", "Assign"):
                        if key in rule:
                            for at, msg in jsonata_problems(rule[key], f"{where}/{key}", key):
                                self.schema(msg, at)
                elif "Assign" in rule:
                    for at, msg in check_payload_template(rule["Assign"], f"{where}/Assign"):
                        self.schema(msg, at)
        if "Default" in s:
            self.target(s["Default"], f"{loc}/Default", names)

    def timeouts(self, s: dict[str, Any], loc: str) -> None:
        for a in ("TimeoutSeconds", "HeartbeatSeconds"):
            if a in s and not _is_expression(s[a]):
                self.int_range(s[a], 1, _MAX_INT, f"{loc}/{a}")
        timeout, heartbeat = s.get("TimeoutSeconds"), s.get("HeartbeatSeconds")
        if isinstance(timeout, int) and isinstance(heartbeat, int) and heartbeat >= timeout:
            self.schema(
                "HeartbeatSeconds must be smaller than TimeoutSeconds", f"{loc}/HeartbeatSeconds"
            )


def _task_parameters(s: dict[str, Any]) -> Any:
    """A Task's request: Parameters (JSONPath) or Arguments (JSONata)."""
    return s.get("Parameters", s.get("Arguments"))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("{%")


def _has_dollar_key(value: Any) -> bool:
    if isinstance(value, dict):
        return any(
            (isinstance(k, str) and k.endswith(".$")) or _has_dollar_key(v)
            for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_has_dollar_key(v) for v in value)
    return False


def _targets(s: Any) -> Iterable[str]:
    if not isinstance(s, dict):
        return
    for key in ("Next", "Default"):
        if isinstance(s.get(key), str):
            yield s[key]
    for key in ("Choices", "Catch"):
        items = s.get(key)
        if isinstance(items, list):
            for item in items:
                if isinstance(item, Mapping) and isinstance(item.get("Next"), str):
                    yield item["Next"]
