"""The chart's TLS and authentication: Secrets mounted as folders, env, cert-manager, failing early.

The server reads its certificate, key, client CA and tokens from files
(EVENTPLANE_TLS_*, EVENTPLANE_AUTH_TOKENS_FILE) and re-reads the certificate
when it changes; the chart mounts the Secrets holding them and points the
variables at the files. These tests check what `helm template` renders, and
load the result with eventplane's own settings loader and security set-up.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml

from eventplane.kafka.naming import cluster_prefix
from eventplane.security import TokenStore

from .conftest import RenderFn
from .support import (
    ALL_SCENARIOS,
    NAMESPACE,
    HelmError,
    Rendered,
    containers,
    env_of,
    run_helm,
)

TLS_DIR = "/etc/eventplane/tls"
EXISTING = "all-in-one-values.yaml"  # TLS and tokens from existing Secrets
CERT_MANAGER = "tls-cert-manager-values.yaml"  # split, cert-manager, mTLS, no tokens
NOTHING_AUTHENTICATES = (
    "nothing authenticates callers of the gRPC API, and the pods listen on 0.0.0.0: "
    "set auth.tokens.existingSecret"
)


def pod_of(rendered: Rendered, name: str = "eventplane") -> dict[str, Any]:
    spec: dict[str, Any] = rendered.one("Deployment", name)["spec"]["template"]["spec"]
    return spec


def server(pod: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in pod["containers"] if c["name"] == "eventplane")


def volumes(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in pod["volumes"]}


def mounts(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in container["volumeMounts"]}


# --- TLS from an existing Secret ------------------------------------------------------------


def test_tls_secret_is_mounted_read_only_as_a_folder(render: RenderFn) -> None:
    pod = pod_of(render(EXISTING))
    tls = volumes(pod)["tls"]["secret"]
    # The whole Secret (tls.crt, tls.key, ca.crt) as files, readable by the pod's group only.
    assert tls == {"secretName": "eventplane-grpc-tls", "defaultMode": 0o440}
    mount = mounts(server(pod))["tls"]
    assert mount == {"name": "tls", "mountPath": TLS_DIR, "readOnly": True}
    env = env_of(server(pod))
    assert env["EVENTPLANE_TLS_CERT_FILE"] == f"{TLS_DIR}/tls.crt"
    assert env["EVENTPLANE_TLS_KEY_FILE"] == f"{TLS_DIR}/tls.key"
    assert env["EVENTPLANE_TLS_CLIENT_CA_FILE"] == ""  # TLS without client certificates


@pytest.mark.parametrize("scenario", ALL_SCENARIOS)
def test_no_mount_uses_sub_path(render: RenderFn, scenario: str) -> None:
    """A subPath mount is never updated, so a renewed certificate would never reach the server."""
    rendered = render(scenario)
    pods = [d["spec"]["template"]["spec"] for d in rendered.of_kind("Deployment")]
    pods += [p["spec"] for p in rendered.of_kind("Pod")]
    for pod in pods:
        for container in containers(pod):
            for mount in container.get("volumeMounts", []):
                assert "subPath" not in mount and "subPathExpr" not in mount, mount


def test_tls_off_by_default_leaves_the_files_unset(render: RenderFn) -> None:
    rendered = render()
    pod = pod_of(rendered)
    env = env_of(server(pod))
    assert [env[f"EVENTPLANE_TLS_{k}"] for k in ("CERT_FILE", "KEY_FILE", "CLIENT_CA_FILE")] == [
        "",
        "",
        "",
    ]
    assert "tls" not in volumes(pod)
    assert not rendered.of_kind("Certificate")


# --- probes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", [EXISTING, CERT_MANAGER])
def test_probes_check_the_port_when_grpc_speaks_tls(render: RenderFn, scenario: str) -> None:
    """The kubelet's native gRPC probe has no TLS; a TCP check works with TLS and mTLS alike."""
    rendered = render(scenario)
    for deployment in rendered.of_kind("Deployment"):
        container = server(deployment["spec"]["template"]["spec"])
        assert {p["name"] for p in container["ports"]} >= {"grpc", "metrics"}
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert container[probe]["tcpSocket"] == {"port": "grpc"}, probe
            assert "grpc" not in container[probe] and "httpGet" not in container[probe]
            assert container[probe]["periodSeconds"] > 0


