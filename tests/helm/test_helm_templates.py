"""What the chart renders: names, labels, probes, roles, security, toggles, Kafka and monitoring."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import RenderFn
from .support import ALL_SCENARIOS, CHART, NAMESPACE, Rendered, containers, env_of

# Helm refuses release names longer than 53 characters; this is the worst case.
LONG_RELEASE = "a-very-long-release-name-that-helm-still-accepts-53ch"
DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
ALL_ROLES = "api,queues,fanout,bus,runner,workflows,tables"


def server(rendered: Rendered, name: str) -> dict[str, Any]:
    """The eventplane container of one Deployment."""
    spec = rendered.one("Deployment", name)["spec"]["template"]["spec"]
    return next(c for c in spec["containers"] if c["name"] == "eventplane")


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return selector.items() <= labels.items()


# --- names and labels ---------------------------------------------------------------------


def test_long_release_name_keeps_every_name_a_dns_label(render: RenderFn) -> None:
    assert len(LONG_RELEASE) == 53
    for scenario in ("split-values.yaml", "strimzi-values.yaml", "monitoring-values.yaml"):
        rendered = render(scenario, release=LONG_RELEASE)
        for doc in rendered.docs:
            name = doc["metadata"]["name"]
            assert len(name) <= 63 and DNS_LABEL.match(name), f"{doc['kind']} {name!r}"
            for key, value in doc["metadata"]["labels"].items():
                assert len(value) <= 63, f"{doc['kind']} {name}: label {key}={value!r}"
        names = [(d["kind"], d["metadata"]["name"]) for d in rendered.docs]
        assert len(names) == len(set(names)), "truncation made two names equal"


def test_strimzi_derived_names_fit_with_long_release_name(render: RenderFn) -> None:
    rendered = render("strimzi-values.yaml", release=LONG_RELEASE)
    cluster = rendered.one("Kafka")["metadata"]["name"]
    derived = [
        f"{cluster}-kafka-bootstrap",
        f"{cluster}-kafka-brokers",
        f"{cluster}-cluster-ca-cert",
    ]
    derived += [f"{cluster}-{p['metadata']['name']}-99" for p in rendered.of_kind("KafkaNodePool")]
    for name in derived:
        assert len(name) <= 63, name


def test_selector_labels_survive_an_upgrade(render: RenderFn, chart_copy: Path) -> None:
    meta = yaml.safe_load((chart_copy / "Chart.yaml").read_text())
    meta["version"], meta["appVersion"] = "9.8.7", "9.8.7"
    (chart_copy / "Chart.yaml").write_text(yaml.safe_dump(meta))

    def selectors(rendered: Rendered) -> dict[tuple[str, str], Any]:
        out: dict[tuple[str, str], Any] = {}
        for doc in rendered.docs:
            spec = doc.get("spec", {})
            sel = spec.get("selector") if doc["kind"] != "ServiceMonitor" else None
            if sel is not None:
                out[(doc["kind"], doc["metadata"]["name"])] = sel
        return out

    for scenario in ("default", "split-values.yaml"):
        before = selectors(render(scenario))
        after = selectors(render(scenario, chart=chart_copy, sets=["image.tag=other"]))
        assert before == after
        for selector in before.values():
            flat = json.dumps(selector)
            assert "0.1.0" not in flat and "helm.sh/chart" not in flat and "version" not in flat


@pytest.mark.parametrize("scenario", ALL_SCENARIOS)
def test_every_selector_matches_pods(render: RenderFn, scenario: str) -> None:
    rendered = render(scenario)
    pods = [d["spec"]["template"]["metadata"]["labels"] for d in rendered.of_kind("Deployment")]
    for deployment in rendered.of_kind("Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selects(deployment["spec"]["selector"]["matchLabels"], labels)
        others = [p for p in pods if p is not labels]
        assert not any(selects(deployment["spec"]["selector"]["matchLabels"], p) for p in others)
    for kind in ("Service", "PodDisruptionBudget"):
        for doc in rendered.of_kind(kind):
            sel = doc["spec"]["selector"]
            sel = sel.get("matchLabels", sel)
            assert any(selects(sel, p) for p in pods), (
                f"{kind} {doc['metadata']['name']} selects nothing"
            )


# --- probes, ports ------------------------------------------------------------------------


@pytest.mark.parametrize("sets", [(), ("config.grpcPort=6000", "config.metricsPort=6001")])
def test_probes_are_native_grpc_on_the_grpc_port(render: RenderFn, sets: tuple[str, ...]) -> None:
    rendered = render(sets=sets)
    container = server(rendered, "eventplane")
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["grpc"] == {"port": ports["grpc"]}, probe
    env = env_of(container)
    assert env["EVENTPLANE_GRPC_PORT"] == str(ports["grpc"])
    assert env["EVENTPLANE_METRICS_PORT"] == str(ports["metrics"])
    assert env["EVENTPLANE_GATEWAY_PORT"] == str(ports["aws"])
    assert env["EVENTPLANE_GRPC_HOST"] == "0.0.0.0"
    assert env["EVENTPLANE_ADVERTISE_ADDRESS"] == f"$(POD_IP):{ports['grpc']}"
    main = rendered.one("Service", "eventplane")
    assert main["spec"]["ports"] == [
        {"name": "grpc", "port": 50051, "targetPort": "grpc", "protocol": "TCP"},
        {"name": "aws", "port": 4566, "targetPort": "aws", "protocol": "TCP"},
    ]
    metrics = rendered.one("Service", "eventplane-metrics")
    assert metrics["spec"]["ports"][0]["targetPort"] == "metrics"


# --- roles --------------------------------------------------------------------------------


def test_all_in_one_is_one_deployment_with_every_role(render: RenderFn) -> None:
    rendered = render()
    (deployment,) = rendered.of_kind("Deployment")
    assert deployment["metadata"]["name"] == "eventplane"
    assert deployment["spec"]["replicas"] == 2
    assert env_of(server(rendered, "eventplane"))["EVENTPLANE_ROLES"] == "all"
    main = rendered.one("Service", "eventplane")
    assert selects(main["spec"]["selector"], deployment["spec"]["template"]["metadata"]["labels"])
    assert {s["metadata"]["name"] for s in rendered.of_kind("Service")} == {
        "eventplane",
        "eventplane-metrics",
    }


def test_split_renders_one_deployment_per_enabled_workload(render: RenderFn) -> None:
    rendered = render(sets=["mode=split"])
    roles = {
        d["metadata"]["name"]: env_of(server(rendered, d["metadata"]["name"]))["EVENTPLANE_ROLES"]
        for d in rendered.of_kind("Deployment")
    }
    assert roles == {
        "eventplane-api": "api",
        "eventplane-queues": "queues",
        "eventplane-fanout": "fanout",
        "eventplane-bus": "bus",
        "eventplane-runner": "runner",
    }
    services = {s["metadata"]["name"]: s for s in rendered.of_kind("Service")}
    assert set(services) == {"eventplane", "eventplane-metrics", *roles}
    pods = {
        d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]
        for d in rendered.of_kind("Deployment")
    }
    behind_main = {
        n
        for n, labels in pods.items()
        if selects(services["eventplane"]["spec"]["selector"], labels)
    }
    assert behind_main == {"eventplane-api"}
    for name, labels in pods.items():
        assert [n for n in roles if selects(services[n]["spec"]["selector"], labels)] == [name]
    assert all(
        selects(services["eventplane-metrics"]["spec"]["selector"], p) for p in pods.values()
    )


def test_split_workloads_relay_the_roles_they_do_not_run_to_the_workloads_that_do(
    render: RenderFn,
) -> None:
    rendered = render(sets=["mode=split", "workloads.workflows.enabled=true"])
    services = {s["metadata"]["name"]: s for s in rendered.of_kind("Service")}
    port = services["eventplane-queues"]["spec"]["ports"][0]["port"]
    for d in rendered.of_kind("Deployment"):
        name = d["metadata"]["name"]
        env = env_of(server(rendered, name))
        own = set(env["EVENTPLANE_ROLES"].split(","))
        endpoints = dict(e.split("=", 1) for e in env["EVENTPLANE_ROLE_ENDPOINTS"].split(","))
        # Every role of the release but its own, each at the Service of the workload
        # running it (Services are named after their workload, which runs one role here).
        assert set(endpoints) == {"api", "queues", "fanout", "bus", "runner", "workflows"} - own
        for role, address in endpoints.items():
            assert address == f"eventplane-{role}.{NAMESPACE}.svc:{port}", (name, role)
            assert f"eventplane-{role}" in services
    # One server with every role relays nothing.
    everything = server(render(), "eventplane")
    assert "EVENTPLANE_ROLE_ENDPOINTS" not in env_of(everything)


def test_split_workload_settings_replace_the_top_level_ones(render: RenderFn) -> None:
    rendered = render("split-values.yaml")
    names = {d["metadata"]["name"] for d in rendered.of_kind("Deployment")}
    assert "eventplane-workflows" in names
    assert (
        env_of(server(rendered, "eventplane-workflows"))["EVENTPLANE_ROLES"] == "workflows,tables"
    )
    queues = rendered.one("Deployment", "eventplane-queues")
    assert "replicas" not in queues["spec"], "an autoscaled Deployment leaves replicas to the HPA"
    assert rendered.one("HorizontalPodAutoscaler", "eventplane-queues")["spec"]["maxReplicas"] == 12
    assert [h["metadata"]["name"] for h in rendered.of_kind("HorizontalPodAutoscaler")] == [
        "eventplane-queues"
    ]
    assert server(rendered, "eventplane-runner")["resources"]["limits"] == {"memory": "4Gi"}
    assert server(rendered, "eventplane-bus")["resources"]["requests"] == {
        "cpu": "250m",
        "memory": "256Mi",
    }
    assert env_of(server(rendered, "eventplane-runner"))["TZ"] == "UTC"
    assert rendered.one("PodDisruptionBudget", "eventplane-runner")["spec"] == {
        "minAvailable": 1,
        "selector": rendered.one("Deployment", "eventplane-runner")["spec"]["selector"],
    }
    pdbs = {p["metadata"]["name"] for p in rendered.of_kind("PodDisruptionBudget")}
    assert "eventplane-workflows" not in pdbs


# --- settings -------------------------------------------------------------------------------


def test_env_covers_every_setting_and_loads(render: RenderFn, tmp_path: Path) -> None:
    """Every Settings field reaches the pod, and eventplane's own loader accepts the result."""
    from eventplane.config import Settings, load_settings

    rendered = render()
    container = server(rendered, "eventplane")
    env = env_of(container)
    # reuse_port and forward_port are the supervisor's, set for each worker it starts;
    # role_endpoints is split mode's (test_split_workloads_relay_the_roles_...).
    fields = set(Settings.__dataclass_fields__) - {
        "kafka_port",
        "kafka_client_config",
        "reuse_port",
        "forward_port",
        "role_endpoints",
    }
    missing = {f"EVENTPLANE_{f.upper()}" for f in fields} - set(env)
    assert not missing, f"settings the chart does not set: {sorted(missing)}"

    config = rendered.one("ConfigMap", "eventplane-config")["data"]["eventplane.yaml"]
    (tmp_path / "eventplane.yaml").write_text(config)
    plain = {k: v for k, v in env.items() if isinstance(v, str)}
    plain["EVENTPLANE_CONFIG"] = str(tmp_path / "eventplane.yaml")
    plain["EVENTPLANE_ADVERTISE_ADDRESS"] = plain["EVENTPLANE_ADVERTISE_ADDRESS"].replace(
        "$(POD_IP)", "10.1.2.3"
    )
    plain["EVENTPLANE_RECEIPT_SECRET"] = "x" * 32
    settings = load_settings(plain)
    assert settings.roles == tuple(ALL_ROLES.split(","))
    assert settings.kafka_bootstrap == "kafka:9092"
    assert (settings.topic_replication_factor, settings.topic_min_insync_replicas) == (3, 2)
    assert settings.advertise == "10.1.2.3:50051"
    assert settings.grpc_host == "0.0.0.0"
    assert settings.home == "/var/lib/eventplane"
    assert settings.tables_cache_dir == "/var/cache/eventplane/tables"
    assert settings.kafka_client_config == {}
    # The defaults: plaintext gRPC, the generated token file, never insecure.
    assert (settings.tls_cert_file, settings.tls_key_file, settings.tls_client_ca_file) == (
        "",
        "",
        "",
    )
    assert settings.auth_tokens_file == "/etc/eventplane/auth/tokens.yaml"
    assert settings.insecure is False


