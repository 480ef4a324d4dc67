"""EventBridge target input: whole event, Input, InputPath and InputTransformer, with the
examples from the EventBridge input-transformation guide and every validation error."""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest

from eventplane.bus import transform
from eventplane.bus.transform import TargetInput, compile_json_path
from eventplane.errors import ValidationException
from eventplane.errors.rpc import status_of

# The EC2 event of the EventBridge input-transformation guide.
EVENT: dict[str, Any] = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING"},
}
RULE_ARN = "arn:aws:events:us-east-2:123456789012:rule/example"
RULE = {"rule_arn": RULE_ARN, "rule_name": "example", "ingestion_ms": 1_447_277_394_123}
PATHS = {"instance": "$.detail.instance-id", "state": "$.detail.state", "timestamp": "$.time"}


def _transform(template: str, paths: dict[str, Any] | None = None) -> TargetInput:
    spec: dict[str, Any] = {"InputTemplate": template}
    spec["InputPathsMap"] = PATHS if paths is None else paths
    return TargetInput.compile(input_transformer=spec)


def _render(target: TargetInput, event: dict[str, Any] = EVENT) -> str:
    return target.render(event, **RULE)  # type: ignore[arg-type]


def _rejected(**settings: Any) -> str:
    with pytest.raises(ValidationException) as caught:
        TargetInput.compile(**settings)
    return caught.value.message


# --- whole event and Input -----------------------------------------------------------


def test_no_settings_delivers_the_whole_event_as_compact_json() -> None:
    target = TargetInput.compile()
    assert target.kind == "event"
    assert _render(target) == json.dumps(EVENT, separators=(",", ":"))


def test_input_is_delivered_exactly_as_given() -> None:
    text = '{ "fixed": [1, 2],\n  "s": "x" }'
    target = TargetInput.compile(input=text)
    assert target.kind == "constant"
    assert _render(target) == text
    assert _render(TargetInput.compile(input='"just a string"')) == '"just a string"'


@pytest.mark.parametrize("text", ["", "{", "not json", "{'a': 1}", "NaN", '{"a": Infinity}'])
def test_input_must_be_json_text(text: str) -> None:
    assert _rejected(input=text).startswith("Input is not valid JSON text")


def test_input_length_is_limited() -> None:
    assert _render(TargetInput.compile(input=json.dumps("x" * 8190))).startswith('"x')
    assert "Input must be at most 8192 characters" in _rejected(input=json.dumps("x" * 8191))


def test_input_must_be_a_string() -> None:
    assert _rejected(input={"a": 1}) == "Input must be a string of JSON text"


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"input": "{}", "input_path": "$"}, "Input and InputPath"),
        (
            {"input": "{}", "input_transformer": {"InputTemplate": "x"}},
            "Input and InputTransformer",
        ),
        (
            {"input_path": "$", "input_transformer": {"InputTemplate": "x"}},
            "InputPath and InputTransformer",
        ),
        (
            {"input": "{}", "input_path": "$", "input_transformer": {"InputTemplate": "x"}},
            "Input and InputPath and InputTransformer",
        ),
    ],
)
def test_at_most_one_input_setting(settings: dict[str, Any], named: str) -> None:
    assert _rejected(**settings) == (
        f"Only one of Input, InputPath, or InputTransformer must be provided; got {named}"
    )


def test_error_is_a_validation_exception_with_invalid_argument_status() -> None:
    with pytest.raises(ValidationException) as caught:
        TargetInput.compile(input="{")
    assert caught.value.code == "ValidationException"
    assert status_of(caught.value) is grpc.StatusCode.INVALID_ARGUMENT
    assert not caught.value.retriable


# --- InputPath -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", json.dumps(EVENT, separators=(",", ":"))),
        ("$.detail", '{"instance-id":"i-0123456789","state":"RUNNING"}'),
        ("$.detail.instance-id", '"i-0123456789"'),
        ("$.detail-type", '"EC2 Instance State-change Notification"'),
        ("$.resources", '["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"]'),
        ("$.resources[0]", '"arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"'),
    ],
)
def test_input_path_delivers_the_selected_value_as_json(path: str, expected: str) -> None:
    target = TargetInput.compile(input_path=path)
    assert target.kind == "path"
    assert _render(target) == expected


