from __future__ import annotations

import pytest

from eventplane.config import ROLES, ConfigError, load_settings


def test_defaults_without_environment() -> None:
    s = load_settings({})
    assert s.grpc_port == 50051
    assert s.metrics_port == 9464
    assert s.roles == ROLES
    assert s.uses_local_kafka
    assert s.bootstrap == "127.0.0.1:9092"


def test_environment_overrides_and_bootstrap() -> None:
    s = load_settings(
        {
            "EVENTPLANE_KAFKA_BOOTSTRAP": "k1:9092,k2:9092",
            "EVENTPLANE_GRPC_PORT": "6000",
            "EVENTPLANE_ROLES": "queues, api",
        }
    )
    assert s.bootstrap == "k1:9092,k2:9092"
    assert not s.uses_local_kafka
    assert s.grpc_port == 6000
    assert s.roles == ("api", "queues")  # canonical order


def test_settings_are_frozen() -> None:
    s = load_settings({})
    with pytest.raises(AttributeError):
        s.grpc_port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("env", "setting", "fragment"),
    [
        ({"EVENTPLANE_ROLES": "api,bogus"}, "EVENTPLANE_ROLES", "unknown role 'bogus'"),
        ({"EVENTPLANE_ROLES": " , "}, "EVENTPLANE_ROLES", "at least one role"),
        ({"EVENTPLANE_GRPC_PORT": "99999"}, "EVENTPLANE_GRPC_PORT", "between 1 and 65535"),
        ({"EVENTPLANE_GRPC_PORT": "http"}, "EVENTPLANE_GRPC_PORT", "port number"),
        ({"EVENTPLANE_METRICS_PORT": "-1"}, "EVENTPLANE_METRICS_PORT", "between 0 and 65535"),
        ({"EVENTPLANE_LOG_FORMAT": "xml"}, "EVENTPLANE_LOG_FORMAT", "json, console"),
        ({"EVENTPLANE_KAFKA_CONNECT_TIMEOUT": "0"}, "EVENTPLANE_KAFKA_CONNECT_TIMEOUT", "> 0"),
        ({"EVENTPLANE_RECEIPT_SECRET": "short"}, "EVENTPLANE_RECEIPT_SECRET", "16 characters"),
        ({"EVENTPLANE_ROLE_ENDPOINTS": "queues"}, "EVENTPLANE_ROLE_ENDPOINTS", "ROLE=HOST:PORT"),
        (
            {"EVENTPLANE_ROLE_ENDPOINTS": "queue=h:1"},
            "EVENTPLANE_ROLE_ENDPOINTS",
            "unknown role 'queue'",
        ),
        (
            {"EVENTPLANE_ROLE_ENDPOINTS": "queues=host"},
            "EVENTPLANE_ROLE_ENDPOINTS",
            "'host' is not HOST:PORT",
        ),
    ],
)
def test_invalid_values_name_the_setting(env: dict[str, str], setting: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    assert info.value.setting == setting
    assert str(info.value).startswith(setting)
    assert fragment.replace("> 0", "greater than 0") in str(info.value)


def test_yaml_file_is_read_and_env_wins(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "eventplane.yaml"
    path.write_text(
        "grpc_port: 7000\nmetrics_port: 7001\nroles: [queues]\n"
        "kafka_client_config:\n  security.protocol: SSL\n"
    )
    s = load_settings({"EVENTPLANE_CONFIG": str(path), "EVENTPLANE_METRICS_PORT": "0"})
    assert s.grpc_port == 7000
    assert s.metrics_port == 0
    assert s.roles == ("queues",)
    assert s.kafka_client_config == {"security.protocol": "SSL"}


def test_yaml_unknown_setting_and_missing_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.yaml"
    path.write_text("grpc_prot: 1\n")
    with pytest.raises(ConfigError, match="grpc_prot: unknown setting"):
        load_settings({"EVENTPLANE_CONFIG": str(path)})
    with pytest.raises(ConfigError, match="EVENTPLANE_CONFIG: cannot read"):
        load_settings({"EVENTPLANE_CONFIG": str(tmp_path / "missing.yaml")})


def test_role_endpoints_from_a_list_or_yaml(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = load_settings({"EVENTPLANE_ROLE_ENDPOINTS": "queues=q.svc:50051, fanout=f.svc:50051"})
    assert s.role_endpoints == {"queues": "q.svc:50051", "fanout": "f.svc:50051"}
    config = tmp_path / "c.yaml"
    config.write_text("role_endpoints:\n  bus: b.svc:50051\n")
    assert load_settings({"EVENTPLANE_CONFIG": str(config)}).role_endpoints == {
        "bus": "b.svc:50051"
    }
    assert load_settings({}).role_endpoints == {}
