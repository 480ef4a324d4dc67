"""The topics core as the AWS-protocol gateway sees it: SNS's binding.

Registered by the fanout component under ``ctx.extras["gateway.bindings"]["sns"]``;
it imports nothing of the gateway. Each SNS action maps by name onto a
``TopicOperations`` method and its request shape; an action with no method (SMS,
platform applications, ...) has no handler, so the
gateway answers it as unsupported.
"""

from __future__ import annotations

from eventplane.runtime.aws_binding import OperationsBinding
from eventplane.topics import shapes
from eventplane.topics.operations import TopicOperations

QUERY_ERROR_CODES = {
    "UnsupportedOperation": "InvalidAction",
    # SNS's word for a denial (AuthorizationErrorException in its model, HTTP 403).
    "AccessDeniedException": "AuthorizationError",
}


class SnsBinding(OperationsBinding):
    service = "sns"
    shapes = shapes
    # SNS's codes are the errors' own names (NotFound, InvalidParameter, ...); it has no
    # UnsupportedOperation, and answers an action it does not serve with InvalidAction.
    query_error_codes = QUERY_ERROR_CODES

    def __init__(self, ops: TopicOperations) -> None:
        super().__init__(ops)
