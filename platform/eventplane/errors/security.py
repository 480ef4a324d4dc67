"""Authorization errors: a call its principal may not make, a policy that cannot be read."""

from __future__ import annotations

from eventplane.errors.base import AccessDeniedError, InvalidRequestError

__all__ = ["AccessDeniedException", "MalformedPolicyDocument"]


class AccessDeniedException(AccessDeniedError):
    """The caller is authenticated, but no policy allows the action on the resource."""

    code = "AccessDeniedException"


class MalformedPolicyDocument(InvalidRequestError):
    """A policy document that is not valid IAM policy grammar (the message names the field)."""

    code = "MalformedPolicyDocument"
