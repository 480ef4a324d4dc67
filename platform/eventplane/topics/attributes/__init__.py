"""Topic and subscription attributes: parse, validate and render them the way SNS does.

Pure (no Kafka, no gRPC), like :mod:`eventplane.queues.attributes`. CreateTopic goes
through ``parse_create``, SetTopicAttributes through ``TopicConfig.with_update``; Subscribe
through ``parse_subscribe``, SetSubscriptionAttributes through
``SubscriptionConfig.with_update``. A subscription compiles its filter policy when the config
is built, so an invalid policy is rejected at subscribe time and matching never re-parses
it. Errors are ``InvalidParameter`` worded like SNS (``Invalid parameter: <Field> Reason:
...``) and always name the field.

One module per sub-resource: ``topics`` and ``subscriptions``, over ``common`` (names,
ARNs and the shared parsing helpers).
"""

from eventplane.topics.attributes.common import (
    FIFO_SUFFIX,
    FUNCTION_PROTOCOLS,
    MAX_DISPLAY_NAME_LENGTH,
    MAX_NAME_LENGTH,
    PROTOCOLS,
    parse_subscription_arn,
    subscription_arn,
    topic_arn,
    topic_name_from_ref,
    topic_reference,
    validate_topic_name,
)
from eventplane.topics.attributes.subscriptions import (
    SubscriptionConfig,
    parse_subscribe,
)
from eventplane.topics.attributes.topics import (
    TopicConfig,
    parse_create,
)

__all__ = [
    "FIFO_SUFFIX",
    "FUNCTION_PROTOCOLS",
    "MAX_DISPLAY_NAME_LENGTH",
    "MAX_NAME_LENGTH",
    "PROTOCOLS",
    "SubscriptionConfig",
    "TopicConfig",
    "parse_create",
    "parse_subscribe",
    "parse_subscription_arn",
    "subscription_arn",
    "topic_arn",
    "topic_name_from_ref",
    "topic_reference",
    "validate_topic_name",
]
