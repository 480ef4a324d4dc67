"""Errors raised by the topics capability, with the codes SNS uses for the same cases."""

from __future__ import annotations

from eventplane.errors.base import InvalidRequestError, NotFoundError
from eventplane.errors.workflows import StatesResourceNotFound

# The resource a tagging call names does not exist (SNS ``ResourceNotFoundException``).
# Its code, ResourceNotFound, is Step Functions' too, and one code names one class (the
# SDK rebuilds errors by code), so both services raise the same class.
TaggedResourceNotFound = StatesResourceNotFound

__all__ = [
    "InvalidFilterPolicy",
    "InvalidParameter",
    "NotFound",
    "ParameterValueInvalid",
    "TagLimitExceeded",
    "TaggedResourceNotFound",
]


class InvalidParameter(InvalidRequestError):
    """A request parameter SNS would reject (SNS ``InvalidParameterException``).

    Messages follow SNS: ``Invalid parameter: <Field>`` and, where it helps, a reason.
    """

    code = "InvalidParameter"


class ParameterValueInvalid(InvalidRequestError):
    """A message attribute SNS would reject (SNS ``InvalidParameterValueException``).

    SNS reports bad message attributes under this code rather than ``InvalidParameter``.
    """

    code = "ParameterValueInvalid"


class NotFound(NotFoundError):
    """A topic or subscription that does not exist (SNS ``NotFoundException``)."""

    code = "NotFound"


class TagLimitExceeded(InvalidRequestError):
    """More than 50 tags on one topic (SNS ``TagLimitExceededException``)."""

    code = "TagLimitExceeded"


class InvalidFilterPolicy(InvalidParameter):
    """A subscription filter policy (or scope) that SNS would reject at subscribe time.

    SNS reports these as ``InvalidParameter`` with a message such as
    ``Invalid parameter: FilterPolicy: Filter policy is too complex``. The class does not
    redeclare ``code``, so the code registry maps ``InvalidParameter`` to InvalidParameter.
    """
