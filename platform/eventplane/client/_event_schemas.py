"""The schema registry calls of the EventBuses API (a mixin of ``AsyncEventsClient``)."""

from __future__ import annotations

from eventplane._gen.v1 import events_pb2 as pb
from eventplane.client import _archive_types as at
from eventplane.client import _event_types as t
from eventplane.client._archive_types import Schema
from eventplane.client._channel import Page, every_page
from eventplane.client._event_types import JsonDocument
from eventplane.client._facade import ServiceCore


class SchemaCalls(ServiceCore):
    """CreateSchema ... DeleteSchema: versioned schemas that validate events on put."""

    # --- schema registry ---------------------------------------------------------------

    async def create_schema(
        self,
        schema_name: str,
        type: str,
        content: JsonDocument,
        *,
        source: str | None = None,
        detail_type: str | None = None,
        description: str | None = None,
    ) -> Schema:
        """Register a schema (version 1).

        Args:
            schema_name: unique name.
            type: ``JSONSchemaDraft4`` or ``Avro``.
            content: the schema document (a dict or its JSON text).
            source: validate events with this source ...
            detail_type: ... and this detail-type against it, on buses with schema
                validation on.
            description: free text.

        Raises:
            EventplaneError: ``ResourceAlreadyExistsException`` when it exists;
                ``ValidationException`` when the content is not a valid schema.
        """
        req = pb.CreateSchemaRequest(
            schema_name=schema_name,
            type=type,
            content=t.json_text(content, "content"),
            source=source or "",
            detail_type=detail_type or "",
            description=description or "",
        )
        return at.schema(await self._call(self._stub.CreateSchema, req, self._timeout))

    async def update_schema(
        self, schema_name: str, content: JsonDocument, *, description: str | None = None
    ) -> Schema:
        """Add a version of a schema; events are validated against the latest.

        Args:
            schema_name: the schema.
            content: the new version's document (a dict or its JSON text); the
                same content as the latest version adds no version.
            description: the schema's new description; None keeps it.

        Returns:
            The latest version after the update.
        """
        req = pb.UpdateSchemaRequest(
            schema_name=schema_name,
            content=t.json_text(content, "content"),
            description=description or "",
        )
        return at.schema(await self._call(self._stub.UpdateSchema, req, self._timeout))

    async def describe_schema(self, schema_name: str, *, version: int | None = None) -> Schema:
        """A schema's latest version, or the version asked for.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the schema (or that
                version) does not exist.
        """
        req = pb.DescribeSchemaRequest(schema_name=schema_name, version=version or 0)
        return at.schema(await self._call(self._stub.DescribeSchema, req, self._timeout))

    async def list_schemas(self, *, name_prefix: str | None = None) -> list[Schema]:
        """The latest version of every schema whose name starts with ``name_prefix``;
        follows all pages."""

        async def page(token: str | None) -> Page[Schema]:
            req = pb.ListSchemasRequest(name_prefix=name_prefix or "", next_token=token or "")
            r = await self._call(self._stub.ListSchemas, req, self._timeout)
            return [at.schema(s) for s in r.schemas], r.next_token or None

        return await every_page(page)

    async def delete_schema(self, schema_name: str) -> None:
        """Delete a schema and all of its versions."""
        req = pb.DeleteSchemaRequest(schema_name=schema_name)
        await self._call(self._stub.DeleteSchema, req, self._timeout)
