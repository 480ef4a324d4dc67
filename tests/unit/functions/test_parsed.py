"""Registry records are parsed once per record: a changed record is a new parse."""

from __future__ import annotations

from eventplane.functions.models import FUNCTION, VERSION, VersionDef
from eventplane.functions.parsed import ParsedRecords
from eventplane.registry import Resource

CONFIG = {"handler": "app.handler", "code": {"sha256": "ab" * 32}, "timeout": 3}


def _function(name: str, generation: int, **config: object) -> Resource:
    spec = {"config": {**CONFIG, **config}}
    return Resource(FUNCTION, name, spec, generation, 1, 1)


def test_a_record_is_parsed_once_and_a_new_record_again() -> None:
    parsed = ParsedRecords()
    first = _function("resize", 1)
    fn = parsed.function(first)
    assert parsed.function(first) is fn  # the same object: the invoke path keys on it
    assert fn.config.timeout == 3

    changed = _function("resize", 2, timeout=9)
    assert parsed.function(changed).config.timeout == 9
    assert parsed.function(changed) is parsed.function(changed)


def test_a_forgotten_function_is_parsed_afresh_even_from_an_equal_record() -> None:
    parsed = ParsedRecords()
    fn = parsed.function(_function("resize", 1))
    parsed.forget("resize")
    again = parsed.function(_function("resize", 1))
    assert again == fn and again is not fn


def test_versions_are_kept_per_record() -> None:
    parsed = ParsedRecords()
    spec = {"function": "resize", "number": 1, "config": CONFIG}
    record = Resource(VERSION, "resize:1", spec, 1, 1, 1)
    version = parsed.qualifier(record, VersionDef.from_resource)
    assert parsed.qualifier(record, VersionDef.from_resource) is version
    newer = Resource(VERSION, "resize:1", {**spec, "number": 1}, 2, 1, 1)
    assert parsed.qualifier(newer, VersionDef.from_resource) is not version
