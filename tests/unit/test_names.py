"""Per-account internal names: the one representation every capability keys by."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eventplane import arn, names
from eventplane.kafka import naming
from eventplane.topics.attributes import (
    SubscriptionConfig,
    TopicConfig,
    parse_subscribe,
    parse_subscription_arn,
    topic_reference,
)
from eventplane.topics.models import SubscriptionDef, TopicDef

A, B = "111111111111", "222222222222"


@pytest.fixture(autouse=True)
def _installation() -> Iterator[None]:
    before = arn.identity()
    arn.configure("local", "000000000000")
    yield
    arn.configure(before.region, before.account)


def test_the_installations_names_stay_plain() -> None:
    assert names.qualify("orders", "000000000000") == "orders"
    assert names.qualify("orders", None) == "orders"
    assert names.unqualify("orders") == ("000000000000", "orders")
    assert naming.queue_topic(names.qualify("orders", None)) == naming.queue_topic("orders")


@pytest.mark.parametrize("name", ["orders", "orders.fifo", "a-b_c", "x" * 80])
def test_another_accounts_names_carry_the_account_and_come_back(name: str) -> None:
    internal = names.qualify(name, A)
    assert internal == f"{A}.{name}"
    assert names.unqualify(internal) == (A, name)
    assert names.plain(internal) == name
    assert names.qualify(name, B) != internal
    # Kafka's topic-name rules: [a-zA-Z0-9._-], 249 characters at most.
    topic = naming.queue_state_topic(internal)
    assert len(topic) <= 249 and all(c.isascii() and (c.isalnum() or c in "._-") for c in topic)


def test_a_metric_family_sees_through_the_account() -> None:
    assert naming.family(naming.queue_topic(names.qualify("state", A))) == "q"
    assert naming.family(naming.queue_state_topic(names.qualify("orders", A))) == "q.state"
    assert naming.family(naming.queue_state_topic("orders")) == "q.state"


def test_the_home_account_follows_the_installations() -> None:
    arn.configure("local", A)
    assert names.home() == A
    assert names.qualify("orders", A) == "orders"
    assert names.qualify("orders", "000000000000") == "000000000000.orders"
    assert names.unqualify("orders") == (A, "orders")


def test_a_bare_name_resolves_in_the_callers_account_only() -> None:
    assert names.candidates("orders", None, A) == (f"{A}.orders",)
    assert names.candidates("orders", None, "000000000000") == ("orders",)


def test_a_named_account_falls_back_to_the_installations_resource() -> None:
    # ARNs pasted from AWS carry other account ids: the installation's queue answers
    # when the named account holds none (whoever resolves it checks which it found).
    assert names.candidates("orders", B, A) == (f"{B}.orders", "orders")
    assert names.candidates("orders", "000000000000", A) == ("orders",)


def test_only_the_qualified_shape_looks_qualified() -> None:
    assert names.looks_qualified(f"{A}.orders")
    assert not names.looks_qualified("orders")
    assert not names.looks_qualified("12345.orders")


def test_queue_references_give_their_account() -> None:
    assert arn.queue_reference("orders") == (None, "orders")
    assert arn.queue_reference("eventplane://queues/orders") == ("000000000000", "orders")
    assert arn.queue_reference(f"eventplane://queues/{A}/orders") == (A, "orders")
    assert arn.queue_reference(f"http://127.0.0.1:4566/{A}/orders") == (A, "orders")
    assert arn.queue_reference(f"arn:aws:sqs:local:{A}:orders") == (A, "orders")
    assert arn.queue_reference("eventplane://queues/someone/orders") is None
    assert arn.queue_url("orders", A) == f"eventplane://queues/{A}/orders"
    assert arn.queue_url("orders", "000000000000") == "eventplane://queues/orders"
    found = arn.target(f"arn:aws:sqs:local:{A}:orders")
    assert found is not None and found.endpoint == f"{A}.orders"


def test_a_topics_references_give_its_internal_name() -> None:
    found = arn.target(f"arn:aws:sns:local:{A}:alerts")
    assert found is not None and found.endpoint == f"{A}.alerts"
    found = arn.target("arn:aws:sns:local:000000000000:alerts")
    assert found is not None and found.endpoint == "alerts"
    assert topic_reference("alerts") == (None, "alerts")
    assert topic_reference(f"arn:aws:sns:local:{A}:alerts") == (A, "alerts")
    subscription = f"arn:aws:sns:local:{A}:alerts:0f6f2a4e-5d35-4d8a-9d7a-1c2b3c4d5e6f"
    assert parse_subscription_arn(subscription)[0] == f"{A}.alerts"


def test_a_topics_arns_show_its_plain_name() -> None:
    topic = TopicDef(names.qualify("alerts", A), TopicConfig(), {}, A)
    assert (topic.plain, topic.arn) == ("alerts", f"arn:aws:sns:local:{A}:alerts")
    sub = SubscriptionDef(topic.name, "id-1", _subscription(), "", A)
    assert sub.key == f"{A}.alerts:id-1"
    assert sub.arn == f"arn:aws:sns:local:{A}:alerts:id-1"
    assert sub.topic_arn == topic.arn


def _subscription() -> SubscriptionConfig:
    return parse_subscribe("sqs", f"arn:aws:sqs:local:{A}:q", {}, TopicConfig())


def test_a_functions_references_give_its_account() -> None:
    from eventplane.functions.models import function_reference

    assert function_reference("handler") == (None, "handler", None)
    assert function_reference("handler:live") == (None, "handler", "live")
    assert function_reference(f"{A}:function:handler") == (A, "handler", None)
    assert function_reference(f"arn:aws:lambda:local:{A}:function:handler:1") == (A, "handler", "1")


def test_a_functions_arns_and_targets_show_its_plain_name() -> None:
    internal = names.qualify("handler", A)
    assert arn.function_arn(internal) == f"arn:aws:lambda:local:{A}:function:handler"
    assert arn.function_arn(internal, "live") == f"arn:aws:lambda:local:{A}:function:handler:live"
    assert arn.function_arn("handler") == "arn:aws:lambda:local:000000000000:function:handler"
    found = arn.target(f"arn:aws:lambda:local:{A}:function:handler:live")
    assert found is not None and found.endpoint == f"{A}.handler:live"
    found = arn.target("arn:aws:lambda:local:000000000000:function:handler")
    assert found is not None and found.endpoint == "handler"
