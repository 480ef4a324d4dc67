"""Seeing an execution: ``workflow show-execution --graph`` writes the picture, and the
gateway's page for it, loaded in headless Chromium, shows the states coloured by status,
reloads while the execution runs, stops once it ended, and is refused to a caller the
gateway refuses.

The workflow runs Pass, Choice, a Parallel state, a failing branch caught by its
Parallel's Catch, then waits on an activity task so the page can be seen while RUNNING.
Needs Graphviz's ``dot`` and ``chromium`` (tools/install_viewer_deps.sh): skipped
without them unless EVENTPLANE_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree as ET

import boto3
import png
import pytest
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from eventplane.stategraph.dot import COLOURS
from eventplane.testing import EventplaneProcess, eventually

from .support import KEY, REGION, SECRET, gateway_process, send

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        (shutil.which("dot") is None or shutil.which("chromium") is None)
        and os.environ.get("EVENTPLANE_REQUIRE_BROWSER") != "1",
        reason="needs graphviz and chromium (tools/install_viewer_deps.sh)",
    ),
]

STATES = ["Prepare", "Route", "Small", "Fanout", "Left", "Right", "Risky", "Explode"]
STATES += ["Recover", "Approve", "Done"]


def _definition(activity_arn: str) -> dict[str, Any]:
    def branch(name: str, state: dict[str, Any]) -> dict[str, Any]:
        return {"StartAt": name, "States": {name: state}}

    return {
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Next": "Route"},
            "Route": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.big", "BooleanEquals": True, "Next": "Fanout"}],
                "Default": "Small",
            },
            "Small": {"Type": "Pass", "End": True},
            "Fanout": {
                "Type": "Parallel",
                "Branches": [
                    branch("Left", {"Type": "Pass", "End": True}),
                    branch("Right", {"Type": "Pass", "End": True}),
                ],
                "ResultPath": None,
                "Next": "Risky",
            },
            "Risky": {
                "Type": "Parallel",
                "Branches": [branch("Explode", {"Type": "Fail", "Error": "Boom", "Cause": "x"})],
                "Catch": [
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Recover"}
                ],
                "Next": "Done",
            },
            "Recover": {"Type": "Pass", "Next": "Approve"},
            "Approve": {"Type": "Task", "Resource": activity_arn, "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    process = gateway_process(eventplane_kafka, "api,workflows")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def sfn(server: EventplaneProcess) -> Any:
    return boto3.client(
        "stepfunctions",
        endpoint_url=server.gateway_url,
        region_name=REGION,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        config=Config(retries={"max_attempts": 1}),
    )


def _page_url(server: EventplaneProcess, execution_arn: str, suffix: str = "") -> str:
    return f"{server.gateway_url}/ui/executions/{quote(execution_arn, safe='')}{suffix}"


def _presigned(url: str) -> str:
    """``url`` presigned for GET with the gateway's test key, as a browser would open it."""
    request = AWSRequest(method="GET", url=url)
    SigV4QueryAuth(Credentials(KEY, SECRET), "states", REGION, expires=600).add_auth(request)
    return str(request.prepare().url)


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                f"--user-data-dir={profile}",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )


def _dom(url: str) -> str:
    done = _chromium("--dump-dom", url)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _screenshot(url: str, path: Path) -> dict[tuple[int, int, int], int]:
    """The screenshot's pixel counts by colour."""
    done = _chromium("--window-size=1200,2400", f"--screenshot={path}", url)
    assert done.returncode == 0, done.stderr
    width, height, rows, _info = png.Reader(bytes=path.read_bytes()).asRGBA8()
    counts: dict[tuple[int, int, int], int] = {}
    for row in rows:
        for x in range(0, width * 4, 4):
            pixel = (row[x], row[x + 1], row[x + 2])
            counts[pixel] = counts.get(pixel, 0) + 1
    assert (width, height) == (1200, 2400)
    return counts


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


def test_the_cli_and_the_page_show_the_path_taken(
    server: EventplaneProcess, sfn: Any, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:8]
    activity = sfn.create_activity(name=f"approve-{suffix}")["activityArn"]
    machine = sfn.create_state_machine(
        name=f"see-{suffix}",
        definition=json.dumps(_definition(activity)),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input='{"big": true}')["executionArn"]

    def waiting_on_approval() -> bool:
        events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
        return any(e["type"] == "ActivityScheduled" for e in events)

    eventually(waiting_on_approval, timeout=60)
    page = _page_url(server, execution)

    # The gateway refuses an unsigned request, and so does the page.
    refused = send(page, method="GET")
    assert refused.status == 403, refused.body
    assert b"Approve" not in refused.body

    # While it runs: RUNNING, a meta refresh, Approve blue, Risky caught (orange).
    running = send(_presigned(page), method="GET")
    assert running.status == 200, running.body
    assert running.headers["content-type"].startswith("text/html")
    assert b'http-equiv="refresh"' in running.body
    dom = _dom(_presigned(page))
    assert 'id="status"' in dom and ">RUNNING<" in dom
    for name in STATES:
        assert f">{name}</text>" in dom, name
    shot = _screenshot(_presigned(page), tmp_path / "running.png")
    assert len(shot) > 50, "the screenshot is (nearly) blank"
    # (the legend shows each colour too: a state's box adds far more)
    for status in ("running", "caught", "succeeded", "failed", "not reached"):
        assert shot.get(_rgb(COLOURS[status][0]), 0) > 2000, status
    blue_while_running = shot[_rgb(COLOURS["running"][0])]

    token = sfn.get_activity_task(activityArn=activity, workerName="test")["taskToken"]
    sfn.send_task_success(taskToken=token, output='{"approved": true}')

    def succeeded() -> bool:
        return bool(sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED")

    eventually(succeeded, timeout=60)

    # Once ended: no more reloads, and Approve turned green.
    ended = send(_presigned(page), method="GET")
    assert ended.status == 200 and b'http-equiv="refresh"' not in ended.body
    dom = _dom(_presigned(page))
    assert ">SUCCEEDED<" in dom and ">Approve</text>" in dom
    shot = _screenshot(_presigned(page), tmp_path / "ended.png")
    assert shot.get(_rgb(COLOURS["running"][0]), 0) < blue_while_running / 2
    assert shot.get(_rgb(COLOURS["succeeded"][0]), 0) > 2000

    graph = send(_presigned(_page_url(server, execution, "/graph.svg")), method="GET")
    assert graph.status == 200 and graph.headers["content-type"] == "image/svg+xml"
    assert ET.fromstring(graph.body).tag.endswith("svg")

    # The CLI writes the same picture over gRPC.
    for kind in ("svg", "png"):
        out = tmp_path / f"execution.{kind}"
        command = [sys.executable, "-m", "eventplane.cli", "workflow", "show-execution"]
        shown = subprocess.run(
            [*command, execution, "--graph", str(out), "--endpoint", server.endpoint],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert shown.returncode == 0, shown.stderr
        assert f"{execution}\tSUCCEEDED" in shown.stdout
        if kind == "svg":
            svg = ET.parse(out).getroot()
            texts = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")}
            assert set(STATES) <= texts
        else:
            assert png.Reader(bytes=out.read_bytes()).read()[0] > 100


def test_an_unknown_execution_is_a_404_page(server: EventplaneProcess) -> None:
    missing = f"arn:aws:states:local:000000000000:execution:nothing:{uuid.uuid4().hex}"
    reply = send(_presigned(_page_url(server, missing)), method="GET")
    assert reply.status == 404, reply.body
    assert b"No such execution" in reply.body