def test_topic_defaults_are_production_and_overridable(render: RenderFn) -> None:
    env = env_of(server(render(), "eventplane"))
    assert (
        env["EVENTPLANE_TOPIC_REPLICATION_FACTOR"],
        env["EVENTPLANE_TOPIC_MIN_INSYNC_REPLICAS"],
    ) == ("3", "2")
    env = env_of(server(render("strimzi-single-node-values.yaml"), "eventplane"))
    assert (
        env["EVENTPLANE_TOPIC_REPLICATION_FACTOR"],
        env["EVENTPLANE_TOPIC_MIN_INSYNC_REPLICAS"],
    ) == ("1", "1")


def test_receipt_secret_is_generated_or_referenced(render: RenderFn) -> None:
    rendered = render()
    secret = rendered.one("Secret", "eventplane-receipt")
    value = base64.b64decode(secret["data"]["receipt-secret"]).decode()
    assert len(value) >= 16  # config.py refuses shorter secrets
    ref = env_of(server(rendered, "eventplane"))["EVENTPLANE_RECEIPT_SECRET"]
    assert ref == {"secretKeyRef": {"name": "eventplane-receipt", "key": "receipt-secret"}}

    rendered = render("all-in-one-values.yaml")
    assert not rendered.of_kind("Secret")
    ref = env_of(server(rendered, "eventplane"))["EVENTPLANE_RECEIPT_SECRET"]
    assert ref == {"secretKeyRef": {"name": "eventplane-receipt", "key": "secret"}}


