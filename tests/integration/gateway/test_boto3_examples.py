"""examples/boto3/: AWS code that runs unchanged against eventplane.

Each example is plain boto3 (``boto3.client("sqs")``, no endpoint argument); the
endpoint comes from AWS_ENDPOINT_URL, which boto3 reads itself. Each runs here as
its own process, as a user runs it, must exit 0 after checking what it saw, and
must leave nothing of its own behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from eventplane.testing import EventplaneProcess

from .conftest import client
from .support import KEY, REGION, SECRET

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "boto3"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


def _run(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _aws_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "EVENTPLANE_"))}
    return {**env, **extra}


def test_every_example_is_tested() -> None:
    assert SCRIPTS == ["eventbridge_to_sqs.py", "sns_sqs_fanout.py", "sqs_dead_letters.py"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs_unchanged(script: str, gateway: EventplaneProcess) -> None:
    env = _aws_env(
        AWS_ENDPOINT_URL=gateway.gateway_url,
        AWS_DEFAULT_REGION=REGION,
        AWS_ACCESS_KEY_ID=KEY,
        AWS_SECRET_ACCESS_KEY=SECRET,
    )
    done = _run(script, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "\nOK: " in done.stdout, done.stdout
    # Nothing of the example's is left behind.
    sqs, sns, events = (client(gateway, service) for service in ("sqs", "sns", "events"))
    assert not sqs.list_queues(QueueNamePrefix="example-").get("QueueUrls")
    assert not [t for t in sns.list_topics()["Topics"] if ":example-" in t["TopicArn"]]
    assert not [b for b in events.list_event_buses()["EventBuses"] if "example-" in b["Name"]]


def test_examples_refuse_to_run_without_a_local_endpoint() -> None:
    # Without AWS_ENDPOINT_URL boto3 would create and delete things in a real account.
    done = _run(SCRIPTS[0], _aws_env(AWS_DEFAULT_REGION=REGION))
    assert done.returncode != 0
    assert "set AWS_ENDPOINT_URL" in done.stderr