def test_service_monitor_still_scrapes_plain_http(render: RenderFn) -> None:
    rendered = render(
        "monitoring-values.yaml",
        sets=["tls.enabled=true", "tls.existingSecret=grpc-tls"],
    )
    (endpoint,) = rendered.one("ServiceMonitor")["spec"]["endpoints"]
    assert endpoint["port"] == "metrics"
    assert endpoint.get("scheme", "http") == "http" and "tlsConfig" not in endpoint


# --- cert-manager ---------------------------------------------------------------------------


def test_cert_manager_certificate_names_every_grpc_service(render: RenderFn) -> None:
    rendered = render(CERT_MANAGER)
    cert = rendered.one("Certificate", "eventplane-tls")
    spec = cert["spec"]
    assert spec["issuerRef"] == {
        "name": "internal-ca",
        "kind": "ClusterIssuer",
        "group": "cert-manager.io",
    }
    assert (spec["duration"], spec["renewBefore"]) == ("720h", "240h")
    assert spec["privateKey"]["rotationPolicy"] == "Always"
    assert {"server auth", "client auth"} <= set(spec["usages"])
    services = [
        s["metadata"]["name"]
        for s in rendered.of_kind("Service")
        if any(p["name"] == "grpc" for p in s["spec"]["ports"])
    ]
    assert len(services) == 6  # the main one and one per split workload
    wanted = {
        form
        for svc in services
        for form in (
            svc,
            f"{svc}.{NAMESPACE}",
            f"{svc}.{NAMESPACE}.svc",
            f"{svc}.{NAMESPACE}.svc.cluster.local",
        )
    }
    assert set(spec["dnsNames"]) == wanted | {"eventplane.example.internal", "localhost"}
    assert "eventplane-metrics" not in spec["dnsNames"]  # /metrics stays plain HTTP
    # Every server pod mounts the Secret cert-manager writes.
    for deployment in rendered.of_kind("Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        assert volumes(pod)["tls"]["secret"]["secretName"] == spec["secretName"]


def test_cert_manager_uses_the_cluster_domain_and_an_existing_secret_name(
    render: RenderFn,
) -> None:
    rendered = render(
        sets=[
            "tls.enabled=true",
            "tls.existingSecret=grpc-cert",
            "tls.certManager.enabled=true",
            "tls.certManager.issuerRef.name=ca",
            "tls.certManager.clusterDomain=corp.example",
        ]
    )
    spec = rendered.one("Certificate")["spec"]
    assert spec["secretName"] == "grpc-cert"
    assert spec["dnsNames"] == [
        "eventplane",
        f"eventplane.{NAMESPACE}",
        f"eventplane.{NAMESPACE}.svc",
        f"eventplane.{NAMESPACE}.svc.corp.example",
    ]
    assert volumes(pod_of(rendered))["tls"]["secret"]["secretName"] == "grpc-cert"


# --- mutual TLS -----------------------------------------------------------------------------


def test_mtls_with_a_separate_client_ca_secret(render: RenderFn) -> None:
    rendered = render(CERT_MANAGER)
    for deployment in rendered.of_kind("Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        ca = volumes(pod)["client-ca"]["secret"]
        assert ca["secretName"] == "eventplane-client-ca"
        assert ca["items"] == [{"key": "clients.pem", "path": "ca.crt"}]
        mount = mounts(server(pod))["client-ca"]
        assert mount["readOnly"] is True and "subPath" not in mount
        env = env_of(server(pod))
        assert env["EVENTPLANE_TLS_CLIENT_CA_FILE"] == f"{mount['mountPath']}/ca.crt"
        assert env["EVENTPLANE_AUTH_TOKENS_FILE"] == ""  # certificates only
        assert "auth-tokens" not in volumes(pod)


def test_mtls_with_the_tls_secrets_own_ca(render: RenderFn) -> None:
    pod = pod_of(render(EXISTING, sets=["tls.clientCA.enabled=true"]))
    env = env_of(server(pod))
    assert env["EVENTPLANE_TLS_CLIENT_CA_FILE"] == f"{TLS_DIR}/ca.crt"
    assert "client-ca" not in volumes(pod)


def test_metrics_over_https_with_the_same_certificate(render: RenderFn) -> None:
    rendered = render(EXISTING, sets=["tls.metrics=true", "monitoring.serviceMonitor.enabled=true"])
    assert env_of(server(pod_of(rendered)))["EVENTPLANE_METRICS_TLS"] == "true"
    endpoint = rendered.one("ServiceMonitor", "eventplane")["spec"]["endpoints"][0]
    assert endpoint["scheme"] == "https"
    assert endpoint["tlsConfig"]["serverName"] == "eventplane"
    secret = pod_of(rendered)["volumes"]
    tls_secret = next(v["secret"]["secretName"] for v in secret if v["name"] == "tls")
    assert endpoint["tlsConfig"]["ca"]["secret"] == {"name": tls_secret, "key": "ca.crt"}
    # Without TLS on the pods, metrics stay plain HTTP whatever tls.metrics says.
    plain = render(sets=["tls.metrics=true", "monitoring.serviceMonitor.enabled=true"])
    assert env_of(server(pod_of(plain)))["EVENTPLANE_METRICS_TLS"] == "false"
    assert "scheme" not in plain.one("ServiceMonitor", "eventplane")["spec"]["endpoints"][0]


# --- tokens ---------------------------------------------------------------------------------


def test_tokens_from_an_existing_secret(render: RenderFn) -> None:
    rendered = render(EXISTING)
    pod = pod_of(rendered)
    tokens = volumes(pod)["auth-tokens"]["secret"]
    assert tokens["secretName"] == "eventplane-tokens"
    assert tokens["items"] == [{"key": "tokens.json", "path": "tokens.yaml"}]
    mount = mounts(server(pod))["auth-tokens"]
    assert mount["readOnly"] is True
    assert env_of(server(pod))["EVENTPLANE_AUTH_TOKENS_FILE"] == f"{mount['mountPath']}/tokens.yaml"
    assert not rendered.of_kind("Secret")  # nothing generated


def test_generated_token_authenticates_as_admin(render: RenderFn) -> None:
    rendered = render()
    secret = rendered.one("Secret", "eventplane-auth")["data"]
    token = base64.b64decode(secret["token"]).decode()
    tokens_file = yaml.safe_load(base64.b64decode(secret["tokens.yaml"]))
    assert len(token) >= 40 and token not in base64.b64decode(secret["tokens.yaml"]).decode()
    store = TokenStore(tokens_file)
    principal = store.lookup(token)
    assert principal is not None and principal.name == "admin"
    assert store.lookup(token + "x") is None
    # The server mounts only the hash, never the token.
    pod = pod_of(rendered)
    assert volumes(pod)["auth-tokens"]["secret"]["items"] == [
        {"key": "tokens.yaml", "path": "tokens.yaml"}
    ]


def test_oidc_jwks_from_a_configmap_authenticates_alone(render: RenderFn) -> None:
    rendered = render(
        sets=[
            "auth.tokens.generate=false",
            "auth.jwt.jwks.configMap=cluster-jwks",
            "auth.jwt.audience=orders-platform",
        ]
    )
    for deployment in rendered.of_kind("Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        jwks = volumes(pod)["auth-jwks"]["configMap"]
        assert jwks["name"] == "cluster-jwks"
        assert jwks["items"] == [{"key": "jwks.json", "path": "jwks.json"}]
        mount = mounts(server(pod))["auth-jwks"]
        assert mount["readOnly"] is True and "subPath" not in mount  # rotation reaches the pod
        env = env_of(server(pod))
        assert env["EVENTPLANE_AUTH_JWKS_FILE"] == f"{mount['mountPath']}/jwks.json"
        assert env["EVENTPLANE_AUTH_JWT_AUDIENCE"] == "orders-platform"
        assert env["EVENTPLANE_AUTH_JWT_ISSUER"] == "https://kubernetes.default.svc.cluster.local"
        assert env["EVENTPLANE_AUTH_TOKENS_FILE"] == ""
    # Off by default: no JWKS file, no volume.
    pod = pod_of(render())
    assert env_of(server(pod))["EVENTPLANE_AUTH_JWKS_FILE"] == ""
    assert "auth-jwks" not in volumes(pod)


# --- failing early --------------------------------------------------------------------------


def test_nothing_authenticating_fails_with_the_three_choices(render: RenderFn) -> None:
    with pytest.raises(HelmError) as caught:
        render(sets=["auth.tokens.generate=false"])
    message = str(caught.value)
    assert NOTHING_AUTHENTICATES in message
    for value in (
        "auth.tokens.existingSecret",
        "auth.jwt.jwks.configMap",
        "tls.clientCA.enabled=true",
        "auth.insecure=true",
    ):
        assert value in message
    # TLS alone authenticates nobody; TLS with client certificates does.
    with pytest.raises(HelmError, match="nothing authenticates"):
        render(sets=["auth.tokens.generate=false", "tls.enabled=true", "tls.existingSecret=t"])
    rendered = render(
        sets=[
            "auth.tokens.generate=false",
            "tls.enabled=true",
            "tls.existingSecret=t",
            "tls.clientCA.enabled=true",
        ]
    )
    assert env_of(server(pod_of(rendered)))["EVENTPLANE_INSECURE"] == "false"


def test_insecure_is_explicit_and_reaches_the_server(render: RenderFn) -> None:
    rendered = render(sets=["auth.tokens.generate=false", "auth.insecure=true"])
    env = env_of(server(pod_of(rendered)))
    assert env["EVENTPLANE_INSECURE"] == "true"
    assert env["EVENTPLANE_AUTH_TOKENS_FILE"] == ""
    assert "eventplane-auth" not in {s["metadata"]["name"] for s in rendered.of_kind("Secret")}


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["tls.enabled=true"], "tls.enabled needs a certificate: set tls.existingSecret"),
        (
            ["tls.certManager.enabled=true", "tls.certManager.issuerRef.name=ca"],
            "tls.certManager.enabled needs tls.enabled=true",
        ),
        (
            ["tls.enabled=true", "tls.certManager.enabled=true"],
            "tls.certManager.issuerRef.name is required",
        ),
        (["tls.clientCA.enabled=true"], "tls.clientCA.enabled (mutual TLS) needs tls.enabled=true"),
    ],
)
def test_tls_values_that_contradict_each_other_fail(
    render: RenderFn, sets: list[str], message: str
) -> None:
    with pytest.raises(HelmError) as caught:
        render(sets=sets)
    assert message in str(caught.value)


