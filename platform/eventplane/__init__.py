"""eventplane: SQS, SNS, EventBridge and Lambda semantics on Apache Kafka."""

from eventplane.errors import EventplaneError

__version__ = "0.1.0"

__all__ = ["EventplaneError", "__version__"]
