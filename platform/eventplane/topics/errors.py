"""Errors raised by the topics capability."""

from __future__ import annotations

from eventplane.errors import InvalidRequestError


class InvalidFilterPolicy(InvalidRequestError):
    """A subscription filter policy (or scope) that SNS would reject at subscribe time.

    SNS reports these as ``InvalidParameter`` with a message such as
    ``Invalid parameter: FilterPolicy: Filter policy is too complex``.
    """

    code = "InvalidParameter"
