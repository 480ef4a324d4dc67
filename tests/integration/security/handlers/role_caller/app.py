"""A handler that calls eventplane with no credentials of its own: ``Client()`` and an
unconfigured boto3 client (the runner gives both the function's execution role)."""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.exceptions import ClientError

from eventplane.client import Client
from eventplane.errors import EventplaneError


def handler(event: Any, context: Any) -> dict[str, str]:
    outcome: dict[str, str] = {}
    with Client() as ep:
        for url in event["queues"]:
            try:
                ep.queues.send_message(url, f"sent by {context.function_name}")
                outcome[url] = "sent"
            except EventplaneError as exc:
                outcome[url] = exc.code
        try:
            ep.functions.list_functions()
            outcome["list_functions"] = "ok"
        except EventplaneError as exc:
            outcome["list_functions"] = exc.code
    # boto3 as a Lambda handler uses it: endpoint, region and keys from the environment.
    sqs = boto3.client("sqs")
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    for name in event.get("boto3_queues", []):
        url = f"{endpoint}/000000000000/{name}"
        try:
            sqs.send_message(QueueUrl=url, MessageBody=f"boto3 by {context.function_name}")
            outcome[f"boto3:{name}"] = "sent"
        except ClientError as exc:
            outcome[f"boto3:{name}"] = exc.response["Error"]["Code"]
    return outcome
