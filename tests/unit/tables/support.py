"""What the table unit tests share: a table definition and a Kafka message stand-in."""

from __future__ import annotations

from eventplane.tables.model import (
    AttributeDefinition,
    CreateTableInput,
    KeySchemaElement,
    StreamSpecification,
    TableDef,
    new_table,
)

CREATED_MS = 1_700_000_000_000


def things_table(stream: StreamSpecification | None = None, partitions: int = 4) -> TableDef:
    """Table ``things``: a string hash key ``pk``, a NEW_IMAGE stream unless told."""
    return new_table(
        CreateTableInput(
            "things",
            [KeySchemaElement("pk", "HASH")],
            [AttributeDefinition("pk", "S")],
            stream or StreamSpecification(True, "NEW_IMAGE"),
            partitions,
        ),
        CREATED_MS,
    )


class Message:
    """A consumed (or delivered) Kafka record: where it is, its value and headers."""

    def __init__(
        self,
        topic: str,
        partition: int,
        offset: int,
        value: bytes = b"",
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        self._where = (topic, partition, offset)
        self._value = value
        self._headers = headers or []

    def topic(self) -> str:
        return self._where[0]

    def partition(self) -> int:
        return self._where[1]

    def offset(self) -> int:
        return self._where[2]

    def value(self) -> bytes:
        return self._value

    def headers(self) -> list[tuple[str, bytes]]:
        return self._headers

    def error(self) -> None:
        return None
