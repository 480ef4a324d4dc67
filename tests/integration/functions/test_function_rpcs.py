"""The Lambda actions first served through the gateway, over gRPC (the SDK and the CLI):
GetFunctionConfiguration, TagResource/UntagResource/ListTags, GetAccountSettings,
UpdateFunctionEventInvokeConfig and ListFunctionEventInvokeConfigs, RevisionId
preconditions and alias RoutingConfig. Both doors call the
same FunctionOperations methods, so the rules and errors here are those boto3 meets in
tests/integration/gateway/test_conformance_lambda.py.
"""

from __future__ import annotations

import json

import pytest

from eventplane.cli import main
from eventplane.client import Client, DestinationConfig
from eventplane.errors import ResourceNotFound, ValidationException
from eventplane.functions.errors import (
    InvalidParameterValueException,
    PreconditionFailedException,
)
from eventplane.testing import EventplaneProcess

from .support import BASICS, Resources, function_arn, unique

pytestmark = pytest.mark.integration


def test_get_function_configuration_resolves_each_qualifier(client: Client, res: Resources) -> None:
    fns = client.functions
    name = res.function("basics.echo", timeout=7)
    fns.publish_version(name)
    fns.create_alias(name, "live", "1")
    fns.update_function_configuration(name, timeout=20)

    latest = fns.get_function_configuration(name)
    assert (latest.version, latest.timeout, latest.function_arn) == (
        "$LATEST",
        20,
        function_arn(name),
    )
    assert latest == fns.get_function(name).configuration
    for qualifier in ("1", "live"):
        v1 = fns.get_function_configuration(name, qualifier)
        assert (v1.version, v1.timeout) == ("1", 7)
    assert fns.get_function_configuration(f"{function_arn(name)}:live").version == "1"

    with pytest.raises(ResourceNotFound):
        fns.get_function_configuration(name, "2")
    with pytest.raises(ResourceNotFound):
        fns.get_function_configuration(unique("never"))


def test_tags_and_their_limits(client: Client, res: Resources) -> None:
    fns = client.functions
    name = res.function("basics.echo", tags={"team": "a"})
    arn = function_arn(name)
    assert fns.list_tags(arn) == {"team": "a"}

    fns.tag_resource(arn, {"stage": "test", "team": "b"})
    assert fns.list_tags(arn) == {"team": "b", "stage": "test"}
    assert fns.get_function(name).tags == {"team": "b", "stage": "test"}
    fns.untag_resource(arn, ["team", "absent"])
    assert fns.list_tags(arn) == {"stage": "test"}

    # At most 50 tags, counted with those the function has; a refusal keeps nothing.
    with pytest.raises(InvalidParameterValueException, match="at most 50 tags"):
        fns.tag_resource(arn, {f"k{i}": "v" for i in range(50)})
    with pytest.raises(InvalidParameterValueException, match="reserved for AWS use"):
        fns.tag_resource(arn, {"aws:team": "v"})
    assert fns.list_tags(arn) == {"stage": "test"}
    fns.tag_resource(arn, {f"k{i}": "v" for i in range(49)})
    assert len(fns.list_tags(arn)) == 50

    # Versions and aliases share the function's tags; the name alone is not an ARN.
    with pytest.raises(InvalidParameterValueException, match="aliases and versions"):
        fns.tag_resource(f"{arn}:1", {"k": "v"})
    with pytest.raises(InvalidParameterValueException, match="ARN of a function"):
        fns.list_tags(name)
    with pytest.raises(ResourceNotFound):
        fns.list_tags(function_arn(unique("never")))
    with pytest.raises(ResourceNotFound):
        fns.untag_resource(function_arn(unique("never")), ["k"])


def test_create_function_keeps_the_tag_limits(client: Client, res: Resources) -> None:
    with pytest.raises(InvalidParameterValueException, match="at most 50 tags"):
        res.function("basics.echo", tags={f"k{i}": "v" for i in range(51)})
    with pytest.raises(ResourceNotFound):
        client.functions.get_function(res._functions[-1])


