"""The api role: the front doors a client talks to, apart from the runtimes behind them.

Today it serves the Platform service (server info, the resource registry) and gRPC
server reflection; the AWS-protocol HTTP gateway will plug in here. gRPC health
is not here: every process answers it (Kubernetes probes every pod, whatever its
roles), so the server keeps it.
"""

from eventplane.api.component import ApiComponent
from eventplane.api.platform import PlatformService

__all__ = ["ApiComponent", "PlatformService"]
