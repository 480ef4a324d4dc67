"""Shared fixtures. The real-broker fixtures (eventplane_kafka, eventplane_server,
eventplane_client) come from eventplane's own pytest plugin
(platform/eventplane/testing/pytest_plugin.py), the same one users get."""

from __future__ import annotations

import uuid

import pytest

from eventplane.config import Settings


@pytest.fixture
def unique() -> str:
    """A short unique suffix for queue/topic names, so tests never share state."""
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def kafka_settings(eventplane_kafka: str) -> Settings:
    return Settings(kafka_bootstrap=eventplane_kafka)