def test_image_defaults_to_app_version_and_prefers_a_digest(render: RenderFn) -> None:
    app_version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    assert server(render(), "eventplane")["image"] == f"eventplane:{app_version}"
    assert server(render("all-in-one-values.yaml"), "eventplane")["image"] == (
        "registry.example/platform/eventplane@sha256:" + "0123456789abcdef" * 4
    )


# --- security and resources ----------------------------------------------------------------


@pytest.mark.parametrize("scenario", ALL_SCENARIOS)
def test_pods_run_as_non_root_with_a_read_only_root(render: RenderFn, scenario: str) -> None:
    rendered = render(scenario)
    servers = [d["spec"]["template"]["spec"] for d in rendered.of_kind("Deployment")]
    pods = [*servers, *(p["spec"] for p in rendered.of_kind("Pod"))]  # and the helm test pod
    assert servers
    for pod in pods:
        ctx = pod["securityContext"]
        assert ctx["runAsNonRoot"] is True and ctx["runAsUser"] > 0 and ctx["runAsGroup"] > 0
        assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        for container in containers(pod):
            sc = container["securityContext"]
            assert sc["runAsNonRoot"] is True
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["capabilities"] == {"drop": ["ALL"]}
        if any(pod is s for s in servers):
            mounts = {m["mountPath"] for c in containers(pod) for m in c["volumeMounts"]}
            assert {"/tmp", "/var/lib/eventplane"} <= mounts  # writable emptyDirs


