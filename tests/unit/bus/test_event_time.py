"""PutEvents' Time on the wire (epoch ms) becomes a datetime, or a typed error."""

from __future__ import annotations

import datetime as dt

import pytest

from eventplane.bus.service import _event_time
from eventplane.errors import InvalidParameterValue


def test_milliseconds_become_a_utc_time() -> None:
    assert _event_time(1_700_000_000_123) == dt.datetime(2023, 11, 14, 22, 13, 20, 123000, dt.UTC)


@pytest.mark.parametrize("ms", [2**63 - 1, -(2**63)])
def test_a_time_no_calendar_holds_is_an_invalid_parameter(ms: int) -> None:
    # Found by the gRPC fuzzer: this was an INTERNAL error before.
    with pytest.raises(InvalidParameterValue, match="Time"):
        _event_time(ms)
