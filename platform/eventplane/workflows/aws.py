"""The workflows core as the AWS-protocol gateway sees it: Step Functions' binding.

Registered by the workflows component under ``ctx.extras["gateway.bindings"]
["stepfunctions"]`` (botocore's model name; target prefix ``AWSStepFunctions``, signing
name ``states``); it imports nothing of the gateway. Each action maps by name onto a
``WorkflowsOperations`` method and its ``aws_shapes`` request; an action with no
method there is answered ``UnsupportedOperation``.
"""

from __future__ import annotations

from eventplane.runtime.aws_binding import OperationsBinding
from eventplane.workflows import aws_shapes
from eventplane.workflows.operations import WorkflowsOperations


class StepFunctionsBinding(OperationsBinding):
    service = "stepfunctions"
    shapes = aws_shapes

    def __init__(self, ops: WorkflowsOperations) -> None:
        super().__init__(ops)
