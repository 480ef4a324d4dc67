"""Bus and rule tags, and ListRuleNamesByTarget, over gRPC (the SDK): a real broker and
server process. The boto3 side is in tests/integration/gateway/test_conformance_events.py.
"""

from __future__ import annotations

import pytest

from eventplane.client import Client
from eventplane.errors import ResourceNotFound, ValidationException
from eventplane.testing import EventplaneProcess

from .support import Resources, unique

pytestmark = pytest.mark.integration


def test_tags_survive_a_restart(bus_server: EventplaneProcess, res: Resources) -> None:
    name = unique("tagged")
    ev = res.client.events
    bus_arn = ev.create_event_bus(name, tags={"team": "shop"})
    res._buses.append(name)
    rule_arn = ev.put_rule(
        name, event_bus_name=name, event_pattern={"source": ["t"]}, tags={"cost": "42"}
    )
    ev.tag_resource(bus_arn, {"env": "dev", "team": "ops"})
    ev.untag_resource(rule_arn, ["cost"])
    ev.tag_resource(rule_arn, {"owner": ""})
    bus_server.stop()
    bus_server.restart()
    with bus_server.client(timeout=30) as c:
        assert c.events.list_tags_for_resource(bus_arn) == {"env": "dev", "team": "ops"}
        assert c.events.list_tags_for_resource(rule_arn) == {"owner": ""}
        c.events.delete_rule(name, event_bus_name=name)
        with pytest.raises(ResourceNotFound):
            c.events.list_tags_for_resource(rule_arn)


def test_tag_limits_and_unknown_resources(client: Client, res: Resources) -> None:
    bus_arn = client.events.create_event_bus(unique("limits"))
    res._buses.append(bus_arn.rsplit("/", 1)[-1])
    with pytest.raises(ValidationException, match="aws: prefix"):
        client.events.tag_resource(bus_arn, {"AWS:team": "v"})
    client.events.tag_resource(bus_arn, {f"k{i}": "v" for i in range(50)})
    with pytest.raises(ValidationException, match="at most 50 tags"):
        client.events.tag_resource(bus_arn, {"one-more": "v"})
    assert len(client.events.list_tags_for_resource(bus_arn)) == 50
    with pytest.raises(ResourceNotFound):
        client.events.tag_resource(bus_arn + "-never", {"k": "v"})
    with pytest.raises(TypeError):
        client.events.untag_resource(bus_arn, "k0")


def test_list_rule_names_by_target_follows_every_page(client: Client, res: Resources) -> None:
    bus = res.bus()
    target = res.missing_queue().arn
    names = sorted(
        res.rule(bus, [{"Id": "q", "Arn": target}], pattern={"source": ["x"]}).name
        for _ in range(3)
    )
    res.rule(bus, [{"Id": "q", "Arn": res.missing_queue().arn}], pattern={"source": ["x"]})
    assert client.events.list_rule_names_by_target(target, event_bus_name=bus) == names
    assert client.events.list_rule_names_by_target(target) == []
    with pytest.raises(ResourceNotFound):
        client.events.list_rule_names_by_target(target, event_bus_name=unique("never"))
