"""What the server asks of security at start-up: credentials, interceptors, exposure check."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Callable

import grpc

from eventplane.config import DEV_RECEIPT_SECRET, ConfigError, Settings
from eventplane.observability.logging import get_logger
from eventplane.security import replicas, roles
from eventplane.security.interceptor import Authenticator, AuthInterceptor
from eventplane.security.jwt_tokens import JwtVerifier
from eventplane.security.resource_policy import ResourcePolicies
from eventplane.security.tls import ReloadingCredentials, ReloadingSslContext, TlsFiles
from eventplane.security.tokens import TokenStore


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere


def auth_configured(settings: Settings) -> bool:
    return bool(settings.auth_tokens_file or settings.tls_client_ca_file or settings.auth_jwks_file)


def check_exposure(settings: Settings) -> None:
    """Refuse to serve a non-loopback address to anyone who connects, unless told to."""
    if is_loopback(settings.grpc_host) or auth_configured(settings) or settings.insecure:
        return
    raise ConfigError(
        "EVENTPLANE_GRPC_HOST",
        f"{settings.grpc_host} is reachable from other hosts and no authentication is "
        "configured: set EVENTPLANE_AUTH_TOKENS_FILE, EVENTPLANE_AUTH_JWKS_FILE or "
        "EVENTPLANE_TLS_CLIENT_CA_FILE, "
        "or pass --insecure (EVENTPLANE_INSECURE=1)",
    )


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """TLS credentials for the gRPC port (reloading from disk), None for plaintext."""
    files = TlsFiles.from_settings(settings)
    return None if files is None else ReloadingCredentials(files).server_credentials()


def metrics_tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The /metrics port's TLS context (same files, same rotation), None for plain HTTP."""
    if not settings.metrics_tls:
        return None
    files = TlsFiles.from_settings(settings)
    if files is None:
        raise ConfigError(
            "EVENTPLANE_METRICS_TLS",
            "needs EVENTPLANE_TLS_CERT_FILE and EVENTPLANE_TLS_KEY_FILE",
        )
    return ReloadingSslContext(files).context


def server_interceptors(
    settings: Settings,
    internal_token: str = "",
    resource_policies: ResourcePolicies | None = None,
    relayed: Callable[[str], bool] | None = None,
) -> list[AuthInterceptor]:
    """The authentication interceptor when any authentication is configured.

    ``internal_token`` is the bearer token of the process's own components (calls on its
    private Unix socket), accepted besides the configured principals. ``relayed(method)``
    says which methods another process serves (runtime/relay.py): a bearer token travels
    there and is authorized by that process, with the resource's own policy at hand.
    """
    if not auth_configured(settings):
        return []
    tokens = TokenStore.from_file(settings.auth_tokens_file) if settings.auth_tokens_file else None
    return [
        AuthInterceptor(
            Authenticator(
                tokens,
                mtls=bool(settings.tls_client_ca_file),
                replica_tokens=replica_tokens(settings),
                relay_tokens=relay_tokens(settings),
                internal_token=internal_token,
                role_secret=role_secret(settings),
                jwt=JwtVerifier.from_settings(settings, tokens),
            ),
            resource_policies,
            relayed,
        )
    ]


def role_secret(settings: Settings) -> str:
    """The key of execution-role tokens: the cluster's receipt secret, when role tokens
    are in use (authentication on) and safe (the secret is not the public dev value)."""
    if not auth_configured(settings) or settings.receipt_secret == DEV_RECEIPT_SECRET:
        return ""
    return settings.receipt_secret


def execution_role_env(settings: Settings) -> Callable[[str], dict[str, str]]:
    """What a function's worker process gets for its execution role (role ARN -> env).

    With role tokens in use: ``EVENTPLANE_TOKEN`` for ``Client()`` and the role's AWS
    credentials for boto3 against the AWS-protocol port. When this process serves that
    port, ``AWS_ENDPOINT_URL`` points boto3 at it (a function's own setting wins); an
    open gateway (``eventplane dev``) takes any key, so the worker gets placeholder keys.
    """
    secret = role_secret(settings)
    gateway = settings.gateway_url if "api" in settings.roles else ""

    def env(role_arn: str) -> dict[str, str]:
        out: dict[str, str] = {}
        if gateway:
            out["AWS_ENDPOINT_URL"] = gateway
        if secret and role_arn:
            out["EVENTPLANE_TOKEN"] = roles.role_token(secret, role_arn)
            key = roles.aws_credentials(secret, role_arn)
            out["AWS_ACCESS_KEY_ID"] = key.access_key_id
            out["AWS_SECRET_ACCESS_KEY"] = key.secret_access_key
            out["AWS_SESSION_TOKEN"] = key.session_token
        elif gateway and settings.gateway_open:
            out["AWS_ACCESS_KEY_ID"] = out["AWS_SECRET_ACCESS_KEY"] = "eventplane"
        return out

    return env


def replica_tokens(settings: Settings) -> frozenset[str]:
    """The partition owners' forwarded-call tokens of this cluster's replicas, accepted as
    credentials on the internal services only.

    None while the receipt secret is the public development value: anyone could then
    compute the token, so with authentication on, replicas refuse each other's forwarded
    calls until EVENTPLANE_RECEIPT_SECRET is set (said once, at start-up).
    """
    if settings.receipt_secret == DEV_RECEIPT_SECRET:
        get_logger("eventplane.security").warning(
            "authentication is on but EVENTPLANE_RECEIPT_SECRET is the public development "
            "value: replicas will refuse each other's forwarded calls and functions get no "
            "execution-role credentials; set it (the same on every replica)"
        )
        return frozenset()
    return frozenset(
        replicas.forward_token(settings.receipt_secret, s) for s in replicas.OWNER_SCOPES
    )


def relay_tokens(settings: Settings) -> frozenset[str]:
    """The token of calls relayed to a pod running another role, accepted on every
    method; none while the receipt secret is the public development value."""
    if settings.receipt_secret == DEV_RECEIPT_SECRET:
        return frozenset()
    return frozenset({replicas.forward_token(settings.receipt_secret, replicas.RELAY_SCOPE)})