# --- the installation's name on Kafka -------------------------------------------------------


def test_cluster_name_reaches_every_pod(render: RenderFn) -> None:
    assert env_of(server(pod_of(render())))["EVENTPLANE_CLUSTER"] == ""
    rendered = render(CERT_MANAGER)
    for deployment in rendered.of_kind("Deployment"):
        value = env_of(server(deployment["spec"]["template"]["spec"]))["EVENTPLANE_CLUSTER"]
        assert value == "team-a"
        assert cluster_prefix(value) == "eventplane-team-a"  # naming.py accepts it


# --- the helm test pod ----------------------------------------------------------------------


def test_helm_test_pod_sends_the_generated_token(render: RenderFn) -> None:
    (pod,) = render().of_kind("Pod")
    env = env_of(pod["spec"]["containers"][0])
    assert env["EVENTPLANE_TOKEN"] == {"secretKeyRef": {"name": "eventplane-auth", "key": "token"}}
    assert "EVENTPLANE_TLS_CA_FILE" not in env


def test_helm_test_pod_trusts_the_ca_and_uses_the_test_token(render: RenderFn) -> None:
    (pod,) = render(EXISTING).of_kind("Pod")
    container = pod["spec"]["containers"][0]
    env = env_of(container)
    assert env["EVENTPLANE_TOKEN"] == {
        "secretKeyRef": {"name": "eventplane-ci-token", "key": "token"}
    }
    assert env["EVENTPLANE_TLS_CA_FILE"] == f"{TLS_DIR}/ca.crt"
    assert "EVENTPLANE_TLS_CLIENT_CERT_FILE" not in env
    assert volumes(pod["spec"])["tls"]["secret"]["secretName"] == "eventplane-grpc-tls"
    assert mounts(container)["tls"]["mountPath"] == TLS_DIR


