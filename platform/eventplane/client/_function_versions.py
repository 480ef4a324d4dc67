"""Version and alias calls of the Functions API (a mixin of ``AsyncFunctionsClient``)."""

from __future__ import annotations

from collections.abc import Mapping

from eventplane._gen.v1 import functions_pb2 as pb
from eventplane.client import _function_types as t
from eventplane.client._channel import Page, every_page
from eventplane.client._facade import ServiceCore
from eventplane.client._function_types import (
    Alias,
    FunctionConfiguration,
)


class VersionCalls(ServiceCore):
    """PublishVersion ... DeleteAlias: immutable versions and the names that point at them."""

    # --- versions and aliases ----------------------------------------------------------

    async def publish_version(
        self,
        function_name: str,
        *,
        description: str | None = None,
        code_sha256: str | None = None,
        revision_id: str | None = None,
    ) -> FunctionConfiguration:
        """Freeze ``$LATEST``'s code and settings as a new numbered version.

        Args:
            function_name: the function (name or ARN).
            description: the version's description.
            code_sha256: publish only if ``$LATEST`` still has this code (guards
                against a concurrent ``update_function_code``).
            revision_id: publish only if ``$LATEST`` still has this revision.

        Returns:
            The version's settings (``version`` is its number).

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the function does not
                exist; an error naming the mismatch when ``code_sha256`` is not
                ``$LATEST``'s; ``PreconditionFailedException`` when ``revision_id``
                is not.
        """
        req = pb.PublishVersionRequest(
            function_name=function_name,
            description=description or "",
            code_sha256=code_sha256 or "",
            revision_id=revision_id or "",
        )
        return t.configuration(await self._call(self._stub.PublishVersion, req, self._timeout))

    async def list_versions_by_function(self, function_name: str) -> list[FunctionConfiguration]:
        """``$LATEST`` and every published version of a function; follows all pages.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the function does not exist.
        """

        async def page(marker: str | None) -> Page[FunctionConfiguration]:
            req = pb.ListVersionsByFunctionRequest(function_name=function_name, marker=marker or "")
            r = await self._call(self._stub.ListVersionsByFunction, req, self._timeout)
            return [t.configuration(c) for c in r.functions], r.next_marker or None

        return await every_page(page)

    async def create_alias(
        self,
        function_name: str,
        name: str,
        function_version: str,
        *,
        description: str | None = None,
        additional_version_weights: Mapping[str, float] | None = None,
    ) -> Alias:
        """Name a version of a function (``prod`` -> ``3``).

        Args:
            function_name: the function (name or ARN).
            name: the alias; not a number, not ``$LATEST``.
            function_version: a published version or ``$LATEST``.
            description: free text.
            additional_version_weights: RoutingConfig: ``{"4": 0.1}`` sends a tenth of
                the invocations to version 4 (both versions published).

        Raises:
            EventplaneError: ``ResourceConflictException`` when the alias exists;
                ``ResourceNotFoundException`` when the version does not.
        """
        req = pb.CreateAliasRequest(
            function_name=function_name,
            name=name,
            function_version=function_version,
            description=description or "",
            additional_version_weights=t.version_weights(
                additional_version_weights, "additional_version_weights"
            ),
        )
        return t.alias(await self._call(self._stub.CreateAlias, req, self._timeout))

    async def update_alias(
        self,
        function_name: str,
        name: str,
        *,
        function_version: str | None = None,
        description: str | None = None,
        revision_id: str | None = None,
        additional_version_weights: Mapping[str, float] | None = None,
    ) -> Alias:
        """Point an alias at another version, or change its description or its
        RoutingConfig (``additional_version_weights``; ``{}`` removes it); None: unchanged.
        Given ``revision_id``, update only if the alias still has that revision.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when the alias or version
                does not exist; ``PreconditionFailedException`` when ``revision_id``
                is not the alias's.
        """
        req = pb.UpdateAliasRequest(
            function_name=function_name,
            name=name,
            function_version=function_version,
            description=description,
            revision_id=revision_id or "",
            set_routing_config=additional_version_weights is not None,
            additional_version_weights=t.version_weights(
                additional_version_weights, "additional_version_weights"
            ),
        )
        return t.alias(await self._call(self._stub.UpdateAlias, req, self._timeout))

    async def get_alias(self, function_name: str, name: str) -> Alias:
        """One alias.

        Raises:
            EventplaneError: ``ResourceNotFoundException`` when it does not exist.
        """
        req = pb.GetAliasRequest(function_name=function_name, name=name)
        return t.alias(await self._call(self._stub.GetAlias, req, self._timeout))

    async def list_aliases(
        self, function_name: str, *, function_version: str | None = None
    ) -> list[Alias]:
        """A function's aliases (only those pointing to ``function_version``, if
        given); follows all pages."""

        async def page(marker: str | None) -> Page[Alias]:
            req = pb.ListAliasesRequest(
                function_name=function_name,
                function_version=function_version or "",
                marker=marker or "",
            )
            r = await self._call(self._stub.ListAliases, req, self._timeout)
            return [t.alias(a) for a in r.aliases], r.next_marker or None

        return await every_page(page)

    async def delete_alias(self, function_name: str, name: str) -> None:
        """Delete an alias; the version it points to stays."""
        req = pb.DeleteAliasRequest(function_name=function_name, name=name)
        await self._call(self._stub.DeleteAlias, req, self._timeout)
