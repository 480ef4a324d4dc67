"""A testing harness for eventplane users (and eventplane's own tests).

    from eventplane.testing import eventually, EventplaneProcess

The pytest plugin (loaded automatically once eventplane is installed) adds the
fixtures ``eventplane_kafka`` (bootstrap servers of a real broker: yours via
EVENTPLANE_KAFKA_BOOTSTRAP, or a local one it starts and stops) and
``eventplane_server`` (a running server process, with ``.client()``).
"""

from eventplane.testing.harness import (
    EventplaneProcess,
    eventually,
    free_port,
    retrying,
    unique_cluster,
)
from eventplane.testing.proxy import Mode, TcpProxy

__all__ = [
    "EventplaneProcess",
    "Mode",
    "TcpProxy",
    "eventually",
    "free_port",
    "retrying",
    "unique_cluster",
]