def test_input_path_walks_nested_arrays_and_objects() -> None:
    event = {"detail": {"m": [[1, {"a": None}], [True]], "n": {"0": "key"}}}
    render = lambda path: _render(TargetInput.compile(input_path=path), event)  # noqa: E731
    assert render("$.detail.m[0][1]") == '{"a":null}'
    assert render("$.detail.m[0][1].a") == "null"
    assert render("$.detail.m[1][0]") == "true"
    assert render("$.detail.n.0") == '"key"'


@pytest.mark.parametrize(
    "path",
    ["$.detail.missing", "$.resources[1]", "$.detail[0]", "$.resources.x", "$.detail.state.x"],
)
def test_input_path_that_selects_nothing_delivers_an_empty_payload(path: str) -> None:
    assert _render(TargetInput.compile(input_path=path)) == ""


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("detail", "must start with $"),
        ("", "must start with $"),
        ("$.", "unexpected '.' at position 1"),
        ("$..detail", "unexpected '.' at position 1"),
        ("$.detail.", "unexpected '.' at position 8"),
        ("$detail", "unexpected 'd' at position 1"),
        ("$.detail.*", "wildcards are not supported"),
        ("$.resources[*]", "wildcards are not supported"),
        ("$['detail']", "unexpected '[' at position 1"),
        ("$.resources[-1]", "unexpected '[' at position 11"),
        ("$.resources[0", "unexpected '[' at position 11"),
        ("$.a b", "unexpected ' ' at position 3"),
    ],
)
def test_invalid_input_path_is_rejected_naming_the_field(path: str, reason: str) -> None:
    assert _rejected(input_path=path) == f"InputPath {path!r} is not a valid JSONPath: {reason}"


def test_input_path_length_and_type() -> None:
    assert TargetInput.compile(input_path="$." + "a" * 254).kind == "path"
    assert _rejected(input_path="$." + "a" * 255) == "InputPath must be at most 256 characters"
    assert _rejected(input_path=5) == "InputPath must be a string"


def test_json_path_is_compiled_into_steps() -> None:
    path = compile_json_path("$.detail.items[2].name", field="InputPath")
    assert path.steps == ("detail", "items", 2, "name")
    assert compile_json_path("$", field="InputPath").steps == ()


# --- InputTransformer: the guide's examples ------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        pytest.param(
            '"instance <instance> is in <state>"',
            '"instance i-0123456789 is in RUNNING"',
            id="simple-string",
        ),
        pytest.param(
            '"instance \\"<instance>\\" is in <state>"',
            '"instance \\"i-0123456789\\" is in RUNNING"',
            id="string-with-escaped-quotes",
        ),
        pytest.param(
            '{\n  "instance" : <instance>,\n  "state": <state>\n}',
            '{"instance":"i-0123456789","state":"RUNNING"}',
            id="simple-json",
        ),
        pytest.param(
            '{\n "instance" : <instance>,\n "state": "<state>",\n'
            ' "instanceStatus": "instance \\"<instance>\\" is in <state>"\n}',
            '{"instance":"i-0123456789","state":"RUNNING",'
            '"instanceStatus":"instance \\"i-0123456789\\" is in RUNNING"}',
            id="json-with-strings-and-variables",
        ),
        pytest.param(
            '{\n  "instance" : <instance>,\n  "state": [ 9, <state>, true ],\n'
            '  "Transformed" : "Yes"\n}',
            '{"instance":"i-0123456789","state":[9,"RUNNING",true],"Transformed":"Yes"}',
            id="json-mixed-with-static-values",
        ),
        pytest.param(
            '"<aws.events.rule-name> triggered"',
            '"example triggered"',
            id="reserved-variable-in-string",
        ),
        # The API reference's examples (the template text without the API's own quotes).
        pytest.param(
            "<instance> is in state <state>",
            "i-0123456789 is in state RUNNING",
            id="api-text",
        ),
        pytest.param(
            '<instance> is in state "<state>"',
            'i-0123456789 is in state "RUNNING"',
            id="api-text-with-quotes",
        ),
        pytest.param(
            '{"myInstance": <instance>,"myStatus": "<instance> is in state \\"<state>\\""}',
            '{"myInstance":"i-0123456789","myStatus":"i-0123456789 is in state \\"RUNNING\\""}',
            id="api-json",
        ),
    ],
)
def test_documented_examples(template: str, expected: str) -> None:
    target = _transform(template)
    assert target.kind == "transformer"
    assert _render(target) == expected


