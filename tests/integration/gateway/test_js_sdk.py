"""The AWS SDK for JavaScript v3 (a third client stack, after boto3 and the AWS CLI)
against the gateway: SQS, SNS and EventBridge's core calls, unchanged but for the endpoint.

tests/js/sdk_session.mjs makes the calls and prints what it saw; this module starts
nothing but node and checks that. The SDK's packages (pinned in tests/js/package.json)
are installed with npm on first use. Without node and npm the module is skipped, unless
EVENTPLANE_REQUIRE_NODE=1 (CI), which makes that a failure.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from eventplane import arn
from eventplane.testing import EventplaneProcess

from .conftest import js_session
from .support import ACCOUNT

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def seen(node: str, gateway: EventplaneProcess) -> dict[str, Any]:
    run, result = js_session(node, "sdk_session.mjs", gateway)
    result["run"] = run
    return result


def test_sqs_core_calls(seen: dict[str, Any], gateway: EventplaneProcess) -> None:
    assert seen["queueUrl"] == f"{gateway.gateway_url}/{ACCOUNT}/js-{seen['run']}"
    assert seen["getQueueUrl"] == seen["queueUrl"]
    # The SDK checks the MD5s itself (it throws on a mismatch); the body's is AWS's.
    assert seen["sendMd5"] == hashlib.md5("héllo from node".encode()).hexdigest()
    assert seen["batchSuccessful"] == ["e0", "e1", "e2"]
    assert seen["received"] == ["batch-0", "batch-1", "batch-2", "héllo from node"]
    assert seen["greetingAttribute"] == "greeting"
    assert seen["receiveCount"] == "1"
    # ARNs carry the installation's identity (eventplane.arn), the URL the key's account.
    assert seen["arn"] == arn.queue_arn(f"js-{seen['run']}")


def test_sqs_errors(seen: dict[str, Any]) -> None:
    assert seen["missingQueue"]["name"] == "QueueDoesNotExist"
    assert seen["missingQueue"]["status"] == 400
    assert seen["badBatch"]["name"] == "EmptyBatchRequest"


def test_sns_core_calls(seen: dict[str, Any]) -> None:
    assert seen["topicArn"] == arn.topic_arn(f"js-{seen['run']}")
    assert seen["publishId"]
    assert seen["fromTopic"] == ["via sns"]  # raw delivery into the queue
    assert seen["listed"] is True
    assert seen["subscriptionsConfirmed"] == "1"
    assert seen["missingTopic"]["name"] == "NotFoundException"
    assert seen["missingTopic"]["status"] == 404


def test_eventbridge_core_calls(seen: dict[str, Any]) -> None:
    assert seen["busArn"] == arn.bus_arn(f"js-{seen['run']}")
    assert seen["ruleState"] == "ENABLED"
    assert seen["putFailed"] == 0
    assert seen["fromBus"] == [50]  # the pattern let only the order over 10 through
    assert seen["badPattern"]["name"] == "InvalidEventPatternException"
    assert seen["missingRule"]["name"] == "ResourceNotFoundException"
