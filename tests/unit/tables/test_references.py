"""Which table a TableName or ARN names: table names are per account."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eventplane import arn as arns
from eventplane import names
from eventplane.errors import ResourceNotFound, ValidationException
from eventplane.security.peers import FORWARDED
from eventplane.tables import references

HOME, A, B = "000000000000", "111111111111", "222222222222"
# internal name -> owner account
TABLES = {
    "orders": HOME,  # the installation's
    f"{A}.orders": A,
    f"{B}.orders": B,
    "legacy": B,  # B's, made while names were unique per installation
    "pasted": HOME,  # the installation's, named by ARNs pasted from AWS
}


def owner(name: str) -> str | None:
    return TABLES.get(name)


@pytest.fixture(autouse=True)
def installation() -> Iterator[None]:
    before = names.home()
    names.configure(HOME)
    yield
    names.configure(before)


def test_a_bare_name_is_the_callers_accounts_table() -> None:
    assert references.internal(owner, "orders", None, HOME) == "orders"
    assert references.internal(owner, "orders", None, A) == f"{A}.orders"
    assert references.internal(owner, "orders", None, B) == f"{B}.orders"
    assert references.internal(owner, "pasted", None, A) is None  # the installation's


def test_an_arns_account_names_the_table_else_the_installations() -> None:
    assert references.internal(owner, "orders", B, A) == f"{B}.orders"
    assert references.internal(owner, "orders", HOME, A) == "orders"
    # An ARN of an account holding no such table: the installation's of that name.
    assert references.internal(owner, "pasted", A, A) == "pasted"
    assert references.internal(owner, "nothing", A, A) is None
    found = references.of_arn(
        owner,
        f"arn:aws:dynamodb:eu-west-1:{B}:table/orders/stream/2026-01-01T00:00:00.000",
        arns.Kind.STREAM,
    )
    assert found is not None and found[0] == f"{B}.orders"
    assert references.of_arn(owner, f"arn:aws:sqs:local:{B}:orders", arns.Kind.TABLE) is None
    assert references.of_arn(owner, f"arn:aws:dynamodb:local:{B}:table/x", arns.Kind.TABLE) is None


def test_a_table_made_before_names_were_per_account_keeps_working_for_its_owner() -> None:
    assert references.internal(owner, "legacy", None, B) == "legacy"
    assert references.internal(owner, "legacy", B, A) == "legacy"  # by B's ARN
    assert references.internal(owner, "legacy", None, A) is None
    assert references.internal(owner, "legacy", None, HOME) is None


def test_an_internal_name_reaches_no_table() -> None:
    for caller in (HOME, A, B):
        assert references.internal(owner, f"{B}.orders", None, caller) is None
    with pytest.raises(ValidationException, match="tableName"):
        references.check_new_name(f"{A}.orders")
    references.check_new_name("orders.v2")  # dots are fine
    references.check_new_name("1234.orders")


def test_resolve_raises_not_found_with_the_plain_name_and_takes_a_forwarded_one_as_is() -> None:
    # No principal: the installation's account calls.
    assert references.resolve(owner, "orders") == "orders"
    assert references.resolve(owner, f"arn:aws:dynamodb:local:{A}:table/orders") == f"{A}.orders"
    with pytest.raises(ResourceNotFound) as caught:
        references.resolve(owner, f"arn:aws:dynamodb:local:{A}:table/nothing")
    assert caught.value.message == "Requested resource not found: Table: nothing not found"
    with pytest.raises(ValidationException, match="tableName"):
        references.resolve(owner, "arn:aws:sqs:local:000000000000:orders")
    token = FORWARDED.set(True)
    try:
        assert references.resolve(owner, f"{B}.orders") == f"{B}.orders"
    finally:
        FORWARDED.reset(token)