def test_reserved_variables_in_json() -> None:
    template = (
        '{"instance": <instance>, "ruleArn": <aws.events.rule-arn>, '
        '"ruleName": <aws.events.rule-name>, "original": <aws.events.event>, '
        '"full": <aws.events.event.json>, "at": <aws.events.event.ingestion-time>}'
    )
    out = json.loads(_render(_transform(template)))
    assert out["instance"] == "i-0123456789"
    assert out["ruleArn"] == RULE_ARN
    assert out["ruleName"] == "example"
    # <aws.events.event> is documented as the payload without its detail field.
    assert out["original"] == {k: v for k, v in EVENT.items() if k != "detail"}
    assert out["full"] == EVENT
    assert out["at"] == "2015-11-11T21:29:54.123Z"


def test_reserved_variables_need_no_paths_map() -> None:
    target = TargetInput.compile(
        input_transformer={
            "InputTemplate": "<aws.events.rule-name> at <aws.events.event.ingestion-time>"
        }
    )
    assert _render(target) == "example at 2015-11-11T21:29:54.123Z"


def test_ingestion_time_is_rfc3339_utc_with_milliseconds() -> None:
    target = _transform('"<aws.events.event.ingestion-time>"')
    assert target.render(EVENT, rule_arn="a", rule_name="n", ingestion_ms=0) == (
        '"1970-01-01T00:00:00.000Z"'
    )
    assert target.render(EVENT, rule_arn="a", rule_name="n", ingestion_ms=1_700_000_000_007) == (
        '"2023-11-14T22:13:20.007Z"'
    )


# --- InputTransformer: substitution rules --------------------------------------------

VALUES: dict[str, Any] = {
    "detail": {
        "s": 'say "hi" \\ é',
        "n": 2.5,
        "b": False,
        "z": None,
        "o": {"k": "v"},
        "a": [1, "x"],
    }
}
VALUE_PATHS = {name: f"$.detail.{name}" for name in ("s", "n", "b", "z", "o", "a", "missing")}


@pytest.mark.parametrize(
    ("name", "as_json", "in_string", "as_text"),
    [
        ("s", '"say \\"hi\\" \\\\ \\u00e9"', 'say \\"hi\\" \\\\ \\u00e9', 'say "hi" \\ é'),
        ("n", "2.5", "2.5", "2.5"),
        ("b", "false", "false", "false"),
        ("z", "null", "null", "null"),
        # Inside a string EventBridge drops an object's own quotes to keep the string valid.
        ("o", '{"k":"v"}', "{k:v}", '{"k":"v"}'),
        ("a", '[1,"x"]', "[1,x]", '[1,"x"]'),
        ("missing", "null", "", ""),
    ],
)
def test_value_is_inserted_by_position(
    name: str, as_json: str, in_string: str, as_text: str
) -> None:
    def render(template: str) -> str:
        return _render(_transform(template, VALUE_PATHS), VALUES)

    assert render(f'{{"v": <{name}>}}') == f'{{"v":{as_json}}}'
    assert render(f'{{"v": "[<{name}>]"}}') == f'{{"v":"[{in_string}]"}}'
    assert render(f"value: <{name}>!") == f"value: {as_text}!"
    # Whatever the value, a JSON template still renders valid JSON.
    json.loads(render(f'{{"v": <{name}>, "w": "[<{name}>]"}}'))


