"""An alias's RoutingConfig: which version one invocation runs, and what Lambda refuses."""

from __future__ import annotations

import pytest

from eventplane.functions.errors import InvalidParameterValueException, ValidationException
from eventplane.functions.models import AliasDef


def test_route_sends_the_weights_share_to_the_additional_version() -> None:
    alias = AliasDef.build(
        "f", "canary", "1", revision_id="r", additional_version_weights={"2": 0.25}
    )
    assert [alias.route(draw) for draw in (0.0, 0.2, 0.25, 0.9)] == ["2", "2", "1", "1"]
    assert AliasDef.build("f", "plain", "1", revision_id="r").route(0.0) == "1"


def test_routing_survives_the_registry_spec() -> None:
    alias = AliasDef.build(
        "f", "canary", "1", revision_id="r", additional_version_weights={"2": 0.5}
    )
    assert alias.to_spec()["additional_version_weights"] == {"2": 0.5}


@pytest.mark.parametrize(
    ("version", "weights", "error"),
    [
        ("1", {"2": 1.01}, ValidationException),
        ("1", {"x": 0.5}, ValidationException),
        ("$LATEST", {"2": 0.5}, InvalidParameterValueException),
        ("1", {"1": 0.5}, InvalidParameterValueException),
        ("1", {"2": 0.1, "3": 0.1}, InvalidParameterValueException),
    ],
)
def test_refused_routing(version: str, weights: dict[str, float], error: type[Exception]) -> None:
    with pytest.raises(error):
        AliasDef.build("f", "a", version, revision_id="r", additional_version_weights=weights)