def test_account_settings_count_functions_and_code(client: Client, res: Resources) -> None:
    fns = client.functions
    before = fns.get_account_settings()
    name = res.function("basics.echo")
    fns.put_function_concurrency(name, 1)
    after = fns.get_account_settings()

    assert after.account_usage.function_count == before.account_usage.function_count + 1
    size = fns.get_function_configuration(name).code_size
    assert after.account_usage.total_code_size == before.account_usage.total_code_size + size
    limit = after.account_limit
    assert limit.total_code_size == 80_530_636_800
    assert 0 < limit.code_size_zipped < limit.code_size_unzipped
    assert limit.concurrent_executions > 0
    assert (
        limit.unreserved_concurrent_executions
        == before.account_limit.unreserved_concurrent_executions - 1
    )


def test_update_and_list_event_invoke_configs(client: Client, res: Resources) -> None:
    fns = client.functions
    name = res.function("basics.echo")
    fns.publish_version(name)
    dlq = res.queue("dlq").arn
    with pytest.raises(ResourceNotFound):  # Update needs a config to change
        fns.update_function_event_invoke_config(name, maximum_retry_attempts=1)

    fns.put_function_event_invoke_config(
        name,
        maximum_retry_attempts=1,
        maximum_event_age_in_seconds=120,
        destination_config={"OnFailure": {"Destination": dlq}},
    )
    updated = fns.update_function_event_invoke_config(name, maximum_retry_attempts=0)
    assert (updated.maximum_retry_attempts, updated.maximum_event_age_in_seconds) == (0, 120)
    assert updated.destination_config == DestinationConfig(on_failure=dlq)
    got = fns.get_function_event_invoke_config(name)
    assert (got.maximum_retry_attempts, got.destination_config.on_failure) == (0, dlq)
    # A destination given as "" is removed; the settings left out stay.
    cleared = fns.update_function_event_invoke_config(
        name, destination_config={"OnFailure": {"Destination": ""}}
    )
    assert cleared.destination_config == DestinationConfig()
    assert (cleared.maximum_retry_attempts, cleared.maximum_event_age_in_seconds) == (0, 120)
    with pytest.raises(ValidationException):
        fns.update_function_event_invoke_config(name, maximum_retry_attempts=3)

    fns.put_function_event_invoke_config(name, qualifier="1", maximum_retry_attempts=2)
    listed = fns.list_function_event_invoke_configs(name)
    assert sorted((c.function_arn.rsplit(":", 1)[1], c.maximum_retry_attempts) for c in listed) == [
        ("$LATEST", 0),
        ("1", 2),
    ]
    with pytest.raises(ResourceNotFound):
        fns.list_function_event_invoke_configs(unique("never"))
    with pytest.raises(ValidationException, match="functionName"):  # unqualified only
        fns.list_function_event_invoke_configs(f"{name}:1")


def test_revision_id_preconditions(client: Client, res: Resources) -> None:
    """A stale RevisionId refuses the change (412) and changes nothing; the current one
    lets it through and a new revision is given."""
    fns = client.functions
    name = res.function("basics.echo", timeout=4)
    first = fns.get_function_configuration(name).revision_id
    updated = fns.update_function_configuration(name, timeout=5, revision_id=first)
    assert updated.timeout == 5 and updated.revision_id != first

    stale = [
        lambda: fns.update_function_configuration(name, timeout=6, revision_id=first),
        lambda: fns.update_function_code(name, zip_directory=BASICS, revision_id=first),
        lambda: fns.publish_version(name, revision_id=first),
    ]
    for call in stale:
        with pytest.raises(PreconditionFailedException):
            call()
    assert fns.get_function_configuration(name).timeout == 5
    assert [v.version for v in fns.list_versions_by_function(name)] == ["$LATEST"]
    assert fns.publish_version(name, revision_id=updated.revision_id).version == "1"

    alias = fns.create_alias(name, "live", "1")
    with pytest.raises(PreconditionFailedException):
        fns.update_alias(name, "live", description="x", revision_id="not-the-revision")
    assert fns.get_alias(name, "live").description == ""
    moved = fns.update_alias(name, "live", description="x", revision_id=alias.revision_id)
    assert moved.description == "x" and moved.revision_id != alias.revision_id