def test_resources_are_left_to_the_user(render: RenderFn) -> None:
    rendered = render()
    for deployment in rendered.of_kind("Deployment"):
        for container in containers(deployment["spec"]["template"]["spec"]):
            assert "resources" not in container
    for pool in render("strimzi-single-node-values.yaml").of_kind("KafkaNodePool"):
        assert "resources" not in pool["spec"]


def test_termination_grace_outlasts_the_drain(render: RenderFn) -> None:
    pod = render().one("Deployment")["spec"]["template"]["spec"]
    assert pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "5"]
    assert pod["terminationGracePeriodSeconds"] > 5 + 10


# --- toggles --------------------------------------------------------------------------------


def test_pdb_is_on_by_default_and_can_be_switched_off(render: RenderFn) -> None:
    pdb = render().one("PodDisruptionBudget", "eventplane")
    assert pdb["spec"]["maxUnavailable"] == 1
    assert not render(sets=["podDisruptionBudget.enabled=false"]).of_kind("PodDisruptionBudget")
    pdb = render(
        sets=["podDisruptionBudget.minAvailable=1", "podDisruptionBudget.maxUnavailable=null"]
    )
    assert pdb.one("PodDisruptionBudget")["spec"]["minAvailable"] == 1
    assert "maxUnavailable" not in pdb.one("PodDisruptionBudget")["spec"]


def test_hpa_only_when_enabled_and_replaces_replicas(render: RenderFn) -> None:
    assert not render().of_kind("HorizontalPodAutoscaler")
    rendered = render("all-in-one-values.yaml")
    hpa = rendered.one("HorizontalPodAutoscaler", "eventplane")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "eventplane",
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 9)
    assert {m["resource"]["name"] for m in hpa["spec"]["metrics"]} == {"cpu", "memory"}
    assert "replicas" not in rendered.one("Deployment")["spec"]


