"""The chart lints and renders valid Kubernetes objects for the defaults and every ci/ scenario."""

from __future__ import annotations

import re
from typing import Any

import kubernetes_validate
import pytest
from kubernetes_validate.utils import latest_version

from .conftest import RenderFn
from .support import ALL_SCENARIOS, CHART, Rendered, run_helm, scenario_args

# Kinds the bundled Kubernetes schemas do not know: checked by hand below.
CUSTOM_KINDS = {"Kafka", "KafkaNodePool", "ServiceMonitor", "PrometheusRule", "Certificate"}
# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest schemas.
KUBE_VERSIONS = ("1.27", latest_version())
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@pytest.mark.parametrize("scenario", ALL_SCENARIOS)
def test_helm_lint_passes(helm: str, scenario: str) -> None:
    out = run_helm(helm, "lint", "--strict", str(CHART), *scenario_args(scenario))
    assert "0 chart(s) failed" in out


@pytest.mark.parametrize("scenario", ALL_SCENARIOS)
def test_manifests_validate_against_kubernetes_schemas(render: RenderFn, scenario: str) -> None:
    rendered = render(scenario)
    problems = []
    for doc in rendered.docs:
        if doc["kind"] in CUSTOM_KINDS:
            continue
        for version in KUBE_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                where = "/".join(str(p) for p in exc.path)
                problems.append(
                    f"{doc['kind']}/{doc['metadata']['name']} ({version}): {where}: {exc.message}"
                )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("scenario", ALL_SCENARIOS)
def test_every_object_is_namespaced_labelled_and_uniquely_named(
    render: RenderFn, scenario: str
) -> None:
    seen: set[tuple[str, str]] = set()
    for doc in render(scenario).docs:
        meta = doc["metadata"]
        key = (doc["kind"], meta["name"])
        assert key not in seen, f"two {key[0]} objects named {key[1]}"
        seen.add(key)
        assert meta.get("namespace"), f"{key} has no namespace"
        assert meta["labels"]["app.kubernetes.io/managed-by"] == "Helm", key


def _check_kafka(doc: dict[str, Any]) -> None:
    spec = doc["spec"]["kafka"]
    listeners = spec["listeners"]
    assert listeners, "Kafka needs a listener"
    for listener in listeners:
        assert {"name", "port", "type", "tls"} <= listener.keys(), listener
        assert re.fullmatch(r"[a-z0-9]{1,11}", listener["name"]), listener
        assert isinstance(listener["port"], int) and listener["port"] >= 9092, listener
    assert isinstance(spec["config"], dict)
    annotations = doc["metadata"]["annotations"]
    assert annotations["strimzi.io/kraft"] == "enabled"
    assert annotations["strimzi.io/node-pools"] == "enabled"


def _check_node_pool(doc: dict[str, Any], clusters: set[str]) -> None:
    spec = doc["spec"]
    assert doc["metadata"]["labels"]["strimzi.io/cluster"] in clusters
    assert isinstance(spec["replicas"], int) and spec["replicas"] >= 1
    assert spec["roles"] and set(spec["roles"]) <= {"controller", "broker"}
    assert spec["storage"]["type"] in {"jbod", "ephemeral", "persistent-claim"}
    if spec["storage"]["type"] == "jbod":
        for volume in spec["storage"]["volumes"]:
            assert {"id", "type"} <= volume.keys(), volume


def _check_service_monitor(doc: dict[str, Any], services: list[dict[str, Any]]) -> None:
    wanted = doc["spec"]["selector"]["matchLabels"]
    matched = [s for s in services if wanted.items() <= s["metadata"]["labels"].items()]
    assert len(matched) == 1, f"ServiceMonitor selects {len(matched)} Services"
    ports = {p["name"] for p in matched[0]["spec"]["ports"]}
    for endpoint in doc["spec"]["endpoints"]:
        assert endpoint["port"] in ports
        for key in ("interval", "scrapeTimeout"):
            if key in endpoint:
                assert re.fullmatch(r"([0-9]+(ms|s|m|h))+", endpoint[key]), endpoint[key]


def _check_prometheus_rule(doc: dict[str, Any]) -> None:
    groups = doc["spec"]["groups"]
    assert groups
    names = [g["name"] for g in groups]
    assert len(names) == len(set(names)), f"duplicate rule groups: {names}"
    for group in groups:
        assert group["rules"], group["name"]
        for rule in group["rules"]:
            assert ("alert" in rule) != ("record" in rule), rule
            assert isinstance(rule["expr"], str | int) and str(rule["expr"]).strip(), rule


def _check_certificate(doc: dict[str, Any], secrets_mounted: set[str]) -> None:
    spec = doc["spec"]
    assert spec["secretName"] in secrets_mounted, "the Certificate writes a Secret no pod mounts"
    assert spec["issuerRef"]["name"] and spec["issuerRef"]["kind"] in {"Issuer", "ClusterIssuer"}
    for key in ("duration", "renewBefore"):
        assert re.fullmatch(r"([0-9]+(h|m|s))+", spec[key]), spec[key]
    assert spec["dnsNames"] and len(spec["dnsNames"]) == len(set(spec["dnsNames"]))
    assert "server auth" in spec["usages"]


def _mounted_secrets(rendered: Rendered) -> set[str]:
    return {
        v["secret"]["secretName"]
        for d in rendered.of_kind("Deployment")
        for v in d["spec"]["template"]["spec"]["volumes"]
        if "secret" in v
    }


@pytest.mark.parametrize("scenario", ALL_SCENARIOS)
def test_custom_resources_are_well_formed(render: RenderFn, scenario: str) -> None:
    rendered = render(scenario)
    clusters = {d["metadata"]["name"] for d in rendered.of_kind("Kafka")}
    for doc in rendered.docs:
        if doc["kind"] not in CUSTOM_KINDS:
            continue
        assert DNS_LABEL.match(doc["metadata"]["name"]), doc["metadata"]["name"]
        match doc["kind"]:
            case "Kafka":
                assert doc["apiVersion"] == "kafka.strimzi.io/v1beta2"
                _check_kafka(doc)
            case "KafkaNodePool":
                assert doc["apiVersion"] == "kafka.strimzi.io/v1beta2"
                _check_node_pool(doc, clusters)
            case "ServiceMonitor":
                assert doc["apiVersion"] == "monitoring.coreos.com/v1"
                _check_service_monitor(doc, rendered.of_kind("Service"))
            case "PrometheusRule":
                assert doc["apiVersion"] == "monitoring.coreos.com/v1"
                _check_prometheus_rule(doc)
            case "Certificate":
                assert doc["apiVersion"] == "cert-manager.io/v1"
                _check_certificate(doc, _mounted_secrets(rendered))
