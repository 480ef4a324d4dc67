"""Archives, replays and schemas belong to their creator's account: kept in the spec (none
there: the installation's), carried by their ARNs, and shown in list calls to that
account only."""

from __future__ import annotations

import json

from eventplane import arn as arns
from eventplane.bus.history import mine
from eventplane.bus.models import ArchiveDef, ReplayDef
from eventplane.bus.schemas import SchemaDef, SchemaVersion
from eventplane.registry import Resource
from eventplane.security.interceptor import current_principal
from eventplane.security.tokens import Principal

A, B = "111111111111", "222222222222"
AVRO = json.dumps({"type": "record", "name": "R", "fields": []})


def _again(kind: str, name: str, spec: dict[str, object]) -> Resource:
    return Resource(kind, name, json.loads(json.dumps(spec)), 1, 0, 0)


def test_archives_replays_and_schemas_keep_their_account() -> None:
    archive = ArchiveDef.build("a", "orders", account=A)
    assert archive.arn == f"arn:aws:events:local:{A}:archive/a"
    assert ArchiveDef.from_resource(_again("archive", "a", archive.to_spec())).account == A
    replay = ReplayDef("r", "a", "orders", 0, 1, account=B)
    assert replay.arn == f"arn:aws:events:local:{B}:replay/r"
    assert ReplayDef.from_resource(_again("replay", "r", replay.to_spec())).account == B
    schema = SchemaDef("s", "Avro", "", "", "", (SchemaVersion(1, AVRO, 0),), account=A)
    assert schema.arn == f"arn:aws:schemas:local:{A}:schema/eventplane/s"
    assert SchemaDef.from_resource(_again("schema", "s", schema.to_spec())).account == A
    # The installation's: nothing stored, as before accounts.
    mine_too = ArchiveDef.build("b", "orders")
    assert "account" not in mine_too.to_spec()
    assert mine_too.account == arns.identity().account


def test_list_calls_show_the_callers_own() -> None:
    found = [ArchiveDef.build("a", "x", account=A), ArchiveDef.build("b", "x", account=B)]
    assert len(mine(found)) == 2  # the platform (no caller) sees every account's
    reset = current_principal.set(Principal(name="bob", account=B))
    try:
        assert [a.name for a in mine(found)] == ["b"]
    finally:
        current_principal.reset(reset)
