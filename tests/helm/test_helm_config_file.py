"""kafka_client_config reaches eventplane through the YAML config file, secrets included.

config.py reads kafka_client_config only from the file EVENTPLANE_CONFIG names.
The chart renders the non-secret part into a ConfigMap; settings from Secrets
are merged in by an init container (files/merge_config.py) onto an in-memory
volume. These tests run that script, as shipped in the ConfigMap, on Secret
files laid out as the kubelet mounts them, and load the result with
eventplane's own loader.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from eventplane.config import load_settings

from .conftest import RenderFn
from .support import env_of

SECRETS = {
    ("eventplane-kafka-user", "password"): "s3cret-password",
    (
        "eventplane-kafka-user",
        "key-password",
    ): "key-pass\n",  # a trailing newline, as `kubectl create secret --from-file` keeps it
}


def mount_projected(volume: dict[str, Any], target: Path) -> None:
    """Lay out a projected Secret volume like the kubelet: ..data folder, symlinks per item."""
    data = target / "..2026_01_01_00_00_00.000000000"
    data.mkdir(parents=True)
    (target / "..data").symlink_to(data.name)
    for source in volume["projected"]["sources"]:
        secret = source["secret"]
        for item in secret["items"]:
            (data / item["path"]).write_text(SECRETS[(secret["name"], item["key"])])
            (target / item["path"]).symlink_to(f"..data/{item['path']}")


def test_secret_settings_are_merged_into_the_config_file(render: RenderFn, tmp_path: Path) -> None:
    rendered = render("external-kafka-secure-values.yaml")
    configmap = rendered.one("ConfigMap", "eventplane-config")["data"]
    pod = rendered.one("Deployment")["spec"]["template"]["spec"]
    (init,) = pod["initContainers"]
    main = pod["containers"][0]
    volumes = {v["name"]: v for v in pod["volumes"]}

    # Secrets are visible to the init container only; the merged file is in memory.
    assert "kafka-secrets" in {m["name"] for m in init["volumeMounts"]}
    assert "kafka-secrets" not in {m["name"] for m in main["volumeMounts"]}
    assert volumes["runtime-config"]["emptyDir"]["medium"] == "Memory"
    runtime_mount = next(m for m in main["volumeMounts"] if m["name"] == "runtime-config")
    assert runtime_mount["readOnly"] is True

    config_dir, secrets_dir, runtime_dir = (
        tmp_path / "config",
        tmp_path / "secrets",
        tmp_path / "run",
    )
    config_dir.mkdir()
    runtime_dir.mkdir()
    for key, text in configmap.items():
        (config_dir / key).write_text(text)
    mount_projected(volumes["kafka-secrets"], secrets_dir)
    paths = {
        "/etc/eventplane/config": str(config_dir),
        "/etc/eventplane/kafka-secrets": str(secrets_dir),
        "/run/eventplane": str(runtime_dir),
    }

    def local(path: str) -> str:
        for mounted, here in paths.items():
            path = path.replace(mounted, here)
        return path

    assert init["command"][0] == "python"
    command = [sys.executable, *(local(arg) for arg in init["command"][1:])]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "s3cret" not in done.stderr  # names how many, never the values

    env = env_of(main)
    merged = Path(local(env["EVENTPLANE_CONFIG"]))
    assert merged.parent == runtime_dir
    assert stat.S_IMODE(os.stat(merged).st_mode) == 0o600
    settings = load_settings({"EVENTPLANE_CONFIG": str(merged)})
    assert settings.kafka_client_config == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-256",
        "sasl.username": "eventplane",
        "sasl.password": "s3cret-password",
        "ssl.key.password": "key-pass",
        "ssl.ca.location": "/etc/eventplane/kafka-tls/ca.crt",
        "ssl.certificate.location": "/etc/eventplane/kafka-tls/client.crt",
        "ssl.key.location": "/etc/eventplane/kafka-tls/client.key",
        "ssl.endpoint.identification.algorithm": "https",
        "socket.keepalive.enable": "true",
    }
    tls = volumes["kafka-tls"]["projected"]["sources"]
    assert [s["secret"]["name"] for s in tls] == ["kafka-ca", "eventplane-kafka-user"]
    assert {i["path"] for s in tls for i in s["secret"]["items"]} == {
        "ca.crt",
        "client.crt",
        "client.key",
    }


def test_without_secret_settings_the_configmap_is_the_config_file(
    render: RenderFn, tmp_path: Path
) -> None:
    rendered = render()
    pod = rendered.one("Deployment")["spec"]["template"]["spec"]
    assert "initContainers" not in pod
    assert {v["name"] for v in pod["volumes"]} == {
        "config",
        "auth-tokens",
        "home",
        "tmp",
        "tables-cache",
    }
    env = env_of(pod["containers"][0])
    assert env["EVENTPLANE_CONFIG"] == "/etc/eventplane/config/eventplane.yaml"
    path = tmp_path / "eventplane.yaml"
    path.write_text(rendered.one("ConfigMap")["data"]["eventplane.yaml"])
    assert load_settings({"EVENTPLANE_CONFIG": str(path)}).kafka_client_config == {}


def test_config_change_rolls_the_pods(render: RenderFn) -> None:
    def checksum(rendered: Any) -> str:
        return rendered.one("Deployment")["spec"]["template"]["metadata"]["annotations"][
            "checksum/config"
        ]

    assert checksum(render()) == checksum(render(sets=["config.logLevel=DEBUG"]))
    assert checksum(render()) != checksum(render(sets=["kafka.clientConfig.client\\.rack=zone-a"]))
