"""The tag actions of the Workflows core (a part of ``WorkflowsCore``).

State machines and activities carry tags, kept in their registry record's spec
(``tags``) on ``eventplane.resources`` like the rest of their metadata, so a restarted
replica knows them. Tagging changes neither a machine's revisionId nor its update date:
the record keeps the revision it had (``revision``/``revisionAt``, see ``core._machine``).
AWS's rules: at most 50 tags a resource, keys 1-128 characters and values 0-256 of
letters, digits, white space and ``_ . : / = + - @``, keys beginning ``aws:`` reserved.
A version or alias ARN, or another service's, is InvalidArn; an unknown resource
ResourceNotFound.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from eventplane.errors import ValidationException
from eventplane.messaging.tags import MAX_TAGS
from eventplane.workflows import arns
from eventplane.workflows.errors import InvalidArn, StatesResourceNotFound, TooManyTags
from eventplane.workflows.shapes import require

if TYPE_CHECKING:
    from eventplane.runtime import ServerContext

MAX_KEY = 128
MAX_VALUE = 256
_ALLOWED = re.compile(r"^[\w\s.:/=+\-@]*$")
_KINDS = {"stateMachine:": "statemachine", "activity:": "activity"}


def check_tags(tags: Mapping[str, str], resource: str = "") -> dict[str, str]:
    """``tags`` as a dict, or AWS's error for the first rule they break."""
    for key, value in tags.items():
        if not 1 <= len(key) <= MAX_KEY:
            raise ValidationException(
                f"1 validation error detected: Value '{key}' at 'tags.member.key' failed to "
                f"satisfy constraint: Member must have length between 1 and {MAX_KEY}"
            )
        if len(value) > MAX_VALUE:
            raise ValidationException(
                f"1 validation error detected: Value at 'tags.member.value' failed to "
                f"satisfy constraint: Member must have length less than or equal to {MAX_VALUE}"
            )
        if not (_ALLOWED.match(key) and _ALLOWED.match(value)):
            raise ValidationException(
                f"Tag '{key}' may only contain Unicode letters, digits, white space, "
                "or these symbols: _ . : / = + - @"
            )
        if key.lower().startswith("aws:"):
            raise ValidationException(f"Tag keys beginning with 'aws:' are reserved: '{key}'")
    if len(tags) > MAX_TAGS:
        raise TooManyTags(
            f"Too many tags: a resource may have at most {MAX_TAGS} tags", resource_name=resource
        )
    return dict(tags)


def _kind_and_name(arn: str) -> tuple[str, str]:
    for prefix, kind in _KINDS.items():
        if f":{prefix}" in arn:
            if kind == "activity":
                return kind, arns.parse_activity_arn(arn, "resourceArn")
            return kind, arns.parse_state_machine_arn(arn, "resourceArn")
    raise InvalidArn(f"Invalid Arn: '{arn}' is not a state machine or activity ARN (resourceArn)")


class TagActions:
    _ctx: ServerContext

    def _tagged(self, arn: str) -> tuple[str, str, dict[str, Any]]:
        """(registry kind, name, spec) of the tagged resource."""
        kind, name = _kind_and_name(require(arn, "resourceArn"))
        r = self._ctx.registry.get(kind, name)
        if r is None:
            raise StatesResourceNotFound(f"Resource not found: '{arn}'")
        spec = dict(r.spec)
        if kind == "statemachine":  # a tag is no new revision (see core._machine)
            spec.setdefault("revision", str(r.generation))
            spec.setdefault("revisionAt", r.updated_at)
        return kind, name, spec

    async def _set_tags(self, arn: str, kind: str, name: str, spec: dict[str, Any]) -> None:
        check_tags(spec["tags"], arn)
        await asyncio.to_thread(self._ctx.registry.put, kind, name, spec)

    async def tag_resource(self, resource_arn: str, tags: Mapping[str, str]) -> None:
        """Add tags, or overwrite the value of a key the resource has (case-sensitive)."""
        kind, name, spec = self._tagged(resource_arn)
        check_tags(tags, resource_arn)
        spec["tags"] = {**spec.get("tags", {}), **tags}
        await self._set_tags(resource_arn, kind, name, spec)

    async def untag_resource(self, resource_arn: str, tag_keys: Iterable[str]) -> None:
        """Remove tags by key; a key the resource does not have is ignored."""
        kind, name, spec = self._tagged(resource_arn)
        gone = set(tag_keys)
        spec["tags"] = {k: v for k, v in spec.get("tags", {}).items() if k not in gone}
        await self._set_tags(resource_arn, kind, name, spec)

    async def list_tags_for_resource(self, resource_arn: str) -> dict[str, str]:
        _, _, spec = self._tagged(resource_arn)
        return dict(spec.get("tags", {}))
