"""Execution-role tokens: issued per role, verified by any replica, never forgeable."""

from __future__ import annotations

from typing import Any

import pytest

from eventplane.config import DEV_RECEIPT_SECRET, Settings
from eventplane.security import Authenticator, TokenStore, roles, sha256_hex
from eventplane.security.errors import UnrecognizedClientException
from eventplane.security.setup import execution_role_env

SECRET = "a-cluster-secret"
ROLE = "arn:aws:iam::123456789012:role/orders-handler"
ONLY_SEND = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}],
}


def test_a_role_token_names_its_role_and_only_under_its_secret() -> None:
    token = roles.role_token(SECRET, ROLE)
    assert roles.is_role_token(token)
    assert roles.role_of(SECRET, token) == ROLE
    assert roles.role_of("another-secret", token) is None
    # The MAC of one role does not pass with another role's name.
    admin = roles.role_token(SECRET, ROLE.replace("orders", "admin"))
    forged = admin.rsplit(".", 1)[0] + "." + token.rsplit(".", 1)[1]
    assert forged != admin
    assert roles.role_of(SECRET, forged) is None
    for bad in ("eprole.", "eprole.!!!.00", "eprole.abc", "not-a-role-token"):
        assert roles.role_of(SECRET, bad) is None


def test_the_role_acts_in_its_arns_account() -> None:
    assert roles.account_of(ROLE) == "123456789012"


class _NoCert:
    def auth_context(self) -> dict[str, list[bytes]]:
        return {}


def _auth(auth: Authenticator, token: str) -> Any:
    return auth.authenticate((("authorization", f"Bearer {token}"),), _NoCert())  # type: ignore[arg-type]


def test_the_authenticator_turns_a_role_token_into_the_roles_principal() -> None:
    store = TokenStore(
        [{"principal": "admin", "sha256": sha256_hex("admin-key")}],
        principals={ROLE: {"policies": [ONLY_SEND]}},
    )
    auth = Authenticator(store, mtls=False, role_secret=SECRET)
    principal = _auth(auth, roles.role_token(SECRET, ROLE))
    assert (principal.name, principal.via, principal.account) == (ROLE, "role", "123456789012")
    assert principal.policies is not None  # the role's configured policies apply
    other = _auth(auth, roles.role_token(SECRET, "arn:aws:iam::000000000000:role/eventplane"))
    assert other.policies is None  # a role with no policies configured: unrestricted
    with pytest.raises(UnrecognizedClientException, match="execution-role token"):
        _auth(auth, roles.role_token("not-the-cluster-secret", ROLE))
    # A server that issues no role tokens accepts none.
    with pytest.raises(UnrecognizedClientException):
        _auth(Authenticator(store, mtls=False), roles.role_token(SECRET, ROLE))


def test_role_tokens_are_issued_only_with_authentication_on_and_a_real_secret(
    tmp_path: Any,
) -> None:
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text("[]")
    no_auth = execution_role_env(Settings(receipt_secret=SECRET, roles=("runner",)))
    assert no_auth(ROLE) == {}
    on = Settings(receipt_secret=SECRET, auth_tokens_file=str(tokens))
    env = execution_role_env(on)(ROLE)
    assert roles.role_of(SECRET, env["EVENTPLANE_TOKEN"]) == ROLE
    key = roles.aws_credentials(SECRET, ROLE)
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == key[:2]
    assert env["AWS_SESSION_TOKEN"] == env["EVENTPLANE_TOKEN"]
    assert env["AWS_ENDPOINT_URL"] == on.gateway_url  # this process serves the AWS port
    assert key.access_key_id.startswith("ASIA") and len(key.access_key_id) == 20
    assert roles.aws_credentials(SECRET, ROLE + "x").access_key_id != key.access_key_id
    dev = Settings(receipt_secret=DEV_RECEIPT_SECRET, auth_tokens_file=str(tokens))
    assert "EVENTPLANE_TOKEN" not in execution_role_env(dev)(ROLE)