def test_alias_routing_config(client: Client, res: Resources) -> None:
    fns = client.functions
    name = res.function("basics.echo", timeout=4)
    fns.publish_version(name)
    fns.update_function_configuration(name, timeout=8)
    fns.publish_version(name)

    def executed() -> str:
        return fns.invoke(name, {"n": 1}, qualifier="canary").executed_version

    alias = fns.create_alias(name, "canary", "1", additional_version_weights={"2": 1.0})
    assert alias.additional_version_weights == {"2": 1.0}
    assert fns.get_alias(name, "canary").additional_version_weights == {"2": 1.0}
    assert executed() == "2"  # the whole weight on version 2
    kept = fns.update_alias(name, "canary", description="kept")  # None: unchanged
    assert kept.additional_version_weights == {"2": 1.0}
    fns.update_alias(name, "canary", additional_version_weights={"2": 0.0})
    assert executed() == "1"
    cleared = fns.update_alias(name, "canary", additional_version_weights={})
    assert cleared.additional_version_weights == {}
    assert [a.additional_version_weights for a in fns.list_aliases(name)] == [{}]

    with pytest.raises(ValidationException):
        fns.create_alias(name, "over", "1", additional_version_weights={"2": 1.5})
    with pytest.raises(InvalidParameterValueException):  # the alias's own version
        fns.create_alias(name, "same", "1", additional_version_weights={"1": 0.5})
    with pytest.raises(ResourceNotFound):
        fns.create_alias(name, "absent", "1", additional_version_weights={"9": 0.5})
    assert [a.name for a in fns.list_aliases(name)] == ["canary"]


def test_cli_against_the_server(
    fn_server: EventplaneProcess,
    res: Resources,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ep = ["--endpoint", fn_server.endpoint]
    name = res.function("basics.echo", timeout=9)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["function", *args, *ep])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = run("get-config", name, "--json")
    assert code == 0
    assert (json.loads(out)["timeout"], json.loads(out)["version"]) == (9, "$LATEST")

    # The CLI takes the name and sends the function's ARN.
    assert run("tag", name, "team=media", "stage=test")[0] == 0
    assert run("untag", function_arn(name), "stage")[0] == 0
    assert run("tags", name) == (0, "team=media\n", "")
    code, _, err = run("tag", f"{name}:1", "k=v")
    assert code == 1
    assert err.startswith("eventplane: InvalidParameterValueException: Tags on function aliases")

    assert run("put-invoke-config", name, "--max-retries", "1")[0] == 0
    code, out, _ = run("update-invoke-config", name, "--max-age", "300", "--json")
    assert code == 0
    shown = json.loads(out)
    assert (shown["maximum_retry_attempts"], shown["maximum_event_age_in_seconds"]) == (1, 300)
    code, out, _ = run("list-invoke-configs", name, "--json")
    assert [c["function_arn"] for c in json.loads(out)["function_event_invoke_configs"]] == [
        f"{function_arn(name)}:$LATEST"  # as Lambda names a config's function
    ]
    code, out, _ = run("get-account-settings")
    assert code == 0 and out.startswith("functions: ")

    # RevisionId and RoutingConfig flags.
    code, out, _ = run("update-config", name, "--timeout", "10", "--revision-id", "stale")
    assert code == 1
    revision = json.loads(run("get-config", name, "--json")[1])["revision_id"]
    assert run("update-config", name, "--timeout", "11", "--revision-id", revision)[0] == 0
    assert run("publish-version", name)[0] == 0
    assert run("update-config", name, "--timeout", "12")[0] == 0
    assert run("publish-version", name)[0] == 0
    code, out, _ = run("create-alias", name, "canary", "--version", "1", "--routing", "2=0.25")
    assert code == 0
    code, out, _ = run("get-alias", name, "canary", "--json")
    assert json.loads(out)["additional_version_weights"] == {"2": 0.25}
    assert run("update-alias", name, "canary", "--clear-routing")[0] == 0
    code, out, _ = run("get-alias", name, "canary", "--json")
    assert json.loads(out)["additional_version_weights"] == {}
    with pytest.raises(SystemExit):  # argparse: not a number
        run("create-alias", name, "bad", "--version", "1", "--routing", "2=lots")
