"""Which function a FunctionName names: per account (``eventplane.functions.references``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from eventplane import arn, names
from eventplane.functions import references
from eventplane.functions.models import FUNCTION, function_reference
from eventplane.registry import Resource

A, B = "111111111111", "222222222222"


class _Registry:
    def __init__(self, functions: dict[str, str]) -> None:
        # internal name -> owner account
        self.functions = functions

    def peek(self, kind: str, name: str) -> Any:
        return self.get(kind, name)

    def get(self, kind: str, name: str) -> Any:
        assert kind == FUNCTION
        owner = self.functions.get(name)
        if owner is None:
            return None
        spec = {} if owner == names.home() else {"account": owner}
        return Resource(FUNCTION, name, spec, 1, 0, 0)


@pytest.fixture(autouse=True)
def _installation() -> Iterator[None]:
    before = arn.identity()
    arn.configure("local", "000000000000")
    yield
    arn.configure(before.region, before.account)


def _named(registry: _Registry, ref: str, caller: str) -> str:
    account, name, _ = function_reference(ref)
    return references.internal(registry, name, account, caller)  # type: ignore[arg-type]


def test_a_bare_name_is_the_callers_and_an_arn_its_accounts() -> None:
    registry = _Registry({"handler": "000000000000", f"{A}.handler": A, f"{B}.handler": B})
    assert _named(registry, "handler", A) == f"{A}.handler"
    assert _named(registry, "handler", B) == f"{B}.handler"
    assert _named(registry, "handler", "000000000000") == "handler"
    assert _named(registry, f"arn:aws:lambda:local:{B}:function:handler", A) == f"{B}.handler"
    assert _named(registry, f"{B}:function:handler", A) == f"{B}.handler"


def test_an_arn_of_an_account_without_it_reaches_the_installations() -> None:
    registry = _Registry({"handler": "000000000000"})
    assert _named(registry, f"arn:aws:lambda:us-east-1:{A}:function:handler", A) == "handler"
    # A bare name never reaches another account's function.
    assert _named(registry, "handler", A) == f"{A}.handler"


def test_a_function_made_before_names_were_per_account_stays_its_owners() -> None:
    registry = _Registry({"old": A})  # kept under its plain name, owned by A
    assert _named(registry, "old", A) == "old"
    assert _named(registry, f"arn:aws:lambda:local:{A}:function:old", B) == "old"
    assert _named(registry, "old", B) == f"{B}.old"  # never B's
