"""What a Map state may say about Distributed mode, checked when a definition is written.

AWS reads items from and writes results to S3; eventplane reads a queue or a table and
writes to a queue or a topic (see ``workflows/map_io.py``), so those are the resources
an ``ItemReader`` and a ``ResultWriter`` may name here.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["READERS", "WRITERS", "distributed_problems"]

# resource -> the parameter it requires
READERS = {
    "arn:aws:states:::sqs:receiveMessage": "QueueUrl",
    "arn:aws:states:::dynamodb:scan": "TableName",
}
WRITERS = {
    "arn:aws:states:::sqs:sendMessage": "QueueUrl",
    "arn:aws:states:::sns:publish": "TopicArn",
}
_LABEL = re.compile(r"^[^\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]{1,40}$")


def _names(block: dict[str, Any], language: str) -> set[str]:
    params = block.get("Arguments" if language == "JSONata" else "Parameters")
    if isinstance(params, str):  # a JSONata expression: known when it runs
        return {"*"}
    if not isinstance(params, dict):
        return set()
    return {k.removesuffix(".$") for k in params}


def _resource(
    block: Any, field: str, allowed: dict[str, str], language: str
) -> list[tuple[str, str]]:
    if not isinstance(block, dict):
        return [(f"{field} must be an object", field)]
    resource = block.get("Resource")
    if resource not in allowed:
        known = ", ".join(sorted(allowed))
        return [(f"{field}.Resource {resource!r} is not supported (one of: {known})", field)]
    names = _names(block, language)
    needed = allowed[resource]
    if needed not in names and "*" not in names:
        return [(f"{field} of {resource} requires the parameter '{needed}'", field)]
    return []


def distributed_problems(s: dict[str, Any], config: Any, language: str) -> list[tuple[str, str]]:
    """(message, location relative to the state) for each problem of a Map state."""
    config = config if isinstance(config, dict) else {}
    mode = config.get("Mode", "INLINE")
    problems: list[tuple[str, str]] = []
    if mode != "DISTRIBUTED":
        for field in ("ItemReader", "ResultWriter"):
            if field in s:
                problems.append((f"{field} is only supported in DISTRIBUTED mode", field))
        return problems
    if config.get("ExecutionType") not in ("STANDARD", "EXPRESS"):
        problems.append(
            (
                "ProcessorConfig.ExecutionType must be STANDARD or EXPRESS in DISTRIBUTED mode",
                "ItemProcessor/ProcessorConfig",
            )
        )
    if "ItemReader" in s:
        problems += _resource(s["ItemReader"], "ItemReader", READERS, language)
        if "ItemsPath" in s or "Items" in s:
            problems.append(("ItemsPath/Items cannot be used with an ItemReader", "ItemReader"))
    if "ResultWriter" in s:
        problems += _resource(s["ResultWriter"], "ResultWriter", WRITERS, language)
    label = s.get("Label")
    if label is not None and (not isinstance(label, str) or not _LABEL.match(label)):
        problems.append(
            ("Label must be 1-40 characters, none of whitespace, brackets or specials", "Label")
        )
    return problems
