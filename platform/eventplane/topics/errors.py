"""Errors of the topics capability (defined in ``eventplane.errors.topics``, which
imports nothing of the server, so the SDK and every front door share them)."""

from eventplane.errors.topics import (
    InvalidFilterPolicy,
    InvalidParameter,
    NotFound,
    ParameterValueInvalid,
    TaggedResourceNotFound,
    TagLimitExceeded,
)

__all__ = [
    "InvalidFilterPolicy",
    "InvalidParameter",
    "NotFound",
    "ParameterValueInvalid",
    "TagLimitExceeded",
    "TaggedResourceNotFound",
]
