"""Cluster names: the prefix of every topic, group and transactional id."""

from __future__ import annotations

import pytest

from eventplane.kafka.naming import cluster_prefix


@pytest.mark.parametrize(
    ("cluster", "prefix"),
    [
        ("", "eventplane"),
        ("  ", "eventplane"),
        ("prod", "eventplane-prod"),
        ("a-1", "eventplane-a-1"),
    ],
)
def test_a_cluster_name_becomes_the_prefix(cluster: str, prefix: str) -> None:
    assert cluster_prefix(cluster) == prefix


@pytest.mark.parametrize("bad", ["Prod", "a.b", "a_b", "-a", "a-", "x" * 33, "a b"])
def test_names_kafka_or_family_labels_would_misread_are_refused(bad: str) -> None:
    # Dots would shift the parts `family()` reads; upper case and '_' are refused so a
    # name maps to one prefix only.
    with pytest.raises(ValueError, match="EVENTPLANE_CLUSTER"):
        cluster_prefix(bad)
