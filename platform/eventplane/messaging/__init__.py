"""What queues and topics share about a message: typed attributes and batch entry ids.

A capability-neutral room below queues and topics (and above ``errors``): SQS and SNS
validate message attributes alike, count them alike against the message size, digest
them alike (MD5OfMessageAttributes), and check batch entry ids alike, so both import
these rules here instead of one importing the other's internals.
"""

from eventplane.messaging.attributes import (
    MessageAttribute,
    md5_of_message_attributes,
    message_size,
    validate_message_attributes,
)
from eventplane.messaging.batches import validate_batch_entry_ids

__all__ = [
    "MessageAttribute",
    "md5_of_message_attributes",
    "message_size",
    "validate_batch_entry_ids",
    "validate_message_attributes",
]
