"""The tables validation checks against: fields per state type, per query
language, Choice operators, Task resources and JSONata expressions."""

from __future__ import annotations

import re
from typing import Any

from eventplane.workflows.asl.paths import check_path

__all__ = [
    "COMPARISON_OPERATORS",
    "FIELDS",
    "JSONATA_ONLY",
    "JSONPATH_ONLY",
    "check_rule",
    "jsonata_problems",
    "resource_problems",
]

_COMMON = {"Type", "Comment", "QueryLanguage"}
_IO = {"InputPath", "OutputPath", "Output"}
_FLOW = {"Next", "End", "Assign"}
_RESULT = {"Parameters", "Arguments", "ResultSelector", "ResultPath", "Retry", "Catch"}

FIELDS: dict[str, set[str]] = {
    "Pass": _COMMON | _IO | _FLOW | {"Parameters", "Result", "ResultPath"},
    "Task": _COMMON
    | _IO
    | _FLOW
    | _RESULT
    | {
        "Resource",
        "TimeoutSeconds",
        "TimeoutSecondsPath",
        "HeartbeatSeconds",
        "HeartbeatSecondsPath",
        "Credentials",
    },
    "Choice": _COMMON | _IO | {"Choices", "Default", "Assign"},
    "Wait": _COMMON | _IO | _FLOW | {"Seconds", "Timestamp", "SecondsPath", "TimestampPath"},
    "Succeed": _COMMON | _IO,
    "Fail": _COMMON | {"Error", "ErrorPath", "Cause", "CausePath"},
    "Parallel": _COMMON | _IO | _FLOW | _RESULT | {"Branches"},
    "Map": _COMMON
    | _IO
    | _FLOW
    | _RESULT
    | {
        "ItemProcessor",
        "Iterator",
        "ItemsPath",
        "Items",
        "ItemSelector",
        "ItemReader",
        "ItemBatcher",
        "ResultWriter",
        "MaxConcurrency",
        "MaxConcurrencyPath",
        "ToleratedFailurePercentage",
        "ToleratedFailurePercentagePath",
        "ToleratedFailureCount",
        "ToleratedFailureCountPath",
        "Label",
    },
}

JSONPATH_ONLY = {
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "ItemsPath",
    "SecondsPath",
    "TimestampPath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "ErrorPath",
    "CausePath",
    "MaxConcurrencyPath",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCountPath",
    "Iterator",
}
JSONATA_ONLY = {"Arguments", "Output", "Items"}

_STRING_OPS = ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
COMPARISON_OPERATORS: dict[str, str] = {}
for _prefix, _kind in (("String", "string"), ("Numeric", "number"), ("Timestamp", "timestamp")):
    for _op in _STRING_OPS:
        COMPARISON_OPERATORS[f"{_prefix}{_op}"] = _kind
        COMPARISON_OPERATORS[f"{_prefix}{_op}Path"] = "path"
COMPARISON_OPERATORS.update(
    {
        "BooleanEquals": "boolean",
        "BooleanEqualsPath": "path",
        "StringMatches": "string",
        "IsNull": "boolean",
        "IsPresent": "boolean",
        "IsNumeric": "boolean",
        "IsString": "boolean",
        "IsBoolean": "boolean",
        "IsTimestamp": "boolean",
    }
)

_RULE_KEYS = {"Variable", "And", "Or", "Not", "Next", "Comment", "Assign"}


