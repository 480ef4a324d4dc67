"""The AWS-protocol HTTP gateway: boto3, the AWS CLI and other AWS SDKs as clients.

Requests are parsed and responses serialized from botocore's service models (one
parser and serializer per protocol, none per operation), signatures are verified
(SigV4), and each action is handed to the capability core that registered a
binding for its service.
"""

from eventplane.gateway.app import GatewayApp
from eventplane.gateway.binding import BINDINGS_KEY, ServiceBinding
from eventplane.gateway.component import GatewayComponent
from eventplane.gateway.sigv4 import Principal, Verifier

__all__ = [
    "BINDINGS_KEY",
    "GatewayApp",
    "GatewayComponent",
    "Principal",
    "ServiceBinding",
    "Verifier",
]