@pytest.mark.parametrize(
    ("sets", "processes"),
    [
        ((), "1"),  # no CPU limit: one process
        (("resources.limits.cpu=1500m",), "2"),
        (("resources.limits.cpu=3",), "3"),
        (("resources.limits.cpu=250m",), "1"),
        (("resources.limits.cpu=4", "config.processes=2"), "2"),  # the setting wins
    ],
)
def test_worker_processes_follow_the_cpu_limit(
    render: RenderFn, sets: tuple[str, ...], processes: str
) -> None:
    env = env_of(server(render(sets=sets), "eventplane"))
    assert env["EVENTPLANE_PROCESSES"] == processes


def test_network_policy_lets_replicas_reach_each_worker(render: RenderFn) -> None:
    policy = render("monitoring-values.yaml").one("NetworkPolicy")["spec"]
    peers = policy["ingress"][0]
    # Worker i of a pod takes forwarded calls on grpcPort + 1 + i (workers.py).
    assert {"port": 50052, "endPort": 50115, "protocol": "TCP"} in peers["ports"]


def test_network_policy_only_when_enabled(render: RenderFn) -> None:
    assert not render().of_kind("NetworkPolicy")
    policy = render("monitoring-values.yaml").one("NetworkPolicy")["spec"]
    assert policy["policyTypes"] == ["Ingress"]
    metrics_rule = next(r for r in policy["ingress"] if r["ports"][0]["port"] == "metrics")
    assert metrics_rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]
    peers = policy["ingress"][0]
    assert peers["from"][0]["podSelector"]["matchLabels"] == policy["podSelector"]["matchLabels"]


