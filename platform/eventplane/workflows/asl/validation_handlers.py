"""Validation of Retry and Catch entries and of numeric ranges (a part of validation.py)."""

from __future__ import annotations

from typing import Any

from eventplane.workflows.asl.paths import check_payload_template
from eventplane.workflows.asl.validation_rules import jsonata_problems
from eventplane.workflows.asl.variables import check_assign_names

__all__ = ["HandlerChecks"]

_MAX_INT = 99_999_999
_MAX_DELAY = 31_622_400


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class HandlerChecks:
    """Mixed into the checker, which provides ``schema``, ``target`` and ``path``."""

    def schema(self, message: str, location: str) -> None:
        raise NotImplementedError

    def target(self, value: Any, loc: str, names: set[str]) -> None:
        raise NotImplementedError

    def path(self, value: Any, key: str, loc: str, *, reference: bool = False) -> None:
        raise NotImplementedError

    def handlers(self, key: str, items: Any, loc: str, names: set[str], language: str) -> None:
        if not isinstance(items, list):
            self.schema(f"The field '{key}' must be an array", loc)
            return
        for i, item in enumerate(items):
            where = f"{loc}[{i}]"
            if not isinstance(item, dict):
                self.schema(f"Each {key} entry must be an object", where)
                continue
            self.error_equals(item.get("ErrorEquals"), where, last=i == len(items) - 1, key=key)
            if key == "Retry":
                self.retrier(item, where)
            else:
                self.catcher(item, where, names, language)

    def error_equals(self, errors: Any, loc: str, *, last: bool, key: str) -> None:
        if (
            not isinstance(errors, list)
            or not errors
            or not all(isinstance(e, str) for e in errors)
        ):
            self.schema("ErrorEquals must be a non-empty array of strings", f"{loc}/ErrorEquals")
            return
        if "States.ALL" in errors and (len(errors) > 1 or not last):
            self.schema(
                f"States.ALL must appear alone in the last {key} entry's ErrorEquals",
                f"{loc}/ErrorEquals",
            )

    def retrier(self, r: dict[str, Any], loc: str) -> None:
        allowed = {
            "ErrorEquals",
            "IntervalSeconds",
            "MaxAttempts",
            "BackoffRate",
            "MaxDelaySeconds",
            "JitterStrategy",
            "Comment",
        }
        for k in r:
            if k not in allowed:
                self.schema(f"Field '{k}' is not supported in a Retrier", loc)
        if "IntervalSeconds" in r:
            self.int_range(r["IntervalSeconds"], 1, _MAX_INT, f"{loc}/IntervalSeconds")
        if "MaxAttempts" in r:
            self.int_range(r["MaxAttempts"], 0, _MAX_INT, f"{loc}/MaxAttempts")
        if "MaxDelaySeconds" in r:
            self.int_range(r["MaxDelaySeconds"], 1, _MAX_DELAY, f"{loc}/MaxDelaySeconds")
        if "BackoffRate" in r:
            self.number_range(r["BackoffRate"], 1.0, float(_MAX_INT), f"{loc}/BackoffRate")
        if r.get("JitterStrategy", "NONE") not in ("FULL", "NONE"):
            self.schema("JitterStrategy must be FULL or NONE", f"{loc}/JitterStrategy")

    def catcher(self, c: dict[str, Any], loc: str, names: set[str], language: str) -> None:
        allowed = {"ErrorEquals", "Next", "Comment", "Assign"}
        allowed |= {"Output"} if language == "JSONata" else {"ResultPath"}
        for k in c:
            if k not in allowed:
                self.schema(f"Field '{k}' is not supported in a Catcher", loc)
        if "Next" not in c:
            self.schema("These fields are required: [Next]", loc)
        else:
            self.target(c["Next"], f"{loc}/Next", names)
        if language == "JSONPath" and c.get("ResultPath") is not None:
            self.path(c["ResultPath"], "ResultPath", f"{loc}/ResultPath", reference=True)
        if language == "JSONata" and "Output" in c:
            for at, msg in jsonata_problems(
                c["Output"], f"{loc}/Output", "Output", in_catcher=True
            ):
                self.schema(msg, at)
        if "Assign" in c:
            problems = (
                jsonata_problems(c["Assign"], f"{loc}/Assign", "Assign", in_catcher=True)
                if language == "JSONata"
                else check_payload_template(c["Assign"], f"{loc}/Assign")
            )
            for at, msg in problems:
                self.schema(msg, at)
            for msg in check_assign_names(c["Assign"], language):
                self.schema(msg, f"{loc}/Assign")

    def int_range(self, value: Any, low: int, high: int, loc: str) -> None:
        if not _is_int(value):
            field = loc.rsplit("/", 1)[-1]
            self.schema(f"The value for the field '{field}' must be an INTEGER", loc)
        elif value < low:
            self.schema(f"Minimum value is {low}", loc)
        elif value > high:
            self.schema(f"Maximum value is {high}", loc)

    def number_range(self, value: Any, low: float, high: float, loc: str) -> None:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            field = loc.rsplit("/", 1)[-1]
            self.schema(f"The value for the field '{field}' must be a NUMBER", loc)
        elif value < low:
            self.schema(f"Minimum value is {float(low)}", loc)
        elif value > high:
            self.schema(f"Maximum value is {float(high)}", loc)
