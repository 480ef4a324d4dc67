"""SQS-compatible queues on Kafka: the Queues gRPC service and its engine."""

from eventplane.queues.component import QueuesComponent

__all__ = ["QueuesComponent"]