def check_rule(rule: Any, language: str, *, top: bool) -> list[str]:
    """Messages for one Choice rule (recursing into And/Or/Not)."""
    if not isinstance(rule, dict):
        return ["A choice rule must be an object"]
    problems: list[str] = []
    if top and "Next" not in rule:
        problems.append("These fields are required: [Next]")
    if not top and ("Next" in rule or "Assign" in rule):
        problems.append("A nested choice rule cannot have 'Next' or 'Assign'")
    if language == "JSONata":
        for key in rule:
            if key not in {"Condition", "Next", "Comment", "Assign", "Output"}:
                problems.append(f"Field '{key}' is not supported in a JSONata choice rule")
        if "Condition" not in rule:
            problems.append("These fields are required: [Condition]")
        return problems
    for key in rule:
        if key not in _RULE_KEYS and key not in COMPARISON_OPERATORS:
            problems.append(f"Field '{key}' is not supported in a choice rule")
    operators = [k for k in rule if k in COMPARISON_OPERATORS]
    combinators = [k for k in ("And", "Or", "Not") if k in rule]
    if len(operators) + len(combinators) != 1:
        problems.append("A choice rule needs exactly one comparison operator, And, Or or Not")
        return problems
    if combinators:
        key = combinators[0]
        value = rule[key]
        if "Variable" in rule:
            problems.append(f"'Variable' cannot be used with '{key}'")
        children = [value] if key == "Not" else value
        if key != "Not" and (not isinstance(value, list) or not value):
            return [*problems, f"The field '{key}' must be a non-empty array of rules"]
        for child in children:
            problems.extend(check_rule(child, language, top=False))
        return problems
    op = operators[0]
    if "Variable" not in rule:
        problems.append("These fields are required: [Variable]")
    else:
        problems.extend(_path_problem(rule["Variable"], "Variable"))
    problems.extend(_operand_problem(op, rule[op]))
    return problems


def _path_problem(value: Any, field: str) -> list[str]:
    try:
        check_path(value)
    except ValueError as exc:
        return [f"The value for the field '{field}' must be a valid JSONPath: {exc}"]
    return []


def _operand_problem(op: str, value: Any) -> list[str]:
    kind = COMPARISON_OPERATORS[op]
    if kind == "path":
        return _path_problem(value, op)
    if kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind == "boolean":
        ok = isinstance(value, bool)
    elif kind == "timestamp":
        from eventplane.workflows.asl.timestamps import parse_timestamp

        ok = isinstance(value, str) and parse_timestamp(value) is not None
    else:
        ok = isinstance(value, str)
    if ok:
        return []
    return [
        f"The value for the field '{op}' must be a {'valid ' if kind == 'timestamp' else ''}{kind}"
    ]


def resource_problems(resource: Any, machine_type: str) -> list[str]:
    if resource is None:
        return []
    if not isinstance(resource, str) or not resource.startswith("arn:") or resource.count(":") < 5:
        return [f"Invalid resource ARN: '{resource}'"]
    if machine_type != "EXPRESS":
        return []
    if ":activity:" in resource:
        return ["Express state machines do not support activities"]
    if resource.endswith((".sync", ".sync:2")):
        return ["Express state machines do not support the '.sync' service integration pattern"]
    if resource.endswith(".waitForTaskToken"):
        return [
            "Express state machines do not support the '.waitForTaskToken' service "
            "integration pattern"
        ]
    return []


_ERROR_OUTPUT = re.compile(r"\$states\s*\.\s*errorOutput\b")
_DOUBLE_DOLLAR = re.compile(r"\$\$")


def jsonata_problems(
    value: Any, loc: str, field: str, *, in_catcher: bool = False
) -> list[tuple[str, str]]:
    """(location, message) for every ``{% %}`` string in ``value`` that AWS would refuse.

    Beyond parse errors: ``$$`` does not exist in JSONata mode (the context is
    ``$states.context``), and ``$states.errorOutput`` exists only in a Catcher.
    """
    from eventplane.workflows.asl.jsonata_mode import check_expression

    problems: list[tuple[str, str]] = []
    if isinstance(value, str):
        if value.startswith("{%") or value.rstrip().endswith("%}"):
            message = check_expression(value)
            body = value[2:-2].strip()
            if message is not None:
                problems.append((loc, f"The JSONata expression in '{field}' is invalid: {message}"))
            elif _DOUBLE_DOLLAR.search(body):
                problems.append(
                    (loc, f"The JSONata expression '{body}' uses '$$', which is not available "
                     "in JSONata: use '$states.context'")
                )  # fmt: skip
            elif not in_catcher and _ERROR_OUTPUT.search(body):
                problems.append(
                    (loc, f"The JSONata expression '{body}' reads '$states.errorOutput', which "
                     "is only available in a Catcher's Output and Assign")
                )  # fmt: skip
    elif isinstance(value, dict):
        for key, item in value.items():
            problems.extend(jsonata_problems(item, f"{loc}/{key}", field, in_catcher=in_catcher))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            problems.extend(jsonata_problems(item, f"{loc}[{i}]", field, in_catcher=in_catcher))
    return problems