def test_a_lone_placeholder_is_a_json_template() -> None:
    assert _render(_transform("<instance>")) == '"i-0123456789"'
    assert _render(_transform("<detail>", {"detail": "$.detail"})) == (
        '{"instance-id":"i-0123456789","state":"RUNNING"}'
    )


def test_json_template_is_minified_but_strings_keep_their_spaces() -> None:
    template = '{\n\t"a b" : [ 1 , <state> ],\r\n "c":  " x  <state> "  }'
    assert _render(_transform(template)) == '{"a b":[1,"RUNNING"],"c":" x  RUNNING "}'


def test_text_template_is_kept_verbatim() -> None:
    template = "  Order <instance>\n\tis  <state> { not json  "
    assert _render(_transform(template)) == "  Order i-0123456789\n\tis  RUNNING { not json  "


def test_angle_brackets_that_are_not_placeholders_are_text() -> None:
    assert _render(_transform("a < b and c > d: <state>")) == "a < b and c > d: RUNNING"
    assert _render(_transform('{"cmp": "1 < 2", "s": <state>}')) == '{"cmp":"1 < 2","s":"RUNNING"}'


def test_a_variable_may_be_used_many_times_and_unused_variables_are_fine() -> None:
    paths = {**PATHS, "unused": "$.nothing.here"}
    assert _render(_transform("<state>/<state>/<state>", paths)) == "RUNNING/RUNNING/RUNNING"


def test_empty_paths_map_and_constant_template() -> None:
    target = TargetInput.compile(
        input_transformer={"InputPathsMap": {}, "InputTemplate": '{"fixed": true}'}
    )
    assert _render(target) == '{"fixed":true}'


def test_render_never_parses_json_again(monkeypatch: pytest.MonkeyPatch) -> None:
    targets = [
        _transform('{"i": <instance>, "s": "<state>"}'),
        _transform("<instance> is <state>"),
        TargetInput.compile(input_path="$.detail.state"),
        TargetInput.compile(input='{"a": 1}'),
    ]

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("render parsed JSON")

    monkeypatch.setattr(transform.json, "loads", forbidden)
    assert [_render(t) for t in targets] == [
        '{"i":"i-0123456789","s":"RUNNING"}',
        "i-0123456789 is RUNNING",
        '"RUNNING"',
        '{"a": 1}',
    ]


def test_paths_map_is_copied_at_compile_time() -> None:
    paths = dict(PATHS)
    target = _transform("<state>", paths)
    paths["state"] = "$.detail.instance-id"
    assert _render(target) == '"RUNNING"'


# --- InputTransformer: validation ----------------------------------------------------


def _transformer_error(spec: Any) -> str:
    return _rejected(input_transformer=spec)


def test_transformer_must_be_an_object() -> None:
    assert _transformer_error("x") == (
        "InputTransformer must be an object with InputTemplate and optional InputPathsMap"
    )


def test_transformer_rejects_unknown_fields() -> None:
    assert _transformer_error({"InputTemplate": "x", "Extra": 1, "Other": 2}) == (
        "InputTransformer has unknown fields: Extra, Other"
    )


def test_template_is_required() -> None:
    assert _transformer_error({"InputPathsMap": PATHS}) == (
        "InputTransformer.InputTemplate is required"
    )


@pytest.mark.parametrize("template", ["", "x" * 8193, 5])
def test_template_length_and_type(template: Any) -> None:
    assert _transformer_error({"InputTemplate": template}) == (
        "InputTransformer.InputTemplate must be a string of 1 to 8192 characters"
    )


def test_template_of_8192_characters_is_accepted() -> None:
    assert _render(_transform("x" * 8192)) == "x" * 8192


def test_paths_map_must_be_an_object() -> None:
    assert _transformer_error({"InputTemplate": "x", "InputPathsMap": ["$.a"]}) == (
        "InputTransformer.InputPathsMap must be an object"
    )


def test_paths_map_holds_at_most_100_variables() -> None:
    paths = {f"v{i}": "$.detail" for i in range(100)}
    assert _transform("<v99>", paths).kind == "transformer"
    paths["v100"] = "$.detail"
    assert _transformer_error({"InputTemplate": "x", "InputPathsMap": paths}) == (
        "InputTransformer.InputPathsMap has 101 entries; at most 100 are allowed"
    )


