"""How replicas of one cluster recognise each other's forwarded calls.

A replica that receives a call for a partition another replica owns forwards it there
with ``x-eventplane-forwarded: <token>``. The token is an HMAC of the cluster's shared
receipt secret (``EVENTPLANE_RECEIPT_SECRET``, which every replica must share anyway),
one per capability that forwards, so a client cannot pose as a replica. With
authentication on, the receiving replica accepts the token as the call's credentials
(principal ``replica``): the first replica has already authenticated the caller. A
partition owner's token (queues, tables) is a credential only on the internal services
replicas call on each other (``INTERNAL_PREFIX``); the relay token, which carries a
client's call to a pod running another role, on every method.
"""

from __future__ import annotations

import hashlib
import hmac

FORWARDED_KEY = "x-eventplane-forwarded"
# The scope of each capability's token (a token of one does not pass for another's).
QUEUES_SCOPE = b"eventplane-forwarded"
TABLES_SCOPE = b"eventplane-tables-forwarded"
# Calls for a role this process does not run, relayed to a pod that does (runtime/relay.py).
RELAY_SCOPE = b"eventplane-relayed"
SCOPES = (QUEUES_SCOPE, TABLES_SCOPE, RELAY_SCOPE)
OWNER_SCOPES = (QUEUES_SCOPE, TABLES_SCOPE)
# The gRPC method names of the internal services (security/peers.py).
INTERNAL_PACKAGE = "eventplane.internal"
INTERNAL_PREFIX = f"/{INTERNAL_PACKAGE}."


def forward_token(secret: str, scope: bytes = QUEUES_SCOPE) -> str:
    """The value that marks a call as forwarded by a replica sharing ``secret``."""
    return hmac.new(secret.encode(), scope, hashlib.sha256).hexdigest()


def is_forwarded(metadata: object, tokens: frozenset[str]) -> bool:
    """Whether the call's metadata carries one of ``tokens`` (compared in constant time)."""
    for key, value in metadata or ():  # type: ignore[attr-defined]
        if key == FORWARDED_KEY:
            text = value if isinstance(value, str) else value.decode()
            if any(hmac.compare_digest(text, t) for t in tokens):
                return True
    return False
