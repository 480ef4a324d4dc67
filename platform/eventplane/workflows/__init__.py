"""Workflows: Step Functions state machines on Kafka (Standard and Express executions).

The interpreter (``interpreter.step``) is pure; the runtime journals each step's
history events and commands on ``eventplane.wf.history`` in one Kafka transaction.
"""

from eventplane.workflows.interpreter import Step, new_execution, step
from eventplane.workflows.machine import Machine

__all__ = ["Machine", "Step", "new_execution", "step"]
