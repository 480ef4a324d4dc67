"""Labelled metric series created at zero when a resource appears.

A Prometheus counter child exists only after its first ``labels(...)`` call, so a queue
that has sent nothing has no ``..._sent_total{queue="q"}`` series, and ``increase()``
misses the first messages (it needs two samples). Each capability names the series of
one resource; this module creates them when the resource appears in the registry (on
any replica, and for every resource already there at start) and removes them when it is
deleted, so dashboards see every resource from the moment it exists.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:
    from eventplane.registry import Registry, Resource

# (metric, label values): one series, e.g. (SENT, ("orders",)).
Series = tuple[Any, tuple[str, ...]]
SeriesOf = Callable[["Resource"], Iterable[Series]]

_log = structlog.get_logger(__name__)


def precreate_series(registry: Registry, kind: str, series_of: SeriesOf) -> None:
    """Keep the series ``series_of(resource)`` of every ``kind`` resource at zero or more."""
    created: dict[str, list[Series]] = {}

    def apply(name: str, resource: Resource | None) -> None:
        for metric, labels in created.pop(name, []):
            if resource is None:
                with contextlib.suppress(KeyError):
                    metric.remove(*labels)
        if resource is None:
            return
        try:
            series = list(series_of(resource))
        except (KeyError, TypeError, ValueError):
            _log.warning("no zero series for resource", kind=kind, name=name)
            return
        for metric, labels in series:
            metric.labels(*labels)
        created[name] = series

    def listener(changed_kind: str, name: str, resource: Resource | None) -> None:
        if changed_kind == kind:
            apply(name, resource)

    registry.subscribe(listener)
    for resource in registry.find(kind):
        apply(resource.name, resource)
