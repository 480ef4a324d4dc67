"""ExpressionAttributeNames / ExpressionAttributeValues as DynamoDB checks them before any
expression: None is "not given"; given, a map may not be empty, nor come without an
expression to use it (``prepare``, the one check every action goes through)."""

from __future__ import annotations

import pytest

from eventplane.tables.expr import ValidationException, prepare

V = {":v": {"S": "x"}}


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (
            {"condition": "a = :v", "names": {}, "values": V},
            "ExpressionAttributeNames must not be empty",
        ),
        (
            {"condition": "#a = :v", "names": {"#a": "a"}, "values": {}},
            "ExpressionAttributeValues must not be empty",
        ),
        # Both empty: the names are checked first.
        (
            {"update": "SET a = :v", "names": {}, "values": {}},
            "ExpressionAttributeNames must not be empty",
        ),
        ({"projection": "a", "names": {}}, "ExpressionAttributeNames must not be empty"),
        ({"key_condition": "pk = :v", "values": {}}, "ExpressionAttributeValues must not be empty"),
        (
            {"filter": "attribute_exists(a)", "values": {}},
            "ExpressionAttributeValues must not be empty",
        ),
        ({"names": {}}, "ExpressionAttributeNames can only be specified when using expressions"),
        (
            {"names": {"#a": "a"}},
            "ExpressionAttributeNames can only be specified when using expressions",
        ),
        ({"values": V}, "ExpressionAttributeValues can only be specified when using expressions"),
    ],
)
def test_given_maps_are_checked(kw: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationException) as caught:
        prepare(**kw)  # type: ignore[arg-type]
    assert caught.value.message == message


def test_maps_not_given_are_none() -> None:
    assert prepare(condition="attribute_exists(a)").condition is not None
    assert prepare().names == {}
