"""The auth interceptor: every call names its principal and its policies allow it, or it fails.

Health checks stay open (Kubernetes probes carry no credentials). Reflection is
authenticated like any API call: it reveals the API surface, and grpcurl can
send ``-H 'authorization: Bearer ...'``. The principal of the call is kept in
a context variable for code further in. After authentication, the principal's policies
are checked against the method's action and resource (``authorize``): a denial answers
PERMISSION_DENIED with ``AccessDeniedException``; denials and mutating calls are audited.
"""

from __future__ import annotations

import contextvars
import hmac
from collections.abc import Callable
from typing import Any

import grpc
from prometheus_client import Counter

from eventplane.errors.rpc import status_of, trailing_metadata
from eventplane.observability.logging import get_logger
from eventplane.security import roles
from eventplane.security.actions import ANY, Rule, rule_for
from eventplane.security.authorize import Outcome, audit, authorize
from eventplane.security.errors import (
    AuthenticationError,
    MissingAuthenticationToken,
    UnrecognizedClientException,
)
from eventplane.security.jwt_tokens import JwtVerifier, looks_like_jwt
from eventplane.security.memo import remember
from eventplane.security.replicas import INTERNAL_PREFIX, is_forwarded
from eventplane.security.resource_policy import ResourcePolicies
from eventplane.security.tokens import Principal, TokenStore
from eventplane.tracing import (
    REQUEST_ID_KEY,
    TraceContext,
    trace_from_metadata,
    use_trace,
)

_log = get_logger("eventplane.security")

AUTH_FAILURES = Counter(
    "eventplane_auth_failures_total",
    "Calls refused for missing or unrecognized credentials, by AWS error code.",
    ["code"],
)
AUTH_SUCCESSES = Counter(
    "eventplane_auth_authenticated_total",
    "Calls authenticated, by how (token or mtls).",
    ["via"],
)

_OPEN = ("/grpc.health.v1.Health/",)
# Who a call forwarded by another replica comes from (that replica authenticated the caller).
REPLICA = Principal(name="replica", via="replica")
# Who a call of this process's own components comes from (workflow tasks, mappings).
INTERNAL = Principal(name="internal", via="internal")
_BEARER = "bearer "
# Tokens-file callers remembered by their authorization header; past that, start again.
KNOWN_HEADERS = 1024
# How principals whose credentials are a bearer token that a relayed call carries on
# are authenticated (an API key, a JWT, a function's execution-role token).
TRAVELLING = frozenset({"token", "jwt", "role"})

current_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "eventplane_principal", default=None
)


def _certificate_principal(context: grpc.aio.ServicerContext) -> Principal | None:
    # gRPC fills the auth context only after a verified client certificate (mTLS).
    auth = context.auth_context()
    for key in ("x509_subject_alternative_name", "x509_common_name"):
        values = auth.get(key) or []
        if values:
            return Principal(name=values[0].decode(), via="mtls")
    return None


class Authenticator:
    """Decides who a call comes from: a bearer token first, else the client certificate."""

    def __init__(
        self,
        tokens: TokenStore | None,
        *,
        mtls: bool,
        replica_tokens: frozenset[str] = frozenset(),
        relay_tokens: frozenset[str] = frozenset(),
        internal_token: str = "",
        role_secret: str = "",
        jwt: JwtVerifier | None = None,
    ) -> None:
        self.tokens = tokens
        self.mtls = mtls
        # Forwarded calls of this cluster's replicas: a partition owner's token counts on
        # the internal services only (a leaked one opens no public method); the relay
        # token on every method.
        self._forward_tokens_internal = replica_tokens | relay_tokens
        self._forward_tokens_public = relay_tokens
        self.internal_token = internal_token  # this process's own components
        self.role_secret = role_secret  # verifies functions' execution-role tokens
        self.jwt = jwt  # OIDC/JWT bearer tokens (service-account tokens), if configured
        # Authorization headers that carried a tokens-file token, and its principal: a
        # repeat call is one dict lookup. The file is read once, so an entry stays true.
        self._known: dict[str, Principal] = {}

    def authenticate(
        self, metadata: Any, context: grpc.aio.ServicerContext, method: str = ""
    ) -> Principal:
        internal = method.startswith(INTERNAL_PREFIX)
        forwarded = self._forward_tokens_internal if internal else self._forward_tokens_public
        if forwarded and is_forwarded(metadata, forwarded):
            return REPLICA
        header = ""
        for key, value in metadata or ():
            if key == "authorization":
                header = value if isinstance(value, str) else value.decode()
                break
        if header:
            known = self._known.get(header)
            if known is not None:
                return known
            presented = header[len(_BEARER) :].strip()
            if (
                self.internal_token
                and header.lower().startswith(_BEARER)
                and hmac.compare_digest(presented, self.internal_token)
            ):
                return INTERNAL
            if self.role_secret and roles.is_role_token(presented):
                return self._role_principal(presented)
            if self.jwt is not None and looks_like_jwt(presented):
                return self.jwt.verify(presented)
            if not header.lower().startswith(_BEARER) or self.tokens is None:
                raise UnrecognizedClientException(
                    "the authorization header is not a bearer token this server accepts"
                )
            principal = self.tokens.lookup(presented)
            if principal is None:
                # Never echo the token: the message names only the header.
                raise UnrecognizedClientException(
                    "the bearer token in the authorization header is not valid"
                )
            remember(self._known, header, principal, KNOWN_HEADERS)
            return principal
        if self.mtls:
            principal = _certificate_principal(context)
            if principal is not None:
                named = (
                    self.tokens.named(principal.name, "mtls") if self.tokens is not None else None
                )
                return named or principal
        raise MissingAuthenticationToken(
            "the call has no credentials: send 'authorization: Bearer <token>' "
            "(EVENTPLANE_TOKEN) or a client certificate"
        )

    def _role_principal(self, token: str) -> Principal:
        role_arn = roles.role_of(self.role_secret, token)
        if role_arn is None:
            raise UnrecognizedClientException(
                "the execution-role token in the authorization header is not valid"
            )
        policies = self.tokens.policies_of(role_arn) if self.tokens is not None else None
        return Principal(
            name=role_arn, account=roles.account_of(role_arn), via="role", policies=policies
        )


