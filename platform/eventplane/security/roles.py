"""Execution roles: the credentials a function's handler calls the API with.

A function runs with its execution role (``Role``, an IAM role ARN), as on Lambda: the
calls its handler makes through ``Client()`` carry the role, never a superuser token.
The server hands each worker process ``EVENTPLANE_TOKEN`` = a role token, an HMAC of
the role ARN under the cluster's shared receipt secret (``EVENTPLANE_RECEIPT_SECRET``),
so any replica verifies it without a lookup and a handler cannot turn it into another
role's. The authenticated principal is named by the role ARN, acts in the ARN's
account, and has the policies configured for that name under ``principals:`` in the
tokens file (none configured: unrestricted, as for any principal without policies).

Role tokens are issued and accepted only when authentication is on and the receipt
secret is not the public development value (anyone could compute them then).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import NamedTuple

from eventplane import arn as arns

PREFIX = "eprole."
_SCOPE = b"eventplane-execution-role|"


def _mac(secret: str, role_arn: str) -> str:
    return hmac.new(secret.encode(), _SCOPE + role_arn.encode(), hashlib.sha256).hexdigest()


def role_token(secret: str, role_arn: str) -> str:
    """The bearer token of ``role_arn`` in a cluster sharing ``secret``."""
    encoded = base64.urlsafe_b64encode(role_arn.encode()).decode().rstrip("=")
    return f"{PREFIX}{encoded}.{_mac(secret, role_arn)}"


def is_role_token(token: str) -> bool:
    return token.startswith(PREFIX)


def role_of(secret: str, token: str) -> str | None:
    """The role ARN ``token`` was issued for, or None if it is not a valid role token."""
    if not is_role_token(token):
        return None
    encoded, _, mac = token[len(PREFIX) :].rpartition(".")
    try:
        role_arn = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not hmac.compare_digest(mac, _mac(secret, role_arn)):
        return None
    return role_arn


class AwsCredentials(NamedTuple):
    """A role's credentials for the AWS-protocol port, as Lambda hands a role's to boto3."""

    access_key_id: str
    secret_access_key: str
    session_token: str  # the role token: the gateway derives the rest from it


def aws_credentials(secret: str, role_arn: str) -> AwsCredentials:
    """SigV4 credentials of ``role_arn``, derived from the cluster secret (no storage)."""

    def derive(label: bytes) -> bytes:
        return hmac.new(
            secret.encode(), _SCOPE + label + role_arn.encode(), hashlib.sha256
        ).digest()

    key_id = "ASIA" + base64.b32encode(derive(b"key-id|")).decode()[:16]
    secret_key = base64.b64encode(derive(b"secret|")).decode()[:40]
    return AwsCredentials(key_id, secret_key, role_token(secret, role_arn))


def account_of(role_arn: str) -> str:
    """The account a role acts in: its ARN's, else this installation's."""
    parts = role_arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else arns.identity().account
