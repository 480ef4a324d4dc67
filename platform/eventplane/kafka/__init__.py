"""The Kafka layer: clients, topic naming, the Avro codec and the local broker."""

from eventplane.kafka import naming
from eventplane.kafka.clients import (
    KafkaUnavailable,
    ProduceError,
    Producer,
    TopicSpec,
    client_config,
    consumer_config,
    delete_topics,
    ensure_topics,
    wait_for_cluster,
)
from eventplane.kafka.codec import CodecError, decode, encode

__all__ = [
    "CodecError",
    "KafkaUnavailable",
    "ProduceError",
    "Producer",
    "TopicSpec",
    "client_config",
    "consumer_config",
    "decode",
    "delete_topics",
    "encode",
    "ensure_topics",
    "naming",
    "wait_for_cluster",
]
