"""Table tags (TagResource, UntagResource, ListTagsOfResource, CreateTable's Tags): the
rules, and the engine's actions (a part of ``TableEngine``).

A table's tags are part of its definition (``TableDef.tags``), kept in its registry
record on ``eventplane.resources`` like the rest of it: every replica sees them, a
restarted one reads them back, and DeleteTable removes them with the table. The
limits and messages are DynamoDB's: at most 50 tags a table, keys of 1-128 and values
of 0-256 letters, digits, white space and ``_ . : / = + - @``, keys beginning ``aws:``
reserved, each key once per request; all ValidationException, the 50-tag limit too.
A resource is named by its table ARN (any region; the table of the ARN's account, as
names are per account, else the installation's of that name: ``references.py``); an
index or stream ARN, or another service's, is not a table ARN.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from eventplane import arn as arns
from eventplane.errors import ResourceNotFound, ValidationException
from eventplane.messaging.tags import MAX_TAGS
from eventplane.tables import references

if TYPE_CHECKING:
    from eventplane.tables.model import TableDef

MAX_KEY = 128
MAX_VALUE = 256
# ListTagsOfResource's page: every tag a table may have, so a caller that reads one page
# (most do) sees them all; NextToken is the last key of the page.
PAGE_SIZE = MAX_TAGS
_ALLOWED = re.compile(r"^[\w\s.:/=+\-@]*$")


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY or not _ALLOWED.match(key):
        raise ValidationException(f"The Tag Key provided is invalid, Key: {key}")
    if key.lower().startswith("aws:"):
        raise ValidationException(f"Tag Key cannot be prefixed with aws:, Key: {key}")
    return key


def check_tags(tags: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The (key, value) pairs of one request as a dict, or DynamoDB's error for the first
    rule they break (a key given twice included)."""
    out: dict[str, str] = {}
    for key, value in tags:
        check_key(key)
        if len(value) > MAX_VALUE or not _ALLOWED.match(value):
            raise ValidationException(f"The Tag Value provided is invalid, Value: {value}")
        if key in out:
            raise ValidationException(
                f"Duplicate Tag Keys provided as input: Duplicate Tag Key found {key}"
            )
        out[key] = value
    return out


def check_count(tags: Mapping[str, str]) -> dict[str, str]:
    """A table's whole tag set, or the 50-tag limit's ValidationException."""
    if len(tags) > MAX_TAGS:
        raise ValidationException(
            "Number of Tags exceed the current limit for the provided ResourceArn"
        )
    return dict(tags)


def table_of(arn: str) -> str:
    """The table name a TagResource / UntagResource / ListTagsOfResource ARN names."""
    found = arns.parse_as(arn, arns.Kind.TABLE)
    if found is None:
        raise ValidationException(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    return found.name


def tags_page(
    tags: Mapping[str, str], next_token: str = "", size: int = PAGE_SIZE
) -> tuple[list[tuple[str, str]], str]:
    """The tags after ``next_token`` (the last key a previous page gave) in key order, at
    most ``size``, and the token of the next page ("" on the last)."""
    after = sorted((k, v) for k, v in tags.items() if not next_token or k > next_token)
    page = after[:size]
    return page, (page[-1][0] if len(after) > size else "")


class TableTags:
    """The engine's tag actions; the rules above."""

    if TYPE_CHECKING:

        def lookup(self, name: str) -> TableDef | None: ...

        def table_owner(self, name: str) -> str | None: ...

        async def put_def(self, table: TableDef) -> None: ...

    def _tagged(self, arn: str) -> TableDef:
        table_of(arn)
        # The ARN's account's table (names are per account: ``references.py``).
        found = references.of_arn(self.table_owner, arn, arns.Kind.TABLE)
        table = self.lookup(found[0]) if found is not None else None
        if table is None:
            raise ResourceNotFound(f"Requested resource not found: ResourcArn: {arn} not found")
        return table

    async def _save(self, table: TableDef, tags: Mapping[str, str]) -> None:
        await self.put_def(dataclasses.replace(table, tags=check_count(tags)))

    async def tag_resource(self, arn: str, tags: Sequence[tuple[str, str]]) -> None:
        """Add tags, or set the value of a key the table has (keys are case-sensitive).
        The request is checked before the table is looked up, as DynamoDB does."""
        table_of(arn)
        if not tags:
            raise ValidationException("Atleast one Tag needs to be provided as Input.")
        given = check_tags(tags)
        table = self._tagged(arn)
        await self._save(table, {**table.tags, **given})

    async def untag_resource(self, arn: str, keys: Sequence[str]) -> None:
        """Remove tags by key; a key the table does not have is no error."""
        table_of(arn)
        if not keys:
            raise ValidationException("Atleast one Tag Key needs to be provided as Input.")
        gone = {check_key(k) for k in keys}
        table = self._tagged(arn)
        await self._save(table, {k: v for k, v in table.tags.items() if k not in gone})

    def list_tags_of_resource(
        self, arn: str, next_token: str = ""
    ) -> tuple[list[tuple[str, str]], str]:
        return tags_page(self._tagged(arn).tags, next_token)
