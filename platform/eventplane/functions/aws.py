"""The functions core as the AWS-protocol gateway sees it: Lambda's binding.

Registered by the runner component under ``ctx.extras["gateway.bindings"]["lambda"]``;
it imports nothing of the gateway. Each Lambda action maps by name onto a
``FunctionOperations`` method and its request shape; an action with no method (layers,
function URLs, code signing, ...) has no handler, so the gateway answers it as
unsupported.
"""

from __future__ import annotations

from eventplane.functions import shapes
from eventplane.functions.operations import FunctionOperations
from eventplane.runtime.aws_binding import OperationsBinding


class LambdaBinding(OperationsBinding):
    service = "lambda"
    shapes = shapes

    def __init__(self, ops: FunctionOperations) -> None:
        super().__init__(ops)
