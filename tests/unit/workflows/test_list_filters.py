"""ListExecutions' statusFilter and redriveFilter, checked once for both of its paths
(a state machine's executions and a Map Run's children)."""

from __future__ import annotations

import pytest

from eventplane.errors import ValidationException
from eventplane.workflows.shapes import check_status_filter, redrive_filter_keeps


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("", [True, True, True]),
        ("REDRIVEN", [False, True, True]),
        ("NOT_REDRIVEN", [True, False, False]),
    ],
)
def test_redrive_filter_keeps_by_redrive_count(value: str, kept: list[bool]) -> None:
    keeps = redrive_filter_keeps(value)
    assert [keeps(count) for count in (0, 1, 5)] == kept


@pytest.mark.parametrize("value", ["redriven", "ALL", " REDRIVEN"])
def test_an_unknown_redrive_filter_is_refused_naming_the_field(value: str) -> None:
    with pytest.raises(ValidationException, match="redriveFilter must be REDRIVEN or NOT_REDRIVEN"):
        redrive_filter_keeps(value)


def test_status_filter_takes_the_listed_statuses_only() -> None:
    assert check_status_filter("") == ""
    assert check_status_filter("PENDING_REDRIVE") == "PENDING_REDRIVE"
    with pytest.raises(ValidationException, match="statusFilter must be one of RUNNING"):
        check_status_filter("running")
