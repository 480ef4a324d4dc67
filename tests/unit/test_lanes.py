"""kafka/lanes.py: transactional producers taken in turn, each on its own stable id."""

from __future__ import annotations

import itertools

import pytest

from eventplane.kafka.lanes import TransactionLanes, lane_ids


class Made:
    def __init__(self, transactional_id: str, serial: int) -> None:
        self.transactional_id = transactional_id
        self.serial = serial


def _lanes(count: int = 2) -> tuple[TransactionLanes[Made], list[Made]]:
    made: list[Made] = []

    def new(transactional_id: str) -> Made:
        made.append(Made(transactional_id, len(made)))
        return made[-1]

    return TransactionLanes(new, "eventplane-tables-r1:50051", count), made


def test_the_base_id_is_the_first_lane_and_the_others_derive_from_it() -> None:
    """A replica restarted with this version still fences the producer its predecessor
    ran under the base id, and every id is stable across restarts."""
    assert lane_ids("x", 3) == ["x", "x.1", "x.2"]
    assert lane_ids("x", 1) == ["x"]


def test_every_lane_is_initialised_at_once_so_all_predecessors_are_fenced() -> None:
    _, made = _lanes(3)
    assert [m.transactional_id for m in made] == lane_ids("eventplane-tables-r1:50051", 3)


def test_consecutive_transactions_never_share_a_producer() -> None:
    lanes, _ = _lanes()
    turns = [lanes.advance() for _ in range(5)]
    assert all(a is not b for a, b in itertools.pairwise(turns))
    assert {t.serial for t in turns} == {0, 1}
    assert lanes.current is turns[-1]  # commit or abort where it began


def test_renew_replaces_only_the_current_lane_under_the_same_id() -> None:
    lanes, _ = _lanes()
    broken = lanes.advance()
    fresh = lanes.renew()
    assert fresh is not broken and fresh.transactional_id == broken.transactional_id
    assert lanes.current is fresh and broken not in list(lanes) and len(list(lanes)) == 2


def test_a_lane_count_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        _lanes(0)
