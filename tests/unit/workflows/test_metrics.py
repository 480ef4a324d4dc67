"""The workflow metrics' state_machine label: one per account, from the ARN alone."""

from __future__ import annotations

from eventplane import arn
from eventplane.workflows.metrics import label

HOME = arn.DEFAULT_ACCOUNT


def test_a_machines_label_is_its_name_in_its_account() -> None:
    assert label(f"arn:aws:states:local:{HOME}:stateMachine:orders") == "orders"
    assert label("arn:aws:states:local:111111111111:stateMachine:orders") == ("111111111111.orders")
    # A Distributed Map's children run its item processor, its machine's and label's.
    assert label("arn:aws:states:local:111111111111:stateMachine:orders/Map") == (
        "111111111111.orders/Map"
    )