@pytest.mark.parametrize("name", ["aws.events.rule-name", "aws.mine", "AWS.Mine"])
def test_variable_names_starting_with_aws_dot_are_reserved(name: str) -> None:
    assert _transformer_error({"InputTemplate": "x", "InputPathsMap": {name: "$"}}) == (
        f"InputTransformer.InputPathsMap.{name}: variable names starting with 'aws.' are reserved"
    )


@pytest.mark.parametrize("name", ["", "has space", "dot.ted", "ünï", "a" * 257, "x<y"])
def test_variable_names_use_the_documented_characters(name: str) -> None:
    assert _transformer_error({"InputTemplate": "x", "InputPathsMap": {name: "$"}}) == (
        f"InputTransformer.InputPathsMap.{name}: variable names must be 1 to 256 "
        "characters from A-Z, a-z, 0-9, _ and -"
    )


def test_variable_names_may_use_dashes_underscores_and_digits() -> None:
    paths = {"a-b_C9": "$.detail.state", "awsRegion": "$.region", "a" * 256: "$.id"}
    assert _render(_transform("<a-b_C9> <awsRegion>", paths)) == "RUNNING us-east-1"


def test_non_string_variable_name_is_rejected() -> None:
    assert _transformer_error({"InputTemplate": "x", "InputPathsMap": {1: "$"}}) == (
        "InputTransformer.InputPathsMap keys must be strings"
    )


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("detail", " 'detail' is not a valid JSONPath: must start with $"),
        ("$.a.*", " '$.a.*' is not a valid JSONPath: wildcards are not supported"),
        ("$." + "a" * 255, " must be at most 256 characters"),
        (None, " must be a string"),
    ],
)
def test_invalid_variable_path_names_the_variable(path: Any, problem: str) -> None:
    assert _transformer_error({"InputTemplate": "<v>", "InputPathsMap": {"v": path}}) == (
        "InputTransformer.InputPathsMap.v" + problem
    )


@pytest.mark.parametrize(
    "template", ["<nope>", '{"a": <nope>}', '"x <nope>"', "<aws.events.unknown>", "<State>"]
)
def test_placeholder_must_name_a_defined_variable(template: str) -> None:
    name = template[template.index("<") + 1 : template.index(">")]
    assert _transformer_error({"InputTemplate": template, "InputPathsMap": PATHS}) == (
        f"InputTransformer.InputTemplate uses <{name}>, which InputPathsMap does not define"
    )


@pytest.mark.parametrize("template", ['{"<state>": 1}', '{"a": {"k-<state>": 1}}'])
def test_placeholder_cannot_be_an_object_key(template: str) -> None:
    assert _transformer_error({"InputTemplate": template, "InputPathsMap": PATHS}) == (
        "InputTransformer.InputTemplate: a placeholder cannot be used as an object key"
    )


@pytest.mark.parametrize("template", ["{<state>: 1}", '{"a": <state>', '{"a": 1} trailing'])
def test_template_that_starts_as_an_object_must_be_json(template: str) -> None:
    assert _transformer_error({"InputTemplate": template, "InputPathsMap": PATHS}) == (
        "InputTransformer.InputTemplate starts like a JSON object but is not valid JSON "
        "(placeholders cannot be object keys)"
    )


@pytest.mark.parametrize("name", ["aws.events.event", "aws.events.event.json"])
@pytest.mark.parametrize("template", ['{"a": "x <NAME>"}', '"<NAME>"', "event: <NAME>"])
def test_whole_event_variables_only_where_json_is_expected(name: str, template: str) -> None:
    spec = {"InputTemplate": template.replace("NAME", name)}
    assert _transformer_error(spec) == (
        f"InputTransformer.InputTemplate: <{name}> can only be used as a JSON value, "
        "not inside a string or a text template"
    )


def test_repr_names_the_kind() -> None:
    assert repr(TargetInput.compile(input_path="$")) == "TargetInput(path)"
