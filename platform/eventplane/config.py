"""Settings: one frozen object, read from EVENTPLANE_* variables and an optional YAML file.

Precedence: explicit overrides (CLI flags) > environment > YAML file > defaults.
Every problem is reported as a ConfigError naming the setting, so the CLI can
print one line and exit non-zero instead of a traceback.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from eventplane import arn

ENV_PREFIX = "EVENTPLANE_"

# The receipt secret of development setups: public, so nothing may rely on it for trust.
DEV_RECEIPT_SECRET = "eventplane-local-dev-secret"

ROLES: tuple[str, ...] = ("api", "queues", "fanout", "bus", "runner", "workflows", "tables")


class ConfigError(ValueError):
    """A setting has a value eventplane cannot use; the message names the setting."""

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        super().__init__(f"{setting}: {problem}")


def _default_home() -> str:
    return str(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "eventplane")


@dataclass(frozen=True, kw_only=True)
class Settings:
    # Kafka bootstrap servers ("host:port,..."). Empty means: use the local
    # broker that `eventplane kafka start` / `eventplane dev` run on kafka_port.
    kafka_bootstrap: str = ""
    # Port of the local broker (ignored when kafka_bootstrap is set).
    kafka_port: int = 9092
    # Seconds to wait for the cluster to answer before giving up at start-up.
    kafka_connect_timeout: float = 15.0
    # Replication factor and min.insync.replicas of the topics eventplane
    # creates; 1/1 for the single local broker, 3/2 in production.
    topic_replication_factor: int = 1
    topic_min_insync_replicas: int = 1
    # Extra librdkafka settings for every client (TLS/SASL), e.g.
    # {"security.protocol": "SASL_SSL"}; YAML only.
    kafka_client_config: Mapping[str, str] = field(default_factory=dict)
    # Group protocol of the owner groups (queue and table owners): "auto" (the
    # default): consumer where the brokers accept a 6 s group session timeout, else
    # classic; "consumer" (KIP-848: each queue's partitions balanced over the
    # replicas); or "classic" (balance by total count). See kafka/groups.py.
    kafka_group_protocol: str = "auto"
    # Address and port the gRPC API listens on.
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 50051
    # host:port other replicas use to reach this one (forwarding to partition
    # owners); empty means the gRPC listen address. In Kubernetes: the pod IP.
    advertise_address: str = ""
    # Port of the Prometheus /metrics endpoint (0 disables it), and the address it
    # listens on (empty: grpc_host).
    metrics_port: int = 9464
    metrics_host: str = ""
    # Worker processes of `eventplane server` (0: as many as the cores this process
    # may use, its CPU quota included). With more than one, every worker is a full
    # replica sharing the gRPC and gateway ports (SO_REUSEPORT); worker i also
    # listens on worker_ports + i (replicas forward to its partitions there) and
    # serves its metrics on worker_ports + processes + i, which /metrics gathers.
    processes: int = 0
    # First of those ports; 0: grpc_port + 1.
    worker_ports: int = 0
    # Set by the supervisor for its workers: share the public ports with the other
    # workers, and one more gRPC port of this worker's own (0: none).
    reuse_port: bool = False
    forward_port: int = 0
    # Which components this process runs; "all" or a subset of ROLES.
    roles: tuple[str, ...] = ROLES
    # Where the roles this process does not run are served (split deployments):
    # role -> "host:port" of their gRPC API, from "queues=host:port,fanout=host:port".
    # A call for such a role's API (a client's, a workflow task's, a handler's
    # Client()) is relayed there instead of failing with UNIMPLEMENTED.
    role_endpoints: Mapping[str, str] = field(default_factory=dict)
    # Cache and data folder: Kafka jars, local broker data, broker logs.
    home: str = field(default_factory=_default_home)
    # Log format: "json" (production) or "console" (readable, used by `dev`).
    log_format: str = "json"
    # Log level name: DEBUG, INFO, WARNING, ERROR.
    log_level: str = "INFO"
    # Seconds SIGTERM waits for in-flight requests before closing.
    shutdown_grace: float = 10.0
    # Multiplies the waits of HTTP/S delivery retry policies. 1 (the default)
    # keeps SNS's timing; tests set e.g. 0.01. Never change it in production.
    delivery_time_scale: float = 1.0
    # Shortest schedule a rule may use, in seconds. 60 (the default) is
    # EventBridge's rate(1 minute); a lower value also accepts rate(N seconds),
    # for tests. Never lower it in production.
    schedule_min_rate_seconds: float = 60.0
    # Largest item collection (a partition-key value's items plus their LSI entries)
    # of a table with local secondary indexes, in bytes; a write growing one past it
    # fails with ItemCollectionSizeLimitExceededException. DynamoDB's 10 GB by default;
    # tests lower it so a few items reach it.
    tables_item_collection_limit_bytes: int = 10 * 1024**3
    # Items a repartition moves per Kafka transaction (each holds a tombstone and an
    # image per item): bounded so a big partition's move stays well inside the writer's
    # 10 s transaction timeout. Tests lower it to make a move take a while.
    tables_repartition_chunk: int = 2000
    # Folder of the table restore cache: a local copy of each owned changelog partition
    # (SQLite, one file per partition), so a restart or a failover back reads only the
    # changelog's tail. Never the source of truth; empty = no cache (every restore reads
    # the whole partition).
    tables_cache_dir: str = ""
    # Secret that signs receipt handles; replicas of one cluster must share it.
    receipt_secret: str = DEV_RECEIPT_SECRET
    # The region and account id in every ARN this installation formats (and queue URL
    # and event envelope); the gateway shows a signing key's own account instead.
    region: str = arn.DEFAULT_REGION
    account_id: str = arn.DEFAULT_ACCOUNT
    # Port of the AWS-protocol HTTP gateway (role api; boto3/AWS CLI with
    # --endpoint-url), on grpc_host. 4566 is the port local-AWS users type; 0 = off.
    gateway_port: int = 4566
    # Access keys the gateway accepts for SigV4: access key id -> (secret key,
    # account id). Env: "AKID:SECRET:ACCOUNT,AKID2:SECRET2:ACCOUNT2"; YAML: a
    # mapping {AKID: {secret: ..., account: ...}}.
    gateway_credentials: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)
    # Accept any access key without checking signatures (what `eventplane dev`
    # does, so a new user's `aws --endpoint-url` just works). Never in production.
    gateway_open: bool = False
    # TLS on the gRPC port: PEM certificate chain and key files, re-read when
    # they change (cert-manager rotation). Both empty: plaintext.
    tls_cert_file: str = ""
    tls_key_file: str = ""
    # PEM CA bundle: when set, clients must present a certificate it signed (mTLS).
    tls_client_ca_file: str = ""
    # Serve /metrics over TLS too, with the same certificate and key (Prometheus then
    # scrapes https; a client certificate is not required there).
    metrics_tls: bool = False
    # With TLS on, the name replicas check on each other's certificate when they forward
    # calls (they dial pod addresses, which certificates seldom name): a DNS name the
    # shared certificate holds, e.g. the Service's. Empty: the address dialled.
    tls_server_name: str = ""
    # YAML/JSON list of {principal, account, sha256 | scrypt} bearer tokens
    # (hashed at rest); empty: token authentication off.
    auth_tokens_file: str = ""
    # OIDC/JWT bearer tokens (e.g. Kubernetes service-account tokens): a JWKS file of
    # the issuer's public keys (re-read when it changes); empty: JWTs are not accepted.
    auth_jwks_file: str = ""
    # What a JWT must carry: its issuer (iss) and an audience (aud) naming eventplane.
    auth_jwt_issuer: str = ""
    auth_jwt_audience: str = ""
    # The claim that names the principal (policies come from the tokens file's
    # principals: section under that name).
    auth_jwt_principal_claim: str = "sub"
    # Allow a non-loopback listener without authentication (never in production).
    insecure: bool = False

    @property
    def bootstrap(self) -> str:
        """The bootstrap servers clients connect to."""
        return self.kafka_bootstrap or f"127.0.0.1:{self.kafka_port}"

    @property
    def uses_local_kafka(self) -> bool:
        return not self.kafka_bootstrap

    @property
    def grpc_target(self) -> str:
        host = "127.0.0.1" if self.grpc_host in ("0.0.0.0", "::", "[::]") else self.grpc_host
        return f"{host}:{self.grpc_port}"

    @property
    def gateway_url(self) -> str:
        """The AWS-protocol endpoint clients use (--endpoint-url); "" when the gateway is off."""
        if not self.gateway_port:
            return ""
        host = "127.0.0.1" if self.grpc_host in ("0.0.0.0", "::", "[::]") else self.grpc_host
        scheme = "https" if self.tls_cert_file else "http"
        return f"{scheme}://{host}:{self.gateway_port}"

    @property
    def advertise(self) -> str:
        return self.advertise_address or self.grpc_target


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def _parse_port(name: str, raw: Any, *, allow_zero: bool = False) -> int:
    try:
        port = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(name, f"must be a port number, got {raw!r}") from None
    low = 0 if allow_zero else 1
    if not low <= port <= 65535:
        raise ConfigError(name, f"must be between {low} and 65535, got {port}")
    return port


def _parse_positive_float(name: str, raw: Any) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(name, f"must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(name, f"must be greater than 0, got {value}")
    return value


def _parse_roles(name: str, raw: Any) -> tuple[str, ...]:
    items = [r.strip() for r in raw.split(",")] if isinstance(raw, str) else list(raw)
    items = [r for r in items if r]
    if not items:
        raise ConfigError(name, "must name at least one role")
    if "all" in items:
        return ROLES
    unknown = [r for r in items if r not in ROLES]
    if unknown:
        raise ConfigError(name, f"unknown role {unknown[0]!r}; choose from all, {', '.join(ROLES)}")
    return tuple(r for r in ROLES if r in items)


def _parse_positive_int(name: str, raw: Any) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(name, f"must be a whole number, got {raw!r}") from None
    if value < 1:
        raise ConfigError(name, f"must be at least 1, got {value}")
    return value


def _parse_int_range(name: str, raw: Any, low: int, high: int) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(name, f"must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(name, f"must be between {low} and {high}, got {value}")
    return value


def _parse_choice(name: str, raw: Any, choices: tuple[str, ...]) -> str:
    value = str(raw).strip()
    for choice in choices:
        if value.lower() == choice.lower():
            return choice
    raise ConfigError(name, f"must be one of {', '.join(choices)}, got {value!r}")


def _parse_bool(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    value = str(raw).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(name, f"must be true or false, got {raw!r}")


_ACCOUNT_ID = re.compile(r"[0-9]{12}")
# AWS's region shape (eu-west-1, us-gov-east-1, ap-southeast-2), or eventplane's own "local".
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]")


def _parse_region(name: str, raw: Any) -> str:
    value = str(raw).strip()
    if value != arn.DEFAULT_REGION and _REGION.fullmatch(value) is None:
        raise ConfigError(
            name, f"must be a region like eu-west-1 (or {arn.DEFAULT_REGION}), got {value!r}"
        )
    return value


def _parse_account(name: str, raw: Any) -> str:
    value = str(raw).strip()
    if _ACCOUNT_ID.fullmatch(value) is None:
        raise ConfigError(name, f"must be a 12-digit account id, got {value!r}")
    return value


def _parse_credentials(name: str, raw: Any) -> dict[str, tuple[str, str, str]]:
    """Access key id -> (secret, account, principal) from "AKID:SECRET:ACCOUNT[:PRINCIPAL],..."
    or a YAML mapping ``{AKID: {secret, account, principal}}``; the principal (whose
    policies the tokens file may hold) defaults to the access key id."""
    entries: list[tuple[str, str, str, str]] = []
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            if not isinstance(value, Mapping) or "secret" not in value:
                raise ConfigError(f"{name}.{key}", "must be a mapping with secret and account")
            entries.append(
                (
                    str(key),
                    str(value["secret"]),
                    str(value.get("account", "")),
                    str(value.get("principal") or key),
                )
            )
    else:
        for item in (i.strip() for i in str(raw).split(",")):
            if not item:
                continue
            parts = item.split(":")
            if len(parts) not in (3, 4):
                raise ConfigError(
                    name, "entries must look like ACCESS_KEY_ID:SECRET:ACCOUNT_ID[:PRINCIPAL]"
                )
            principal = parts[3] if len(parts) == 4 else parts[0]
            entries.append((parts[0], parts[1], parts[2], principal))
    result: dict[str, tuple[str, str, str]] = {}
    for key, secret, account, principal in entries:
        if not key or not secret or not principal:
            raise ConfigError(name, "an access key id, its secret and principal must not be empty")
        if _ACCOUNT_ID.fullmatch(account) is None:
            raise ConfigError(name, f"account of {key} must be 12 digits, got {account!r}")
        result[key] = (secret, account, principal)
    return result


def _parse_role_endpoints(name: str, raw: Any) -> dict[str, str]:
    """role -> "host:port" from "role=host:port,..." or a YAML mapping."""
    if isinstance(raw, Mapping):
        pairs = [(str(k).strip(), str(v).strip()) for k, v in raw.items()]
    else:
        pairs = []
        for item in (i.strip() for i in str(raw).split(",")):
            if not item:
                continue
            role, sep, address = item.partition("=")
            if not sep:
                raise ConfigError(name, f"entries must look like ROLE=HOST:PORT, got {item!r}")
            pairs.append((role.strip(), address.strip()))
    result: dict[str, str] = {}
    for role, address in pairs:
        if role not in ROLES:
            raise ConfigError(name, f"unknown role {role!r}; choose from {', '.join(ROLES)}")
        host, sep, port = address.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(name, f"{role}: {address!r} is not HOST:PORT")
        result[role] = address
    return result


def _coerce(name: str, raw: Any) -> Any:
    env_name = ENV_PREFIX + name.upper()
    match name:
        case "kafka_port" | "grpc_port":
            return _parse_port(env_name, raw)
        case "metrics_port" | "gateway_port" | "worker_ports" | "forward_port":
            return _parse_port(env_name, raw, allow_zero=True)
        case "region":
            return _parse_region(env_name, raw)
        case "account_id":
            return _parse_account(env_name, raw)
        case "gateway_credentials":
            return _parse_credentials(env_name, raw)
        case "gateway_open":
            return _parse_bool(env_name, raw)
        case (
            "kafka_connect_timeout"
            | "shutdown_grace"
            | "delivery_time_scale"
            | "schedule_min_rate_seconds"
        ):
            return _parse_positive_float(env_name, raw)
        case "topic_replication_factor" | "topic_min_insync_replicas":
            return _parse_int_range(env_name, raw, 1, 32)
        case "processes":
            return _parse_int_range(env_name, raw, 0, 64)
        case "tables_item_collection_limit_bytes" | "tables_repartition_chunk":
            return _parse_positive_int(env_name, raw)
        case "roles":
            return _parse_roles(env_name, raw)
        case "role_endpoints":
            return _parse_role_endpoints(env_name, raw)
        case "kafka_group_protocol":
            return _parse_choice(env_name, raw, ("auto", "consumer", "classic"))
        case "log_format":
            return _parse_choice(env_name, raw, ("json", "console"))
        case "log_level":
            return _parse_choice(env_name, raw, ("DEBUG", "INFO", "WARNING", "ERROR"))
        case "kafka_client_config":
            if not isinstance(raw, Mapping):
                raise ConfigError(env_name, "must be a mapping of librdkafka settings")
            return {str(k): str(v) for k, v in raw.items()}
        case "insecure" | "metrics_tls" | "reuse_port":
            return _parse_bool(env_name, raw)
        case "receipt_secret":
            if len(str(raw)) < 16:
                raise ConfigError(env_name, "must be at least 16 characters")
            return str(raw)
        case _:
            return str(raw).strip()


def _read_yaml(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
    except OSError as exc:
        raise ConfigError(ENV_PREFIX + "CONFIG", f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(ENV_PREFIX + "CONFIG", f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(ENV_PREFIX + "CONFIG", f"{path} must hold a mapping of settings")
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise ConfigError(f"{path}: {unknown[0]}", "unknown setting")
    return data


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build Settings from (in rising precedence) defaults, YAML, env and overrides."""
    values: dict[str, Any] = {}
    env = os.environ if env is None else env
    yaml_path = env.get(ENV_PREFIX + "CONFIG")
    if yaml_path:
        values.update({k: _coerce(k, v) for k, v in _read_yaml(yaml_path).items()})
    for name in _FIELDS:
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None and name != "kafka_client_config":
            values[name] = _coerce(name, raw)
    for name, raw in (overrides or {}).items():
        if name not in _FIELDS:
            raise ConfigError(name, "unknown setting")
        if raw is not None:
            values[name] = _coerce(name, raw)
    if "roles" in values and isinstance(values["roles"], list):
        values["roles"] = tuple(values["roles"])
    return Settings(**values)
