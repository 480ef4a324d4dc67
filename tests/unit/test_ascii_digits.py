"""Page tokens, versions and counts are ASCII digits: "¹".isdigit() is True, int("¹") raises.

Found by the gateway fuzzer (a NextToken of "¹" was a 500); each parser below answers
its own AWS error instead.
"""

from __future__ import annotations

import pytest

from eventplane.bus.operations import page as bus_page
from eventplane.errors import EventplaneError
from eventplane.workflows.shapes import page_bounds

UNICODE_DIGITS = ["\u00b9", "\u0663", "\u2460", "\uff11\uff12"]  # ¹ ٣ ① and fullwidth 12


@pytest.mark.parametrize("token", UNICODE_DIGITS)
def test_bus_page_token(token: str) -> None:
    with pytest.raises(EventplaneError) as refused:
        bus_page(["a", "b"], token, 10)
    assert refused.value.code == "ValidationException"


@pytest.mark.parametrize("token", UNICODE_DIGITS)
def test_workflow_page_token(token: str) -> None:
    with pytest.raises(EventplaneError) as refused:
        page_bounds(10, token, 5)
    # Step Functions answers a bad nextToken InvalidToken (its model lists it for paging).
    assert refused.value.code == "InvalidToken"
