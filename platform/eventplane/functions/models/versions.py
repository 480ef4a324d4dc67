"""Published versions and aliases, and resolving a qualifier to a version."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eventplane import arn as arns
from eventplane.functions.errors import InvalidParameterValueException, ValidationException
from eventplane.functions.models.common import (
    _ALIAS,
    _ALIAS_PATTERN,
    _VERSION,
    _VERSION_PATTERN,
    LATEST,
    _not_null,
    _pattern,
    _too_long,
    alias_key,
    function_arn,
    function_not_found,
    version_key,
)
from eventplane.functions.models.functions import (
    FunctionConfig,
    FunctionDef,
    validate_description,
)
from eventplane.registry import Resource
from eventplane.security.accounts import owned_by, owner_of


def _installation() -> str:
    return arns.identity().account


@dataclass(frozen=True)
class VersionDef:
    """A published version: a frozen copy of $LATEST's configuration."""

    function: str
    number: int
    config: FunctionConfig
    created_ms: int = 0
    account: str = field(default_factory=_installation)  # the function's

    @property
    def key(self) -> str:
        return version_key(self.function, self.number)

    @property
    def version(self) -> str:
        return str(self.number)

    @property
    def arn(self) -> str:
        return function_arn(self.function, self.version, self.account)

    def to_spec(self) -> dict[str, Any]:
        spec = {"function": self.function, "number": self.number, "config": self.config.to_spec()}
        return owned_by(spec, self.account)

    @staticmethod
    def from_resource(r: Resource) -> VersionDef:
        s = r.spec
        return VersionDef(
            s["function"],
            int(s["number"]),
            FunctionConfig.from_spec(s["config"]),
            r.created_at,
            owner_of(s),
        )


def validate_alias_name(name: str) -> str:
    if not name:
        raise _not_null("name")
    if len(name) > 128:
        raise _too_long("name", name, 128)
    if _ALIAS.fullmatch(name) is None:
        raise _pattern("name", name, _ALIAS_PATTERN)
    return name


def validate_function_version(version: str) -> str:
    """An alias's target: ``$LATEST`` or a version number."""
    if not version:
        raise _not_null("functionVersion")
    if len(version) > 1024:
        raise _too_long("functionVersion", version, 1024)
    if _VERSION.fullmatch(version) is None:
        raise _pattern("functionVersion", version, _VERSION_PATTERN)
    return version


@dataclass(frozen=True)
class AliasDef:
    function: str
    name: str
    function_version: str  # $LATEST or a number
    description: str = ""
    revision_id: str = ""
    # RoutingConfig: the one other version and the share of invocations it gets (0-1).
    additional_version_weights: Mapping[str, float] = field(default_factory=dict)
    account: str = field(default_factory=_installation)  # the function's

    @property
    def key(self) -> str:
        return alias_key(self.function, self.name)

    @property
    def arn(self) -> str:
        return function_arn(self.function, self.name, self.account)

    @staticmethod
    def build(
        function: str,
        name: str,
        function_version: str,
        *,
        description: str = "",
        revision_id: str,
        additional_version_weights: Mapping[str, float] | None = None,
        account: str | None = None,
    ) -> AliasDef:
        version = validate_function_version(function_version)
        return AliasDef(
            function,
            validate_alias_name(name),
            version,
            validate_description(description),
            revision_id,
            validate_routing(version, additional_version_weights or {}),
            account or _installation(),
        )

    def route(self, draw: float | None = None) -> str:
        """The version one invocation through this alias runs: the additional version
        for its weight's share of invocations, else the alias's own."""
        for version, weight in self.additional_version_weights.items():
            if (random.random() if draw is None else draw) < weight:
                return version
        return self.function_version

    def to_spec(self) -> dict[str, Any]:
        spec = {
            "function": self.function,
            "name": self.name,
            "function_version": self.function_version,
            "description": self.description,
            "revision_id": self.revision_id,
            "additional_version_weights": dict(self.additional_version_weights),
        }
        return owned_by(spec, self.account)

    @staticmethod
    def from_resource(r: Resource) -> AliasDef:
        s = r.spec
        return AliasDef(
            s["function"],
            s["name"],
            s["function_version"],
            s.get("description", ""),
            s.get("revision_id", ""),
            {k: float(v) for k, v in (s.get("additional_version_weights") or {}).items()},
            owner_of(s),
        )


def validate_routing(version: str, weights: Mapping[str, float]) -> dict[str, float]:
    """An alias's AdditionalVersionWeights, as Lambda checks them: at most one other
    published version, with a weight from 0.0 to 1.0."""
    for additional, weight in weights.items():
        if not (0.0 <= weight <= 1.0):
            raise ValidationException(
                f"1 validation error detected: Value '{{{additional}={weight}}}' at "
                "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map "
                "value must satisfy constraint: [Member must have value less than or equal to "
                "1.0, Member must have value greater than or equal to 0.0]"
            )
        if not (additional.isascii() and additional.isdigit()):
            raise ValidationException(
                f"1 validation error detected: Value '{{{additional}={weight}}}' at "
                "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map "
                "keys must satisfy constraint: [Member must satisfy regular expression "
                "pattern: [0-9]+]"
            )
    if len(weights) > 1:
        raise InvalidParameterValueException(
            "Number of items in AdditionalVersionWeights cannot be greater than 1"
        )
    if weights and version == LATEST:
        raise InvalidParameterValueException(
            "$LATEST is not supported for an alias pointing to more than 1 version"
        )
    if version in weights:
        raise InvalidParameterValueException(
            f"Invalid function version {version}. Function version {version} is already "
            "included in routing configuration."
        )
    return {k: float(v) for k, v in weights.items()}


def resolve_qualifier(
    fn: FunctionDef,
    qualifier: str | None,
    versions: Mapping[str, VersionDef],
    aliases: Mapping[str, AliasDef],
) -> tuple[str, FunctionConfig]:
    """(executed version, its configuration) for ``qualifier``: None or $LATEST, a version
    number or an alias name. ``versions`` is keyed by version string, ``aliases`` by name.

    Raises ResourceNotFoundException ("Function not found: <arn>:<qualifier>") when the
    version, the alias or the alias's version does not exist.
    """
    if not qualifier or qualifier == LATEST:
        return LATEST, fn.config
    if qualifier.isascii() and qualifier.isdigit():
        version = versions.get(qualifier)
        if version is None:
            raise function_not_found(fn.name, qualifier)
        return version.version, version.config
    alias = aliases.get(qualifier)
    if alias is None:
        raise function_not_found(fn.name, qualifier)
    if alias.function_version == LATEST:
        return LATEST, fn.config
    version = versions.get(alias.function_version)
    if version is None:
        raise function_not_found(fn.name, qualifier)
    return version.version, version.config