def test_network_policy_egress_allows_dns_peers_kafka_and_extras(render: RenderFn) -> None:
    policy = render("external-kafka-secure-values.yaml").one("NetworkPolicy")["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    egress = policy["egress"]
    assert {p["port"] for p in egress[0]["ports"]} == {53}
    kafka = next(r for r in egress if r.get("ports", [{}])[0].get("port") == 9096)
    assert kafka["to"] == [{"ipBlock": {"cidr": "10.20.0.0/16"}}]
    assert egress[-1]["ports"] == [{"port": 443, "protocol": "TCP"}]

    policy = render(
        "strimzi-values.yaml",
        sets=["networkPolicy.enabled=true", "networkPolicy.egress.enabled=true"],
    )
    kafka = next(
        r
        for r in policy.one("NetworkPolicy")["spec"]["egress"]
        if any(p["port"] == 9093 for p in r["ports"])
    )
    assert kafka["to"] == [
        {"podSelector": {"matchLabels": {"strimzi.io/cluster": "eventplane-kafka"}}}
    ]


# --- Kafka ----------------------------------------------------------------------------------


def test_strimzi_resources_only_when_enabled(render: RenderFn) -> None:
    for scenario in ("default", "split-values.yaml", "external-kafka-secure-values.yaml"):
        assert not {"Kafka", "KafkaNodePool"} & render(scenario).kinds()
    rendered = render("strimzi-single-node-values.yaml")
    kafka = rendered.one("Kafka", "dev")
    (pool,) = rendered.of_kind("KafkaNodePool")
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == "dev"
    assert pool["spec"]["roles"] == ["controller", "broker"]
    assert kafka["spec"]["kafka"]["listeners"] == [
        {"name": "plain", "port": 9092, "type": "internal", "tls": False}
    ]
    env = env_of(server(rendered, "eventplane"))
    assert env["EVENTPLANE_KAFKA_BOOTSTRAP"] == f"dev-kafka-bootstrap.{NAMESPACE}.svc:9092"


def test_strimzi_broker_config_follows_topic_settings(render: RenderFn) -> None:
    config = render("strimzi-values.yaml").one("Kafka")["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    assert config["offsets.topic.replication.factor"] == 3
    assert config["transaction.state.log.replication.factor"] == 3
    assert config["transaction.state.log.min.isr"] == 2
    assert config["num.partitions"] == 4  # the user's own broker setting
    # The owner groups' 6 s session timeout (kafka/groups.py) must be allowed.
    assert config["group.consumer.min.session.timeout.ms"] <= 6000
    assert config["group.consumer.min.heartbeat.interval.ms"] <= 1000
    single = render("strimzi-single-node-values.yaml").one("Kafka")["spec"]["kafka"]["config"]
    assert single["offsets.topic.replication.factor"] == 1 and single["min.insync.replicas"] == 1


def test_strimzi_tls_listener_trusts_the_cluster_ca(render: RenderFn) -> None:
    rendered = render("strimzi-values.yaml")
    assert [p["metadata"]["name"] for p in rendered.of_kind("KafkaNodePool")] == [
        "brokers",
        "controllers",
    ]
    pod = rendered.one("Deployment")["spec"]["template"]["spec"]
    tls = next(v for v in pod["volumes"] if v["name"] == "kafka-tls")
    assert tls["projected"]["sources"][0]["secret"]["name"] == "eventplane-kafka-cluster-ca-cert"
    env = env_of(server(rendered, "eventplane"))
    assert (
        env["EVENTPLANE_KAFKA_BOOTSTRAP"]
        == f"eventplane-kafka-kafka-bootstrap.{NAMESPACE}.svc:9093"
    )
    client = yaml.safe_load(
        rendered.one("ConfigMap", "eventplane-config")["data"]["eventplane.yaml"]
    )
    assert client["kafka_client_config"] == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "eventplane",
        "ssl.ca.location": "/etc/eventplane/kafka-tls/ca.crt",
    }


def test_tls_without_a_ca_secret_uses_the_system_cas(render: RenderFn) -> None:
    rendered = render(sets=["kafka.tls.enabled=true"])
    client = yaml.safe_load(rendered.one("ConfigMap")["data"]["eventplane.yaml"])
    assert client["kafka_client_config"] == {"security.protocol": "SSL", "ssl.ca.location": "probe"}
    pod = rendered.one("Deployment")["spec"]["template"]["spec"]
    assert "kafka-tls" not in {v["name"] for v in pod["volumes"]}


# --- monitoring -----------------------------------------------------------------------------


def test_monitoring_objects_only_when_enabled(render: RenderFn) -> None:
    rendered = render()
    assert not {"ServiceMonitor", "PrometheusRule"} & rendered.kinds()
    assert [c["metadata"]["name"] for c in rendered.of_kind("ConfigMap")] == ["eventplane-config"]


def test_service_monitor_scrapes_every_pod(render: RenderFn) -> None:
    rendered = render("monitoring-values.yaml")
    monitor = rendered.one("ServiceMonitor", "eventplane")
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == "metrics" and endpoint["interval"] == "15s"
    service = rendered.one("Service", "eventplane-metrics")
    assert service["spec"]["clusterIP"] == "None"
    assert selects(monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"])
    # The alerts match job=~".*eventplane.*"; the job is the Service's name.
    assert "eventplane" in service["metadata"]["name"]


def test_prometheus_rule_ships_the_rules_file_and_extra_groups(render: RenderFn) -> None:
    shipped = yaml.safe_load((CHART / "files/prometheus/eventplane-rules.yaml").read_text())
    rule = render("monitoring-values.yaml").one("PrometheusRule", "eventplane")
    groups = rule["spec"]["groups"]
    assert groups[: len(shipped["groups"])] == shipped["groups"]
    assert groups[-1]["name"] == "eventplane.site"
    assert (
        groups[-1]["rules"][0]["annotations"]["summary"]
        == "Queue {{ $labels.queue }} has a backlog"
    )


def test_dashboards_become_labelled_configmaps(render: RenderFn) -> None:
    files = sorted((CHART / "files/dashboards").glob("*.json"))
    assert files
    maps = [
        c
        for c in render("monitoring-values.yaml").of_kind("ConfigMap")
        if "grafana_dashboard" in c["metadata"]["labels"]
    ]
    assert len(maps) == len(files)
    by_file = {next(iter(c["data"])): c for c in maps}
    for path in files:
        cm = by_file[path.name]
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert cm["metadata"]["namespace"] == "monitoring"
        assert cm["metadata"]["annotations"] == {"grafana_folder": "eventplane"}
        assert json.loads(cm["data"][path.name]) == json.loads(path.read_text())


def test_the_table_restore_cache_is_an_empty_dir_mounted_where_the_setting_points(
    render: RenderFn,
) -> None:
    pod = render(sets=["config.tablesCacheSizeLimit=2Gi"]).one("Deployment")["spec"]["template"][
        "spec"
    ]
    volume = next(v for v in pod["volumes"] if v["name"] == "tables-cache")
    assert volume == {"name": "tables-cache", "emptyDir": {"sizeLimit": "2Gi"}}
    container = pod["containers"][0]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["tables-cache"] == env_of(container)["EVENTPLANE_TABLES_CACHE_DIR"]

    off = render(sets=["config.tablesCacheDir="]).one("Deployment")["spec"]["template"]["spec"]
    assert "tables-cache" not in {v["name"] for v in off["volumes"]}
    assert env_of(off["containers"][0])["EVENTPLANE_TABLES_CACHE_DIR"] == ""
