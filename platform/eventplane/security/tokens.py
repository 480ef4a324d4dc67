"""Static bearer tokens, stored hashed: the file never holds a usable secret.

Each entry is ``{principal, account, sha256: <hex>}`` or ``{principal, account,
scrypt: "scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>"}``, with optional ``policies:`` (a
list of IAM policy documents). The file may instead be a mapping with ``tokens: [...]``
and ``principals: {<name>: {account, policies}}``: the latter gives principals that
hold no token (client certificates, named by their SAN or CN) an account and policies.
A principal with no ``policies`` key anywhere keeps full access, as before policies
existed; ``policies: []`` allows nothing. SHA-256 suits long random
API keys (a lookup by digest); scrypt suits human-chosen ones, at the cost of a
key derivation per entry, so a verified token's digest is remembered.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from dataclasses import dataclass, field
from typing import Any

import yaml

from eventplane import arn as arns
from eventplane.config import ConfigError
from eventplane.errors.security import MalformedPolicyDocument
from eventplane.security.policy import PolicySet, parse_policy

SETTING = "EVENTPLANE_AUTH_TOKENS_FILE"


def _installation_account() -> str:
    return arns.identity().account


@dataclass(frozen=True, kw_only=True)
class Principal:
    # Who calls: a token's principal name, or a client certificate's SAN/CN.
    name: str
    # The 12-digit account the principal acts in (default: the installation's).
    account: str = field(default_factory=_installation_account)
    # How it was authenticated: "token", "mtls", "replica" or "internal".
    via: str = "token"
    # Its identity policies; None means unrestricted (no policies configured).
    policies: PolicySet | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class _Scrypt:
    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes

    def matches(self, token: bytes) -> bool:
        got = hashlib.scrypt(
            token, salt=self.salt, n=self.n, r=self.r, p=self.p, dklen=len(self.digest)
        )
        return hmac.compare_digest(got, self.digest)


def sha256_hex(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def scrypt_hash(token: str, *, n: int = 2**14, r: int = 8, p: int = 1) -> str:
    """The ``scrypt$...`` string to store for ``token`` (used by tests and operators)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(token.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def _parse_scrypt(where: str, raw: str) -> _Scrypt:
    parts = raw.split("$")
    try:
        if len(parts) != 6 or parts[0] != "scrypt":
            raise ValueError
        return _Scrypt(
            int(parts[1]), int(parts[2]), int(parts[3]), bytes.fromhex(parts[4]),
            bytes.fromhex(parts[5]),
        )  # fmt: skip
    except ValueError:
        raise ConfigError(
            where, "scrypt must be scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>"
        ) from None


def _policies(where: str, raw: Any) -> PolicySet:
    if not isinstance(raw, list):
        raise ConfigError(where, "must be a list of IAM policy documents")
    try:
        return PolicySet(parse_policy(doc, f"Policy[{i}]") for i, doc in enumerate(raw))
    except MalformedPolicyDocument as exc:
        raise ConfigError(where, f"MalformedPolicyDocument: {exc.message}") from None


def _account(where: str, entry: dict[str, Any]) -> str:
    account = str(entry.get("account") or arns.identity().account)
    if not (len(account) == 12 and (account.isascii() and account.isdigit())):
        raise ConfigError(f"{where}.account", f"must be 12 digits, got {account!r}")
    return account


class TokenStore:
    """The principals of a tokens file, looked up by presented token or by name."""

    def __init__(
        self,
        entries: list[dict[str, Any]],
        source: str = SETTING,
        principals: dict[str, Any] | None = None,
    ) -> None:
        self._by_sha256: dict[str, Principal] = {}
        self._scrypt: list[tuple[_Scrypt, Principal]] = []
        self._verified: dict[str, Principal] = {}
        self._named: dict[str, Principal] = {}
        # Each token entry's policies by principal name (for callers the gateway
        # authenticates by access key, who hold no token).
        self._token_policies: dict[str, PolicySet | None] = {}
        self._lock = threading.Lock()
        for name, entry in (principals or {}).items():
            where = f"{source}.principals.{name}"
            if not isinstance(entry, dict):
                raise ConfigError(where, "must be a mapping with account and/or policies")
            self._named[str(name)] = Principal(
                name=str(name),
                account=_account(where, entry),
                via="mtls",
                policies=_policies(f"{where}.policies", entry["policies"])
                if "policies" in entry
                else None,
            )
        for i, entry in enumerate(entries):
            where = f"{source}[{i}]"
            if not isinstance(entry, dict):
                raise ConfigError(where, "must be a mapping with principal and sha256 or scrypt")
            name = str(entry.get("principal") or "").strip()
            if not name:
                raise ConfigError(f"{where}.principal", "is required")
            policies: PolicySet | None
            if "policies" in entry:
                policies = _policies(f"{where}.policies", entry["policies"])
            else:  # the principals: section may hold them (one place per principal name)
                named = self._named.get(name)
                policies = named.policies if named is not None else None
            principal = Principal(
                name=name, account=_account(where, entry), via="token", policies=policies
            )
            self._token_policies.setdefault(name, policies)
            if "sha256" in entry:
                digest = str(entry["sha256"]).strip().lower()
                if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                    raise ConfigError(f"{where}.sha256", "must be 64 hex digits")
                self._by_sha256[digest] = principal
            elif "scrypt" in entry:
                self._scrypt.append(
                    (_parse_scrypt(f"{where}.scrypt", str(entry["scrypt"])), principal)
                )
            else:
                raise ConfigError(where, "needs sha256 or scrypt (the token is never stored plain)")

    @classmethod
    def from_file(cls, path: str) -> TokenStore:
        try:
            with open(path, encoding="utf-8") as fh:
                data = yaml.safe_load(fh)  # JSON is YAML too
        except OSError as exc:
            raise ConfigError(SETTING, f"cannot read {path}: {exc.strerror}") from None
        except yaml.YAMLError:
            raise ConfigError(SETTING, f"{path} is not valid YAML or JSON") from None
        principals: Any = None
        if isinstance(data, dict):
            principals = data.get("principals")
            data = data.get("tokens", [] if principals else None)
            if principals is not None and not isinstance(principals, dict):
                raise ConfigError(f"{SETTING}.principals", "must map principal names to entries")
        if not isinstance(data, list):
            raise ConfigError(SETTING, f"{path} must hold a list of tokens (or tokens: [...])")
        return cls(data, SETTING, principals)

    def __len__(self) -> int:
        return len(self._by_sha256) + len(self._scrypt)

    def named(self, name: str, via: str) -> Principal | None:
        """The ``principals:`` entry of ``name`` (a certificate's SAN or CN), if any."""
        found = self._named.get(name)
        if found is None:
            return None
        return Principal(name=name, account=found.account, via=via, policies=found.policies)

    def policies_of(self, name: str) -> PolicySet | None:
        """The policies configured for principal ``name`` (``principals:`` first, then its
        token entry); None when it has none, which means unrestricted, as for tokens."""
        found = self._named.get(name)
        if found is not None:
            return found.policies
        return self._token_policies.get(name)

    def lookup(self, token: str) -> Principal | None:
        """The principal ``token`` belongs to, or None."""
        digest = sha256_hex(token)
        found = self._by_sha256.get(digest) or self._verified.get(digest)
        if found is not None or not self._scrypt:
            return found
        raw = token.encode()
        for entry, principal in self._scrypt:
            if entry.matches(raw):
                with self._lock:
                    self._verified[digest] = principal
                return principal
        return None
