"""Authentication errors; the interceptor answers them with gRPC UNAUTHENTICATED."""

from __future__ import annotations

from eventplane.errors import EventplaneError
from eventplane.errors.base import Category


class AuthenticationError(EventplaneError):
    category = Category.INVALID_REQUEST


class MissingAuthenticationToken(AuthenticationError):
    """The call carried neither a bearer token nor a verified client certificate."""

    code = "MissingAuthenticationToken"


class UnrecognizedClientException(AuthenticationError):
    """The bearer token matches no configured principal."""

    code = "UnrecognizedClientException"
