"""DynamoDB-style tables and DynamoDB Streams on Kafka.

A table is a compacted changelog topic partitioned by partition key plus a
co-partitioned stream topic; one owner per partition (a consumer group)
serializes writes in Kafka transactions. ``expr/`` is the pure item and
expression core; ``engine.TableEngine`` is the capability's one core behind the
gRPC service, the SDK (``client.tables``) and the CLI (``eventplane table``).
"""

__all__: list[str] = []
