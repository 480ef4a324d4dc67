"""Security: TLS on the API port, authentication of callers, safe start-up defaults."""

from eventplane.security.interceptor import Authenticator, AuthInterceptor, current_principal
from eventplane.security.setup import (
    auth_configured,
    check_exposure,
    is_loopback,
    metrics_tls_context,
    server_credentials,
    server_interceptors,
)
from eventplane.security.tls import ReloadingCredentials, TlsFiles
from eventplane.security.tokens import Principal, TokenStore, scrypt_hash, sha256_hex

__all__ = [
    "AuthInterceptor",
    "Authenticator",
    "Principal",
    "ReloadingCredentials",
    "TlsFiles",
    "TokenStore",
    "auth_configured",
    "check_exposure",
    "current_principal",
    "is_loopback",
    "metrics_tls_context",
    "scrypt_hash",
    "server_credentials",
    "server_interceptors",
    "sha256_hex",
]