def test_helm_test_pod_presents_a_certificate_under_mtls(render: RenderFn) -> None:
    (pod,) = render(CERT_MANAGER).of_kind("Pod")
    env = env_of(pod["spec"]["containers"][0])
    assert "EVENTPLANE_TOKEN" not in env
    assert env["EVENTPLANE_TLS_CLIENT_CERT_FILE"] == f"{TLS_DIR}/tls.crt"
    assert env["EVENTPLANE_TLS_CLIENT_KEY_FILE"] == f"{TLS_DIR}/tls.key"


# --- install notes ----------------------------------------------------------------------------


def notes(helm: str, chart: Path, *sets: str) -> str:
    """NOTES.txt as `helm install` prints it (`helm template` skips it; install needs a cluster).

    The copy wraps NOTES.txt in a named template and renders it into a ConfigMap.
    """
    body = (chart / "templates" / "NOTES.txt").read_text()
    (chart / "templates" / "_notes_under_test.tpl").write_text(
        '{{- define "test.notes" -}}\n' + body + "{{- end }}\n"
    )
    (chart / "templates" / "notes-under-test.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\n"
        'data:\n  notes: {{ include "test.notes" . | quote }}\n'
    )
    args = ["template", "eventplane", str(chart), "--namespace", NAMESPACE]
    args += ["--show-only", "templates/notes-under-test.yaml"]
    for item in sets:
        args += ["--set", item]
    text: str = yaml.safe_load(run_helm(helm, *args))["data"]["notes"]
    return text


def test_notes_tell_how_to_connect_with_the_generated_token(helm: str, chart_copy: Path) -> None:
    text = notes(helm, chart_copy)
    assert (
        'export EVENTPLANE_TOKEN="$(kubectl -n events get secret eventplane-auth '
        "-o jsonpath='{.data.token}' | base64 -d)\""
    ) in text
    assert 'eventplane info --endpoint 127.0.0.1:50051 --token "$EVENTPLANE_TOKEN"' in text
    assert "gRPC is plaintext" in text
    assert "WARNING" not in text


def test_notes_tell_how_to_trust_the_ca_and_warn_when_insecure(helm: str, chart_copy: Path) -> None:
    text = notes(helm, chart_copy, "tls.enabled=true", "tls.existingSecret=grpc-tls")
    assert "kubectl -n events get secret grpc-tls -o jsonpath='{.data.ca\\.crt}'" in text
    assert 'export EVENTPLANE_TLS_CA_FILE="$PWD/eventplane-ca.crt"' in text
    assert "eventplane info --endpoint localhost:50051" in text
    text = notes(helm, chart_copy, "auth.tokens.generate=false", "auth.insecure=true")
    assert "WARNING: NONE (auth.insecure=true)" in text
    assert "--token" not in text