class AuthInterceptor:
    """Authentication and authorization, a layer of the server's one interceptor
    (observability.interceptor.InterceptorChain), which wraps each method once."""

    def __init__(
        self,
        authenticator: Authenticator,
        resources: ResourcePolicies | None = None,
        relayed: Callable[[str], bool] | None = None,
    ) -> None:
        self._resources = resources
        self._auth = authenticator
        self._relayed = relayed

    def wrap_handler(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        """The handler behind authentication and authorization (health checks stay open)."""
        return handler if method.startswith(_OPEN) else self._wrap(method, handler)

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        auth = self._auth
        resources = self._resources

        def principal_of(context: grpc.aio.ServicerContext, metadata: Any) -> Principal:
            principal = auth.authenticate(metadata, context, method)
            _succeeded(principal.via)
            current_principal.set(principal)
            return principal

        async def refuse(context: grpc.aio.ServicerContext, exc: AuthenticationError) -> None:
            AUTH_FAILURES.labels(exc.code).inc()
            _log.info("call not authenticated", method=method, code=exc.code)
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED, exc.message, trailing_metadata(exc)
            )

        async def check(context: grpc.aio.ServicerContext, metadata: Any) -> Principal:
            try:
                return principal_of(context, metadata)
            except AuthenticationError as exc:
                await refuse(context, exc)
                raise  # abort raises; this line is for type checkers

        # A method missing from the table is open only to unrestricted principals.
        rule = rule_for(method) or Rule(
            f"eventplane:{method.rsplit('/', 1)[-1]}", lambda _r: (ANY,), True
        )

        def decide(
            principal: Principal, request: Any, context: Any, metadata: Any
        ) -> tuple[Outcome, TraceContext] | None:
            """None when allowed and nothing is audited; else the audited outcome."""
            # Only conditions ask whether the call came over TLS (~5 us to find out).
            outcome = authorize(
                principal, rule, request, secure=lambda: _secure(context), resources=resources
            )
            if outcome is None:
                return None
            trace = trace_from_metadata(metadata)
            audit(principal, method, outcome, trace.request_id)
            return outcome, trace

        async def deny(context: Any, outcome: Outcome, trace: TraceContext) -> None:
            if outcome.error is None:
                return
            await context.abort(
                status_of(outcome.error),  # PERMISSION_DENIED, or NOT_FOUND (hidden)
                outcome.error.message,
                (*trailing_metadata(outcome.error), (REQUEST_ID_KEY, trace.request_id)),
            )

        async def permit(
            principal: Principal, request: Any, context: Any, metadata: Any
        ) -> TraceContext | None:
            """None when nothing was audited; else the audited request's trace."""
            decided = decide(principal, request, context, metadata)
            if decided is None:
                return None
            outcome, trace = decided
            if outcome.error is not None:
                await deny(context, outcome, trace)
            return trace

        # Served by another process (split mode): a bearer token travels there with the
        # call and is authorized by the process that has the resource's policy at hand.
        relayed = self._relayed is not None and self._relayed(method)

        if handler.unary_unary is not None:
            inner = handler.unary_unary

            # An allowed call goes through plain functions only (a coroutine each for
            # authentication and authorization cost every call two more to create and run).
            async def unary_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
                metadata = context.invocation_metadata()
                try:
                    principal = principal_of(context, metadata)
                except AuthenticationError as exc:
                    await refuse(context, exc)
                    raise  # abort raises; this line is for type checkers
                if relayed and principal.via in TRAVELLING:
                    return await inner(request, context)
                decided = decide(principal, request, context, metadata)
                if decided is None:
                    return await inner(request, context)
                outcome, trace = decided
                if outcome.error is not None:
                    await deny(context, outcome, trace)
                # Audited: the call's own logs carry the audit line's request id.
                with use_trace(trace):
                    return await inner(request, context)

            return grpc.unary_unary_rpc_method_handler(
                unary_unary,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_stream is not None:  # reflection
            inner_ss = handler.stream_stream

            async def stream_stream(requests: Any, context: grpc.aio.ServicerContext) -> Any:
                metadata = context.invocation_metadata()
                await permit(await check(context, metadata), None, context, metadata)
                async for response in _aiter(inner_ss(requests, context)):
                    yield response

            return grpc.stream_stream_rpc_method_handler(
                stream_stream,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return _refuse_all(handler)


_SUCCEEDED: dict[str, Any] = {}


def _succeeded(via: str) -> None:
    # The counter's child per label, found once (labels() takes a lock and checks names).
    counter = _SUCCEEDED.get(via)
    if counter is None:
        counter = _SUCCEEDED[via] = AUTH_SUCCESSES.labels(via)
    counter.inc()


def _secure(context: grpc.aio.ServicerContext) -> bool:
    security = context.auth_context().get("transport_security_type") or []
    return b"ssl" in security


async def _aiter(result: Any) -> Any:
    if hasattr(result, "__aiter__"):
        async for item in result:
            yield item
    else:  # a sync generator
        for item in result:
            yield item


def _refuse_all(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    # No eventplane service streams one way today; refuse rather than let one in unchecked.
    async def refuse(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "streaming calls are not authenticated")

    return grpc.unary_unary_rpc_method_handler(
        refuse,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )
