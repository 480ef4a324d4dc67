"""Event source mappings and accounts: a mapping is its function's account's, and reads
another account's queue only when the queue's policy lets that account receive and
delete; another account's table stream never (tables have no policies)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eventplane.errors import EventplaneError
from eventplane.functions import models as m
from eventplane.functions.mapping_access import check_function, check_source
from eventplane.registry import Resource
from eventplane.security.interceptor import current_principal
from eventplane.security.resource_policy import ResourcePolicies
from eventplane.security.tokens import Principal

A, B = "111111111111", "222222222222"
QUEUE = f"arn:aws:sqs:local:{B}:feed"
STREAM = f"arn:aws:dynamodb:local:{B}:table/orders/stream/2024-01-01T00:00:00.000"


def _function(account: str = A) -> m.FunctionDef:
    config = m.FunctionConfig.build(
        handler="app.handler",
        code=m.CodeRef("0" * 64, 10),
        revision_id="r1",
        last_modified="x",
        role=f"arn:aws:iam::{account}:role/eventplane",
    )
    return m.FunctionDef("fn", config, account=account)


def _resources(policy: dict[str, Any] | None, owner: str = B) -> ResourcePolicies:
    found = ResourcePolicies()
    found.register(
        "arn:aws:sqs:", lambda arn: json.dumps(policy) if policy else None, lambda arn: owner
    )
    found.register("arn:aws:dynamodb:", lambda arn: None, lambda arn: owner)
    return found


def _grant(*actions: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": A}, "Action": list(actions)}],
    }


def _mapping(source: str) -> m.MappingDef:
    stream = {"starting_position": "LATEST"} if "/stream/" in source else {}
    return m.MappingDef.build("u", source, "fn", account=A, **stream)


def test_another_accounts_queue_needs_its_policy_to_grant_receive_and_delete() -> None:
    fn, mapping = _function(), _mapping(QUEUE)
    for policy in (None, _grant("sqs:ReceiveMessage")):
        with pytest.raises(EventplaneError) as info:
            check_source(_resources(policy), mapping, fn)
        assert info.value.code == "InvalidParameterValueException"
        assert "feed" in info.value.message
    check_source(_resources(_grant("sqs:ReceiveMessage", "sqs:DeleteMessage")), mapping, fn)
    check_source(_resources(None, owner=A), mapping, fn)  # its own account's
    check_source(None, mapping, fn)  # nothing to look up


def test_another_accounts_stream_is_refused() -> None:
    fn, mapping = _function(), _mapping(STREAM)
    with pytest.raises(EventplaneError) as info:
        check_source(_resources(None), mapping, fn)
    assert info.value.code == "InvalidParameterValueException"
    assert STREAM in info.value.message
    check_source(_resources(None, owner=A), mapping, fn)


def test_a_mapping_is_its_functions_accounts() -> None:
    mapping = _mapping(QUEUE)
    assert mapping.arn == f"arn:aws:lambda:local:{A}:event-source-mapping:u"
    assert mapping.function_arn == f"arn:aws:lambda:local:{A}:function:fn"
    spec = json.loads(json.dumps(mapping.to_spec()))
    again = m.MappingDef.from_resource(Resource("mapping", "u", spec, 1, 0, 0))
    assert again.account == A
    assert again.update(last_modified="y", batch_size=5).account == A


def test_a_mapping_invokes_a_function_of_the_callers_account() -> None:
    fn = _function()
    assert check_function(fn) is fn  # no caller: the platform acts for every account
    reset = current_principal.set(Principal(name="bob", account=B))
    try:
        with pytest.raises(EventplaneError) as info:
            check_function(fn)
        assert info.value.code == "AccessDeniedException"
        assert fn.arn in info.value.message
    finally:
        current_principal.reset(reset)
    with pytest.raises(EventplaneError):
        check_function(fn, B)  # an update to a function of another account than the mapping's
