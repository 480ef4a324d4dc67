"""The server reaches Kafka over TLS: a local broker with a TLS listener (PEM keystore).

kafka_client_config carries librdkafka's settings (security.protocol, ssl.ca.location,
...) to every Kafka client the server makes. With the broker's CA the whole platform
works through the TLS listener; with another CA the server refuses to start and says
which setting to look at and why (the failed handshake), instead of a bare timeout.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from eventplane.config import load_settings
from eventplane.kafka.local import Listener, LocalKafka
from eventplane.testing import EventplaneProcess, eventually, free_port, unique_cluster

from ._certs import CA

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalKafka, Path]]:
    folder = tmp_path_factory.mktemp("kafka-tls")
    ca = CA("kafka-test-ca")
    pair = ca.issue("localhost", server=True)
    keystore = folder / "broker.pem"  # Kafka's PEM keystore: the key, then the chain
    keystore.write_bytes(pair.key + pair.cert)
    ca_file = folder / "ca.pem"
    ca_file.write_bytes(ca.pem)
    tls = Listener(
        "tls",
        free_port(),
        protocol="SSL",
        config={"ssl.keystore.type": "PEM", "ssl.keystore.location": str(keystore)},
    )
    kafka = LocalKafka(home=Path(load_settings({}).home), port=free_port(), listeners=(tls,))
    kafka.start(fresh=True)
    try:
        yield kafka, ca_file
    finally:
        kafka.stop()


def _server(tls_broker: tuple[LocalKafka, Path], ca_file: Path, tmp: Path) -> EventplaneProcess:
    kafka, _ = tls_broker
    config = tmp / "eventplane.yaml"
    config.write_text(
        yaml.safe_dump(
            {"kafka_client_config": {"security.protocol": "SSL", "ssl.ca.location": str(ca_file)}}
        )
    )
    port = kafka.listeners[0].port
    return EventplaneProcess(
        f"127.0.0.1:{port}",
        roles="queues,fanout",
        cluster=unique_cluster(),
        env={"EVENTPLANE_CONFIG": str(config), "EVENTPLANE_KAFKA_CONNECT_TIMEOUT": "5"},
    )


def test_the_platform_works_over_a_tls_listener(
    tls_broker: tuple[LocalKafka, Path], tmp_path: Path
) -> None:
    _, ca_file = tls_broker
    with _server(tls_broker, ca_file, tmp_path) as server, server.client(timeout=30) as client:
        url = client.queues.create_queue("over-tls")
        arn = client.topics.create_topic("over-tls")
        client.topics.subscribe(arn, "sqs", "arn:aws:sqs:local:000000000000:over-tls")
        client.topics.publish(arn, "through TLS")
        got = eventually(
            lambda: client.queues.receive_message(url, wait_time_seconds=1), timeout=30
        )
        assert "through TLS" in got[0].body


def test_a_broker_certificate_from_another_ca_stops_the_start_with_the_reason(
    tls_broker: tuple[LocalKafka, Path], tmp_path: Path
) -> None:
    stranger = tmp_path / "other-ca.pem"
    stranger.write_bytes(CA("some-other-ca").pem)
    server = _server(tls_broker, stranger, tmp_path)
    with pytest.raises(RuntimeError):
        server.start(timeout=30)
    assert server.proc is not None
    server.proc.wait(30)
    assert server.proc.returncode != 0
    log = server.log_path.read_text()
    assert "EVENTPLANE_KAFKA_BOOTSTRAP" in log
    assert "certificate verify failed" in log
