"""Tags of state machines and activities through the SDK (gRPC), kept across a restart."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

from .conftest import unique

pytestmark = pytest.mark.integration

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


@pytest.fixture(scope="module")
def wf_server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    server = EventplaneProcess(
        eventplane_kafka, roles="api,workflows", cluster=unique_cluster()
    ).start()
    try:
        yield server
    finally:
        server.stop()


def test_tags_through_the_sdk_survive_a_restart(
    client: Client, wf_server: EventplaneProcess
) -> None:
    wf = client.workflows
    sm = wf.create_state_machine(unique("tags"), PASS, tags={"team": "orders"}).state_machine_arn
    activity = wf.create_activity(unique("tags-act")).activity_arn
    wf.tag_resource(sm, {"env": "prod", "team": "payments"})
    wf.tag_resource(activity, {"kind": "worker"})
    wf.untag_resource(sm, ["env"])
    revision = wf.describe_state_machine(sm).revision_id
    wf_server.stop()
    wf_server.restart()

    def kept() -> Any:
        assert wf.list_tags_for_resource(sm) == {"team": "payments"}
        return wf.list_tags_for_resource(activity)

    assert eventually(kept, timeout=30) == {"kind": "worker"}
    assert wf.describe_state_machine(sm).revision_id == revision
    with pytest.raises(EventplaneError) as too_many:
        wf.tag_resource(sm, {f"k{i}": "v" for i in range(50)})
    assert too_many.value.code == "TooManyTags"
    with pytest.raises(EventplaneError) as missing:
        wf.list_tags_for_resource(sm + "-gone")
    assert missing.value.code == "ResourceNotFound"
